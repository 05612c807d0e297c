/**
 * Every limit of the relay, with its default: the libp2p node's (relay/libp2p.ts), the per-client
 * caps of its front door and the HTTP server's (relay/server.ts).
 *
 * A "client" is one IPv4 address, or one IPv6 /64 (relay/clients.ts `clientKey`): what one machine,
 * or one home or classroom network behind one NAT, connects from. The per-client caps are sized for
 * a classroom behind one NAT — 30 students with 2 tabs each, 60 tabs — so that one client can never
 * take the relay's global slots, while a full classroom still fits.
 */

const SECOND = 1_000;
const MINUTE = 60 * SECOND;

/** Limits of the relay (per relay process unless said otherwise). */
export interface RelayLimits {
  /** Open libp2p connections in all (libp2p default 300). Each tab holds one. */
  maxConnections: number;
  /** libp2p connections still upgrading (noise, yamux) at once (default 10). */
  maxIncomingPendingConnections: number;
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

  /** WebSocket (= libp2p) connections one client holds at once, both ports together. */
  maxConnectionsPerIp: number;
  /**
   * New WebSocket connections per second from one client. libp2p's own limiter of this name
   * (default 5 per host) cannot do it: every connection reaches libp2p through the relay's front
   * door, from 127.0.0.1.
   */
  inboundConnectionThreshold: number;
  /** Circuit relay reservations one client holds at once. */
  maxReservationsPerIp: number;
  /** TCP sockets one client holds on the relay's ports at once: HTTP requests and WebSockets alike. */
  maxSocketsPerIp: number;
  /** TCP sockets on one port at once, from everyone (`server.maxConnections`). */
  maxSockets: number;
  /**
   * How long a client may take to send a request's headers (or finish its TLS handshake), ms.
   * A slowloris socket that never finishes them is answered 408 and closed.
   */
  headersTimeout: number;
  /** How long a client may take to send a whole request, ms. */
  requestTimeout: number;
  /** How long an idle keep-alive socket stays open after a response, ms. */
  keepAliveTimeout: number;
}

/**
 * The relay's defaults.
 *
 * Relayed connections get 32 MiB / 30 min: enough for the WebRTC signalling exchange (a few KiB)
 * and for a fallback sync between two tabs that cannot reach each other directly (headers are 80
 * bytes each, blocks ≤ 1 MiB), yet bounded so the relay is not a free unlimited tunnel. Tabs
 * re-dial a relayed connection when it is reset.
 *
 * Per client: a classroom's 60 tabs hold 60 connections and 60 reservations; the caps allow twice
 * that (128), because a tab that vanished without closing (a laptop lid shut) keeps its connection
 * until the relay's pings time out, while its reload already holds a new one. Its sockets add the
 * page loads to those: browsers open up to 6 sockets per host, 30 × 6 = 180 beside the WebSockets,
 * hence 256. 64 new connections a second let the whole classroom arrive in the same second, while
 * one machine cannot make the relay run noise handshakes as fast as it can send them.
 *
 * HTTP: 4,096 sockets per port hold the 2,048 libp2p connections plus as many page loads.
 * Headers in 10 s and a request in 30 s are generous on any link that can run the app; keep-alive
 * 5 s is Node's default.
 */
export const DEFAULT_RELAY_LIMITS: Readonly<RelayLimits> = Object.freeze({
  maxConnections: 2048,
  maxIncomingPendingConnections: 256,
  maxReservations: 2048,
  reservationTtl: 120 * MINUTE,
  relayedDataLimit: 32n * 1024n * 1024n,
  relayedDurationLimit: 30 * MINUTE,
  maxInboundHopStreams: 64,
  maxOutboundStopStreams: 2048,

  maxConnectionsPerIp: 128,
  inboundConnectionThreshold: 64,
  maxReservationsPerIp: 128,
  maxSocketsPerIp: 256,
  maxSockets: 4096,
  headersTimeout: 10 * SECOND,
  requestTimeout: 30 * SECOND,
  keepAliveTimeout: 5 * SECOND,
});
