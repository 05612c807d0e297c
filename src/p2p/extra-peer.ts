/**
 * The extra peer (Bitcoin Core's extra block-relay-only peer, net.cpp `StartExtraBlockRelayPeers` /
 * net_processing.cpp `EvictExtraOutboundPeers`), as a unit of its own over a narrow view of the
 * PeerManager's table of candidates and connections.
 *
 * Once a node has its target of direct chain peers nobody is dialled any more, so two groups that
 * filled their slots from their own side — the halves of a healed partition — would never meet
 * again. Every `everyMs` (60 s; 0: off) one more candidate is dialled, one at a time: the one
 * tried as extra longest ago (never: first), ties broken at random so that the whole book is
 * visited. Once connected it has `probeMs` (20 s) to show a chain we lacked (`isAhead`: its
 * headers passed our checks, so it cannot be faked without proof of work):
 *
 * - shown (`isAhead` true): **kept**, as an ordinary peer, and — as Bitcoin Core does — if that
 *   puts us over the target our youngest other outbound chain peer is hung up (the older ones have
 *   lasted: they are the harder to plant);
 * - nothing new (`isAhead` false), or nothing known by the deadline: **dropped** (hung up) —
 *   unless a peer went meanwhile and the extra now fills its slot: then it stays, as an ordinary
 *   peer.
 *
 * The state machine: idle → dialling (a failed dial: idle) → on probe (until kept, dropped, or
 * its connection gone) → idle. The period counts from the moment a dial is started.
 * @module
 */

/**
 * Default period of the extra peer, ms. Bitcoin Core tries an extra block-relay-only peer every
 * 5 minutes; tabs come and go far faster than full nodes, and one dial, identify and status
 * request a minute is little.
 */
export const EXTRA_PEER_EVERY_MS = 60_000;
/**
 * Default time the extra peer has to show us a chain we lacked before it is dropped, ms: a dial,
 * identify, a status request and a headers request, over WebRTC from a busy tab.
 */
export const EXTRA_PEER_PROBE_MS = 20_000;

/** A candidate as the rotation sees it: when it was last picked as the extra peer (ms). */
export interface ExtraCandidate {
  extraAt?: number;
}

/** An open, direct, outbound connection to a chain peer that is not a bootstrap relay. */
export interface OutboundChainPeer {
  id: string;
  /** When the connection opened (ms). */
  openedAt: number;
}

/** What the rotation needs of the peer manager. */
export interface ExtraPeerView {
  /** The number of direct chain peers wanted. */
  readonly target: number;
  /** Whether the gate isolates us now (no extra peer then). */
  isolated(): boolean;
  /** Chain peers with at least one direct connection now. */
  directChainPeers(): number;
  /** Whether the peer is a chain peer (identified speaking the sync protocol) now. */
  isChainPeer(id: string): boolean;
  /**
   * The candidates that may be dialled as the extra now: not in `connected` (the peers connected
   * when the round began), not being dialled, not backing off, not a relay, not refused by the
   * gate. `extraAt` is written on the one picked.
   */
  eligible(now: number, connected: ReadonlySet<string>): Iterable<[string, ExtraCandidate]>;
  /** Dials a candidate; true once connected. */
  dial(id: string): Promise<boolean>;
  /** The open direct outbound connections to chain peers, bootstrap relays excluded. */
  outboundChainPeers(): Iterable<OutboundChainPeer>;
  /** Hangs up every connection to the peer. */
  hangUp(id: string): void;
  /** Whether the peer showed us a chain we lacked; undefined: not known yet (or not asked: always dropped). */
  isAhead?: (id: string) => boolean | undefined;
  log?: (msg: string) => void;
}

export interface ExtraPeerOptions {
  /** Period, ms (default {@link EXTRA_PEER_EVERY_MS}); 0: no extra peer. */
  everyMs?: number;
  /** Time the extra peer has to prove useful, ms (default {@link EXTRA_PEER_PROBE_MS}). */
  probeMs?: number;
  /** The clock, ms (default Date.now). */
  now?: () => number;
  /** Uniform in [0, 1) for tie-breaking (default Math.random). */
  random?: () => number;
}

/** The extra peer being tried: dialled, then given until `deadline` to prove useful. */
interface Trial {
  id: string;
  dialing: boolean;
  deadline: number;
}

/**
 * The extra peer's rotation (see the module note). The peer manager calls {@link tick} at the end
 * of each upkeep round and {@link peerGone} when a peer's last connection closes.
 * @example
 * ```ts
 * const extra = new ExtraPeerRotation(view, { everyMs: 60_000, probeMs: 20_000 });
 * extra.start(Date.now());
 * extra.tick(Date.now(), connectedIds); // from the upkeep round
 * extra.current; // the peer being tried, if any
 * ```
 */
export class ExtraPeerRotation {
  readonly #view: ExtraPeerView;
  readonly #everyMs: number;
  readonly #probeMs: number;
  readonly #now: () => number;
  readonly #random: () => number;
  #trial: Trial | undefined;
  /** When the next extra peer may be dialled (ms). */
  #nextAt = 0;

  constructor(view: ExtraPeerView, opts: ExtraPeerOptions = {}) {
    this.#view = view;
    this.#everyMs = opts.everyMs ?? EXTRA_PEER_EVERY_MS;
    this.#probeMs = opts.probeMs ?? EXTRA_PEER_PROBE_MS;
    this.#now = opts.now ?? Date.now;
    this.#random = opts.random ?? Math.random;
    if (!(this.#everyMs >= 0 && this.#probeMs > 0)) {
      throw new RangeError(`PeerManager: extraPeerEveryMs must be ≥ 0 and extraPeerProbeMs > 0 (got ${this.#everyMs}, ${this.#probeMs})`);
    }
  }

  /** The extra peer being tried now, if any. @example extra.current */
  get current(): string | undefined {
    return this.#trial?.id;
  }

  /** Starts the period: the first extra peer comes `everyMs` after `now`. @example extra.start(Date.now()) */
  start(now: number): void {
    this.#nextAt = now + this.#everyMs;
  }

  /** Forgets the peer being tried (a dial under way is then ignored). @example extra.stop() */
  stop(): void {
    this.#trial = undefined;
  }

  /**
   * A peer's last connection closed: if it was the extra peer on probe, the slot is free (one
   * still being dialled stays: its dial decides).
   * @example extra.peerGone(id)
   */
  peerGone(id: string): void {
    if (this.#trial?.id === id && !this.#trial.dialing) this.#trial = undefined;
  }

  /**
   * One round: judges the peer being tried — kept, dropped, or not known yet — or, when the
   * period has come and we are at the target, dials the next one. `connected`: the peers
   * connected when the upkeep round began.
   * @example extra.tick(Date.now(), connectedIds)
   */
  tick(now: number, connected: ReadonlySet<string>): void {
    const v = this.#view;
    if (this.#everyMs === 0 || v.isolated()) return;
    const x = this.#trial;
    if (x) {
      if (x.dialing) return;
      const ahead = v.isAhead?.(x.id);
      if (ahead === true) this.#keep(x.id);
      else if (ahead === false || now >= x.deadline) {
        // A peer went meanwhile and the extra fills its slot: it stays, as an ordinary peer.
        if (v.isChainPeer(x.id) && v.directChainPeers() <= v.target) this.#trial = undefined;
        else this.#drop(x.id, ahead === false ? 'nothing new' : 'nothing shown in time');
      }
      return;
    }
    if (now < this.#nextAt || v.directChainPeers() < v.target) return;
    this.#nextAt = now + this.#everyMs;
    // The candidate tried as extra longest ago (never: first), ties broken at random so that
    // the whole book is visited.
    let pick: ExtraCandidate | undefined;
    let pickId = '';
    let pickAt = Infinity;
    let ties = 0;
    for (const [id, c] of v.eligible(now, connected)) {
      const at = c.extraAt ?? 0;
      if (at < pickAt) {
        pick = c;
        pickId = id;
        pickAt = at;
        ties = 1;
      } else if (at === pickAt && this.#random() * ++ties < 1) {
        pick = c;
        pickId = id;
      }
    }
    if (pick === undefined) return;
    pick.extraAt = now;
    const trial: Trial = { id: pickId, dialing: true, deadline: Infinity };
    this.#trial = trial;
    void v.dial(pickId).then((ok) => {
      if (this.#trial !== trial) return;
      if (!ok) {
        this.#trial = undefined;
        return;
      }
      trial.dialing = false;
      trial.deadline = this.#now() + this.#probeMs;
    });
  }

  /** The extra peer showed us a chain we lacked: it stays, and the youngest other outbound peer goes if we are over the target. */
  #keep(id: string): void {
    const v = this.#view;
    this.#trial = undefined;
    v.log?.(`peers: extra peer ${id} showed a chain we lacked: kept`);
    if (v.directChainPeers() <= v.target) return;
    let youngest: OutboundChainPeer | undefined;
    for (const p of v.outboundChainPeers()) {
      if (p.id === id) continue;
      if (!youngest || p.openedAt > youngest.openedAt) youngest = p;
    }
    if (!youngest) return;
    v.log?.(`peers: ${youngest.id} hung up to make room for the extra peer`);
    v.hangUp(youngest.id);
  }

  #drop(id: string, why: string): void {
    this.#trial = undefined;
    this.#view.log?.(`peers: extra peer ${id} dropped (${why})`);
    this.#view.hangUp(id);
  }
}
