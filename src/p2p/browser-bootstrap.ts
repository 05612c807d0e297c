/**
 * `GET /bootstrap.json`: how a page finds its relay. The relay (relay/server.ts) answers
 * `{ network, peerId, multiaddrs, iceServers }`, built from the Host header the page used, so the
 * first multiaddr reaches the relay's libp2p node through the very host and port the page came
 * from; then the other relays of the network (RELAY_PEERS); `iceServers` names the relay's STUN
 * server.
 *
 * Nothing here may block the page: a missing file (static hosting, `vite dev`), a relay that does
 * not answer in time, or a malformed body all yield `null`, and the tab runs offline.
 * @module
 */
import { isNetworkName } from './protocol.ts';
import { parseIceServers } from './transports-browser.ts';

/** A checked `/bootstrap.json`. */
export interface BootstrapInfo {
  network: string;
  /** The relay's peer id. */
  peerId: string;
  /**
   * Multiaddrs of the relay (ending in `/p2p/<peerId>`, best first) and of the other relays of its
   * network (each ending in its own `/p2p/<id>`).
   */
  multiaddrs: string[];
  /** STUN/TURN servers for WebRTC; `[]` unless the relay names some. */
  iceServers: RTCIceServer[];
}

/** Bounds on what we accept (a relay is a stranger too). */
const MAX_ADDRS = 16;
const MAX_ADDR_CHARS = 512;
/** An address must name the peer it reaches. */
const PEER_SUFFIX = /\/p2p\/[1-9A-HJ-NP-Za-km-z]{32,128}$/;

/**
 * Checks a parsed body; null if it is not a usable bootstrap answer.
 * @example
 * ```ts
 * parseBootstrap({ network: 'dev', peerId: '12D3KooW…', multiaddrs: ['/dns4/localhost/tcp/8080/ws/p2p/12D3KooW…'] })
 * ```
 */
export function parseBootstrap(body: unknown): BootstrapInfo | null {
  if (body === null || typeof body !== 'object') return null;
  const { network, peerId, multiaddrs, iceServers } = body as Record<string, unknown>;
  if (typeof network !== 'string' || !isNetworkName(network)) return null;
  if (typeof peerId !== 'string' || !/^[1-9A-HJ-NP-Za-km-z]{32,128}$/.test(peerId)) return null;
  if (!Array.isArray(multiaddrs)) return null;
  const addrs = multiaddrs
    .slice(0, MAX_ADDRS)
    .filter((a): a is string => typeof a === 'string' && a.startsWith('/') && a.length <= MAX_ADDR_CHARS && PEER_SUFFIX.test(a));
  return { network, peerId, multiaddrs: addrs, iceServers: parseIceServers(iceServers) };
}

/**
 * Fetches and checks `/bootstrap.json` (never cached: the relay's addresses follow the Host
 * header). Resolves to null when there is none, it is malformed, or it takes over `timeoutMs`.
 * @example
 * ```ts
 * const boot = await fetchBootstrap(); // null when offline or statically hosted
 * ```
 */
export async function fetchBootstrap(url = '/bootstrap.json', timeoutMs = 2000): Promise<BootstrapInfo | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), cache: 'no-store' });
    if (!res.ok || !(res.headers.get('content-type') ?? '').includes('json')) return null;
    return parseBootstrap(await res.json());
  } catch {
    return null;
  }
}
