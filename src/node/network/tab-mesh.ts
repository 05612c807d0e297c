/**
 * The tab mesh (src/p2p/tab-mesh.ts) wired to a tab's node and network, the mesh's counterpart of
 * attachNetwork: our blocks (mined, submitted) and transactions (local, readmitted by a reorg,
 * rebroadcast by the outbox) are announced to the other tabs too; the mesh peers are synced by
 * the network's own SyncManager and validated by its own gossip validators; blocks the node
 * already processed (from gossipsub) are marked seen so the mesh drops their repeats at once.
 *
 * Also here, because they concern every carrier: the outbox rebroadcasts its pending
 * transactions whenever a new chain peer appears (libp2p or mesh) — the peer may never have seen
 * them — and {@link browserOnline} follows the browser's connectivity (navigator.onLine with its
 * online/offline events; coming back online asks every peer's status at once).
 * @module
 */
import { encodeTx, hexToHash } from '../../chain/index.ts';
import type { NetworkService } from '../../p2p/network-service.ts';
import { createTabMesh, meshPeerKey, type MeshChannel, type TabMesh } from '../../p2p/tab-mesh.ts';
import type { ApiPeer } from '../api.ts';
import type { FullNode } from '../full-node.ts';
import { chainAccessOf } from './attach.ts';
import type { Outbox } from '../outbox.ts';

export interface TabMeshNetworkOptions {
  outbox?: Outbox;
  /** The channel (tests); default the network's BroadcastChannel. */
  channel?: MeshChannel;
  heartbeatMs?: number;
  peerTimeoutMs?: number;
  log?: (msg: string) => void;
}

/** A started mesh as the page uses it. */
export interface TabMeshNetwork {
  mesh: TabMesh;
  /** Mesh peers for `status().peers` (transport 'tab'). */
  peers(): ApiPeer[];
  stop(): void;
}

/**
 * Starts the tab mesh over a node and its (attached) network.
 * @example
 * ```ts
 * const tabs = startTabMesh(node, net, { outbox });
 * api deps: { peers: () => [...toApiPeers(net.peers()), ...tabs.peers()] }
 * ```
 */
export function startTabMesh(node: FullNode, net: NetworkService, opts: TabMeshNetworkOptions = {}): TabMeshNetwork {
  const { outbox, log } = opts;
  const rebroadcast = () => {
    if (outbox) outbox.rebroadcastPending().catch((e: unknown) => log?.(`outbox: rebroadcast failed: ${(e as Error).message}`));
  };
  const mesh = createTabMesh({
    id: net.peerId,
    network: node.params.name,
    chain: chainAccessOf(node),
    gate: net.gate,
    gossip: net.gossip,
    sync: net.sync,
    channel: opts.channel,
    heartbeatMs: opts.heartbeatMs,
    peerTimeoutMs: opts.peerTimeoutMs,
    log,
    onPeersChanged: (_ids, joined) => {
      if (joined !== undefined) rebroadcast();
    },
  });
  const announceBlock = async (hash: string) => {
    const bytes = await node.store.getBlock(hexToHash(hash));
    if (bytes) mesh.broadcastBlock(bytes);
  };
  const announceTx = (txid: string) => {
    const entry = node.mempool.get(hexToHash(txid));
    if (entry) mesh.broadcastTx(encodeTx(entry.tx));
  };
  const fail = (e: unknown) => node.events.emit('error', { message: `tab mesh: ${(e as Error).message}` });
  const offs = [
    node.events.on('block', ({ hash, result, source }) => {
      mesh.markSeenBlockHash(hash);
      if (source !== 'miner' && source !== 'local') return;
      if (result.status === 'extended' || result.status === 'reorged' || result.status === 'side') announceBlock(hash).catch(fail);
    }),
    node.events.on('tx', ({ txid, result, source }) => {
      if (source === 'local' && result.status === 'accepted') announceTx(txid);
    }),
    node.events.on('reorg', ({ readmitted }) => {
      for (const txid of readmitted) announceTx(txid);
    }),
  ];
  // The outbox's rebroadcasts go to the other tabs too.
  const previousHook = outbox?.rebroadcastHook;
  if (outbox) {
    outbox.rebroadcastHook = async (bytes) => {
      mesh.broadcastTx(bytes);
      await previousHook?.(bytes);
    };
  }
  // A new libp2p chain peer (not a relay) gets our pending transactions too.
  let known = new Set(net.peers().filter((p) => !p.isRelay).map((p) => p.id));
  offs.push(
    net.events.on('peers', ({ peers }) => {
      const now = new Set(peers.filter((p) => !p.isRelay).map((p) => p.id));
      const fresh = [...now].some((id) => !known.has(id));
      known = now;
      if (fresh) rebroadcast();
    }),
  );
  mesh.setIsolated(net.isolated);
  mesh.start();
  const onPageHide = () => mesh.stop();
  const onPageShow = (e: Event) => {
    if ((e as { persisted?: boolean }).persisted) mesh.start(); // back from the bfcache
  };
  const w = globalThis as { addEventListener?: typeof addEventListener; removeEventListener?: typeof removeEventListener };
  w.addEventListener?.('pagehide', onPageHide);
  w.addEventListener?.('pageshow', onPageShow);
  return {
    mesh,
    // Listed by mesh id, scored under the mesh key (a key space apart from libp2p peer ids).
    peers: () => mesh.peerIds().map((id) => ({ id, transport: 'tab' as const, score: Math.round(net.gate.scores.score(meshPeerKey(id)) * 10) / 10 })),
    stop: () => {
      for (const off of offs) off();
      if (outbox) outbox.rebroadcastHook = previousHook;
      w.removeEventListener?.('pagehide', onPageHide);
      w.removeEventListener?.('pageshow', onPageShow);
      mesh.stop();
    },
  };
}

/**
 * The browser's own idea of connectivity (navigator.onLine; true where there is no navigator).
 * @example status.online = browserOnline() && net.online
 */
export function browserOnline(): boolean {
  const nav = (globalThis as { navigator?: { onLine?: boolean } }).navigator;
  return nav?.onLine ?? true;
}

/**
 * Calls `fn(online)` on the browser's online/offline events; returns the unsubscribe function.
 * @example const off = onConnectivityChange((on) => on && net.syncNow())
 */
export function onConnectivityChange(fn: (online: boolean) => void): () => void {
  const w = globalThis as { addEventListener?: typeof addEventListener; removeEventListener?: typeof removeEventListener };
  const on = () => fn(true);
  const off = () => fn(false);
  w.addEventListener?.('online', on);
  w.addEventListener?.('offline', off);
  return () => {
    w.removeEventListener?.('online', on);
    w.removeEventListener?.('offline', off);
  };
}
