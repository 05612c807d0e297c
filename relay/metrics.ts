/**
 * The relay's Prometheus metrics (`GET /metrics`, only when METRICS_TOKEN is set, and only with
 * `Authorization: Bearer <METRICS_TOKEN>`): a prom-client registry of the relay's own — front-door
 * sockets and WebSockets open, refusals by reason, circuit relay reservations, libp2p connections,
 * discovery messages — plus libp2p's own metrics (@libp2p/prometheus-metrics, written to the same
 * registry: data transferred per protocol, connection manager, gossipsub, circuit relay, and the
 * process's CPU and memory). Labels come from closed sets, so no client grows the series.
 *
 * @libp2p/prometheus-metrics keeps its metric objects in one module-wide map and clears it when a
 * node is created: two relays in one process (tests) each get their registry, but a metric the
 * first creates after the second started may land in the second's. One relay a process, as
 * deployed, is exact.
 * @module
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import { prometheusMetrics } from '@libp2p/prometheus-metrics';
import { Counter, Gauge, Registry } from 'prom-client';

/** Shortest METRICS_TOKEN accepted: a guessable token would publish who uses the relay. */
export const MIN_METRICS_TOKEN_CHARS = 16;
/** Longest Authorization header read for /metrics, characters. */
const MAX_AUTH_CHARS = 1024;

/** Why the front door refused: a socket over a cap, an upgrade that is not a WebSocket, a WebSocket over the client's budget. */
export type RefusalReason = 'server-full' | 'too-many-sockets' | 'not-websocket' | 'too-many-connections' | 'too-fast' | 'reservation-limit';

/** What the relay's code counts (server.ts and libp2p.ts call these). */
export interface RelayMetrics {
  registry: Registry;
  /** Pass as createLibp2p's `metrics`. */
  libp2p: ReturnType<typeof prometheusMetrics>;
  socketOpened(server: 'http' | 'ws'): void;
  socketClosed(server: 'http' | 'ws'): void;
  websocketOpened(): void;
  websocketClosed(): void;
  refused(reason: RefusalReason): void;
  discoveryMessage(): void;
  /** Live readings taken at each scrape (reservations held, libp2p connections). */
  readings(fn: () => { reservations: number; connections: number }): void;
}

/**
 * A METRICS_TOKEN from the environment: undefined (metrics off) when unset or empty; an error
 * when shorter than {@link MIN_METRICS_TOKEN_CHARS} or not printable ASCII.
 * @example parseMetricsToken(process.env.METRICS_TOKEN)
 */
export function parseMetricsToken(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (value.length < MIN_METRICS_TOKEN_CHARS) throw new Error(`METRICS_TOKEN must be at least ${MIN_METRICS_TOKEN_CHARS} characters (it has ${value.length})`);
  if (value.length > MAX_AUTH_CHARS / 2 || !/^[\x21-\x7e]+$/.test(value)) throw new Error(`METRICS_TOKEN must be printable ASCII without spaces, at most ${MAX_AUTH_CHARS / 2} characters`);
  return value;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * Whether an Authorization header carries the bearer token (compared in constant time).
 * @example bearerMatches(req.headers.authorization, token)
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  if (typeof header !== 'string' || header.length > MAX_AUTH_CHARS) return false;
  const m = /^Bearer +(\S+)$/i.exec(header.trim());
  return m !== null && timingSafeEqual(digest(m[1]), digest(token));
}

/** Creates the relay's registry and its counters. @example const metrics = relayMetrics() */
export function relayMetrics(): RelayMetrics {
  const registry = new Registry();
  const registers = [registry];
  const sockets = new Gauge({ name: 'tabchain_relay_sockets', help: 'Sockets open at the front door, by server (http = the page port, ws = the WebSocket-only port)', labelNames: ['server'], registers });
  const websockets = new Gauge({ name: 'tabchain_relay_websockets', help: 'WebSocket connections passed through to libp2p, open', registers });
  const refused = new Counter({ name: 'tabchain_relay_refused_total', help: 'Sockets, upgrades and reservations refused, by reason', labelNames: ['reason'], registers });
  const discovery = new Counter({ name: 'tabchain_relay_discovery_messages_total', help: 'Peer discovery messages received on the discovery topic', registers });
  let read: () => { reservations: number; connections: number } = () => ({ reservations: 0, connections: 0 });
  new Gauge({ name: 'tabchain_relay_reservations', help: 'Circuit relay reservations held', registers, collect() { this.set(read().reservations); } });
  new Gauge({ name: 'tabchain_relay_libp2p_connections', help: 'libp2p connections open', registers, collect() { this.set(read().connections); } });
  for (const s of ['http', 'ws']) sockets.set({ server: s }, 0);
  return {
    registry,
    libp2p: prometheusMetrics({ registry, collectDefaultMetrics: true, defaultMetrics: { prefix: 'tabchain_relay_' } }),
    socketOpened: (server) => sockets.inc({ server }),
    socketClosed: (server) => sockets.dec({ server }),
    websocketOpened: () => websockets.inc(),
    websocketClosed: () => websockets.dec(),
    refused: (reason) => refused.inc({ reason }),
    discoveryMessage: () => discovery.inc(),
    readings: (fn) => {
      read = fn;
    },
  };
}
