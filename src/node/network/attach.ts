/**
 * The glue between a FullNode and its network (src/p2p's NetworkService), for the browser and the
 * headless node alike. The dependency goes node → p2p only: the network sees the node through the
 * structural {@link ChainAccess} built here, and this module feeds it the node's events.
 *
 * - Blocks and transactions from peers enter the node through its one path (`processBlock` /
 *   `processTx`, source 'peer'); the network's verdicts on them come back as the FullNode's results.
 * - Our own blocks (source 'miner' or 'local') and transactions (source 'local') are published
 *   by gossip when the node accepts them. What came from the network is never published again by
 *   us: gossipsub forwards accepted messages itself, and blocks fetched by sync are already known
 *   to the peers that served them.
 * - After a reorg, the transactions that returned to the mempool are published again (peers on
 *   the winning side may never have seen them).
 * - The node's synced flag follows the network's (the miner waits for it).
 * @module
 */
import { encodeTx, hexToHash } from '../../chain/index.ts';
import type { ChainAccess } from '../../p2p/chain-access.ts';
import type { NetworkService } from '../../p2p/network-service.ts';
import type { NetworkPeer } from '../../p2p/peer-manager.ts';
import type { ApiPeer } from '../api.ts';
import type { FullNode } from '../full-node.ts';

/** Delays of the re-sends of one of our blocks or transactions that reached no peer, ms. */
const PUBLISH_RETRY_MS = [500, 2000, 5000];

/**
 * The {@link ChainAccess} view of a FullNode.
 * @example net.attach(chainAccessOf(node))
 */
export function chainAccessOf(node: FullNode): ChainAccess {
  return {
    params: node.params,
    headers: node.headers,
    tip: () => node.tip,
    getBlocksBytes: async (hashes) => (await node.store.getBlocks(hashes)).map((b) => b ?? undefined),
    processBlock: (bytes, from) => node.processBlock(bytes, 'peer', { unrequested: true, peer: from }),
    processBlocks: (bytes) => node.processBlocks(bytes, 'peer'),
    processTx: (bytes) => node.processTx(bytes, 'peer'),
    processHeaders: (headers) => node.processHeaders(headers),
    missingBodies: (max) => node.missingBodies(max),
    missingParents: () => node.missingParents(),
    setSynced: (synced) => node.setSynced(synced),
  };
}

/**
 * Connects a node and its network: attaches the chain to `net` and wires the node's events to
 * gossip and sync. Call before `net.start()`; returns a function that unwires the events.
 * @example
 * ```ts
 * const detach = attachNetwork(node, net);
 * await net.start();
 * // … later
 * detach(); await net.stop();
 * ```
 */
export function attachNetwork(node: FullNode, net: NetworkService): () => void {
  net.attach(chainAccessOf(node));
  // A message that reached no peer although chain peers are connected went out while no gossip
  // stream was up (a connection to a peer was just replaced): it is sent again a little later.
  const retries = new Set<ReturnType<typeof setTimeout>>();
  const again = (attempt: number, send: (attempt: number) => Promise<void>) => {
    if (attempt >= PUBLISH_RETRY_MS.length || !net.peers().some((p) => !p.isRelay)) return;
    const t = setTimeout(() => {
      retries.delete(t);
      send(attempt + 1).catch(fail);
    }, PUBLISH_RETRY_MS[attempt]);
    retries.add(t);
  };
  const publishBlock = async (hash: string, attempt = 0): Promise<void> => {
    const bytes = await node.store.getBlock(hexToHash(hash));
    if (bytes && (await net.broadcastBlock(bytes)) === 0) again(attempt, (n) => publishBlock(hash, n));
  };
  const publishTx = async (txid: string, attempt = 0): Promise<void> => {
    const entry = node.mempool.get(hexToHash(txid));
    if (entry && (await net.broadcastTx(encodeTx(entry.tx))) === 0) again(attempt, (n) => publishTx(txid, n));
  };
  const fail = (e: unknown) => node.events.emit('error', { message: `network: ${(e as Error).message}` });
  const offs = [
    node.events.on('block', ({ hash, result, source }) => {
      if (source !== 'miner' && source !== 'local') return;
      if (result.status === 'extended' || result.status === 'reorged' || result.status === 'side') publishBlock(hash).catch(fail);
    }),
    node.events.on('tx', ({ txid, result, source }) => {
      if (source === 'local' && result.status === 'accepted') publishTx(txid).catch(fail);
    }),
    node.events.on('reorg', ({ readmitted }) => {
      for (const txid of readmitted) publishTx(txid).catch(fail);
    }),
    node.events.on('tip', () => net.chainChanged()),
  ];
  node.setSynced(net.synced);
  return () => {
    for (const off of offs) off();
    for (const t of retries) clearTimeout(t);
    retries.clear();
  };
}

/**
 * The Outbox's `rebroadcast` hook: hands a pending wallet transaction to gossip.
 * @example new Outbox({ ..., rebroadcast: outboxRebroadcast(net) })
 */
export function outboxRebroadcast(net: Pick<NetworkService, 'broadcastTx' | 'peers'>, retryMs: readonly number[] = PUBLISH_RETRY_MS): (txBytes: Uint8Array) => Promise<void> {
  // A rebroadcast runs when a chain peer has just appeared (a tab back online, a new tab): its
  // gossip stream is often not up yet, and a copy sent to no one would wait for the next timer
  // (a minute). So, as for our new transactions, it is sent again a little later — without
  // holding up the outbox, which hands its transactions over one after another.
  const again = (txBytes: Uint8Array, attempt: number) => {
    if (attempt >= retryMs.length || !net.peers().some((p) => !p.isRelay)) return;
    setTimeout(() => {
      net.broadcastTx(txBytes).then(
        (n) => {
          if (n === 0) again(txBytes, attempt + 1);
        },
        () => undefined, // the network stopped meanwhile: the outbox's timer tries again later
      );
    }, retryMs[attempt]);
  };
  return async (txBytes) => {
    if ((await net.broadcastTx(txBytes)) === 0) again(txBytes, 0);
  };
}

/**
 * Peers as `TabchainApi.status().peers` lists them. The API's transport union is the browser's
 * ('webrtc' | 'relay' | 'websocket' | 'tab'); a Node peer reached over plain TCP is reported as
 * 'websocket' — like a WebSocket, a direct socket to a listening Node node — and the exact value
 * stays in {@link NetworkPeer.transport}. Relays are listed too (their transport says how).
 * @example api deps: { peers: () => toApiPeers(net.peers()) }
 */
export function toApiPeers(peers: readonly NetworkPeer[]): ApiPeer[] {
  return peers.map((p) => {
    const transport = p.transport === 'tcp' ? 'websocket' : p.transport;
    return p.rttMs === undefined ? { id: p.id, transport, score: p.score } : { id: p.id, transport, rttMs: p.rttMs, score: p.score };
  });
}

