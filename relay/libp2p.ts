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
 * see relay/limits.ts. No one client may hold more than its share of them: the front door
 * (relay/server.ts) caps sockets and connections per client before they reach libp2p, and this
 * node caps circuit relay reservations per client (`reservationsPerClient`).
 *
 * Every connection reaches this node's WebSocket listener through the front door, from loopback:
 * its `remoteAddr` is 127.0.0.1 and the port of the front door's upstream socket. `clientOf` turns
 * that into the real client.
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
import type { Connection, PeerId, PrivateKey } from '@libp2p/interface';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id';
import { protocolIds } from '../src/p2p/protocol.ts';
import { clientKey } from './clients.ts';
import { DEFAULT_RELAY_LIMITS, type RelayLimits } from './limits.ts';
import type { RelayMetrics } from './metrics.ts';

export type RelayServices = {
  identify: Identify;
  ping: Ping;
  relay: CircuitRelayService;
  pubsub: ReturnType<ReturnType<typeof gossipsub>>;
};

export type RelayNode = Libp2p<RelayServices>;

export interface RelayNodeOptions {
  privateKey: PrivateKey;
  /** Counts refusals, reservations and discovery messages, and takes libp2p's metrics (relay/metrics.ts). */
  metrics?: RelayMetrics;
  network: string;
  /** IP address for the WebSocket listener: the relay's front door uses 127.0.0.1. */
  listenHost: string;
  /** Port of the WebSocket listener; 0 = any free port. */
  listenPort: number;
  limits?: Partial<RelayLimits>;
  /**
   * The client (relay/clients.ts `clientKey`) behind a connection from `host`:`port` — for a
   * connection passed through the front door, the client of the socket it came in on. Default:
   * the client `host` itself.
   */
  clientOf?: (host: string, port: number) => string;
  /**
   * The other relays of this network (`RELAY_PEERS`: multiaddrs ending in `/p2p/<their id>`). They
   * are gossipsub **direct peers**: kept connected (redialled every
   * {@link RELAY_PEER_REDIAL_SECONDS} s while down) and sent every discovery message, so a tab
   * reached through one relay is announced to the tabs of the others.
   */
  relayPeers?: readonly string[];
}

/** How often a relay redials another relay it lost, seconds (gossipsub heartbeats of 1 s). */
export const RELAY_PEER_REDIAL_SECONDS = 5;

/** The other relays as gossipsub direct peers: one entry per peer id, its addresses together. */
function directPeersOf(addrs: readonly string[]): { id: PeerId; addrs: Multiaddr[] }[] {
  const byId = new Map<string, Multiaddr[]>();
  for (const a of addrs) {
    const ma = multiaddr(a);
    const id = ma.getComponents().findLast((c) => c.name === 'p2p')?.value;
    if (id === undefined) throw new Error(`relay peer ${a} has no /p2p/<peer id>`);
    byId.set(id, [...(byId.get(id) ?? []), ma]);
  }
  return [...byId].map(([id, list]) => ({ id: peerIdFromString(id), addrs: list }));
}

/** IP address and TCP port of a connection's remote address, if it has them. */
function hostPort(ma: Multiaddr): { host: string; port: number } | undefined {
  const components = ma.getComponents();
  const host = components.find((c) => c.name === 'ip4' || c.name === 'ip6')?.value;
  const port = components.find((c) => c.name === 'tcp')?.value;
  return host === undefined || port === undefined ? undefined : { host, port: Number(port) };
}

/**
 * The gate of circuit relay reservations per client, for the connection gater's
 * `denyInboundRelayReservation(peer)` (called by @libp2p/circuit-relay-v2's server before it adds
 * a reservation): a peer may reserve unless a client it is connected from already holds
 * `maxReservationsPerIp` reservations; a refresh of its own reservation always passes. Counting
 * walks the reservation table (≤ maxReservations entries, map lookups only: each connection's
 * client is computed once).
 *
 * Reservations are counted by their holders' live connections, so a reservation must not outlive
 * its holder's last connection — which @libp2p/circuit-relay-v2 lets it do, for the whole TTL:
 * `dropReservation` ends it on 'peer:disconnect'. (It is useless by then anyway: the relay can only
 * reach a reserved peer over a connection it holds.) Without that, one address could fill the
 * table by reserving, disconnecting and coming back under a new peer id.
 */
function reservationsPerClient(clientOf: (host: string, port: number) => string, maxPerClient: number) {
  const clientOfConnection = new WeakMap<Connection, string>();
  const clientsOf = (n: RelayNode, peer: PeerId): Set<string> => {
    const clients = new Set<string>();
    for (const conn of n.getConnections(peer)) {
      if (conn.limits !== undefined) continue; // relayed: not where the peer is
      let client = clientOfConnection.get(conn);
      if (client === undefined) {
        const at = hostPort(conn.remoteAddr);
        client = at ? clientOf(at.host, at.port) : conn.remoteAddr.toString();
        clientOfConnection.set(conn, client);
      }
      clients.add(client);
    }
    return clients;
  };
  return {
    /** The node, once created (until then every reservation is refused). */
    node: undefined as RelayNode | undefined,
    denyInboundRelayReservation(peer: PeerId): boolean {
      const n = this.node;
      if (!n) return true;
      const reservations = n.services.relay.reservations;
      if (reservations.has(peer)) return false;
      const mine = clientsOf(n, peer);
      if (mine.size === 0) return true;
      const held = new Map<string, number>();
      for (const holder of reservations.keys()) {
        for (const client of clientsOf(n, holder)) {
          if (!mine.has(client)) continue;
          const count = (held.get(client) ?? 0) + 1;
          if (count >= maxPerClient) return true;
          held.set(client, count);
        }
      }
      return false;
    },
    dropReservation(peer: PeerId): void {
      const reservations = this.node?.services.relay.reservations;
      const reservation = reservations?.get(peer);
      if (!reservation) return;
      reservation.signal.clear();
      reservations!.delete(peer);
    },
  };
}

/**
 * Creates and starts the relay's libp2p node.
 * @example
 * ```ts
 * const node = await createRelayNode({ privateKey, network: 'main', listenHost: '127.0.0.1', listenPort: 0 });
 * node.getMultiaddrs(); // [/ip4/127.0.0.1/tcp/41234/ws/p2p/12D3KooW...]
 * ```
 */
export async function createRelayNode(opts: RelayNodeOptions): Promise<RelayNode> {
  const limits = { ...DEFAULT_RELAY_LIMITS, ...opts.limits };
  const ids = protocolIds(opts.network);
  const family = opts.listenHost.includes(':') ? 'ip6' : 'ip4';
  const gate = reservationsPerClient(opts.clientOf ?? ((host) => clientKey(host)), limits.maxReservationsPerIp);
  const metrics = opts.metrics;
  const directPeers = directPeersOf(opts.relayPeers ?? []).filter((p) => !p.id.equals(peerIdFromPrivateKey(opts.privateKey)));
  const node = await createLibp2p({
    privateKey: opts.privateKey,
    addresses: { listen: [`/${family}/${opts.listenHost}/tcp/${opts.listenPort}/ws`] },
    transports: [webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: {
      maxConnections: limits.maxConnections,
      maxIncomingPendingConnections: limits.maxIncomingPendingConnections,
      // libp2p's limiter counts per remote host, and every connection comes from the front door
      // on loopback: per host here means relay-wide. The front door limits each real client
      // (inboundConnectionThreshold); here, a relay restarted with every tab reconnecting at once
      // may refill in one second.
      inboundConnectionThreshold: limits.maxConnections,
    },
    connectionGater: {
      denyInboundRelayReservation: (peer) => {
        const deny = gate.denyInboundRelayReservation(peer);
        if (deny) metrics?.refused('reservation-limit');
        return deny;
      },
    },
    ...(metrics ? { metrics: metrics.libp2p } : {}),
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
        // behind one NAT, and every connection through the front door (all from 127.0.0.1),
        // shares an IP. With it, the 11th tab of a test run never heard any announcement.
        scoreParams: { IPColocationFactorWeight: 0 },
        directPeers,
        directConnectTicks: RELAY_PEER_REDIAL_SECONDS,
      }),
    },
    peerDiscovery: [pubsubPeerDiscovery({ topics: [ids.discoveryTopic], interval: 10_000 })],
  });
  gate.node = node;
  node.addEventListener('peer:disconnect', (e) => gate.dropReservation(e.detail));
  if (metrics) {
    node.services.pubsub.addEventListener('message', (e) => {
      if (e.detail.topic === ids.discoveryTopic) metrics.discoveryMessage();
    });
    metrics.readings(() => ({ reservations: node.services.relay.reservations.size, connections: node.getConnections().length }));
  }
  return node;
}
