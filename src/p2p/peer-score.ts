/**
 * Peer scoring: how much we trust each peer, and whom to disconnect and refuse for a while.
 *
 * Every peer starts at 0. Each offence subtracts its weight (Bitcoin Core's `Misbehaving(howmuch)`
 * with the discouragement threshold of 100, where an invalid block is an immediate 100). A score
 * recovers towards 0 over time with a half-life, like gossipsub's score decay, so a peer that
 * timed out a few times an hour ago starts clean again. When a score falls to `-banThreshold` or
 * below the peer is banned: the node disconnects it and the connection gater refuses it, inbound
 * and outbound, for `banMs` (10 minutes, docs/ARCHITECTURE.md §Peer scoring).
 *
 * Pure: time comes from the caller (`now` in ms) or an injectable clock, there are no timers, and
 * peers are plain string ids (`peerId.toString()`), so this module runs in tests without libp2p.
 * Memory is bounded: at most `maxTrackedPeers` scores and as many bans, the least recently touched
 * forgotten first.
 * @module
 */

/** What a peer can do wrong. */
export type Offence = 'invalidBlock' | 'invalidTx' | 'malformedFrame' | 'oversizedFrame' | 'unsolicited' | 'timeout';

export const OFFENCES: readonly Offence[] = ['invalidBlock', 'invalidTx', 'malformedFrame', 'oversizedFrame', 'unsolicited', 'timeout'];

export interface PeerScoreConfig {
  /** Points subtracted per offence. */
  weights: Record<Offence, number>;
  /** A score at or below minus this bans the peer. */
  banThreshold: number;
  /** How long a ban lasts, ms. */
  banMs: number;
  /** Time for a negative score to recover half way to 0, ms. */
  halfLifeMs: number;
  /** Requests we may have in flight to one peer at once. */
  maxPendingRequests: number;
  /** Scores (and bans) remembered at most; the least recently touched are forgotten first. */
  maxTrackedPeers: number;
}

/**
 * Defaults: an invalid block or an oversized frame bans at once (no honest node sends either); a
 * malformed frame costs half of it; invalid transactions, unsolicited data and timeouts take
 * repeated offences, since honest peers produce them occasionally (a transaction that was valid
 * on their tip, an answer that crossed a timeout, a slow link).
 */
export const DEFAULT_PEER_SCORE_CONFIG: Readonly<PeerScoreConfig> = Object.freeze({
  weights: Object.freeze({ invalidBlock: 100, oversizedFrame: 100, malformedFrame: 50, invalidTx: 20, unsolicited: 10, timeout: 10 }),
  banThreshold: 100,
  banMs: 10 * 60_000,
  halfLifeMs: 10 * 60_000,
  maxPendingRequests: 4,
  maxTrackedPeers: 4096,
});

/** Result of a penalty: the new score and whether the peer is (now) banned. */
export interface PenaltyResult {
  score: number;
  decision: 'ok' | 'ban';
}

interface ScoreEntry {
  score: number;
  at: number;
}

/**
 * Per-peer scores, bans and request caps.
 * @example
 * ```ts
 * const scores = new PeerScores();
 * if (scores.penalize(peer, 'invalidBlock').decision === 'ban') await libp2p.hangUp(peerId);
 * const gaterSays = scores.isBanned(peer); // refuse dials and inbound connections
 * ```
 */
export class PeerScores {
  readonly config: Readonly<PeerScoreConfig>;
  private readonly clock: () => number;
  private readonly scores = new Map<string, ScoreEntry>();
  private readonly bans = new Map<string, number>();
  private readonly pendingRequests = new Map<string, number>();

  constructor(config: Partial<PeerScoreConfig> = {}, clock: () => number = Date.now) {
    const merged: PeerScoreConfig = {
      ...DEFAULT_PEER_SCORE_CONFIG,
      ...config,
      weights: { ...DEFAULT_PEER_SCORE_CONFIG.weights, ...config.weights },
    };
    for (const o of OFFENCES) {
      if (!(Number.isFinite(merged.weights[o]) && merged.weights[o] >= 0)) throw new TypeError(`weight of ${o} must be ≥ 0`);
    }
    for (const k of ['banThreshold', 'banMs', 'halfLifeMs', 'maxPendingRequests', 'maxTrackedPeers'] as const) {
      if (!(Number.isFinite(merged[k]) && merged[k] > 0)) throw new TypeError(`${k} must be > 0`);
    }
    this.config = Object.freeze(merged);
    this.clock = clock;
  }

  /**
   * The peer's score now (0 = clean; negative = distrusted), decayed to `now`.
   * @example scores.score('12D3KooW...') // -20
   */
  score(peer: string, now: number = this.clock()): number {
    const e = this.scores.get(peer);
    return e ? this.decayed(e, now) : 0;
  }

  private decayed(e: ScoreEntry, now: number): number {
    const dt = Math.max(0, now - e.at);
    return e.score * Math.pow(2, -dt / this.config.halfLifeMs);
  }

  /**
   * Charges the peer with an offence; returns its new score and 'ban' if the score reached the
   * threshold (the peer is then banned until now + banMs).
   * @example
   * ```ts
   * const { decision } = scores.penalize(peer, 'malformedFrame');
   * if (decision === 'ban') disconnect(peer);
   * ```
   */
  penalize(peer: string, offence: Offence, now: number = this.clock()): PenaltyResult {
    const weight = this.config.weights[offence];
    if (weight === undefined) throw new TypeError(`unknown offence ${String(offence)}`);
    const score = this.score(peer, now) - weight;
    this.touch(this.scores, peer, { score, at: now });
    if (score <= -this.config.banThreshold) {
      this.ban(peer, now);
      return { score, decision: 'ban' };
    }
    return { score, decision: this.isBanned(peer, now) ? 'ban' : 'ok' };
  }

  /**
   * Bans a peer until `now + ms` (default banMs), whatever its score. Its score is reset so that
   * it starts clean when the ban ends.
   * @example scores.ban(peer) // e.g. it sent us a block of another network
   */
  ban(peer: string, now: number = this.clock(), ms: number = this.config.banMs): void {
    this.scores.delete(peer);
    this.touch(this.bans, peer, Math.max(now + ms, this.bans.get(peer) ?? 0));
  }

  /**
   * Whether the peer is banned at `now` (the connection gater's question: refuse dialling it and
   * its inbound connections).
   * @example
   * ```ts
   * connectionGater: { denyDialPeer: (id) => scores.isBanned(id.toString()) }
   * ```
   */
  isBanned(peer: string, now: number = this.clock()): boolean {
    const until = this.bans.get(peer);
    if (until === undefined) return false;
    if (now < until) return true;
    this.bans.delete(peer);
    return false;
  }

  /**
   * When the peer's ban ends (ms), or undefined if it is not banned.
   * @example scores.bannedUntil(peer)
   */
  bannedUntil(peer: string, now: number = this.clock()): number | undefined {
    return this.isBanned(peer, now) ? this.bans.get(peer) : undefined;
  }

  /**
   * Peers banned at `now` with the time their ban ends.
   * @example for (const [peer, until] of scores.banned()) console.log(peer, new Date(until))
   */
  banned(now: number = this.clock()): Map<string, number> {
    const out = new Map<string, number>();
    for (const [peer, until] of [...this.bans]) if (this.isBanned(peer, now)) out.set(peer, until);
    return out;
  }

  /**
   * Lifts a ban and clears the score (an operator's decision, or a test).
   * @example scores.forgive(peer)
   */
  forgive(peer: string): void {
    this.bans.delete(peer);
    this.scores.delete(peer);
  }

  /**
   * Reserves a request slot to `peer` if fewer than `maxPendingRequests` are in flight; returns
   * false if the cap is reached (pick another peer or wait). Pair every `true` with
   * {@link endRequest}.
   * @example
   * ```ts
   * if (!scores.tryBeginRequest(peer)) return;
   * try { await client.getHeaders(locator) } finally { scores.endRequest(peer) }
   * ```
   */
  tryBeginRequest(peer: string): boolean {
    const n = this.pendingRequests.get(peer) ?? 0;
    if (n >= this.config.maxPendingRequests) return false;
    this.pendingRequests.set(peer, n + 1);
    return true;
  }

  /** Releases a slot taken by {@link tryBeginRequest}. @example scores.endRequest(peer) */
  endRequest(peer: string): void {
    const n = this.pendingRequests.get(peer) ?? 0;
    if (n <= 1) this.pendingRequests.delete(peer);
    else this.pendingRequests.set(peer, n - 1);
  }

  /** Requests in flight to `peer`. @example scores.pending(peer) // 0..maxPendingRequests */
  pending(peer: string): number {
    return this.pendingRequests.get(peer) ?? 0;
  }

  /** Drops the request counter of a peer that disconnected (its requests died with it). */
  disconnected(peer: string): void {
    this.pendingRequests.delete(peer);
  }

  /** Map insertion order = recency: re-insert on touch, evict the oldest beyond the cap. */
  private touch<V>(map: Map<string, V>, peer: string, value: V): void {
    map.delete(peer);
    map.set(peer, value);
    while (map.size > this.config.maxTrackedPeers) map.delete(map.keys().next().value!);
  }
}
