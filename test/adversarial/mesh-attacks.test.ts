/**
 * Attacks over the same-browser tab mesh (a BroadcastChannel; here Node's, which carries
 * structured clones between channels of one name like the browser's), by a hostile script posting
 * envelopes on the victim's channel: junk blocks "from" the libp2p ids of the victim's honest
 * peer, thousands of spoofed hellos, and junk sync traffic. The victim (a real headless node with
 * its network and the mesh wired in by startTabMesh) must not ban any libp2p peer for mesh
 * traffic, must bound its mesh peers, and must keep its chain and its libp2p peers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTabMesh, type TabMeshNetwork } from '../../src/node/network/tab-mesh.ts';
import { MAX_MESH_PEERS, meshChannelName, meshPeerKey, type MeshEnvelope } from '../../src/p2p/tab-mesh.ts';
import { ChainBuilder } from '../unit/helpers/chain-builder.ts';
import { waitUntil } from '../integration/helpers/net-nodes.ts';
import { expectServing, expectWithinBudget, onStop, startArena, stopAllHostile, type Arena } from './helpers/hostile.ts';

let chain: ChainBuilder;
let arena: Arena;
let tabs: TabMeshNetwork;
let channelName: string;

beforeAll(async () => {
  chain = new ChainBuilder();
  while (chain.height < 10) chain.mine();
  arena = await startArena('mesh', chain);
  // A channel name of our own: other test files in this process must not hear it.
  channelName = `${meshChannelName('test')}-${Math.random().toString(36).slice(2)}`;
  const ch = new BroadcastChannel(channelName);
  tabs = startTabMesh(arena.victim.node, arena.victim.net, { channel: ch as never, heartbeatMs: 200, peerTimeoutMs: 60_000 });
  onStop(async () => {
    tabs.stop();
    ch.close();
  });
});
afterAll(stopAllHostile);

/** A hostile script's end of the channel. */
function script(): { post(env: Partial<MeshEnvelope> & { kind: string; from: string }): void; close(): void } {
  const ch = new BroadcastChannel(channelName);
  onStop(async () => ch.close());
  return { post: (env) => ch.postMessage({ v: 1, ...env }), close: () => ch.close() };
}

describe('a hostile script on the tab mesh', () => {
  it("junk blocks 'from' the libp2p id of the victim's honest peer: the mesh identity is charged, the libp2p peer is not", async () => {
    const honestId = arena.bystander.net.peerId;
    const s = script();
    for (let i = 0; i < 4; i++) s.post({ kind: 'block', from: honestId, data: new Uint8Array(10 + i) });
    await waitUntil(() => arena.penalties.some((p) => p.peer === meshPeerKey(honestId)), 'the mesh identity charged', 15_000);
    await waitUntil(() => arena.victim.net.gate.denies(meshPeerKey(honestId)), 'the mesh identity banned', 15_000);
    // The libp2p peer with that id: never charged, never refused, still connected and served.
    expect(arena.penalties.filter((p) => p.peer === honestId)).toEqual([]);
    expect(arena.victim.net.gate.denies(honestId)).toBe(false);
    expect(arena.victim.net.peers().map((p) => p.id)).toContain(honestId);
    await expectServing(arena, chain.tip.hash);
  });

  it('5,000 spoofed hellos: at most MAX_MESH_PEERS mesh peers, the node unharmed', async () => {
    const s = script();
    for (let i = 0; i < 5_000; i++) s.post({ kind: 'hello', from: `spoof-${i}` });
    await waitUntil(() => tabs.mesh.peerIds().length >= MAX_MESH_PEERS, 'the mesh full', 15_000);
    // Let the rest of the 5,000 arrive too.
    s.post({ kind: 'hello', from: 'last-spoof' });
    await new Promise((r) => setTimeout(r, 500));
    expect(tabs.mesh.peerIds().length).toBeLessThanOrEqual(MAX_MESH_PEERS);
    expect(tabs.mesh.peerIds()).not.toContain('last-spoof');
    expectWithinBudget(arena.victim);
    await expectServing(arena, chain.tip.hash);
  });

  it('garbage envelopes (wrong shapes, oversized data, sync junk) are dropped without harm', async () => {
    const s = script();
    const ch = new BroadcastChannel(channelName);
    onStop(async () => ch.close());
    for (const junk of [null, 42, 'x', { v: 2 }, { v: 1, kind: 'nope', from: 'a' }, { v: 1, kind: 'block', from: '' }, { v: 1, kind: 'tx', from: 'x'.repeat(1000) }]) ch.postMessage(junk);
    s.post({ kind: 'block', from: 'big', data: new Uint8Array(3 * 1024 * 1024) });
    s.post({ kind: 'sync', from: 'spoof-1', to: arena.victim.net.peerId, data: new Uint8Array(5000).fill(9) });
    await new Promise((r) => setTimeout(r, 300));
    expect(arena.victim.node.height).toBe(chain.height);
    expect(arena.penalties.filter((p) => !p.peer.startsWith('tab:'))).toEqual([]);
    await expectServing(arena, chain.tip.hash);
  });
});
