/**
 * Which answer of an overlapping series of loads a view may show. A view reloads what it shows on
 * every new tip; its loads overlap when blocks come faster than a load takes (an address view
 * scans blocks). Showing only the answer to the latest request starves such a view — every answer
 * is superseded before it lands — so an answer is taken when it is for what is asked now and newer
 * than the last one taken.
 * @module
 */

/** One view's load sequence. */
export class LoadOrder {
  #requested = 0;
  #applied = 0;
  #wanted = '';

  /**
   * Starts a load of `what` (the view's key); the returned function says, when the answer is in,
   * whether to show it (and from then on refuses answers older than it).
   * @example
   * ```ts
   * const take = order.begin(`address/${a}`);
   * const view = await api.addressView(a);
   * if (take()) shown = view;
   * ```
   */
  begin(what: string): { take: () => boolean; latest: () => boolean } {
    const seq = ++this.#requested;
    this.#wanted = what;
    return {
      take: () => {
        if (this.#wanted !== what || seq <= this.#applied) return false;
        this.#applied = seq;
        return true;
      },
      latest: () => seq === this.#requested,
    };
  }
}
