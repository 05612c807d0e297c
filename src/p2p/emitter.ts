/**
 * A minimal typed event emitter for the network layer (the same shape as src/node/events.ts's
 * Emitter, which src/p2p may not import: `on` returns the unsubscribe function).
 * @module
 */

type Listener<T> = (payload: T) => void;

/**
 * Typed events: `on(type, fn) → off`, `emit`, `waitFor`.
 * @example
 * ```ts
 * const events = new NetEmitter<{ synced: { synced: boolean } }>();
 * const off = events.on('synced', ({ synced }) => console.log(synced));
 * events.emit('synced', { synced: true });
 * off();
 * ```
 */
export class NetEmitter<E extends object> {
  readonly #listeners = new Map<keyof E, Set<Listener<never>>>();
  /** Receives errors thrown by listeners (they never break the emitter). */
  onListenerError: (err: unknown, type: keyof E) => void = (err, type) => console.error(`listener of '${String(type)}' failed:`, err);

  /** Adds a listener; returns a function that removes it. @example const off = net.events.on('peers', render) */
  on<K extends keyof E>(type: K, fn: Listener<E[K]>): () => void {
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, (set = new Set()));
    set.add(fn as Listener<never>);
    return () => this.off(type, fn);
  }

  /** Removes a listener. @example net.events.off('peers', render) */
  off<K extends keyof E>(type: K, fn: Listener<E[K]>): void {
    this.#listeners.get(type)?.delete(fn as Listener<never>);
  }

  /** Calls every listener of `type`. @example events.emit('online', { online: true }) */
  emit<K extends keyof E>(type: K, payload: E[K]): void {
    const set = this.#listeners.get(type);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        (fn as Listener<E[K]>)(payload);
      } catch (err) {
        this.onListenerError(err, type);
      }
    }
  }

  /**
   * The first payload of `type` satisfying `pred`; rejects after `timeoutMs` if given.
   * @example await net.events.waitFor('synced', (s) => s.synced, 30_000)
   */
  waitFor<K extends keyof E>(type: K, pred: (payload: E[K]) => boolean = () => true, timeoutMs?: number): Promise<E[K]> {
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const off = this.on(type, (p) => {
        if (!pred(p)) return;
        off();
        if (timer !== undefined) clearTimeout(timer);
        resolve(p);
      });
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          off();
          reject(Object.assign(new Error(`timed out after ${timeoutMs} ms waiting for '${String(type)}'`), { code: 'TIMEOUT' }));
        }, timeoutMs);
      }
    });
  }
}
