/**
 * A Svelte action for messages a person must not miss (an error after a click, the review panel):
 * when it appears, or its text changes, the element is scrolled to the middle of the window and
 * takes the focus (screen readers read it; the keyboard continues from there). It needs a
 * tabindex of -1 to be focusable.
 *
 * The focus moves one frame later (the element may have just been inserted). Whoever typed,
 * clicked or moved the focus within that frame keeps it: otherwise a search typed right after a
 * "Nothing found" lost its Enter to the message (seen in the e2e suite on a loaded machine).
 * @module
 */

/** What a person does that the late focus must not undo. */
const INTERACTIONS = ['keydown', 'input', 'pointerdown', 'focusin'] as const;

/**
 * @example <p class="error" role="alert" tabindex="-1" use:reveal={error}>{error}</p>
 */
export function reveal(el: HTMLElement, _key?: unknown): { update(key: unknown): void; destroy(): void } {
  let pending: (() => void) | null = null;
  const show = () => {
    pending?.();
    let interacted = false;
    const seen = () => void (interacted = true);
    for (const t of INTERACTIONS) document.addEventListener(t, seen, true);
    const frame = requestAnimationFrame(() => {
      pending?.();
      if (!el.isConnected) return;
      el.scrollIntoView({ block: 'center', behavior: 'auto' });
      if (!interacted) el.focus({ preventScroll: true });
    });
    pending = () => {
      cancelAnimationFrame(frame);
      for (const t of INTERACTIONS) document.removeEventListener(t, seen, true);
      pending = null;
    };
  };
  show();
  return { update: show, destroy: () => pending?.() };
}
