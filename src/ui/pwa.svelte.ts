/**
 * The page's side of the service worker (vite.config.ts: vite-plugin-pwa, Workbox precache of the
 * whole build): registers it, has the page say "Ready to work offline" once the app is cached, and
 * shows {@link UpdatePrompt} — "A new version of tabchain is ready — Reload" — when a new
 * deployment is waiting.
 *
 * main.ts loads this module after the node has started (it is a lazy chunk, so it adds nothing to
 * the first download and never delays `ready`). A new version never takes over on its own: the
 * waiting worker activates when the user presses Reload, which reloads every open tabchain tab
 * that saw it waiting, so no tab keeps running code whose chunks are gone.
 *
 * In `vite dev` the virtual module is vite-plugin-pwa's no-op: no service worker, no prompts.
 * @module
 */
/// <reference types="vite-plugin-pwa/vanillajs" />
import { mount } from 'svelte';
import { registerSW } from 'virtual:pwa-register';
import UpdatePrompt from './components/UpdatePrompt.svelte';
import { OFFLINE_NOTICE_MS, offlineNotice } from './offline-notice.svelte.ts';

/**
 * What the prompt shows. `updateSW` is Workbox's "activate the waiting worker" (it reloads the
 * page once the new worker controls it).
 * @example
 * ```ts
 * const pwa = new PwaState();
 * pwa.needRefresh = true; // the prompt offers Reload
 * await pwa.reload();
 * ```
 */
export class PwaState {
  /** A new version is installed and waits for the user's Reload. */
  needRefresh = $state(false);
  /** The app has just been cached for the first time: it now starts without the network. */
  offlineReady = $state(false);
  /** Reload was pressed: the new worker is taking over. */
  reloading = $state(false);
  /** Registration failed (the page still works, just not offline). */
  error = $state<string | null>(null);
  #updateSW: (() => Promise<void>) | undefined;
  #offlineTimer: ReturnType<typeof setTimeout> | undefined;

  /** Connects the Workbox update function. @example pwa.attach(registerSW({ … })) */
  attach(updateSW: () => Promise<void>): void {
    this.#updateSW = updateSW;
  }

  /**
   * Shows "Ready to work offline" (in the page, under the header: offline-notice.svelte.ts), which
   * hides by itself after a while. @example pwa.showOfflineReady()
   */
  showOfflineReady(hideAfterMs = OFFLINE_NOTICE_MS): void {
    this.offlineReady = true;
    offlineNotice.show(hideAfterMs);
    clearTimeout(this.#offlineTimer);
    this.#offlineTimer = setTimeout(() => (this.offlineReady = false), hideAfterMs);
  }

  /** Hides the update prompt; the new version starts once every tabchain tab is closed. @example pwa.dismissUpdate() */
  dismissUpdate(): void {
    this.needRefresh = false;
  }

  /**
   * Activates the waiting version; the page reloads when it has taken over.
   * @example await pwa.reload()
   */
  async reload(): Promise<void> {
    if (!this.#updateSW || this.reloading) return;
    this.reloading = true;
    await this.#updateSW();
  }
}

/**
 * Reloads this page once a new worker takes control (after someone pressed Reload, here or in
 * another tabchain tab): its chunks may be gone from the new cache, so the page must not go on
 * with the old code. The node's data is in IndexedDB; the reload restarts it on the same profile.
 */
function reloadOnTakeover(): void {
  if (takeoverListening) return;
  takeoverListening = true;
  navigator.serviceWorker.addEventListener('controllerchange', () => location.reload(), { once: true });
}
let takeoverListening = false;

/**
 * Registers the service worker and mounts the prompt in its own element after the app's (so the
 * app's "Skip to content" stays first in the tab order; the prompt floats at the bottom of the
 * window). Call once, after the node has started.
 * @example
 * ```ts
 * void import('./ui/pwa.svelte.ts').then((pwa) => pwa.startPwa());
 * ```
 */
export function startPwa(): PwaState {
  const state = new PwaState();
  if (typeof navigator === 'undefined' || !('serviceWorker' in navigator)) return state;
  const target = document.createElement('div');
  target.id = 'pwa-prompt';
  document.body.append(target);
  mount(UpdatePrompt, { target, props: { pwa: state } });
  state.attach(
    registerSW({
      // The page is already loaded (main.ts calls this after `ready`): register now.
      immediate: true,
      onNeedRefresh: () => {
        state.needRefresh = true;
        reloadOnTakeover();
      },
      // Workbox's own reload on takeover only happens in a page that already had a worker when it
      // registered — not in the tab of a first visit, which would then keep running with the new
      // worker's cache. reloadOnTakeover covers every tab.
      onNeedReload: () => undefined,
      onOfflineReady: () => state.showOfflineReady(),
      onRegisterError: (e: unknown) => {
        state.error = e instanceof Error ? e.message : String(e);
        console.warn(`[tabchain] service worker registration failed, the app will not start offline: ${state.error}`);
      },
    }),
  );
  return state;
}
