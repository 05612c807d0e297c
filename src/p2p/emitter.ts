/**
 * A minimal typed event emitter, shared by the network layer and the node layer (src/node/events.ts
 * re-exports it). It lives here because src/p2p is the lowest layer both may import that is allowed
 * timers (`waitFor` has a timeout); src/chain is pure.
 * @module
 */

type Listener<T> = (payload: T) => void;

/**
 * A minimal typed event emitter.
 * @example
 * ```ts
 * const events = new Emitter<NodeEvents>();
 * const off = events.on('tip', ({ height }) => console.log('height', height));
 * events.emit('tip', { hash: 'ab…', height: 1 });
 * off();
 * ```
 */
export class Emitter<E extends object> {
  readonly #listeners = new Map<keyof E, Set<Listener<never>>>();
  /** Receives errors thrown by listeners. */
  onListenerError: (err: unknown, type: keyof E) => void = (err, type) => console.error(`listener of '${String(type)}' failed:`, err);

  /** Adds a listener; returns a function that removes it. @example const off = events.on('block', (b) => log(b.hash)) */
  on<K extends keyof E>(type: K, fn: Listener<E[K]>): () => void {
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, (set = new Set()));
    set.add(fn as Listener<never>);
    return () => this.off(type, fn);
  }

  /** Adds a listener that runs once. @example events.once('tip', () => done()) */
  once<K extends keyof E>(type: K, fn: Listener<E[K]>): () => void {
    const off = this.on(type, (p) => {
      off();
      fn(p);
    });
    return off;
  }

  /** Removes a listener. @example events.off('tip', onTip) */
  off<K extends keyof E>(type: K, fn: Listener<E[K]>): void {
    this.#listeners.get(type)?.delete(fn as Listener<never>);
  }

  /** Calls every listener of `type` with `payload`. @example events.emit('mempool', { size: 0, bytes: 0 }) */
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

  /** Number of listeners of `type`. @example events.listenerCount('tip') */
  listenerCount(type: keyof E): number {
    return this.#listeners.get(type)?.size ?? 0;
  }

  /**
   * Resolves with the first payload of `type` that satisfies `pred`; rejects after `timeoutMs`
   * (if given).
   * @example
   * ```ts
   * await events.waitFor('tip', (t) => t.height >= 10, 30_000);
   * ```
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
