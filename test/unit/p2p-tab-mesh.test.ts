/**
 * The same-browser tab mesh over Node's BroadcastChannel: FullNodes ("tabs") on one channel meet,
 * sync a chain through the SyncManager's virtual peers, gossip blocks and transactions through
 * the gossip validators, drop repeats, score misbehaviour, and honour the isolate switch.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../support/wait.ts';
import { blockHash, concatBytes, encodeBlock, encodeHeader, encodeTx, hashToHex, hexToHash, NETWORKS, txid } from '../../src/chain/index.ts';
import { decodeMessage, encodeMessage } from '../../src/p2p/messages.ts';
import type { SyncClient } from '../../src/p2p/sync-client.ts';
import { FullNode } from '../../src/node/full-node.ts';
import { chainAccessOf } from '../../src/node/network/attach.ts';
import { MemoryStore } from '../../src/storage/memory-store.ts';
import { TopicValidatorResult } from '@libp2p/gossipsub';
import { ChainGossip } from '../../src/p2p/gossip.ts';
import { PeerGate } from '../../src/p2p/peer-gate.ts';
import { SyncManager } from '../../src/p2p/sync-manager.ts';
import type { TabchainLibp2p } from '../../src/p2p/libp2p-node.ts';
import { createTabMesh, MAX_MESH_PEERS, meshChannelName, meshPeerKey, TabMesh, type MeshChannel, type MeshEnvelope } from '../../src/p2p/tab-mesh.ts';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { ChainBuilder, wallets } from './helpers/chain-builder.ts';

const params = NETWORKS.test;
const G = params.genesis.header.time;
/** libp2p is never touched: mesh peers are virtual and the mesh calls the validators directly. */
const NO_LIBP2P = {} as TabchainLibp2p;

interface Tab {
  id: string;
  node: FullNode;
  gate: PeerGate;
  sync: SyncManager;
  mesh: TabMesh;
  processed: { blocks: number; txs: number };
}

const nodes: FullNode[] = [];
const tabs: Tab[] = [];
const channels: BroadcastChannel[] = [];
/** One clock for all tabs: one spacing past the highest chain (blocks stay on schedule). */
const now = () => G + params.targetSpacing * (Math.max(0, ...nodes.map((n) => n.height)) + 1);

async function openTab(id: string, channel: string): Promise<Tab> {
  const node = new FullNode({ params, store: new MemoryStore({ network: 'test' }), now, miner: { useWorkers: false, kind: 'js' } });
  await node.start();
  nodes.push(node);
  const gate = new PeerGate();
  const chain = chainAccessOf(node);
  const processed = { blocks: 0, txs: 0 };
  // Count what reaches the node (dedupe must stop repeats before it).
  const counted = {
    ...chain,
    processBlock: (b: Uint8Array, from: string) => (processed.blocks++, chain.processBlock(b, from)),
    processTx: (b: Uint8Array, from: string) => (processed.txs++, chain.processTx(b, from)),
  };
  const sync = new SyncManager({ libp2p: NO_LIBP2P, gate, statusEveryMs: 200 });
  const gossip = new ChainGossip({ libp2p: NO_LIBP2P, network: 'test', gate, onOrphan: (peer) => sync.requestFrom(peer) });
  gossip.attach(counted);
  sync.attach(counted);
  node.events.on('tip', () => sync.chainChanged());
  sync.start();
  const ch = new BroadcastChannel(channel);
  channels.push(ch);
  const mesh = createTabMesh({ id, network: 'test', chain: counted, gate, gossip, sync, channel: ch, heartbeatMs: 100, peerTimeoutMs: 2_000 });
  const tab: Tab = { id, node, gate, sync, mesh, processed };
  tabs.push(tab);
  return tab;
}

afterEach(async () => {
  for (const t of tabs.splice(0)) {
    t.mesh.stop();
    await t.sync.stop();
  }
  for (const c of channels.splice(0)) c.close();
  for (const n of nodes.splice(0)) await n.stop();
});

describe('tab mesh', () => {
  it('has one channel per network', () => {
    expect(meshChannelName('dev')).toBe('tabchain-dev-mesh');
    expect(meshChannelName('test')).not.toBe(meshChannelName('dev'));
  });

  it('tabs meet, sync the chain of the first, and gossip a block and a transaction to all', async () => {
    const name = `mesh-${Math.random()}`;
    const [alice, bob] = wallets(2);
    const builder = ChainBuilder.funded([alice]);
    const a = await openTab('tab-a', name);
    for (let h = 1; h <= builder.height; h++) {
      const r = await a.node.processBlock(builder.blocks[h], 'peer');
      expect(['extended']).toContain(r.status);
    }
    const b = await openTab('tab-b', name);
    const c = await openTab('tab-c', name);
    for (const t of [a, b, c]) t.mesh.start();
    // Presence: everyone knows everyone (hello answered by 'present', point-to-point).
    await waitUntil(() => [a, b, c].every((t) => t.mesh.peerIds().length === 2), 'presence');
    expect(b.mesh.peerIds().sort()).toEqual(['tab-a', 'tab-c']);
    // Sync through the same SyncManager, over the mesh's virtual peers.
    await waitUntil(() => b.node.height === a.node.height && c.node.height === a.node.height, 'sync');
    expect(hashToHex(b.node.tip.hash)).toBe(hashToHex(a.node.tip.hash));

    // A transaction of a's, announced once, reaches both others' mempools.
    const tx = builder.sign(alice, { kind: 'transfer', to: bob.pub, amount: 1_000n });
    expect((await a.node.processTx(tx, 'local')).status).toBe('accepted');
    expect(a.mesh.broadcastTx(encodeTx(tx))).toBe(2);
    const id = hashToHex(txid(tx));
    await waitUntil(() => b.node.mempool.has(id) && c.node.mempool.has(id), 'tx gossip');
    // Announced again at once (it also came over WebRTC, say): dropped before the node.
    const txsSeen = b.processed.txs;
    a.mesh.broadcastTx(encodeTx(tx));
    await new Promise((r) => setTimeout(r, 100));
    expect(b.processed.txs).toBe(txsSeen);

    // A block mined by b reaches a and c by gossip (no status poll needed: the block extends).
    b.node.setMinerPubKey(bob.pub);
    const [hash] = await b.node.miner.mineBlocks(1);
    const bytes = (await b.node.store.getBlock(hexToHash(hash)))!;
    const before = a.processed.blocks;
    b.mesh.broadcastBlock(bytes);
    await waitUntil(() => hashToHex(a.node.tip.hash) === hash && hashToHex(c.node.tip.hash) === hash, 'block gossip');
    expect(a.node.mempool.has(id)).toBe(false); // confirmed by b's block

    // The same block again (as if it also came over WebRTC and b re-announced it): dropped
    // before the node, and never re-broadcast by the receivers.
    const seenBy = a.processed.blocks;
    b.mesh.broadcastBlock(bytes);
    b.mesh.broadcastBlock(bytes);
    await new Promise((r) => setTimeout(r, 100));
    expect(a.processed.blocks).toBe(seenBy);
    expect(seenBy - before).toBeLessThanOrEqual(2); // the gossip once (and at most one sync fetch)
  });

  it('a tab that leaves is dropped; a garbage block costs its sender its place', async () => {
    const name = `mesh-${Math.random()}`;
    const a = await openTab('tab-a', name);
    const b = await openTab('tab-b', name);
    a.mesh.start();
    b.mesh.start();
    await waitUntil(() => a.mesh.peerIds().length === 1 && b.mesh.peerIds().length === 1, 'presence');
    // b sends a block whose proof of work is wrong: an invalid block bans, as over gossipsub.
    const builder = new ChainBuilder(params);
    const bad = builder.build([]);
    bad.header = { ...bad.header, nonce: bad.header.nonce + 1 };
    b.mesh.broadcastBlock(encodeBlock(bad));
    await waitUntil(() => a.gate.denies(meshPeerKey('tab-b')), 'ban');
    expect(a.gate.denies('tab-b')).toBe(false); // the mesh identity, not a libp2p peer id
    expect(a.mesh.peerIds()).toEqual([]);
    // Its later messages are ignored: no re-join.
    b.mesh.setIsolated(true);
    b.mesh.setIsolated(false);
    await new Promise((r) => setTimeout(r, 200));
    expect(a.mesh.peerIds()).toEqual([]);
    // A third tab joins and leaves cleanly (bye on stop).
    const c = await openTab('tab-c', name);
    c.mesh.start();
    await waitUntil(() => a.mesh.peerIds().includes('tab-c'), 'join');
    c.mesh.stop();
    await waitUntil(() => !a.mesh.peerIds().includes('tab-c'), 'bye');
    expect(a.sync.peerIds()).not.toContain(meshPeerKey('tab-c'));
  });

  it('isolating a tab drops its mesh peers and refuses them until switched off', async () => {
    const name = `mesh-${Math.random()}`;
    const a = await openTab('tab-a', name);
    const b = await openTab('tab-b', name);
    a.mesh.start();
    b.mesh.start();
    await waitUntil(() => a.mesh.peerIds().length === 1, 'presence');
    a.mesh.setIsolated(true);
    await waitUntil(() => b.mesh.peerIds().length === 0, 'b sees a leave');
    expect(a.mesh.peerIds()).toEqual([]);
    expect(a.sync.peerIds()).toEqual([]);
    // b mines meanwhile: a does not hear it.
    b.node.setMinerPubKey(wallets(1)[0].pub);
    const [hash] = await b.node.miner.mineBlocks(1);
    b.mesh.broadcastBlock((await b.node.store.getBlock(hexToHash(hash)))!);
    await new Promise((r) => setTimeout(r, 300));
    expect(a.node.height).toBe(0);
    expect(a.mesh.peerIds()).toEqual([]);
    // Switched off: they meet again and a catches up by sync.
    a.mesh.setIsolated(false);
    await waitUntil(() => a.node.height === 1, 'catch-up after isolation');
    expect(hashToHex(a.node.tip.hash)).toBe(hash);
  });

  it('a tab reached over the mesh and over libp2p is two sync peers, one per carrier: either may go without the other', async () => {
    const name = `mesh-${Math.random()}`;
    const a = await openTab('tab-a', name);
    const b = await openTab('tab-b', name);
    a.mesh.start();
    b.mesh.start();
    await waitUntil(() => a.sync.peerIds().includes(meshPeerKey('tab-b')), 'mesh peer in sync');
    // The mesh identity is its own key: a libp2p connection to the same id comes and goes
    // without touching it (and a mesh message never speaks for the libp2p peer).
    expect(a.sync.peerIds()).not.toContain('tab-b');
    a.sync.addPeer({ toString: () => 'tab-b' } as Parameters<SyncManager['addPeer']>[0]);
    expect(a.sync.peerIds().sort()).toEqual(['tab-b', meshPeerKey('tab-b')].sort());
    a.sync.removePeer('tab-b');
    expect(a.sync.peerIds()).toEqual([meshPeerKey('tab-b')]);
    // The libp2p connection is back, the tab leaves the mesh: the libp2p peer stays.
    a.sync.addPeer({ toString: () => 'tab-b' } as Parameters<SyncManager['addPeer']>[0]);
    b.mesh.stop();
    await waitUntil(() => a.mesh.peerIds().length === 0, 'bye');
    expect(a.sync.peerIds()).toEqual(['tab-b']);
  });
});

/** A channel whose messages the test posts by hand, delivered synchronously (no other tab). */
function handChannel() {
  const listeners = new Set<(e: MessageEvent) => void>();
  const posted: MeshEnvelope[] = [];
  const channel: MeshChannel = {
    postMessage: (m) => posted.push(m as MeshEnvelope),
    addEventListener: (_t, l) => listeners.add(l),
    removeEventListener: (_t, l) => listeners.delete(l),
    close: () => listeners.clear(),
  };
  const deliver = (env: MeshEnvelope) => {
    for (const l of [...listeners]) l({ data: env } as MessageEvent);
  };
  return { channel, posted, deliver };
}

describe('tab mesh against spoofed identities (same-origin code posting on the channel)', () => {
  it(`5,000 hellos from fresh ids make at most MAX_MESH_PEERS (${MAX_MESH_PEERS}) mesh peers, and only those are answered`, async () => {
    const a = await openTab('tab-a', `unused-${Math.random()}`);
    const hand = handChannel();
    const mesh = createTabMesh({ id: 'tab-a', network: 'test', chain: chainAccessOf(a.node), gate: a.gate, gossip: { checkBlock: async () => TopicValidatorResult.Ignore, checkTx: async () => TopicValidatorResult.Ignore }, sync: a.sync, channel: hand.channel });
    mesh.start();
    try {
      for (let i = 0; i < 5_000; i++) hand.deliver({ v: 1, kind: 'hello', from: `spoof-${i}` });
      expect(mesh.peerIds()).toHaveLength(MAX_MESH_PEERS);
      expect(a.sync.peerIds()).toHaveLength(MAX_MESH_PEERS);
      expect(hand.posted.filter((e) => e.kind === 'present')).toHaveLength(MAX_MESH_PEERS);
      // A known tab keeps its place; a heartbeat from a new id beyond the cap joins nothing.
      hand.deliver({ v: 1, kind: 'heartbeat', from: 'spoof-1' });
      hand.deliver({ v: 1, kind: 'heartbeat', from: 'spoof-late' });
      expect(mesh.peerIds()).toHaveLength(MAX_MESH_PEERS);
      expect(mesh.peerIds()).not.toContain('spoof-late');
      // When one leaves, a new tab may join.
      hand.deliver({ v: 1, kind: 'bye', from: 'spoof-1' });
      hand.deliver({ v: 1, kind: 'hello', from: 'spoof-late' });
      expect(mesh.peerIds()).toContain('spoof-late');
    } finally {
      mesh.stop();
    }
  });

  it('junk blocks "from" the relay\'s libp2p peer id cost the mesh identity, never the libp2p peer: the relay is not banned', async () => {
    const relayId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'));
    const a = await openTab('tab-a', `unused-${Math.random()}`);
    const hand = handChannel();
    const gossip = new ChainGossip({ libp2p: NO_LIBP2P, network: 'test', gate: a.gate });
    gossip.attach(chainAccessOf(a.node));
    const mesh = createTabMesh({ id: 'tab-a', network: 'test', chain: chainAccessOf(a.node), gate: a.gate, gossip, sync: a.sync, channel: hand.channel });
    mesh.start();
    try {
      hand.deliver({ v: 1, kind: 'hello', from: relayId.toString() });
      for (let i = 0; i < 2; i++) hand.deliver({ v: 1, kind: 'block', from: relayId.toString(), data: new Uint8Array(10) });
      hand.deliver({ v: 1, kind: 'heartbeat', from: relayId.toString() });
      await waitUntil(() => mesh.peerIds().length === 0, 'the spoofing mesh identity dropped');
      // The libp2p view: the relay is neither denied nor scored, and the gater refuses nothing.
      expect(a.gate.denies(relayId.toString())).toBe(false);
      expect(a.gate.denies(meshPeerKey(relayId.toString()))).toBe(true);
      expect(a.gate.scores.score(relayId.toString())).toBe(0);
      const gater = a.gate.gater();
      expect(await gater.denyDialPeer!(relayId)).toBe(false);
      expect(await gater.denyInboundEncryptedConnection!(relayId, {} as never)).toBe(false);
    } finally {
      mesh.stop();
    }
  });

  it('a sync answer bigger than one block (two 700 KB blocks in one frame) gets through; a block announcement that big does not', async () => {
    const hand = handChannel();
    let client: SyncClient | undefined;
    const announced: number[] = [];
    const mesh = new TabMesh({
      network: 'test',
      id: 'tab-a',
      view: { status: () => Promise.reject(new Error('not serving')), headersAfter: () => [], getBlocks: (h) => h.map(() => undefined) },
      gate: new PeerGate(),
      channel: hand.channel,
      syncTimeoutMs: 2_000,
      checkBlock: async (_from, bytes) => (announced.push(bytes.length), 'ignore'),
      checkTx: async () => 'ignore',
      onPeerJoined: (_key, c) => (client = c),
    });
    mesh.start();
    try {
      hand.deliver({ v: 1, kind: 'hello', from: 'tab-b' });
      const builder = new ChainBuilder(params);
      const headers = [builder.mine().block.header, builder.mine().block.header];
      const bodies = headers.map((h) => concatBytes(encodeHeader(h), new Uint8Array(700_000)));
      const asked = client!.getBlocks(headers.map(blockHash));
      const request = decodeMessage(hand.posted.find((e) => e.kind === 'sync')!.data!);
      const answer = encodeMessage({ type: 'blocks', id: request.id, blocks: bodies, notFound: [] });
      expect(answer.length).toBeGreaterThan(1_100_000);
      hand.deliver({ v: 1, kind: 'sync', from: 'tab-b', to: 'tab-a', data: answer });
      const { blocks } = await asked;
      expect(blocks.map((b) => b.bytes.length)).toEqual([bodies[0].length, bodies[1].length]);
      hand.deliver({ v: 1, kind: 'block', from: 'tab-b', data: answer });
      expect(announced).toEqual([]);
    } finally {
      mesh.stop();
    }
  });
});

