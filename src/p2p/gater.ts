/**
 * A libp2p connection gater backed by {@link PeerScores}: banned peers are neither dialled nor
 * accepted (inbound, outbound, relayed, relay reservations) until their ban ends.
 *
 * It also sets `denyDialMultiaddr`, on purpose: libp2p's browser build installs a default one
 * that refuses every insecure WebSocket (`ws://`) and private address (127.0.0.1, 192.168.x.x),
 * which is exactly how a page served from http://localhost reaches its relay. Any gater with its
 * own `denyDialMultiaddr` replaces that default; pass `denyDialMultiaddr` to restrict again (the
 * browser passes dial-filter.ts's `dialFilterForPage`: a public page dials no private address).
 * @module
 */
import type { ConnectionGater, PeerId } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';
import type { PeerScores } from './peer-score.ts';

export interface ScoreGaterOptions {
  /** Addresses never to dial. Default: none refused (see module note). */
  denyDialMultiaddr?: (ma: Multiaddr) => boolean | Promise<boolean>;
}

/**
 * The gater for `createLibp2p({ connectionGater })`.
 * @example
 * ```ts
 * const scores = new PeerScores();
 * const node = await createLibp2p({ connectionGater: scoreGater(scores), ... });
 * ```
 */
export function scoreGater(scores: PeerScores, opts: ScoreGaterOptions = {}): ConnectionGater {
  const banned = (peer: PeerId) => scores.isBanned(peer.toString());
  return {
    denyDialMultiaddr: opts.denyDialMultiaddr ?? (() => false),
    denyDialPeer: banned,
    denyInboundEncryptedConnection: banned,
    denyOutboundEncryptedConnection: banned,
    denyInboundRelayReservation: banned,
    denyOutboundRelayedConnection: (source, destination) => banned(source) || banned(destination),
    denyInboundRelayedConnection: (_relay, remotePeer) => banned(remotePeer),
  };
}
