/**
 * Who may connect to us: {@link PeerScores} bans plus an isolate switch, as one libp2p connection
 * gater. The gater is created with the libp2p node and consulted on every dial and every inbound
 * connection (before and after the noise handshake), so flipping the switch takes effect at once
 * for new connections; {@link NetworkService.setIsolated} hangs up the existing ones.
 *
 * Isolation exists for the UI ("go offline" while keeping the tab running) and for partition tests:
 * `setIsolated(true, { allow: [peerB] })` keeps only the listed peers, so a test can split four
 * nodes into two groups that still talk within each group.
 *
 * Addresses are filtered only by the `denyDialMultiaddr` passed to {@link PeerGate.gater}, and the
 * gater always sets one, on purpose: libp2p's browser build installs a default that refuses every
 * insecure WebSocket (`ws://`) and private address (127.0.0.1, 192.168.x.x), which is exactly how
 * a page served from http://localhost reaches its relay; any gater with its own
 * `denyDialMultiaddr` replaces that default. A page served from a public host must not dial the
 * visitor's own network (dial-filter.ts, which the browser network passes).
 * @module
 */
import type { ConnectionGater, PeerId } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';
import { PeerScores, type Offence, type PenaltyResult } from './peer-score.ts';

/** A penalty as {@link PeerGate.penalize} reports it to listeners. */
export interface PenaltyEvent extends PenaltyResult {
  peer: string;
  offence: Offence;
  /** Why, for logs (an error message). */
  why?: string;
}

/**
 * Bans and isolation in one place.
 * @example
 * ```ts
 * const gate = new PeerGate(new PeerScores());
 * const libp2p = await createLibp2p({ connectionGater: gate.gater(), ... });
 * gate.setIsolated(true, ['12D3KooW...']); // only that peer may stay or come
 * ```
 */
export class PeerGate {
  readonly scores: PeerScores;
  #isolated = false;
  #allow = new Set<string>();
  readonly #penaltyListeners = new Set<(e: PenaltyEvent) => void>();

  constructor(scores: PeerScores = new PeerScores()) {
    this.scores = scores;
  }

  /** Whether the isolate switch is on. @example gate.isolated // false */
  get isolated(): boolean {
    return this.#isolated;
  }

  /** Peers still allowed while isolated. @example [...gate.allowed] */
  get allowed(): ReadonlySet<string> {
    return this.#allow;
  }

  /**
   * Turns isolation on (only `allow`ed peer ids may connect) or off (everyone not banned).
   * @example gate.setIsolated(false)
   */
  setIsolated(on: boolean, allow: Iterable<string> = []): void {
    this.#isolated = on;
    this.#allow = on ? new Set(allow) : new Set();
  }

  /**
   * Whether a peer is refused now (banned, or isolation excludes it).
   * @example if (gate.denies(peerId)) await libp2p.hangUp(peerIdObj)
   */
  denies(peer: string): boolean {
    if (this.scores.isBanned(peer)) return true;
    return this.#isolated && !this.#allow.has(peer);
  }

  /**
   * Charges a peer with an offence (PeerScores.penalize) and tells the listeners — the network
   * service hangs up a peer whose penalty ends in a ban. Every part of the network layer (sync
   * service, gossip validators, sync manager) reports offences here.
   * @example gate.penalize(peerId, 'invalidBlock', 'BAD_MERKLE')
   */
  penalize(peer: string, offence: Offence, why?: string): PenaltyResult {
    const r = this.scores.penalize(peer, offence);
    const event: PenaltyEvent = { ...r, peer, offence, ...(why === undefined ? {} : { why }) };
    for (const fn of [...this.#penaltyListeners]) fn(event);
    return r;
  }

  /**
   * Bans a peer outright (PeerScores.ban: banMs, 10 min) and tells the listeners, with offence
   * 'unsolicited' — e.g. it runs another chain under our protocol ids.
   * @example gate.ban(peerId, 'genesis differs')
   */
  ban(peer: string, why?: string): void {
    this.scores.ban(peer);
    const event: PenaltyEvent = { score: 0, decision: 'ban', peer, offence: 'unsolicited', ...(why === undefined ? {} : { why }) };
    for (const fn of [...this.#penaltyListeners]) fn(event);
  }

  /**
   * Listens to penalties; returns the unsubscribe function.
   * @example const off = gate.onPenalty((e) => e.decision === 'ban' && hangUp(e.peer))
   */
  onPenalty(fn: (e: PenaltyEvent) => void): () => void {
    this.#penaltyListeners.add(fn);
    return () => this.#penaltyListeners.delete(fn);
  }

  /**
   * The libp2p connection gater (inbound, outbound, relayed, reservations).
   * @example createLibp2p({ connectionGater: gate.gater() })
   */
  gater(opts: { denyDialMultiaddr?: (ma: Multiaddr) => boolean | Promise<boolean> } = {}): ConnectionGater {
    const denied = (peer: PeerId) => this.denies(peer.toString());
    return {
      denyDialMultiaddr: opts.denyDialMultiaddr ?? (() => false),
      denyDialPeer: denied,
      denyInboundConnection: () => this.#isolated && this.#allow.size === 0,
      denyInboundEncryptedConnection: denied,
      denyOutboundEncryptedConnection: denied,
      denyInboundUpgradedConnection: denied,
      denyOutboundUpgradedConnection: denied,
      denyInboundRelayReservation: denied,
      denyOutboundRelayedConnection: (source, destination) => denied(source) || denied(destination),
      denyInboundRelayedConnection: (relay, remotePeer) => denied(relay) || denied(remotePeer),
    };
  }
}
