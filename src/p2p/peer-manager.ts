/**
 * Who we are connected to, and who we dial: the relay(s) we bootstrap from, peers found through
 * discovery or kept in the profile's address book, round-trip times, transports, bans.
 *
 * - **Bootstrap** addresses (the relay from `/bootstrap.json`, `--bootstrap`) are kept connected:
 *   when the connection drops (the relay restarts) they are redialled with a short capped backoff;
 *   a `bootstrap` function is called again each time, so a relay that came back on another port is
 *   found.
 * - **Discovered** peers (pubsub peer discovery, identify, the address book) are dialled until we
 *   have `targetPeers` (8) direct connections to chain peers: deduplicated (one dial per peer at a
 *   time), failures retried with exponential backoff and jitter. Direct addresses go first (the
 *   `dialPolicy` orders them; the browser puts WebRTC first); relayed (circuit) addresses are
 *   tried only while we have fewer than `targetPeers` direct peers, and a peer we reach only
 *   through the relay is tried directly again later.
 * - **Address book**: chain peers we connected to are written to the profile's store
 *   (`putPeer`) with their listen addresses, at most once a minute each; on start they are loaded
 *   and redialled. Entries unseen for a week are deleted.
 * - **Extra peer** (extra-peer.ts; Bitcoin Core's extra block-relay-only peer, net.cpp `StartExtraBlockRelayPeers` /
 *   net_processing.cpp `EvictExtraOutboundPeers`): once we have `targetPeers`, nobody is dialled any
 *   more, so two groups that filled their slots from their own side — the halves of a healed
 *   partition — would never meet again. Every `extraPeerEveryMs` (60 s; 0: off) one more candidate
 *   is dialled, one at a time. It is **kept** if it showed us a chain we lacked (`isAhead`: its
 *   headers passed our checks, so it cannot be faked without proof of work), and then our youngest
 *   other outbound peer is hung up to come back to the target; otherwise it is **dropped** as soon
 *   as its status shows nothing new, or after `extraPeerProbeMs` (20 s) if we never learn.
 * - **RTT**: each peer is pinged when identified and every `pingEveryMs`.
 * - **Bans**: a penalty that ends in a ban (PeerGate) hangs the peer up; the gater refuses it
 *   for the ban's duration. **Isolation** (PeerGate.setIsolated) hangs up everyone not allowed.
 *
 * Transport of a connection, from its remote address: a limited connection → 'relay' (whatever
 * its address); `/webrtc` → 'webrtc' (also when signalled through a relay); `/p2p-circuit` → 'relay'; `/ws`, `/wss`, `/tls/ws` →
 * 'websocket'; plain `/tcp` → 'tcp'.
 *
 * Size (~920 lines): the bootstrap redial, the dial queue, the WebRTC probe, the ping, the relayed
 * connection's grace and the direct-after-relayed retries all read and change one table of
 * candidates and one view of the connections, and each decision needs the others' state (an unproven WebRTC dial is neither a
 * success nor a failure until the probe says). The extra peer's rotation, which needs only a
 * narrow view of that table, is its own unit (extra-peer.ts, `ExtraPeerRotation`).
 * @module
 */
import type { Connection, PeerId, PeerInfo, IdentifyResult } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import type { TabchainLibp2p } from './libp2p-node.ts';
import type { PeerGate } from './peer-gate.ts';
import { errorText } from './errors.ts';
import { sharedLoopLag, type LoopLag } from './loop-lag.ts';
import { EXTRA_PEER_EVERY_MS, EXTRA_PEER_PROBE_MS, ExtraPeerRotation, type ExtraPeerView, type OutboundChainPeer } from './extra-peer.ts';

/** How a peer is connected. 'tab' is the same-browser BroadcastChannel mesh (not libp2p). */
export type PeerTransport = 'webrtc' | 'relay' | 'websocket' | 'tcp' | 'tab';

/** A connected peer as the network reports it. */
export interface NetworkPeer {
  id: string;
  transport: PeerTransport;
  /** Last measured round trip, ms. */
  rttMs?: number;
  /** PeerScores score (0 clean, negative distrusted). */
  score: number;
  direction: 'inbound' | 'outbound';
  /** Remote address of the connection shown. */
  addr: string;
  /** A relay (bootstrap node or a circuit relay server that is not a chain peer). */
  isRelay: boolean;
  /** Height from the peer's last sync status. */
  height?: number;
}

/** Orders (and may filter) the addresses to try for a peer, best first. */
export type DialPolicy = (peerId: string, addrs: Multiaddr[]) => Multiaddr[];

/** An address-book entry (the shape of storage's PeerRecord). */
export interface AddressRecord {
  peerId: string;
  multiaddrs: string[];
  lastSeen: number;
  score?: number;
}

/** Where good peers are kept across restarts (a ChainStore has these methods). */
export interface AddressBook {
  listPeers(): Promise<AddressRecord[]>;
  putPeer(record: AddressRecord): Promise<void>;
  deletePeer(peerId: string): Promise<void>;
}

/**
 * The transport of a connection or address (see the module note).
 * @example classifyTransport('/ip4/127.0.0.1/tcp/4001/ws/p2p/12D3KooW...') // 'websocket'
 */
export function classifyTransport(addr: Multiaddr | string, limited = false): Exclude<PeerTransport, 'tab'> {
  const s = typeof addr === 'string' ? addr : addr.toString();
  // A limited connection is relayed whatever its address says: a circuit dialled at a
  // `…/p2p-circuit/webrtc/p2p/<peer>` address keeps that address, and was once listed as direct.
  if (limited) return 'relay';
  if (/\/webrtc(\/|$)|\/webrtc-direct(\/|$)/.test(s)) return 'webrtc';
  if (s.includes('/p2p-circuit')) return 'relay';
  if (/\/(ws|wss)(\/|$)/.test(s)) return 'websocket';
  return 'tcp';
}

/** Rank of a transport for keeping: direct before relayed. */
function rank(t: PeerTransport): number {
  return t === 'relay' ? 1 : 0;
}

/**
 * Default policy: direct addresses first — WebRTC, then TCP (a platform without TCP fails those
 * at once), then WebSockets — and relayed last.
 * @example new NetworkService({ ..., dialPolicy: directFirst })
 */
export const directFirst: DialPolicy = (_peer, addrs) => {
  const order = (a: Multiaddr) => ({ webrtc: 0, tcp: 1, websocket: 2, relay: 3 })[classifyTransport(a)];
  return [...addrs].sort((a, b) => order(a) - order(b));
};

/** The peer id an address ends with, if any. */
export function peerIdOfAddr(ma: Multiaddr): string | undefined {
  const p2p = ma.getComponents().filter((c) => c.name === 'p2p');
  return p2p.length > 0 ? p2p[p2p.length - 1].value : undefined;
}

/** The address with `/p2p/<peer>` at its end. */
function withPeer(ma: Multiaddr, peer: string): Multiaddr {
  return peerIdOfAddr(ma) === peer ? ma : ma.encapsulate(`/p2p/${peer}`);
}

const HOP_PROTOCOL = '/libp2p/circuit/relay/0.2.0/hop';
const BOOK_WRITE_EVERY_MS = 60_000;
const BOOK_MAX_AGE_MS = 7 * 24 * 3600_000;
const MAX_CANDIDATES = 512;
const MAX_PARALLEL_DIALS = 4;
/** libp2p's ping protocol: opened on a new WebRTC connection to see that it carries streams. */
const PING_PROTOCOL = '/ipfs/ping/1.0.0';
/** How long that first stream may take before the connection is taken for dead, ms. */
const WEBRTC_PROBE_MS = 10_000;
/** Unanswered pings in a row after which a direct connection is taken for dead and closed. */
const MAX_PING_FAILURES = 2;
/** How long a ping may take, ms. */
const PING_TIMEOUT_MS = 5000;
/**
 * Our own loop's worst lag during a ping's wait (ms) from which an unanswered ping is not the
 * peer's fault and is not counted (loop-lag.ts says why).
 */
export const PING_STALL_EXCUSE_MS = 500;
/**
 * The extra peer's default period and probe time, ms (they live in extra-peer.ts, with the rotation).
 */
export { EXTRA_PEER_EVERY_MS, EXTRA_PEER_PROBE_MS };

/**
 * How long a relayed connection to a peer stays open once a direct one to it has carried a
 * stream, ms: a newcomer asks for status and headers over the relayed connection at once
 * (libp2p-sync.ts), and closing it the moment WebRTC was up cut those requests off half-way
 * ("sync session closed with requests unanswered"), to be asked again over WebRTC ~0.5 s later.
 * New requests take the direct connection meanwhile.
 */
export const RELAYED_GRACE_MS = 2_000;

export interface PeerManagerTiming {
  /** Period of the dial/keep-alive check, ms (default 2000). */
  maintainEveryMs?: number;
  /** First retry delay after a failed dial, ms (default 2000); doubles per failure. */
  redialBaseMs?: number;
  /** Longest retry delay, ms (default 60 s; bootstrap peers: at most 10 s). */
  redialMaxMs?: number;
  /** Ping period, ms (default 15 s). */
  pingEveryMs?: number;
  /** Time one dial may take, ms (default 10 s). */
  dialTimeoutMs?: number;
  /**
   * Time the **first** WebRTC dial to a peer may take, ms (default: `dialTimeoutMs`); later ones
   * get `dialTimeoutMs`. A tab's WebRTC dial now and then stalls with ICE connected — libp2p's
   * initiator waits for its 'init' data channel to open, which never happens, while the other
   * side already lists the connection as open and its streams hang — and the retry succeeds at
   * once: a short first try turns that stall into a quick retry, while a peer whose dials are
   * just slow (far away, TURN) still gets the full time from its second try on.
   */
  firstWebrtcDialTimeoutMs?: number;
  /** Period of the extra peer (see the module note), ms (default {@link EXTRA_PEER_EVERY_MS}); 0: no extra peer. */
  extraPeerEveryMs?: number;
  /** Time the extra peer has to prove useful, ms (default {@link EXTRA_PEER_PROBE_MS}). */
  extraPeerProbeMs?: number;
  /** How long a relayed connection outlives the direct connection that replaces it, ms (default {@link RELAYED_GRACE_MS}). */
  relayedGraceMs?: number;
}

export interface PeerManagerOptions {
  libp2p: TabchainLibp2p;
  gate: PeerGate;
  /** Sync protocol id: peers speaking it are chain peers. */
  syncProtocol: string;
  bootstrap?: string[] | (() => Promise<string[]>);
  addressBook?: AddressBook;
  targetPeers?: number;
  dialPolicy?: DialPolicy;
  timing?: PeerManagerTiming;
  /** A chain peer was identified (start syncing with it). */
  onChainPeer?: (id: PeerId) => void;
  /** A peer's last connection closed. */
  onPeerGone?: (id: string) => void;
  /**
   * Whether a peer showed us a chain we lacked (the sync manager's `isAhead`): true keeps the
   * extra peer, false drops it, undefined is not known yet. Without it the extra is always dropped.
   */
  isAhead?: (id: string) => boolean | undefined;
  /** The peer list changed (connections, RTTs). */
  onChange?: () => void;
  log?: (msg: string) => void;
  /** Our event loop's lag, asked before a silent peer is blamed (default: the thread's {@link sharedLoopLag}). */
  loopLag?: LoopLag;
}

interface Candidate {
  addrs: Multiaddr[];
  failures: number;
  nextTry: number;
  /**
   * Failed attempts to reach the peer directly while a relayed connection to it is up, and when
   * to try again: kept apart from `failures`, which a relayed dial clears. Without it a tab behind
   * a symmetric NAT (never reachable directly) was sent a WebRTC dial every few seconds, each one
   * leaving it an inbound connection that carries nothing for up to WEBRTC_PROBE_MS.
   */
  directFailures: number;
  nextDirectTry: number;
  /** When it was last picked as the extra peer (ms): the one picked longest ago goes next. */
  extraAt?: number;
  /** A WebRTC dial to it was made (the first one gets `firstWebrtcDialTimeoutMs`). */
  webrtcTried?: boolean;
}

/**
 * Dialling, keeping and describing peers.
 * @example
 * ```ts
 * const pm = new PeerManager({ libp2p, gate, syncProtocol: protocolIds('dev').sync, bootstrap: ['/ip4/127.0.0.1/tcp/8080/ws/p2p/12D3…'] });
 * await pm.start(); // after libp2p.start()
 * pm.peers(); // [{ id, transport: 'tcp', rttMs: 1, score: 0, ... }]
 * ```
 */
export class PeerManager {
  readonly #opts: PeerManagerOptions;
  readonly #target: number;
  readonly #policy: DialPolicy;
  readonly #t: Required<PeerManagerTiming>;
  readonly #candidates = new Map<string, Candidate>();
  readonly #dialing = new Set<string>();
  readonly #rtt = new Map<string, number>();
  readonly #loopLag: LoopLag;
  /** Unanswered pings not counted against their peer because our own loop stalled meanwhile. */
  #stallExcused = 0;
  /** Unanswered pings in a row, per peer (entries only for connected peers: cleared on disconnect). */
  readonly #pingFailures = new Map<string, number>();
  readonly #chainPeers = new Set<string>();
  /** Peers being identified again after one of their connections closed. */
  readonly #reidentifying = new Set<string>();
  readonly #relayIds = new Set<string>();
  /** WebRTC connections whose probe stream opened: reached for real (see #probe). */
  readonly #carried = new WeakSet<Connection>();
  readonly #bookWrittenAt = new Map<string, number>();
  readonly #bootstrapIds = new Set<string>();
  /** Per bootstrap peer id: its addresses (latest list), failures and next try. */
  readonly #bootstrapPeers = new Map<string, { addrs: string[]; failures: number; nextTry: number; dialing: boolean }>();
  #bootstrapListAt = 0;
  #bootstrapListing = false;
  #timers: ReturnType<typeof setInterval>[] = [];
  /** Pending drops of relayed connections ({@link RELAYED_GRACE_MS}): one per direct connection made within that time. */
  #graceTimers = new Set<ReturnType<typeof setTimeout>>();
  /** Releases our hold on the loop-lag sampler (set while started). */
  #releaseLoopLag: (() => void) | undefined;
  #offs: (() => void)[] = [];
  #started = false;
  #maintaining = false;
  /** The extra peer's rotation (extra-peer.ts). */
  readonly #extraPeer: ExtraPeerRotation;

  constructor(opts: PeerManagerOptions) {
    this.#opts = opts;
    this.#loopLag = opts.loopLag ?? sharedLoopLag;
    this.#target = opts.targetPeers ?? 8;
    this.#policy = opts.dialPolicy ?? directFirst;
    const t = opts.timing ?? {};
    const dialTimeoutMs = t.dialTimeoutMs ?? 10_000;
    this.#t = {
      maintainEveryMs: t.maintainEveryMs ?? 2000,
      redialBaseMs: t.redialBaseMs ?? 2000,
      redialMaxMs: t.redialMaxMs ?? 60_000,
      pingEveryMs: t.pingEveryMs ?? 15_000,
      dialTimeoutMs,
      firstWebrtcDialTimeoutMs: t.firstWebrtcDialTimeoutMs ?? dialTimeoutMs,
      extraPeerEveryMs: t.extraPeerEveryMs ?? EXTRA_PEER_EVERY_MS,
      extraPeerProbeMs: t.extraPeerProbeMs ?? EXTRA_PEER_PROBE_MS,
      relayedGraceMs: t.relayedGraceMs ?? RELAYED_GRACE_MS,
    };
    // Refuses hostile timing values (RangeError naming the option).
    this.#extraPeer = new ExtraPeerRotation(this.#extraPeerView(), { everyMs: this.#t.extraPeerEveryMs, probeMs: this.#t.extraPeerProbeMs });
    if (Array.isArray(opts.bootstrap)) this.#noteBootstrap(opts.bootstrap);
  }

  /** Takes in a bootstrap list: addresses grouped by peer id (an address without one is its own entry). */
  #noteBootstrap(addrs: string[]): void {
    const groups = new Map<string, string[]>();
    for (const addr of addrs) {
      let id: string | undefined;
      try {
        id = peerIdOfAddr(multiaddr(addr));
      } catch {
        this.#opts.log?.(`peers: bad bootstrap address ${addr}`);
        continue;
      }
      if (id) {
        this.#bootstrapIds.add(id);
        this.#relayIds.add(id);
      }
      const key = id ?? addr;
      groups.set(key, [...(groups.get(key) ?? []), addr]);
    }
    for (const [key, list] of groups) {
      const b = this.#bootstrapPeers.get(key);
      if (b) b.addrs = list;
      else this.#bootstrapPeers.set(key, { addrs: list, failures: 0, nextTry: 0, dialing: false });
    }
  }

  /** Starts listening to libp2p, loads the address book, dials. @example await pm.start() */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    const libp2p = this.#opts.libp2p;
    const on = <K extends 'peer:discovery' | 'peer:identify' | 'connection:open' | 'connection:close' | 'peer:disconnect'>(
      type: K,
      fn: (e: CustomEvent<K extends 'peer:discovery' ? PeerInfo : K extends 'peer:identify' ? IdentifyResult : K extends 'peer:disconnect' ? PeerId : Connection>) => void,
    ) => {
      const handler = fn as unknown as EventListener;
      libp2p.addEventListener(type, handler);
      this.#offs.push(() => libp2p.removeEventListener(type, handler));
    };
    on('peer:discovery', (e) => this.#discovered(e.detail.id.toString(), e.detail.multiaddrs));
    on('peer:identify', (e) => this.#identified(e.detail));
    on('connection:open', (e) => {
      const conn = e.detail as Connection;
      if (this.#opts.gate.denies(conn.remotePeer.toString())) {
        conn.abort(new Error('peer refused (banned or isolated)'));
        return;
      }
      if (this.#transportOf(conn) === 'webrtc') this.#probe(conn);
      this.#opts.onChange?.();
    });
    on('connection:close', (e) => {
      this.#connectionClosed(e.detail as Connection);
      this.#opts.onChange?.();
    });
    on('peer:disconnect', (e) => {
      const id = (e.detail as PeerId).toString();
      if (this.#relayIds.has(id)) this.#dropCircuitsThrough(id);
      this.#rtt.delete(id);
      this.#pingFailures.delete(id);
      this.#chainPeers.delete(id);
      this.#extraPeer.peerGone(id);
      this.#opts.gate.scores.disconnected(id);
      this.#opts.onPeerGone?.(id);
      this.#opts.onChange?.();
    });
    this.#offs.push(
      this.#opts.gate.onPenalty((p) => {
        if (p.decision !== 'ban') return;
        this.#opts.log?.(`peers: ${p.peer} banned (${p.offence}${p.why ? `: ${p.why}` : ''})`);
        this.#hangUp(p.peer);
      }),
    );
    await this.#loadBook();
    this.#extraPeer.start(Date.now());
    this.#releaseLoopLag = this.#loopLag.acquire();
    this.#timers.push(setInterval(() => void this.maintain(), this.#t.maintainEveryMs));
    this.#timers.push(setInterval(() => void this.#pingAll(), this.#t.pingEveryMs));
    for (const t of this.#timers) (t as { unref?: () => void }).unref?.();
    void this.maintain();
  }

  /** Stops timers and listeners (libp2p is stopped by the caller). @example pm.stop() */
  stop(): void {
    this.#started = false;
    this.#extraPeer.stop();
    this.#releaseLoopLag?.();
    this.#releaseLoopLag = undefined;
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    for (const t of this.#graceTimers) clearTimeout(t);
    this.#graceTimers.clear();
    for (const off of this.#offs) off();
    this.#offs = [];
  }

  /**
   * Unanswered pings not counted against their peers because our own loop stalled meanwhile (for
   * logs, metrics and tests). @example pm.pingsExcused // 0 on a healthy thread
   */
  get pingsExcused(): number {
    return this.#stallExcused;
  }

  /** The extra peer being tried now (see the module note), if any. @example pm.extraPeer */
  get extraPeer(): string | undefined {
    return this.#extraPeer.current;
  }

  /** Peer ids of the bootstrap relays. @example pm.bootstrapIds */
  get bootstrapIds(): ReadonlySet<string> {
    return this.#bootstrapIds;
  }

  /**
   * Connected peers, one entry per peer (its best connection: direct before relayed).
   * @example pm.peers((id) => sync.statusOf(id)?.height)
   */
  peers(heightOf: (id: string) => number | undefined = () => undefined): NetworkPeer[] {
    const best = new Map<string, Connection>();
    for (const c of this.#opts.libp2p.getConnections()) {
      if (c.status !== 'open') continue;
      const id = c.remotePeer.toString();
      const prev = best.get(id);
      if (!prev || rank(this.#transportOf(c)) < rank(this.#transportOf(prev))) best.set(id, c);
    }
    return [...best.entries()].map(([id, c]) => {
      const rtt = this.#rtt.get(id) ?? c.rtt;
      const height = heightOf(id);
      return {
        id,
        transport: this.#transportOf(c),
        ...(rtt === undefined ? {} : { rttMs: Math.round(rtt * 10) / 10 }),
        score: Math.round(this.#opts.gate.scores.score(id) * 10) / 10,
        direction: c.direction,
        addr: c.remoteAddr.toString(),
        isRelay: this.#relayIds.has(id) && !this.#chainPeers.has(id),
        ...(height === undefined ? {} : { height }),
      };
    });
  }

  #transportOf(c: Connection): Exclude<PeerTransport, 'tab'> {
    return classifyTransport(c.remoteAddr, c.limits !== undefined);
  }

  /** Chain peers with at least one direct (non-relayed) connection. */
  #directChainPeers(): number {
    const direct = new Set<string>();
    for (const c of this.#opts.libp2p.getConnections()) {
      const id = c.remotePeer.toString();
      if (c.status === 'open' && this.#chainPeers.has(id) && this.#transportOf(c) !== 'relay') direct.add(id);
    }
    return direct.size;
  }

  /**
   * Applies the gate's isolation: hangs up every connected peer the gate now refuses; when
   * isolation ends, retries everyone at once.
   * @example gate.setIsolated(true); pm.enforceGate()
   */
  enforceGate(): void {
    for (const c of this.#opts.libp2p.getConnections()) {
      if (this.#opts.gate.denies(c.remotePeer.toString())) void c.close().catch((e: Error) => c.abort(e));
    }
    if (!this.#opts.gate.isolated) {
      for (const c of this.#candidates.values()) {
        c.failures = 0;
        c.nextTry = 0;
      }
      for (const b of this.#bootstrapPeers.values()) {
        b.failures = 0;
        b.nextTry = 0;
      }
      this.#bootstrapListAt = 0;
      void this.maintain();
    }
    this.#opts.onChange?.();
  }

  /**
   * One of several connections to a peer closed (the relayed one once a direct one is up, or
   * the relay cut it at its limits). Protocols that keep one long-lived stream per peer lose it
   * if it ran on that connection — gossipsub does, and opens a new one only when the peer is
   * identified again — so a peer still connected is identified again over the best connection
   * left: without it, gossip between two tabs silently stops while they stay connected.
   */
  #connectionClosed(closed: Connection): void {
    if (!this.#started) return;
    const peer = closed.remotePeer;
    const id = peer.toString();
    if (this.#reidentifying.has(id)) return;
    this.#reidentifying.add(id);
    void this.#identifyAgain(peer, closed).finally(() => this.#reidentifying.delete(id));
  }

  async #identifyAgain(peer: PeerId, closed: Connection): Promise<void> {
    const id = peer.toString();
    // A moment first: both ends see the close and the closing connection's streams settle. Only
    // one end needs to succeed (gossipsub answers a new inbound stream with an outbound one).
    for (const waitMs of [200, 1000, 3000]) {
      await new Promise((r) => setTimeout(r, waitMs));
      if (!this.#started || this.#opts.gate.denies(id)) return;
      const left = this.#opts.libp2p.getConnections(peer).filter((c) => c !== closed && c.status === 'open');
      if (left.length === 0) return;
      // A connection known to carry streams: a direct one (a WebRTC one once its probe passed),
      // else a relayed one; a WebRTC connection not yet probed may carry nothing (see #probe).
      const conn = left.find((c) => c.limits === undefined && (this.#transportOf(c) !== 'webrtc' || this.#carried.has(c))) ?? left.find((c) => c.limits !== undefined) ?? left[0];
      try {
        await this.#opts.libp2p.services.identify.identify(conn, { signal: AbortSignal.timeout(this.#t.dialTimeoutMs) });
        return;
      } catch (e) {
        this.#opts.log?.(`peers: identify of ${id} again failed: ${errorText(e)}`);
      }
    }
  }

  /**
   * Checks that a new WebRTC connection carries anything: opens one stream on it (the ping
   * protocol, which every node speaks) and closes the connection if that fails within
   * {@link WEBRTC_PROBE_MS}. Why: @libp2p/webrtc (readCandidatesUntilConnected) upgrades the
   * connection as soon as the signalling stream ends, connected or not — when the other side gives
   * up (its dial timeout, or ICE that cannot succeed behind a symmetric NAT), we are left with a
   * connection listed as direct that carries nothing, and every request to that peer goes to it.
   */
  #probe(conn: Connection): void {
    const id = conn.remotePeer.toString();
    void conn
      .newStream(PING_PROTOCOL, { signal: AbortSignal.timeout(WEBRTC_PROBE_MS) })
      .then(
        async (s) => {
          this.#carried.add(conn);
          const c = this.#candidates.get(id);
          if (c) {
            c.failures = 0;
            c.nextTry = 0;
            c.directFailures = 0;
            c.nextDirectTry = 0;
          }
          // Only now is the peer reached directly: its relayed connection may go.
          if (conn.status === 'open') this.#dropRelayedTo(id, conn);
          await s.close();
        },
        (e: unknown) => {
          // A failed dial, closed here or by the other side: the next attempt waits its backoff
          // (the relayed connection, kept, carries the traffic meanwhile).
          const c = this.#candidates.get(id);
          if (c) {
            this.#directFailed(c);
            c.failures++;
            c.nextTry = Date.now() + this.#backoff(c.failures, this.#t.redialMaxMs);
          }
          if (conn.status !== 'open') return;
          this.#opts.log?.(`peers: WebRTC connection with ${id} carries nothing (${errorText(e)}): closing it`);
          conn.abort(new Error('WebRTC connection carries nothing'));
          void this.maintain();
        },
      )
      .catch((e: unknown) => this.#opts.log?.(`peers: probe stream to ${id} did not close: ${errorText(e)}`));
  }

  /** A direct attempt (dial or WebRTC probe) failed: the next waits its backoff, up to redialMaxMs. */
  #directFailed(c: Candidate): void {
    c.directFailures++;
    c.nextDirectTry = Date.now() + this.#backoff(c.directFailures, this.#t.redialMaxMs);
  }

  /** Closes the relayed connections to `id` other than `keep` (a direct connection that carried a stream, or a non-WebRTC one). */
  #dropRelayedTo(id: string, keep: Connection): void {
    const drop = () => {
      this.#graceTimers.delete(timer);
      // The direct connection died meanwhile: the relayed one carries the peer again.
      if (!this.#started || keep.status !== 'open') return;
      for (const x of this.#opts.libp2p.getConnections()) {
        if (x !== keep && x.remotePeer.toString() === id && this.#transportOf(x) === 'relay') void x.close().catch((e: Error) => x.abort(e));
      }
    };
    const timer = setTimeout(drop, this.#t.relayedGraceMs);
    (timer as { unref?: () => void }).unref?.();
    this.#graceTimers.add(timer);
  }

  /**
   * A relay is gone: closes the relayed connections that ran through it. libp2p was seen keeping
   * them open (listed, carrying nothing: every request timed out) after the relay's process died,
   * and a peer still "connected" is never redialled — through another relay, or directly.
   */
  #dropCircuitsThrough(relayId: string): void {
    const via = `/p2p/${relayId}/p2p-circuit`;
    for (const c of this.#opts.libp2p.getConnections()) {
      if (c.limits !== undefined && c.remoteAddr.toString().includes(via)) c.abort(new Error(`relay ${relayId} is gone`));
    }
    void this.maintain();
  }

  #hangUp(peer: string): void {
    for (const c of this.#opts.libp2p.getConnections()) {
      if (c.remotePeer.toString() === peer) void c.close().catch((e: Error) => c.abort(e));
    }
  }

  // --- candidates ------------------------------------------------------------------------------

  #addCandidate(id: string, addrs: Multiaddr[]): void {
    if (id === this.#opts.libp2p.peerId.toString() || addrs.length === 0) return;
    const c = this.#candidates.get(id);
    const fresh = addrs.map((a) => withPeer(a, id));
    if (c) {
      const seen = new Set(c.addrs.map((a) => a.toString()));
      for (const a of fresh) if (!seen.has(a.toString())) c.addrs.push(a);
      if (c.addrs.length > 16) c.addrs.splice(0, c.addrs.length - 16);
      return;
    }
    this.#candidates.set(id, { addrs: fresh.slice(-16), failures: 0, nextTry: 0, directFailures: 0, nextDirectTry: 0 });
    while (this.#candidates.size > MAX_CANDIDATES) this.#candidates.delete(this.#candidates.keys().next().value!);
  }

  #discovered(id: string, addrs: Multiaddr[]): void {
    if (this.#bootstrapIds.has(id)) return;
    const isNew = !this.#candidates.has(id);
    this.#addCandidate(id, addrs);
    if (isNew) void this.maintain();
  }

  #identified(r: IdentifyResult): void {
    const id = r.peerId.toString();
    if (r.protocols.includes(this.#opts.syncProtocol)) {
      this.#chainPeers.add(id);
      if (r.listenAddrs.length > 0) this.#addCandidate(id, r.listenAddrs);
      void this.#ping(r.peerId);
      void this.#remember(id);
      this.#opts.onChainPeer?.(r.peerId);
    } else if (r.protocols.includes(HOP_PROTOCOL)) {
      this.#relayIds.add(id);
    }
    this.#opts.onChange?.();
  }

  async #loadBook(): Promise<void> {
    const book = this.#opts.addressBook;
    if (!book) return;
    try {
      const now = Date.now();
      for (const r of await book.listPeers()) {
        if (now - r.lastSeen > BOOK_MAX_AGE_MS) {
          await book.deletePeer(r.peerId);
          continue;
        }
        const addrs: Multiaddr[] = [];
        for (const s of r.multiaddrs) {
          try {
            addrs.push(multiaddr(s));
          } catch {
            // a stored address this version cannot parse: skip it
          }
        }
        this.#addCandidate(r.peerId, addrs);
      }
    } catch (e) {
      this.#opts.log?.(`peers: address book unreadable: ${(e as Error).message}`);
    }
  }

  async #remember(id: string): Promise<void> {
    const book = this.#opts.addressBook;
    const c = this.#candidates.get(id);
    if (!book || !c) return;
    const now = Date.now();
    if (now - (this.#bookWrittenAt.get(id) ?? 0) < BOOK_WRITE_EVERY_MS) return;
    this.#bookWrittenAt.set(id, now);
    try {
      await book.putPeer({ peerId: id, multiaddrs: c.addrs.map((a) => a.toString()), lastSeen: now, score: this.#opts.gate.scores.score(id) });
    } catch (e) {
      this.#opts.log?.(`peers: cannot save ${id}: ${(e as Error).message}`);
    }
  }

  // --- dialling --------------------------------------------------------------------------------

  #backoff(failures: number, maxMs: number): number {
    const base = Math.min(maxMs, this.#t.redialBaseMs * 2 ** Math.min(failures - 1, 20));
    return base * (0.75 + Math.random() * 0.5);
  }

  /**
   * One round of upkeep: the bootstrap connection, dials up to the target, direct retries for
   * relayed-only peers. Runs on a timer; call it to act now.
   * @example await pm.maintain()
   */
  async maintain(): Promise<void> {
    if (!this.#started || this.#maintaining) return;
    this.#maintaining = true;
    try {
      const now = Date.now();
      const libp2p = this.#opts.libp2p;
      const connected = new Set(libp2p.getConnections().map((c) => c.remotePeer.toString()));
      if (this.#opts.bootstrap && !this.#opts.gate.isolated) this.#keepBootstrap(connected, now);
      let need = this.#target - this.#directChainPeers();
      const relayedOnly = new Set<string>();
      for (const c of libp2p.getConnections()) {
        const id = c.remotePeer.toString();
        if (this.#transportOf(c) === 'relay') relayedOnly.add(id);
      }
      for (const c of libp2p.getConnections()) if (this.#transportOf(c) !== 'relay') relayedOnly.delete(c.remotePeer.toString());
      const picks: string[] = [];
      for (const [id, c] of this.#candidates) {
        if (need <= 0 || this.#dialing.size + picks.length >= MAX_PARALLEL_DIALS) break;
        if (this.#dialing.has(id) || c.nextTry > now || this.#opts.gate.denies(id)) continue;
        if (connected.has(id) && !(relayedOnly.has(id) && c.nextDirectTry <= now && this.#policy(id, c.addrs).some((a) => classifyTransport(a) !== 'relay'))) continue;
        picks.push(id);
        need--;
      }
      for (const id of picks) void this.#dial(id);
      this.#extraPeer.tick(now, connected);
    } finally {
      this.#maintaining = false;
    }
  }

  /** The narrow view of our table and connections that the extra peer's rotation works on. */
  #extraPeerView(): ExtraPeerView {
    return {
      target: this.#target,
      isolated: () => this.#opts.gate.isolated,
      directChainPeers: () => this.#directChainPeers(),
      isChainPeer: (id) => this.#chainPeers.has(id),
      eligible: (now, connected) => this.#extraCandidates(now, connected),
      dial: (id) => this.#dial(id),
      outboundChainPeers: () => this.#outboundChainPeers(),
      hangUp: (id) => this.#hangUp(id),
      isAhead: (id) => this.#opts.isAhead?.(id),
      log: (msg) => this.#opts.log?.(msg),
    };
  }

  /** Candidates that may be dialled as the extra peer now. */
  *#extraCandidates(now: number, connected: ReadonlySet<string>): Generator<[string, Candidate]> {
    for (const [id, c] of this.#candidates) {
      // Relays (bootstrap or seen speaking only circuit relay) carry no chain: never the extra.
      if (connected.has(id) || this.#dialing.has(id) || c.nextTry > now || this.#relayIds.has(id) || this.#opts.gate.denies(id)) continue;
      yield [id, c];
    }
  }

  /** Open direct outbound connections to chain peers that are not bootstrap relays. */
  *#outboundChainPeers(): Generator<OutboundChainPeer> {
    for (const c of this.#opts.libp2p.getConnections()) {
      const peer = c.remotePeer.toString();
      if (c.status !== 'open' || c.direction !== 'outbound' || this.#transportOf(c) === 'relay') continue;
      if (!this.#chainPeers.has(peer) || this.#bootstrapIds.has(peer)) continue;
      yield { id: peer, openedAt: c.timeline.open };
    }
  }

  /** Dials a candidate, its addresses in the policy's order; true once connected. */
  async #dial(id: string): Promise<boolean> {
    const c = this.#candidates.get(id);
    if (!c) return false;
    this.#dialing.add(id);
    const libp2p = this.#opts.libp2p;
    let retryAtOnce = false;
    try {
      const alreadyRelayed = libp2p.getConnections().some((x) => x.remotePeer.toString() === id);
      const ordered = this.#policy(id, c.addrs);
      // Whether a dial was tried at all: what it rejected with may itself be undefined.
      let tried = false;
      let lastError: unknown;
      for (const ma of ordered) {
        const transport = classifyTransport(ma);
        const webrtc = transport === 'webrtc';
        const first = webrtc && !c.webrtcTried;
        const relayed = transport === 'relay';
        // Relayed connections are a fallback: only while short of direct peers, and never to replace a relayed one.
        if (relayed && (alreadyRelayed || this.#directChainPeers() >= this.#target)) continue;
        if (this.#opts.gate.denies(id)) return false;
        try {
          if (webrtc) c.webrtcTried = true;
          // The relayed fallback after a failed WebRTC dial: the circuit that dial was signalled
          // over is still open, and is used as is. Dialling it would join libp2p's dial job for
          // this peer, which is still the stalled WebRTC one (its own per-address timeout, 6 s):
          // the fallback then waited for that job, and kept it alive past our own timeout.
          const circuit = relayed ? libp2p.getConnections(toPeerId(id)).find((x) => x.status === 'open' && x.limits !== undefined) : undefined;
          const conn = circuit ?? await libp2p.dial(ma, { signal: AbortSignal.timeout(first ? this.#t.firstWebrtcDialTimeoutMs : this.#t.dialTimeoutMs) });
          if (this.#transportOf(conn) === 'webrtc' && !this.#carried.has(conn)) {
            // Not reached yet: a WebRTC dial resolves once signalling ends, whether or not ICE
            // ever connects (behind a symmetric NAT it never does). The probe of that connection
            // decides: a stream carried drops the relayed connection and clears the failures; none
            // closes it and counts as a failed dial (#probe). Dropping the circuit here cut off a
            // tab that only the relay can reach, again at every retry (NAT lab, relay 1 killed).
            return true;
          }
          c.failures = 0;
          c.nextTry = 0;
          if (!relayed && this.#transportOf(conn) !== 'relay') {
            // Reached directly: drop a relayed connection to the same peer.
            c.directFailures = 0;
            c.nextDirectTry = 0;
            this.#dropRelayedTo(id, conn);
          }
          return true;
        } catch (e) {
          tried = true;
          lastError = e;
          // The stall firstWebrtcDialTimeoutMs cuts short is over at the next try: made at once
          // (once this dial is done, over the relayed fallback if it got one), not at the next
          // round of upkeep up to maintainEveryMs later.
          if (first) retryAtOnce = true;
        }
      }
      // A first WebRTC try cut short is retried at once (above), without a direct-failure backoff.
      if (alreadyRelayed) {
        if (!retryAtOnce) this.#directFailed(c);
      } else {
        c.failures++;
        c.nextTry = Date.now() + this.#backoff(c.failures, this.#t.redialMaxMs);
      }
      if (tried) this.#opts.log?.(`peers: dial ${id} failed (${alreadyRelayed ? `${c.directFailures}× directly` : `${c.failures}×`}): ${errorText(lastError)}`);
      return false;
    } finally {
      this.#dialing.delete(id);
      this.#opts.onChange?.();
      if (retryAtOnce) void this.maintain();
    }
  }

  /**
   * Keeps every bootstrap peer connected. A `bootstrap` function is called again when some
   * bootstrap peer is down (at most every 2 s), so a relay that came back elsewhere is found.
   */
  #keepBootstrap(connected: Set<string>, now: number): void {
    const src = this.#opts.bootstrap;
    const down = [...this.#bootstrapPeers.entries()].filter(([key]) => !connected.has(key));
    if (typeof src === 'function' && (this.#bootstrapPeers.size === 0 || down.length > 0) && !this.#bootstrapListing && now - this.#bootstrapListAt > 2000) {
      this.#bootstrapListing = true;
      this.#bootstrapListAt = now;
      src()
        .then((addrs) => this.#noteBootstrap(addrs))
        .catch((e: Error) => this.#opts.log?.(`peers: bootstrap list unavailable: ${e.message}`))
        .finally(() => {
          this.#bootstrapListing = false;
          void this.maintain();
        });
    }
    for (const [key, b] of down) {
      if (b.dialing || now < b.nextTry || this.#opts.gate.denies(key)) continue;
      void this.#dialBootstrap(b);
    }
  }

  async #dialBootstrap(b: { addrs: string[]; failures: number; nextTry: number; dialing: boolean }): Promise<void> {
    b.dialing = true;
    try {
      for (const a of b.addrs) {
        if (!this.#started || this.#opts.gate.isolated) return;
        try {
          await this.#opts.libp2p.dial(multiaddr(a), { signal: AbortSignal.timeout(this.#t.dialTimeoutMs) });
          b.failures = 0;
          b.nextTry = 0;
          return;
        } catch (e) {
          this.#opts.log?.(`peers: bootstrap ${a} failed: ${errorText(e)}`);
        }
      }
      b.failures++;
      b.nextTry = Date.now() + this.#backoff(b.failures, Math.min(this.#t.redialMaxMs, 10_000));
    } finally {
      b.dialing = false;
    }
  }

  // --- ping ------------------------------------------------------------------------------------

  async #ping(peer: PeerId): Promise<void> {
    // libp2p's ping dials when we hold only a relayed (limited) connection to the peer: an
    // unplanned direct dial, which between tabs races the WebRTC dial being signalled through that
    // very connection. Ping over direct connections only (a relayed peer shows no RTT).
    if (!this.#opts.libp2p.getConnections(peer).some((c) => c.status === 'open' && c.limits === undefined)) return;
    const from = performance.now();
    try {
      const rtt = await this.#opts.libp2p.services.ping.ping(peer, { signal: AbortSignal.timeout(PING_TIMEOUT_MS) });
      this.#rtt.set(peer.toString(), rtt);
      this.#pingFailures.delete(peer.toString());
      this.#opts.onChange?.();
    } catch {
      // No answer this time (the connection monitor may still know an RTT). Twice in a row: the
      // direct connection carries nothing — a WebRTC connection whose ICE never completed was seen
      // listed as open for good — so it is closed, and the peer redialled (relayed if need be; a
      // relay by the bootstrap keeper). This is the node's one liveness verdict: libp2p's
      // connection monitor measures RTTs but closes nothing (libp2p-node.ts), because it cannot
      // tell a silent peer from our own stalled loop — and here, when our loop stalled during the
      // wait, the silence may be ours and is not counted.
      const id = peer.toString();
      const stalled = this.#loopLag.worstSince(from);
      if (stalled >= PING_STALL_EXCUSE_MS) {
        this.#stallExcused++;
        return;
      }
      const n = (this.#pingFailures.get(id) ?? 0) + 1;
      this.#pingFailures.set(id, n);
      if (n < MAX_PING_FAILURES) return;
      this.#pingFailures.delete(id);
      for (const c of this.#opts.libp2p.getConnections(peer)) {
        if (c.status === 'open' && c.limits === undefined) {
          this.#opts.log?.(`peers: direct connection to ${id} answers no ping (${n}×): closing it`);
          c.abort(new Error(`no ping answered ${n} times`));
        }
      }
      void this.maintain();
    }
  }

  async #pingAll(): Promise<void> {
    const ids = new Map<string, PeerId>();
    for (const c of this.#opts.libp2p.getConnections()) ids.set(c.remotePeer.toString(), c.remotePeer);
    await Promise.all([...ids.values()].map((p) => this.#ping(p)));
  }
}

/** Parses a peer id string (for callers holding strings). @example toPeerId('12D3KooW...') */
export function toPeerId(id: string): PeerId {
  return peerIdFromString(id);
}
