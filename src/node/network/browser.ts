/**
 * The network of a browser tab — the browser counterpart of headless.ts: WebRTC,
 * WebSockets and circuit relay transports (src/p2p/transports-browser.ts), the relay found through
 * the page's `/bootstrap.json` (fetched again whenever the relay must be redialled), a relay slot
 * reserved so other tabs can reach us (`/p2p-circuit`) and WebRTC accepted through it (`/webrtc`),
 * discovered tabs dialled over WebRTC first, one side of each pair only (browserDialPolicy), the profile's peer key and address
 * book, all attached to the tab's FullNode, and the wallet's pending transactions handed to gossip.
 *
 * The node never waits for any of this: a tab starts offline and joins when (if ever) the relay
 * answers. Once tabs are connected over WebRTC the relay is no longer needed between them.
 *
 * A page served from a public host dials no discovered address on the visitor's own network
 * (private, loopback, link-local, `.local`), its relay's excepted (src/p2p/dial-filter.ts); a page
 * served from localhost or a LAN address dials them all.
 * @module
 */
import type { PrivateKey } from '@libp2p/interface';
import { announceOnAddressChange } from '../../p2p/discovery-announce.ts';
import { fetchBootstrap, type BootstrapInfo } from '../../p2p/bootstrap.ts';
import { dialFilterForPage } from '../../p2p/dial-filter.ts';
import { NetworkService, type NetworkServiceOptions } from '../../p2p/network-service.ts';
import { browserDialPolicy, browserListen, browserTransports } from '../../p2p/transports-browser.ts';
import { peerIdOfAddr } from '../../p2p/peer-manager.ts';
import { multiaddr } from '@multiformats/multiaddr';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import type { ApiConnection, ApiPeer } from '../api.ts';
import { connectionOf } from './connection-state.ts';
import type { FullNode } from '../full-node.ts';
import { attachNetwork, outboxRebroadcast, toApiPeers } from './attach.ts';
import { loadOrCreatePeerKey } from './peer-key.ts';
import type { Outbox } from '../outbox.ts';
import { browserOnline, onConnectivityChange, startTabMesh } from './tab-mesh.ts';
import { markOnce, watchTimeline } from './timeline.ts';

// main.ts marks its own steps with performance.mark: importing timeline.ts there would put the
// watcher in the page's initial scripts (bench/bundle.bench.ts); it takes markOnce from here.
export { markOnce };

export interface BrowserNetworkOptions {
  /** Where the relay's bootstrap document is (default `/bootstrap.json`, the page's own origin). */
  bootstrapUrl?: string;
  /** The document as already fetched at start-up (saves one request); null or absent: fetched. */
  bootstrap?: BootstrapInfo | null;
  /**
   * STUN/TURN servers of the page's own configuration (`?stun=`, VITE_TABCHAIN_ICE_SERVERS), used
   * besides the relay's (the latest bootstrap document's `iceServers`: its STUN server).
   */
  iceServers?: RTCIceServer[];
  /** Direct peers wanted (default 8, docs/ARCHITECTURE.md §Peer manager). */
  targetPeers?: number;
  /**
   * Period of discovery announcements, ms (default 5 s). Tabs also announce at once when their
   * relay reservation is made (p2p/discovery-announce.ts), so this only bounds how stale a peer list gets.
   */
  discoveryIntervalMs?: number;
  /** Identity; default the profile's stored key (created on first use), so a reload keeps it. */
  privateKey?: PrivateKey;
  timing?: NetworkServiceOptions['timing'];
  /** The wallet's outbox: its rebroadcast timer then publishes pending transactions. */
  outbox?: Outbox;
  /** The page's host, which decides what may be dialled (default `location.hostname`). */
  pageHost?: string;
  log?: (msg: string) => void;
}

/** Distinct relays (peer ids) among bootstrap addresses. */
function relayCount(addrs: readonly string[]): number {
  const ids = new Set<string>();
  for (const a of addrs) {
    try {
      const id = peerIdOfAddr(multiaddr(a));
      if (id) ids.add(id);
    } catch {
      // not a multiaddr: not a relay
    }
  }
  return ids.size;
}

/** A started browser network, as the page and the API use it. */
export interface BrowserNetwork {
  net: NetworkService;
  peerId(): string;
  /** `status().peers`. */
  peers(): ApiPeer[];
  /** The browser is online (navigator.onLine) and at least one libp2p connection is open. */
  online(): boolean;
  /** What the tab knows of its network (connection-state.ts): connecting, alone or connected. */
  connection(): ApiConnection;
  /**
   * The "Isolate this tab" switch: drops and refuses every peer of this tab — libp2p ones (the
   * gate) and same-browser mesh tabs — without touching the real network.
   */
  setIsolated(on: boolean): void;
  isolated(): boolean;
  /** Unwires the node and stops libp2p (the node keeps running, offline). */
  stop(): Promise<void>;
}

/**
 * Creates, attaches and starts the tab's network over a started FullNode.
 * @example
 * ```ts
 * const net = await startBrowserNetwork(node, { bootstrap, outbox });
 * createTabchainApi({ ..., peerId: () => net.peerId(), peers: () => net.peers(), online: () => net.online() });
 * ```
 */
export async function startBrowserNetwork(node: FullNode, opts: BrowserNetworkOptions = {}): Promise<BrowserNetwork> {
  const network = node.params.name;
  const url = opts.bootstrapUrl ?? '/bootstrap.json';
  const log = opts.log;
  const first = opts.bootstrap ?? null;
  let unused = first;
  // The relay's addresses as last served by our origin: dialled even when they are private.
  let relayAddrs: string[] = first?.network === network ? first.multiaddrs : [];
  // The relay's STUN server(s), as last named: tabs behind NATs learn their public address there.
  let relayIce: RTCIceServer[] = first?.network === network ? first.iceServers : [];
  const configuredIce = opts.iceServers ?? [];
  /** Whether a relay for this network has been named (by the first bootstrap document or a later one). */
  let relayNamed = first !== null && first.network === network && first.multiaddrs.length > 0;
  const bootstrap = async (): Promise<string[]> => {
    // The first call uses the document the page already fetched; later ones (the relay went
    // away) ask again: the relay may have come back on another port.
    const info = unused ?? (await fetchBootstrap(url));
    unused = null;
    if (!info) return [];
    if (info.network !== network) {
      log?.(`bootstrap: the relay runs ${info.network}, this tab ${network}: not joining`);
      return [];
    }
    relayAddrs = info.multiaddrs;
    if (info.iceServers.length > 0) relayIce = info.iceServers;
    if (info.multiaddrs.length > 0) relayNamed = true;
    return info.multiaddrs;
  };
  const pageHost = opts.pageHost ?? (globalThis as { location?: { hostname?: string } }).location?.hostname ?? 'localhost';
  const privateKey = opts.privateKey ?? (await loadOrCreatePeerKey(node.store));
  // Peers of the address book were connected to us before: after our reload they may still hold
  // their (dead) connection to us and will not dial, so we dial them at once (no tie-break wait).
  const known = new Set((await node.store.listPeers().catch(() => [])).map((r) => r.peerId));
  const policy = browserDialPolicy(peerIdFromPrivateKey(privateKey).toString(), { yieldFor: (peer) => !known.has(peer) });
  const net = await NetworkService.create({
    network,
    transports: browserTransports({ iceServers: () => [...configuredIce, ...relayIce] }),
    // A reservation on each relay the network has (up to two), so one relay's death costs no one
    // their reachability.
    listen: browserListen(relayCount(relayAddrs)),
    privateKey,
    bootstrap,
    addressBook: node.store,
    dialPolicy: (peer, addrs) => {
      const ordered = policy(peer, addrs);
      // The first decision of each kind only: the dial policy is asked on every dial attempt.
      if (markOnce(ordered.length > 0 ? 'dial' : 'dial-yield')) log?.(`timeline: dial ${peer}: ${ordered.length > 0 ? 'now' : 'yield'} at ${performance.now().toFixed(0)} ms`);
      return ordered;
    },
    targetPeers: opts.targetPeers ?? 8,
    denyDialMultiaddr: dialFilterForPage(pageHost, { trusted: () => relayAddrs }),
    discoveryIntervalMs: opts.discoveryIntervalMs ?? 5000,
    // A WebRTC dial between tabs takes well under a second when it works; now and then one stalls
    // after the other side already saw the connection open, and the retry succeeds at once. A
    // short dial timeout turns a stall into a quick retry (libp2p's default here is 10 s), the
    // first WebRTC dial to a peer shorter still (peer-manager.ts, firstWebrtcDialTimeoutMs).
    timing: { dialTimeoutMs: 5000, firstWebrtcDialTimeoutMs: 2500, ...opts.timing },
    log,
  });
  const detach = attachNetwork(node, net);
  const stopTimeline = watchTimeline(net.libp2p, (id) => net.peerManager.bootstrapIds.has(id), log);
  const stopAnnouncing = announceOnAddressChange(net.libp2p, network, { onSent: () => markOnce('announced') });
  const previousHook = opts.outbox?.rebroadcastHook;
  if (opts.outbox) opts.outbox.rebroadcastHook = outboxRebroadcast(net);
  try {
    await net.start();
    markOnce('libp2p-started');
  } catch (e) {
    stopTimeline();
    stopAnnouncing();
    detach();
    if (opts.outbox) opts.outbox.rebroadcastHook = previousHook;
    await net.stop().catch(() => undefined);
    throw e;
  }
  // Tabs of this browser meet over a BroadcastChannel too (no relay, no network needed).
  const tabs = startTabMesh(node, net, { outbox: opts.outbox, log });
  const startedAt = Date.now();
  let reachedAt: number | null = net.online ? startedAt : null;
  const offReached = net.events.on('online', ({ online }) => {
    if (online && reachedAt === null) reachedAt = Date.now();
  });
  const offConnectivity = onConnectivityChange((on) => {
    if (on) net.syncNow();
  });
  return {
    net,
    peerId: () => net.peerId,
    peers: () => [...toApiPeers(net.peers()), ...tabs.peers()],
    online: () => browserOnline() && net.online,
    connection: () => {
      const now = Date.now();
      return connectionOf({
        browserOnline: browserOnline(),
        isolated: net.isolated,
        answered: net.sync.peerIds().some((id) => net.sync.statusOf(id) !== undefined),
        failed: false,
        sinceStart: now - startedAt,
        sinceReached: reachedAt === null ? null : now - reachedAt,
        noRelay: !relayNamed,
      });
    },
    setIsolated: (on) => {
      net.setIsolated(on);
      tabs.mesh.setIsolated(on);
    },
    isolated: () => net.isolated,
    stop: async () => {
      offConnectivity();
      offReached();
      tabs.stop();
      stopTimeline();
      stopAnnouncing();
      detach();
      if (opts.outbox) opts.outbox.rebroadcastHook = previousHook;
      await net.stop();
    },
  };
}
