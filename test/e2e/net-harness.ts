/**
 * Page-side helpers of the networked e2e tests and the p2p-browser bench, on top of H13's
 * harness.ts (build, relay child process, Chromium, isolated contexts): a {@link Tab} wraps one
 * visitor's page and calls `window.tabchain` in it, returning failures as `{ code, message }`.
 *
 * Every wait has a finite timeout and says what it waited for.
 * @module
 */
import type { BrowserContext, Page } from 'playwright-core';

/** Result of an API call made in the page: the value, or the ApiError's code and message. */
export type CallResult<T> = { ok: true; value: T } | { ok: false; code: string; message: string };

/** One browser tab (its own isolated context: own IndexedDB, own profile). */
export class Tab {
  readonly errors: string[] = [];
  constructor(
    readonly name: string,
    readonly context: BrowserContext,
    readonly page: Page,
  ) {
    page.on('pageerror', (e) => this.errors.push(e.message));
  }

  /** Wraps a harness visitor. */
  static of(name: string, v: { context: BrowserContext; page: Page }): Tab {
    return new Tab(name, v.context, v.page);
  }

  /** Calls `window.tabchain[method](...args)`; rejects with the page's error (its code in the message). */
  async call<T = unknown>(method: string, ...args: unknown[]): Promise<T> {
    const r = await this.try<T>(method, ...args);
    if (!r.ok) throw new Error(`${this.name}: ${method} failed: ${r.message}`);
    return r.value;
  }

  /** Like {@link call} but returns the failure (code, message) instead of throwing. */
  async try<T = unknown>(method: string, ...args: unknown[]): Promise<CallResult<T>> {
    return this.page.evaluate(
      async ([m, a]) => {
        const api = (window as unknown as { tabchain: Record<string, (...x: unknown[]) => Promise<unknown>> }).tabchain;
        try {
          await (api as unknown as { ready: Promise<void> }).ready;
          return { ok: true as const, value: (await api[m as string](...(a as unknown[]))) as never };
        } catch (e) {
          const err = e as { code?: string; message?: string };
          return { ok: false as const, code: String(err.code ?? ''), message: String(err.message ?? e) };
        }
      },
      [method, args] as const,
    ) as Promise<CallResult<T>>;
  }

  status(): Promise<TabStatus> {
    return this.call<TabStatus>('status');
  }

  /** Waits (polling `status()`) until `pred` holds; throws naming `what` after `timeoutMs`. */
  async waitStatus(what: string, pred: (s: TabStatus) => boolean, timeoutMs = 30_000): Promise<TabStatus> {
    const until = Date.now() + timeoutMs;
    let last: TabStatus | undefined;
    for (;;) {
      last = await this.status();
      if (pred(last)) return last;
      if (Date.now() > until) throw new Error(`${this.name}: ${what} not reached within ${timeoutMs} ms; last status ${JSON.stringify({ ...last, peers: last.peers })}`);
      await sleep(250);
    }
  }
}

export interface TabStatus {
  network: string;
  profile: string;
  peerId: string;
  address: string;
  height: number;
  tip: string;
  synced: boolean;
  online: boolean;
  mempool: number;
  peers: { id: string; transport: 'webrtc' | 'relay' | 'websocket' | 'tab'; rttMs?: number }[];
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Waits for `window.tabchain.ready` (rejecting with its error). */
export async function waitReady(tab: Tab, timeoutMs = 30_000): Promise<void> {
  await tab.page.waitForFunction(() => typeof (window as unknown as { tabchain?: unknown }).tabchain === 'object', null, { timeout: timeoutMs });
  await tab.page.evaluate(
    (ms) =>
      Promise.race([
        (window as unknown as { tabchain: { ready: Promise<void> } }).tabchain.ready,
        new Promise((_, reject) => setTimeout(() => reject(new Error(`ready not resolved within ${ms} ms`)), ms)),
      ]),
    timeoutMs,
  );
}

/** Whether a tab has a direct WebRTC connection to each of `peerIds`. */
export function hasWebrtcTo(s: TabStatus, peerIds: string[]): boolean {
  return peerIds.every((id) => s.peers.some((p) => p.id === id && p.transport === 'webrtc'));
}
