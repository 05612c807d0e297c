/**
 * A Svelte action for messages a person must not miss (an error after a click, the review panel):
 * when it appears, or its text changes, the element is scrolled to the middle of the window and
 * takes the focus (screen readers read it; the keyboard continues from there). It needs a
 * tabindex of -1 to be focusable.
 * @module
 */

/**
 * @example <p class="error" role="alert" tabindex="-1" use:reveal={error}>{error}</p>
 */
export function reveal(el: HTMLElement, _key?: unknown): { update(key: unknown): void } {
  const show = () => {
    // After the browser has laid the element out (it may have just been inserted).
    requestAnimationFrame(() => {
      if (!el.isConnected) return;
      el.scrollIntoView({ block: 'center', behavior: 'auto' });
      el.focus({ preventScroll: true });
    });
  };
  show();
  return { update: show };
}
