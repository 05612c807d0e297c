/**
 * The browser's libp2p transports and the address order a tab dials in (docs/ARCHITECTURE.md
 * §The libp2p stack and transports): WebRTC for direct tab-to-tab connections, WebSockets to reach
 * the relay, and circuit relay v2 — both to reserve a slot on the relay (so other tabs can reach
 * us) and to carry the WebRTC signalling (SDP offer/answer, ICE candidates) before the direct
 * connection exists.
 *
 * Browser only: it imports @libp2p/webrtc, whose Node build needs node-datachannel. Node nodes use
 * transports-node.ts.
 *
 * ICE servers: the relay's own STUN server (named in `/bootstrap.json`, relay/stun.ts) plus any
 * configured ones, else none. A STUN server lets tabs behind different NATs learn their public
 * address (server-reflexive candidates); tabs on one machine or one LAN connect on host candidates
 * alone. libp2p's own default (four public STUN servers) is replaced on purpose, so a page never
 * contacts a third party unless configured to (see {@link parseIceServers}).
 * @module
 */
import { webRTC } from '@libp2p/webrtc';
import { webSockets } from '@libp2p/websockets';
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import type { Multiaddr } from '@multiformats/multiaddr';

/** The libp2p init's transport list (same type as createLibp2p's `transports`). */
export type BrowserTransportList = [ReturnType<typeof webRTC>, ReturnType<typeof webSockets>, ReturnType<typeof circuitRelayTransport>];

/** Options of {@link browserTransports}. */
export interface BrowserTransportOptions {
  /**
   * STUN/TURN servers for WebRTC, or a function asked at each WebRTC connection (the relay's may
   * change when its bootstrap document is fetched again). Default `[]`: host candidates only.
   */
  iceServers?: RTCIceServer[] | (() => RTCIceServer[]);
  /** Time a relay reservation may take, ms (libp2p default 10 s). */
  reservationTimeoutMs?: number;
}

/**
 * Listen addresses of a tab: `/p2p-circuit` reserves a slot on every relay we connect to (its
 * `/p2p-circuit` address then appears in getMultiaddrs()), `/webrtc` accepts WebRTC connections
 * signalled through such a slot.
 */
export const BROWSER_LISTEN: readonly string[] = Object.freeze(['/p2p-circuit', '/webrtc']);

/**
 * Relays a tab holds a reservation on at once, when its network has that many: with two, the tab
 * stays reachable (and discoverable: its announcements carry both circuit addresses) while one
 * relay is down or restarting.
 */
export const MAX_RELAY_RESERVATIONS = 2;

/**
 * Listen addresses for a network of `relays` relays: one `/p2p-circuit` per reservation wanted
 * (circuit relay v2 reserves one slot per such address, on relays it connects to, and makes a new
 * reservation when a lost relay comes back), and `/webrtc`. With one relay, one slot: a slot no
 * relay can fill keeps libp2p's relay discovery dialling every peer it hears of.
 * @example browserListen(2) // ['/p2p-circuit', '/p2p-circuit', '/webrtc']
 */
export function browserListen(relays: number): string[] {
  const slots = Math.max(1, Math.min(MAX_RELAY_RESERVATIONS, Math.floor(relays) || 1));
  return [...new Array<string>(slots).fill('/p2p-circuit'), '/webrtc'];
}

/**
 * webRTC + webSockets + circuitRelayTransport, for `createLibp2pNode({ transports })`.
 * @example
 * ```ts
 * const net = await NetworkService.create({ network, transports: browserTransports(), listen: [...BROWSER_LISTEN], ... });
 * ```
 */
export function browserTransports(opts: BrowserTransportOptions = {}): BrowserTransportList {
  const ice = opts.iceServers ?? [];
  return [
    webRTC({ rtcConfiguration: typeof ice === 'function' ? () => ({ iceServers: ice() }) : { iceServers: ice } }),
    webSockets(),
    circuitRelayTransport({ reservationCompletionTimeout: opts.reservationTimeoutMs ?? 10_000 }),
  ];
}

/** What kind of connection an address leads to, for dial ordering. */
function addressRank(ma: Multiaddr): number {
  const names = ma.getComponents().map((c) => c.name);
  const circuit = names.includes('p2p-circuit');
  if (circuit && names.includes('webrtc')) return 0; // direct WebRTC, signalled via the relay
  if (names.includes('webrtc-direct')) return 1;
  if (!circuit && (names.includes('ws') || names.includes('wss') || names.includes('tls'))) return 2; // a listening node
  if (circuit) return 3; // relayed: the fallback
  return 4; // tcp and the like: not dialable from a page (libp2p filters them anyway)
}

/**
 * The browser dial policy (contract: `DialPolicy = (peerId, addrs) => Multiaddr[]`): WebRTC
 * addresses first, then WebSocket listeners (a Node node), relayed circuits last. Tabs listening
 * on `/webrtc` announce `<relay>/p2p-circuit/webrtc/p2p/<tab>` themselves, so nothing needs to be
 * derived: a peer without such an address (a Node node) does not speak WebRTC signalling.
 * @example
 * ```ts
 * preferWebRTC('12D3KooWB…', [circuitAddr, webrtcAddr]) // [webrtcAddr, circuitAddr]
 * ```
 */
export function preferWebRTC(_peerId: string, addrs: Multiaddr[]): Multiaddr[] {
  return [...addrs].sort((a, b) => addressRank(a) - addressRank(b));
}

/** Options of {@link browserDialPolicy}. */
export interface BrowserDialPolicyOptions {
  /** How long the tab with the larger peer id leaves the first WebRTC dial to the other, ms (default 3000). */
  yieldMs?: number;
  /** Whether to apply the tie-break to this peer at all (default: yes). False: dial it at once (e.g. a peer we knew before a reload, which may still hold a dead connection to us and will not dial). */
  yieldFor?: (peerId: string) => boolean;
  /** Clock (tests). */
  now?: () => number;
}

/**
 * {@link preferWebRTC} plus a tie-break so that two tabs do not dial each other at the same time:
 * of two tabs that discover each other, the one with the smaller peer id dials; the other one
 * offers no address for `yieldMs` after it first considers the peer (the peer manager then retries
 * later with backoff), and dials only if no connection came by then. Why: two WebRTC dials in
 * opposite directions at once ("glare") each need their own signalling round through the relay;
 * one of them often stalls for many seconds, and both sides then hold two connections.
 * @example
 * ```ts
 * const policy = browserDialPolicy(ourPeerId);
 * policy(theirPeerId, addrs) // [] for a moment if ourPeerId > theirPeerId, else WebRTC first
 * ```
 */
export function browserDialPolicy(selfId: string, opts: BrowserDialPolicyOptions = {}): (peerId: string, addrs: Multiaddr[]) => Multiaddr[] {
  const yieldMs = opts.yieldMs ?? 3000;
  const now = opts.now ?? Date.now;
  const firstSeen = new Map<string, number>();
  return (peerId, addrs) => {
    const ordered = preferWebRTC(peerId, addrs);
    if (selfId < peerId || !ordered.some((a) => addressRank(a) === 0) || (opts.yieldFor && !opts.yieldFor(peerId))) return ordered;
    const t = now();
    let seen = firstSeen.get(peerId);
    if (seen === undefined) {
      seen = t;
      firstSeen.set(peerId, t);
      // Bounded memory: forget the oldest entries (a peer forgotten just gets another grace period).
      if (firstSeen.size > 4096) firstSeen.delete(firstSeen.keys().next().value!);
    }
    return t - seen < yieldMs ? [] : ordered;
  };
}

/**
 * ICE servers from a configuration string: comma-separated `stun:`/`turn:` URLs, e.g. from
 * `/bootstrap.json` `iceServers`, a `?stun=` query parameter or `VITE_TABCHAIN_ICE_SERVERS`.
 * Anything else is dropped (a typo must not become a request to a random host). Arrays of
 * strings or of `{ urls }` objects are accepted as well.
 * @example
 * ```ts
 * parseIceServers('stun:stun.example.org:3478') // [{ urls: 'stun:stun.example.org:3478' }]
 * parseIceServers(undefined) // []
 * ```
 */
export function parseIceServers(value: unknown): RTCIceServer[] {
  const items: unknown[] = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : [];
  const out: RTCIceServer[] = [];
  for (const item of items.slice(0, 8)) {
    if (typeof item === 'string') {
      const url = item.trim();
      if (/^(stun|stuns|turn|turns):[^\s,]{1,250}$/.test(url)) out.push({ urls: url });
    } else if (item !== null && typeof item === 'object' && typeof (item as { urls?: unknown }).urls === 'string') {
      const { urls, username, credential } = item as { urls: string; username?: unknown; credential?: unknown };
      if (!/^(stun|stuns|turn|turns):[^\s,]{1,250}$/.test(urls)) continue;
      out.push({ urls, ...(typeof username === 'string' ? { username } : {}), ...(typeof credential === 'string' ? { credential } : {}) });
    }
  }
  return out;
}
