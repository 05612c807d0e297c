/**
 * The relay's libp2p node: a WebSocket listener, circuit relay v2 server (browsers reserve a slot
 * and reach each other through it, first to exchange WebRTC signalling, and as a fallback
 * carrier), identify, ping, gossipsub and pubsub peer discovery on `/tabchain/<network>/discovery/1`.
 *
 * It holds no chain and validates nothing, so its gossipsub only carries the discovery topic
 * (`allowedTopics`): forwarding blocks or transactions it cannot check would make it an amplifier
 * for junk. Tabs gossip chain data over their own (direct or relayed) connections.
 *
 * Limits are raised from libp2p's defaults, which suit one desktop node, to serve hundreds of tabs:
 * see {@link DEFAULT_RELAY_LIMITS}.
 */
import { createLibp2p, type Libp2p } from 'libp2p';
import { webSockets } from '@libp2p/websockets';
import { noise } from '@libp2p/noise';
import { yamux } from '@libp2p/yamux';
import { identify, type Identify } from '@libp2p/identify';
import { ping, type Ping } from '@libp2p/ping';
import { circuitRelayServer, type CircuitRelayService } from '@libp2p/circuit-relay-v2';
import { gossipsub } from '@libp2p/gossipsub';
import { pubsubPeerDiscovery } from '@libp2p/pubsub-peer-discovery';
import type { PrivateKey } from '@libp2p/interface';
import { protocolIds } from '../src/p2p/protocol.ts';

const MINUTE = 60_000;

/** Limits of the relay (all per relay process unless said otherwise). */
export interface RelayLimits {
  /** Open connections in all (libp2p default 300). Each tab holds one. */
  maxConnections: number;
  /** Connections still upgrading (noise, yamux) at once (default 10). */
  maxIncomingPendingConnections: number;
  /**
   * New connections per second per remote host (default 5). Many tabs share one host (a
   * classroom behind one NAT, every tab of a local test run, and all connections proxied through
   * the HTTP port, which reach libp2p from 127.0.0.1).
   */
  inboundConnectionThreshold: number;
  /** Circuit relay reservations held at once (default 15). */
  maxReservations: number;
  /** How long a reservation lasts before the tab must refresh it, ms (default 2 h). */
  reservationTtl: number;
  /** Bytes one relayed connection may carry before it is reset (default 128 KiB). */
  relayedDataLimit: bigint;
  /** How long one relayed connection may stay open, ms (default 2 min). */
  relayedDurationLimit: number;
  /** Hop streams (reserve/connect requests) open at once, per connection. */
  maxInboundHopStreams: number;
  /** Stop streams the relay opens to reserved tabs at once (default 300). */
  maxOutboundStopStreams: number;
}

/**
 * The relay's defaults. Relayed connections get 32 MiB / 30 min: enough for the WebRTC
 * signalling exchange (a few KiB) and for a fallback sync between two tabs that cannot reach each
 * other directly (headers are 80 bytes each, blocks ≤ 1 MiB), yet bounded so the relay is not a
 * free unlimited tunnel. Tabs re-dial a relayed connection when it is reset.
 */
export const DEFAULT_RELAY_LIMITS: Readonly<RelayLimits> = Object.freeze({
  maxConnections: 2048,
  maxIncomingPendingConnections: 256,
  inboundConnectionThreshold: 200,
  maxReservations: 2048,
  reservationTtl: 2 * 60 * MINUTE,
  relayedDataLimit: 32n * 1024n * 1024n,
  relayedDurationLimit: 30 * MINUTE,
  maxInboundHopStreams: 64,
  maxOutboundStopStreams: 2048,
});

export type RelayServices = {
  identify: Identify;
  ping: Ping;
  relay: CircuitRelayService;
  pubsub: ReturnType<ReturnType<typeof gossipsub>>;
};

export type RelayNode = Libp2p<RelayServices>;

export interface RelayNodeOptions {
  privateKey: PrivateKey;
  network: string;
  /** IP address for the WebSocket listener (e.g. 0.0.0.0, 127.0.0.1, ::). */
  listenHost: string;
  /** Port of the WebSocket listener; 0 = any free port. */
  listenPort: number;
  limits?: Partial<RelayLimits>;
}

/**
 * Creates and starts the relay's libp2p node.
 * @example
 * ```ts
 * const node = await createRelayNode({ privateKey, network: 'main', listenHost: '0.0.0.0', listenPort: 0 });
 * node.getMultiaddrs(); // [/ip4/127.0.0.1/tcp/41234/ws/p2p/12D3KooW..., ...]
 * ```
 */
export async function createRelayNode(opts: RelayNodeOptions): Promise<RelayNode> {
  const limits = { ...DEFAULT_RELAY_LIMITS, ...opts.limits };
  const ids = protocolIds(opts.network);
  const family = opts.listenHost.includes(':') ? 'ip6' : 'ip4';
  return createLibp2p({
    privateKey: opts.privateKey,
    addresses: { listen: [`/${family}/${opts.listenHost}/tcp/${opts.listenPort}/ws`] },
    transports: [webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: {
      maxConnections: limits.maxConnections,
      maxIncomingPendingConnections: limits.maxIncomingPendingConnections,
      inboundConnectionThreshold: limits.inboundConnectionThreshold,
    },
    services: {
      identify: identify(),
      ping: ping(),
      relay: circuitRelayServer({
        reservations: {
          maxReservations: limits.maxReservations,
          reservationTtl: limits.reservationTtl,
          applyDefaultLimit: true,
          defaultDataLimit: limits.relayedDataLimit,
          defaultDurationLimit: limits.relayedDurationLimit,
        },
        maxInboundHopStreams: limits.maxInboundHopStreams,
        maxOutboundStopStreams: limits.maxOutboundStopStreams,
      }),
      pubsub: gossipsub({
        allowedTopics: [ids.discoveryTopic],
        // Discovery messages reach tabs that only know the relay so far.
        allowPublishToZeroTopicPeers: true,
        // Peer exchange on prune: tabs pruned from the relay's mesh learn other tabs.
        doPX: true,
        runOnLimitedConnection: false,
        // No IP-colocation penalty: gossipsub's default scores a host down once more than 10 of
        // its peers share one IP, and then stops forwarding to them — but every tab of a classroom
        // behind one NAT, and every connection proxied through our HTTP port (all from 127.0.0.1),
        // shares an IP. With it, the 11th tab of a test run never heard any announcement.
        scoreParams: { IPColocationFactorWeight: 0 },
      }),
    },
    peerDiscovery: [pubsubPeerDiscovery({ topics: [ids.discoveryTopic], interval: 10_000 })],
  });
}
