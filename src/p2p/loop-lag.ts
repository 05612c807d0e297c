/**
 * How late our own event loop runs. A timer asks to fire every {@link LOOP_LAG_SAMPLE_MS}; how much
 * later than asked it fired is the loop's lag at that moment.
 *
 * Why: a verdict about a peer's silence ("answered no ping in 5 s") is fair only if our own loop
 * was free to hear the answer. When the thread is saturated (hundreds of nodes in one process, a
 * phone, a tab in the background) every peer looks silent at once, and closing them all turned a
 * slow moment into a storm of redials that kept the loop saturated (bench/sim at 200 nodes: peers
 * per node swung between 0.5 and 8 and blocks stopped spreading). The peer manager asks
 * {@link LoopLag.worstSince} before it blames a peer.
 *
 * One shared instance per thread ({@link sharedLoopLag}): every node in a process measures the same
 * loop, so one timer serves them all; it runs only while someone holds it ({@link LoopLag.acquire}).
 * @module
 */

/** Sample period, ms. */
export const LOOP_LAG_SAMPLE_MS = 250;
/** Samples kept (a ring): 256 × 250 ms ≈ 64 s of history, longer than any verdict looks back. */
const KEPT_SAMPLES = 256;

/** What a LoopLag needs from its platform (a fake clock and scheduler in tests). */
export interface LoopLagClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: LoopLagClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // Node: a sampling timer alone must not keep the process alive.
    (t as { unref?: () => void }).unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * The event loop's lag, sampled while held.
 * @example
 * ```ts
 * const release = sharedLoopLag.acquire();
 * const from = performance.now();
 * // … wait for a peer …
 * if (sharedLoopLag.worstSince(from) >= 1000) console.log('we were stalled ourselves');
 * release();
 * ```
 */
export class LoopLag {
  /** When each sample's timer fired (clock ms) and how late it was (ms), as a ring. */
  readonly #firedAt = new Float64Array(KEPT_SAMPLES);
  readonly #late = new Float64Array(KEPT_SAMPLES);
  #count = 0;
  #users = 0;
  #timer: unknown;
  /** When the pending sample's timer is due. */
  #due = 0;
  readonly #everyMs: number;
  readonly #clock: LoopLagClock;

  constructor(opts: { everyMs?: number; clock?: LoopLagClock } = {}) {
    const every = opts.everyMs ?? LOOP_LAG_SAMPLE_MS;
    if (!Number.isFinite(every) || every <= 0) throw new RangeError(`LoopLag: everyMs must be positive, got ${every}`);
    this.#everyMs = every;
    this.#clock = opts.clock ?? realClock;
  }

  /** Starts sampling for one more user; the returned function (idempotent) is that user's release. */
  acquire(): () => void {
    if (this.#users++ === 0) this.#schedule();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.#users === 0) {
        this.#clock.clearTimeout(this.#timer);
        this.#timer = undefined;
      }
    };
  }

  /**
   * The worst lag of our loop since `from` (clock ms): the samples taken after it, and the lag
   * building up now if the pending sample is overdue (a stall in progress is not sampled yet).
   * 0 when nobody holds the sampler.
   */
  worstSince(from: number): number {
    if (this.#users === 0) return 0;
    let worst = Math.max(0, this.#clock.now() - this.#due);
    const n = Math.min(this.#count, KEPT_SAMPLES);
    for (let k = 1; k <= n; k++) {
      const i = (this.#count - k) % KEPT_SAMPLES;
      if (this.#firedAt[i] < from) break;
      if (this.#late[i] > worst) worst = this.#late[i];
    }
    return worst;
  }

  #schedule(): void {
    this.#due = this.#clock.now() + this.#everyMs;
    this.#timer = this.#clock.setTimeout(() => this.#sample(), this.#everyMs);
  }

  #sample(): void {
    const now = this.#clock.now();
    const i = this.#count % KEPT_SAMPLES;
    this.#firedAt[i] = now;
    this.#late[i] = Math.max(0, now - this.#due);
    this.#count++;
    if (this.#users > 0) this.#schedule();
  }
}

/** The thread's one sampler. */
export const sharedLoopLag = new LoopLag();
