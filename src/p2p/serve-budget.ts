/**
 * How much sync serving a node gives away: token buckets for requests and for bytes served, per
 * peer and for all peers together, plus a cap on answers in progress at once. The sync server
 * asks {@link ServeBudget.admit} after reading a request and before touching its chain view; a
 * refused request gets a `BUSY` answer (messages.ts) and no penalty — an honest peer syncing as
 * fast as it can may touch its budget for a moment, and BUSY tells it to come back later or ask
 * another peer.
 *
 * Why both levels: a 518-byte `getBlocks` can cost a 2 MiB answer (a store read, then 2 MiB
 * uploaded), so each peer's share is bounded; and peer ids are free — fifty fresh ids are fifty
 * fresh per-peer budgets — so all peers together are bounded too, and the node stays responsive
 * (its store, its upload, its memory) whoever asks. Bytes are charged once the answer is built
 * (its size is known only then), before it is sent: a bucket may go into debt by one answer, and
 * a peer in debt is refused until the debt is refilled.
 *
 * Pure: time comes from an injectable clock, no timers; memory is bounded (at most
 * `maxTrackedPeers` peers, least recently used forgotten first — a forgotten peer starts with a
 * full budget, which the all-peers budget still bounds).
 * @module
 */

/**
 * A token bucket: `rate` tokens per second up to `burst`, starting full. `take` spends tokens
 * only if there are enough; `charge` spends them regardless (the level may go negative: a debt).
 * @example
 * ```ts
 * const b = new TokenBucket(50, 100, Date.now());
 * if (b.take(1, Date.now())) serve();
 * ```
 */
export class TokenBucket {
  readonly rate: number;
  readonly burst: number;
  #level: number;
  #at: number;

  constructor(ratePerSec: number, burst: number, now: number) {
    if (!(Number.isFinite(ratePerSec) && ratePerSec > 0)) throw new TypeError(`token bucket rate must be > 0, got ${ratePerSec}`);
    if (!(Number.isFinite(burst) && burst > 0)) throw new TypeError(`token bucket burst must be > 0, got ${burst}`);
    this.rate = ratePerSec;
    this.burst = burst;
    this.#level = burst;
    this.#at = now;
  }

  /** Tokens available at `now` (negative while in debt). @example bucket.level(Date.now()) */
  level(now: number): number {
    const dt = Math.max(0, now - this.#at);
    this.#level = Math.min(this.burst, this.#level + (dt * this.rate) / 1000);
    this.#at = Math.max(this.#at, now);
    return this.#level;
  }

  /** Spends n tokens if at least n are there; false (nothing spent) otherwise. @example bucket.take(1, now) */
  take(n: number, now: number): boolean {
    if (this.level(now) < n) return false;
    this.#level -= n;
    return true;
  }

  /** Spends n tokens whatever the level (it may go into debt). @example bucket.charge(answer.length, now) */
  charge(n: number, now: number): void {
    this.level(now);
    this.#level -= n;
  }
}

export interface ServeBudgetConfig {
  /** Requests one peer may have answered per second, sustained. */
  peerRequestsPerSec: number;
  /** Requests one peer may have answered in a burst. */
  peerRequestBurst: number;
  /** Answer bytes one peer may be sent per second, sustained. */
  peerBytesPerSec: number;
  /** Answer bytes one peer may be sent in a burst. */
  peerBytesBurst: number;
  /** Requests answered per second, all peers together. */
  totalRequestsPerSec: number;
  totalRequestBurst: number;
  /** Answer bytes sent per second, all peers together. */
  totalBytesPerSec: number;
  totalBytesBurst: number;
  /** Answers being built or sent at once, all peers together (each may hold a 2 MiB answer). */
  maxConcurrent: number;
  /** Peers whose budgets are remembered at most. */
  maxTrackedPeers: number;
}

const MiB = 1024 * 1024;

/**
 * Defaults, sized on the project's sync benchmarks (bench/sync.bench.ts, bench/p2p-browser): a
 * headless node syncs 10,000 small blocks from one Node peer at ~2,500 blocks/s (156 `getBlocks`
 * of 16 per second, measured on the 2-core dev machine) and a tab from a tab at 500–1,000 blocks/s.
 * 400 requests/s per peer (burst 800) is 2.5× the fastest of these, so an honest sync is not
 * slowed (the unit test replays 5,000 blocks/s); requests without bytes are cheap to answer, and
 * the expensive ones are bounded by bytes. Bytes: a full block is 1 MiB and an answer at most
 * 2 MiB; 16 MiB/s per peer (burst 64 MiB: 32 full answers at once) is more than a browser's
 * upload gives one peer, while a peer replaying 518-byte `getBlocks` of full blocks gets no more
 * than that. All peers together: 1,000 requests/s (burst 2,000) and 32 MiB/s (burst 128 MiB), so
 * two honest peers sync at full speed at once and fifty Sybil ids cost what two peers cost. At
 * most 16 answers in progress: ≤ 32 MiB of answers held in send buffers, whoever asks.
 */
export const DEFAULT_SERVE_BUDGET: Readonly<ServeBudgetConfig> = Object.freeze({
  peerRequestsPerSec: 400,
  peerRequestBurst: 800,
  peerBytesPerSec: 16 * MiB,
  peerBytesBurst: 64 * MiB,
  totalRequestsPerSec: 1000,
  totalRequestBurst: 2000,
  totalBytesPerSec: 32 * MiB,
  totalBytesBurst: 128 * MiB,
  maxConcurrent: 16,
  maxTrackedPeers: 1024,
});

/**
 * The outcome of {@link ServeBudget.admit}: serve — `charge(bytes)` the answer as soon as it is
 * built, `release()` its slot once it is sent or abandoned (once; later calls do nothing) — or
 * answer BUSY with `why`.
 */
export type Admission = { ok: true; charge(bytes: number): void; release(): void } | { ok: false; why: string };

interface PeerBudget {
  requests: TokenBucket;
  bytes: TokenBucket;
}

/**
 * Per-peer and all-peers serving budgets.
 * @example
 * ```ts
 * const budget = new ServeBudget();
 * const a = budget.admit(peerId.toString());
 * if (!a.ok) return { type: 'error', id, code: 'BUSY', message: a.why };
 * try {
 *   const answer = encodeMessage(await handleSyncRequest(req, view));
 *   a.charge(answer.length);
 *   await send(answer);
 * } finally { a.release() }
 * ```
 */
export class ServeBudget {
  readonly config: Readonly<ServeBudgetConfig>;
  readonly #clock: () => number;
  readonly #peers = new Map<string, PeerBudget>();
  readonly #totalRequests: TokenBucket;
  readonly #totalBytes: TokenBucket;
  #inProgress = 0;

  constructor(config: Partial<ServeBudgetConfig> = {}, clock: () => number = Date.now) {
    const merged = { ...DEFAULT_SERVE_BUDGET, ...config };
    for (const k of Object.keys(DEFAULT_SERVE_BUDGET) as (keyof ServeBudgetConfig)[]) {
      if (!(Number.isFinite(merged[k]) && merged[k] > 0)) throw new TypeError(`${k} must be > 0`);
    }
    this.config = Object.freeze(merged);
    this.#clock = clock;
    const now = clock();
    this.#totalRequests = new TokenBucket(merged.totalRequestsPerSec, merged.totalRequestBurst, now);
    this.#totalBytes = new TokenBucket(merged.totalBytesPerSec, merged.totalBytesBurst, now);
  }

  /** Answers in progress now. @example budget.inProgress // 0..maxConcurrent */
  get inProgress(): number {
    return this.#inProgress;
  }

  /** Peers whose budgets are remembered. @example budget.trackedPeers */
  get trackedPeers(): number {
    return this.#peers.size;
  }

  /**
   * Admits one request of `peer` (one request token from its bucket and from the all-peers one,
   * neither byte bucket in debt, a free slot), or says why not. Nothing is spent on a refusal.
   * @example
   * ```ts
   * const a = budget.admit(peer);
   * if (a.ok) try { a.charge(answer.length); await send(answer) } finally { a.release() }
   * ```
   */
  admit(peer: string): Admission {
    const now = this.#clock();
    const mine = this.#peer(peer, now);
    if (this.#inProgress >= this.config.maxConcurrent) return { ok: false, why: `${this.#inProgress} answers in progress` };
    if (mine.requests.level(now) < 1) return { ok: false, why: "over this peer's requests per second" };
    if (mine.bytes.level(now) <= 0) return { ok: false, why: "over this peer's bytes per second" };
    if (this.#totalRequests.level(now) < 1) return { ok: false, why: 'over the requests per second of all peers' };
    if (this.#totalBytes.level(now) <= 0) return { ok: false, why: 'over the bytes per second of all peers' };
    mine.requests.take(1, now);
    this.#totalRequests.take(1, now);
    this.#inProgress++;
    let released = false;
    return {
      ok: true,
      charge: (bytes: number) => {
        if (!(Number.isFinite(bytes) && bytes > 0)) return;
        const at = this.#clock();
        mine.bytes.charge(bytes, at);
        this.#totalBytes.charge(bytes, at);
      },
      release: () => {
        if (released) return;
        released = true;
        this.#inProgress--;
      },
    };
  }

  /** The peer's budget, created full on first use; map order = recency, oldest evicted. */
  #peer(peer: string, now: number): PeerBudget {
    let b = this.#peers.get(peer);
    if (b) this.#peers.delete(peer);
    else {
      const c = this.config;
      b = { requests: new TokenBucket(c.peerRequestsPerSec, c.peerRequestBurst, now), bytes: new TokenBucket(c.peerBytesPerSec, c.peerBytesBurst, now) };
    }
    this.#peers.set(peer, b);
    while (this.#peers.size > this.config.maxTrackedPeers) this.#peers.delete(this.#peers.keys().next().value!);
    return b;
  }
}
