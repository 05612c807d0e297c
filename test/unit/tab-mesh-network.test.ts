/**
 * The tab mesh wired to a node (src/node/network/tab-mesh.ts): the wallet's pending transactions
 * go out again whenever a new chain peer appears — a tab on the mesh or a libp2p peer (not a
 * relay) — and our own transactions are announced to the other tabs; api.setIsolated drives the
 * network's switch.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { bytesToHex, encodeTx } from '../../src/chain/index.ts';
import { Emitter } from '../../src/p2p/emitter.ts';
import { ChainGossip } from '../../src/p2p/gossip.ts';
import type { TabchainLibp2p } from '../../src/p2p/libp2p-node.ts';
import type { NetworkEvents, NetworkService } from '../../src/p2p/network-service.ts';
import type { NetworkPeer } from '../../src/p2p/peer-manager.ts';
import { PeerGate } from '../../src/p2p/peer-gate.ts';
import { SyncManager } from '../../src/p2p/sync-manager.ts';
import { meshPeerKey, TabMesh } from '../../src/p2p/tab-mesh.ts';
import { startTabMesh } from '../../src/node/network/tab-mesh.ts';
import { createTabchainApi } from '../../src/node/api.ts';
import { FAST_KDF, startRig, stopAll } from './helpers/wallet-node.ts';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await stopAll();
});

const NO_LIBP2P = {} as TabchainLibp2p;

/** The parts of a NetworkService startTabMesh uses, without libp2p. */
function fakeNet(id: string) {
  const gate = new PeerGate();
  const sync = new SyncManager({ libp2p: NO_LIBP2P, gate });
  const gossip = new ChainGossip({ libp2p: NO_LIBP2P, network: 'test', gate });
  const events = new Emitter<NetworkEvents>();
  const net = { peerId: id, gate, sync, gossip, events, peers: (): NetworkPeer[] => [], isolated: false };
  return net as typeof net & NetworkService;
}

function peer(id: string, isRelay = false): NetworkPeer {
  return { id, transport: 'webrtc', score: 0, direction: 'outbound', addr: '', isRelay };
}

describe('tab mesh on a node', () => {
  it('a new mesh tab or libp2p peer gets our pending transactions; a relay does not trigger it', async () => {
    const rig = await startRig();
    const [p] = rig.profiles;
    rig.node.setMinerPubKey(p.wallet.publicKey);
    await rig.node.miner.mineBlocks(4);
    const txid = await p.api.send(await p.api.address(), '1000');
    const net = fakeNet('tab-a');
    const ch = new BroadcastChannel(`tmn-${Math.random()}`);
    const other = new BroadcastChannel(ch.name);
    cleanups.push(() => ch.close(), () => other.close());
    const tabs = startTabMesh(rig.node, net, { outbox: p.outbox, channel: ch, heartbeatMs: 100 });
    cleanups.push(() => tabs.stop());
    const before = p.rebroadcasts.length;

    // Another tab joins the mesh: it receives our pending transaction.
    const heard: string[] = [];
    const b = new TabMesh({
      network: 'test',
      id: 'tab-b',
      view: { status: () => Promise.reject(new Error('not serving')), headersAfter: () => [], getBlocks: (h) => h.map(() => undefined) },
      gate: new PeerGate(),
      channel: other,
      checkBlock: async () => 'ignore',
      checkTx: async (_from, bytes) => (heard.push(bytes.length > 0 ? 'tx' : ''), 'accept'),
    });
    b.start();
    cleanups.push(() => b.stop());
    await expect.poll(() => tabs.peers(), { timeout: 5_000 }).toEqual([{ id: 'tab-b', transport: 'tab', score: 0 }]);
    // Its score is the mesh identity's, not that of a libp2p peer that happens to share its id.
    net.gate.penalize('tab-b', 'unsolicited');
    expect(tabs.peers()[0].score).toBe(0);
    net.gate.penalize(meshPeerKey('tab-b'), 'timeout');
    expect(tabs.peers()[0].score).toBeLessThan(-9);
    await expect.poll(() => heard.length, { timeout: 5_000 }).toBeGreaterThan(0);
    expect(p.rebroadcasts.length).toBeGreaterThan(before);
    expect(bytesToHex(p.rebroadcasts.at(-1)!)).toBe(bytesToHex(encodeTx(p.outbox.list().find((e) => e.txid === txid)!.decoded)));

    // A libp2p chain peer appears: again; a relay: no.
    const n1 = p.rebroadcasts.length;
    net.events.emit('peers', { peers: [peer('relay-1', true)] });
    await new Promise((r) => setTimeout(r, 50));
    expect(p.rebroadcasts.length).toBe(n1);
    net.events.emit('peers', { peers: [peer('relay-1', true), peer('peer-1')] });
    await expect.poll(() => p.rebroadcasts.length, { timeout: 5_000 }).toBeGreaterThan(n1);
  });

  it('api.setIsolated drives the isolation hook, or remembers the wish without one', async () => {
    const rig = await startRig();
    const [p] = rig.profiles;
    expect(await p.api.isolated()).toBe(false);
    await p.api.setIsolated(true);
    expect(await p.api.isolated()).toBe(true);
    let on = false;
    const api = createTabchainApi({ node: rig.node, wallet: p.wallet, outbox: p.outbox, profile: 'A', backupKdf: FAST_KDF, isolation: { set: (v) => (on = v), get: () => on } });
    await api.setIsolated(true);
    expect(on).toBe(true);
    expect(await api.isolated()).toBe(true);
    await expect(api.setIsolated('yes' as unknown as boolean)).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });
});
