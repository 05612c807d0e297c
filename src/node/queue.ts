/**
 * A serial task queue (a promise chain): each task starts after the previous one settled, so the
 * FullNode's chain state, header index and mempool are only ever changed by one task at a time —
 * the role of Bitcoin Core's `cs_main` lock, in a single-threaded event loop where the hazard is
 * not threads but interleaving at every `await`.
 * @module
 */

/**
 * @example
 * ```ts
 * const q = new SerialQueue();
 * const a = q.run(async () => { await write(1); return 1 });
 * const b = q.run(async () => read()); // starts after `a` settled
 * ```
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();
  #pending = 0;

  /** Tasks queued or running. @example if (q.pending === 0) idle() */
  get pending(): number {
    return this.#pending;
  }

  /** Runs `fn` after every earlier task settled; its result or error is returned to the caller only. @example await q.run(() => step()) */
  run<T>(fn: () => T | Promise<T>): Promise<T> {
    this.#pending++;
    const task = async () => {
      try {
        return await fn();
      } finally {
        this.#pending--;
      }
    };
    const p = this.#tail.then(task, task);
    this.#tail = p.catch(() => undefined);
    return p;
  }

  /** Resolves once every task queued so far has settled. @example await q.idle() */
  idle(): Promise<void> {
    return this.#tail.then(() => undefined);
  }
}
