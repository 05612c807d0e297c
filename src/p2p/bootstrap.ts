/**
 * `GET /bootstrap.json`: how a page finds its relay. The relay (relay/server.ts) answers
 * `{ network, peerId, multiaddrs, iceServers }`, built from the Host header the page used, so the
 * first multiaddr reaches the relay's libp2p node through the very host and port the page came
 * from; then the other relays of the network (RELAY_PEERS); `iceServers` names the relay's STUN
 * server.
 *
 * One parser for every reader: a page's {@link fetchBootstrap} never blocks on it (a missing file —
 * static hosting, `vite dev` —, a relay that does not answer in time, or a malformed body all
 * yield `null`, and the tab runs offline); the headless node's {@link readBootstrap} throws the
 * reason instead.
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
 * Fetches and checks a relay's `/bootstrap.json` (never cached: the relay's addresses follow the
 * Host header), throwing an error that says what was wrong. The headless node uses it directly, so
 * an operator sees why `--relay` failed; a page uses {@link fetchBootstrap}.
 * @example
 * ```ts
 * const { multiaddrs } = await readBootstrap('http://127.0.0.1:8080/bootstrap.json');
 * ```
 */
export async function readBootstrap(url: string | URL, signal: AbortSignal = AbortSignal.timeout(5000)): Promise<BootstrapInfo> {
  const res = await fetch(url, { signal, cache: 'no-store' });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  if (!(res.headers.get('content-type') ?? '').includes('json')) throw new Error(`${url}: not JSON (${res.headers.get('content-type') ?? 'no content type'})`);
  const info = parseBootstrap(await res.json());
  if (info === null) throw new Error(`${url}: not a bootstrap document`);
  if (info.multiaddrs.length === 0) throw new Error(`${url}: lists no usable relay address`);
  return info;
}

/**
 * {@link readBootstrap} for a page, which must never block on it: null when there is none, it is
 * malformed, or it takes over `timeoutMs`.
 * @example
 * ```ts
 * const boot = await fetchBootstrap(); // null when offline or statically hosted
 * ```
 */
export async function fetchBootstrap(url = '/bootstrap.json', timeoutMs = 2000): Promise<BootstrapInfo | null> {
  try {
    return await readBootstrap(url, AbortSignal.timeout(timeoutMs));
  } catch {
    return null;
  }
}
