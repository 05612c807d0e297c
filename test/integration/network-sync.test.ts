/**
 * Headers-first sync between real headless nodes (TCP on 127.0.0.1, noise, yamux, the sync
 * protocol): a new node catches up with a 1,000-block chain served by two peers — all headers
 * first, validated, then the bodies from both peers in parallel — and then counts as synced; the
 * peers a node met are kept in its store's address book and redialled on the next start.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToHex } from '../../src/chain/index.ts';
import { ChainBuilder } from '../unit/helpers/chain-builder.ts';
import { startHeadlessNetwork } from '../../src/node/network/headless.ts';
import { MemoryStore } from '../../src/storage/memory-store.ts';
import { FAST_TIMING, startNetNode, waitUntil, type NetNode } from './helpers/net-nodes.ts';

const HEIGHT = 1000;
const nodes: NetNode[] = [];
let chain: ChainBuilder;
let sources: NetNode[];
const served = new Map<string, number>();

beforeAll(async () => {
  chain = new ChainBuilder();
  while (chain.height < HEIGHT) chain.mine();
  sources = await Promise.all(['s1', 's2'].map((name) => startNetNode(name, { blocks: chain.blocks.slice(1) })));
  nodes.push(...sources);
  for (const s of sources) {
    // Count the bodies each source serves (its store reads them once per request, together).
    const store = s.node.store;
    const getBlocks = store.getBlocks.bind(store);
    store.getBlocks = (hashes) => {
      served.set(s.name, (served.get(s.name) ?? 0) + hashes.length);
      return getBlocks(hashes);
    };
  }
});

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
});

describe('headers-first sync', () => {
  it('a new node syncs a 1,000-block chain: headers first, then bodies from several peers', async () => {
    expect(sources.map((s) => s.node.height)).toEqual([HEIGHT, HEIGHT]);
    const bootstrap = sources.map((s) => s.net.multiaddrs().find((m) => !m.includes('/ws'))!);
    // Count how the fresh node's store is written: bodies should arrive in runs, in chain order.
    const store = new MemoryStore({ network: 'test' });
    const writes = { putBlock: 0, connectBlocks: 0, blocksConnected: 0 };
    const putBlock = store.putBlock.bind(store);
    store.putBlock = (hash, bytes) => {
      writes.putBlock++;
      return putBlock(hash, bytes);
    };
    const connectBlocks = store.connectBlocks.bind(store);
    store.connectBlocks = (list) => {
      writes.connectBlocks++;
      writes.blocksConnected += list.length;
      return connectBlocks(list);
    };
    const fresh = await startNetNode('fresh', { bootstrap, store });
    nodes.push(fresh);
    const progress: { phase: string; done: number; total: number }[] = [];
    fresh.net.events.on('sync-progress', (p) => progress.push(p));
    const syncedStates: boolean[] = [];
    fresh.node.events.on('synced', ({ synced }) => syncedStates.push(synced));

    await waitUntil(() => fresh.node.height === HEIGHT, `height ${HEIGHT} (now ${fresh.node.height})`, 45_000);
    expect(hashToHex(fresh.node.tip.hash)).toBe(hashToHex(chain.tip.hash));

    // Headers first: every header was in before the first body was asked for.
    const firstBlocks = progress.findIndex((p) => p.phase === 'blocks');
    expect(firstBlocks).toBeGreaterThan(0);
    expect(progress.slice(0, firstBlocks).every((p) => p.phase === 'headers')).toBe(true);
    expect(progress[firstBlocks - 1]).toEqual({ phase: 'headers', done: HEIGHT, total: HEIGHT });
    await waitUntil(() => progress.at(-1)?.phase === 'blocks' && progress.at(-1)?.done === HEIGHT, 'the last blocks progress event');
    expect(progress.at(-1)).toEqual({ phase: 'blocks', done: HEIGHT, total: HEIGHT });

    // Bodies came from both peers.
    expect(served.get('s1') ?? 0).toBeGreaterThan(0);
    expect(served.get('s2') ?? 0).toBeGreaterThan(0);
    expect((served.get('s1') ?? 0) + (served.get('s2') ?? 0)).toBeGreaterThanOrEqual(HEIGHT);

    // Answers from two peers interleave, yet every body went to the node in chain order, in runs:
    // none was stored aside to be read back, and the connects took far fewer writes than blocks.
    expect(writes.putBlock).toBe(0);
    expect(writes.blocksConnected).toBe(HEIGHT + 1); // and genesis
    expect(writes.connectBlocks).toBeLessThan(HEIGHT / 4);

    // Not synced while the peers claimed more work, synced once caught up.
    expect(syncedStates).toContain(false);
    await waitUntil(() => fresh.node.synced, 'synced');
    expect(fresh.net.synced).toBe(true);
    const peers = fresh.net.peers();
    expect(peers.map((p) => p.id).sort()).toEqual(sources.map((s) => s.net.peerId).sort());
    expect(peers.every((p) => p.transport === 'tcp' && p.height === HEIGHT)).toBe(true);
  });
});

describe('address book', () => {
  it('peers we connected to are kept in the profile’s store and redialled when the network starts again', async () => {
    const [source] = sources;
    const node = await startNetNode('book', { bootstrap: [source.net.multiaddrs()[0]], addressBook: undefined });
    nodes.push(node);
    const store = node.node.store;
    await waitUntil(async () => (await store.listPeers()).some((p) => p.peerId === source.net.peerId), 'the source in the address book');
    const [record] = (await store.listPeers()).filter((p) => p.peerId === source.net.peerId);
    expect(record.multiaddrs.length).toBeGreaterThan(0);
    expect(record.multiaddrs.every((m) => m.endsWith(`/p2p/${source.net.peerId}`))).toBe(true);

    // A new network on the same node, with no bootstrap at all: the book brings the source back.
    await node.network.stop();
    const again = await startHeadlessNetwork(node.node, { timing: FAST_TIMING, addressBook: store });
    try {
      await waitUntil(() => again.net.peers().some((p) => p.id === source.net.peerId), 'the source redialled from the book');
    } finally {
      await again.stop();
    }
  });
});

describe('orphans from gossip', () => {
  it('a gossiped block whose parents we lack makes the node sync from its sender', async () => {
    const slow = { ...FAST_TIMING, statusEveryMs: 600_000 }; // no periodic status poll to help
    const sender = await startNetNode('sender', { timing: slow });
    const receiver = await startNetNode('receiver', { timing: slow, bootstrap: [sender.net.multiaddrs()[0]] });
    nodes.push(sender, receiver);
    await waitUntil(() => receiver.net.peers().some((p) => p.id === sender.net.peerId && p.height === 0), 'the receiver has the sender’s status');
    const blocksTopic = sender.net.gossip.blocksTopic;
    await waitUntil(() => sender.net.libp2p.services.pubsub.getSubscribers(blocksTopic).some((p) => p.equals(receiver.net.libp2p.peerId)), 'the receiver subscribed to blocks');
    // Three blocks reach the sender without being gossiped (as if from a peer the receiver lacks)…
    const side = new ChainBuilder();
    while (side.height < 3) side.mine();
    for (const b of side.blocks.slice(1)) expect((await sender.node.processBlock(b, 'peer')).status).toBe('extended');
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.node.height).toBe(0);
    // …then the sender mines a fourth and gossips it: an orphan at the receiver.
    const orphans: string[] = [];
    receiver.node.events.on('block', (e) => e.result.status === 'orphan' && orphans.push(e.hash));
    const [fourth] = await sender.node.miner.mineBlocks(1);
    await waitUntil(() => hashToHex(receiver.node.tip.hash) === fourth, 'the receiver at the fourth block', 20_000);
    expect(orphans).toEqual([fourth]);
  });
});
