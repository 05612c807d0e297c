/**
 * Waiting in tests: poll a condition until it holds, failing with what was awaited. The one copy
 * every suite uses (unit, integration, adversarial); the e2e harness polls pages the same way.
 */

/**
 * Polls `cond` every `everyMs` until it is true; after `timeoutMs` throws with `what` (evaluated
 * then, if a function, so the message shows the state at the deadline).
 * @example await waitUntil(() => node.height === 5, () => `height 5 (at ${node.height})`)
 */
export async function waitUntil(cond: () => boolean | Promise<boolean>, what: string | (() => string), timeoutMs = 30_000, everyMs = 50): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Lets `n` timer turns pass (for "nothing more happens" checks after a condition was met).
 * @example await ticks(20)
 */
export async function ticks(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setTimeout(r, 1));
}
