/**
 * "Ready to work offline", shared between the service-worker module (ui/pwa.svelte.ts, a lazy
 * chunk, which raises it once the app is first cached) and the app shell, which shows it in the
 * page's flow under the header — a floating toast covered the section tabs on a phone.
 * @module
 */

/** How long the notice stays up. */
export const OFFLINE_NOTICE_MS = 8_000;

class OfflineNotice {
  visible = $state(false);
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** Shows the notice; it hides by itself after `ms`. @example offlineNotice.show() */
  show(ms = OFFLINE_NOTICE_MS): void {
    this.visible = true;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => (this.visible = false), ms);
  }
}

/** The page's one notice. */
export const offlineNotice = new OfflineNotice();
