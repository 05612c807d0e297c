/**
 * Misbehaving peers against a real headless node: raw libp2p nodes speaking the sync and gossip
 * protocols that serve a chain with an invalid block, answer with an oversized frame, or gossip a
 * block without proof of work. Each is banned (hung up, refused by the gater) while the node keeps
 * syncing from the honest peer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLibp2p, type Libp2p } from 'libp2p';
import { tcp } from '@libp2p/tcp';
import { noise } from '@libp2p/noise';
import { yamux } from '@libp2p/yamux';
import { identify } from '@libp2p/identify';
import { multiaddr } from '@multiformats/multiaddr';
import { blockHash, encodeBlock, hashToHex, workForBits, type Block } from '../../src/chain/index.ts';
import { createLibp2pNode, type TabchainLibp2p } from '../../src/p2p/libp2p-node.ts';
import { tabchainSync } from '../../src/p2p/libp2p-sync.ts';
import { PeerGate } from '../../src/p2p/peer-gate.ts';
import { protocolIds } from '../../src/p2p/protocol.ts';
import { nodeTransports } from '../../src/p2p/transports-node.ts';
import { ChainBuilder, unmineHeader } from '../unit/helpers/chain-builder.ts';
import { servedChain } from '../unit/helpers/p2p-chain.ts';
import { startNetNode, waitUntil, type NetNode } from './helpers/net-nodes.ts';

const ids = protocolIds('test');
const nodes: NetNode[] = [];
const raw: Libp2p[] = [];
let honestChain: ChainBuilder;
let honest: NetNode;

/** Appends a block to a builder's chain without applying it (its body may break a rule). */
function appendUnapplied(builder: ChainBuilder, block: Block): void {
  const tip = builder.tip;
  builder.entries.push({ hash: blockHash(block.header), header: block.header, height: tip.height + 1, chainwork: tip.chainwork + workForBits(block.header.bits), status: 'valid', hasBody: true });
  builder.blocks.push(block);
}

async function rawNode(services: Record<string, unknown> = {}): Promise<Libp2p> {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify(), ...services } as unknown as Record<string, never>,
  });
  raw.push(node);
  return node;
}

beforeAll(async () => {
  honestChain = new ChainBuilder();
  while (honestChain.height < 30) honestChain.mine();
  honest = await startNetNode('honest', { blocks: honestChain.blocks.slice(1) });
  nodes.push(honest);
});

afterAll(async () => {
  await Promise.all([...nodes.map((n) => n.stop()), ...raw.map((r) => r.stop())]);
});

describe('misbehaving peers', () => {
  it('a peer serving a heavier chain with an invalid block is banned; the node syncs the honest chain', async () => {
    // Fork at 20; block 21's coinbase claims the wrong height (valid header and proof of work,
    // invalid body), then 24 more blocks on top: more work than the honest 30.
    const evil = honestChain.fork();
    while (evil.height > 20) evil.disconnect();
    appendUnapplied(evil, evil.build([], { coinbaseHeight: 999 }));
    while (evil.height < 45) appendUnapplied(evil, evil.build([]));
    const served = servedChain(45, evil);
    const liar = await rawNode({ sync: tabchainSync({ network: 'test', chainView: served.view }) });

    const victim = await startNetNode('victim', { bootstrap: [liar.getMultiaddrs()[0].toString(), honest.net.multiaddrs()[0]] });
    nodes.push(victim);
    const banned = victim.net.events.waitFor('banned', (b) => b.peerId === liar.peerId.toString(), 30_000);
    const ban = await banned;
    expect(ban.offence).toBe('invalidBlock');
    await waitUntil(() => hashToHex(victim.node.tip.hash) === hashToHex(honestChain.tip.hash), 'the victim on the honest chain', 30_000);
    await waitUntil(() => victim.node.synced, 'the victim synced');
    expect(victim.net.gate.scores.isBanned(liar.peerId.toString())).toBe(true);
    await waitUntil(() => !victim.net.peers().some((p) => p.id === liar.peerId.toString()), 'the liar hung up');
    // The evil branch is invalid from block 21 on.
    expect(victim.node.headers.get(evil.entries[21].hash)?.status).toBe('invalid');
    // The gater refuses the banned peer's new connections.
    await waitUntil(() => liar.getConnections(victim.net.libp2p.peerId).length === 0, 'the liar sees the hang-up');
    let reopened = 0;
    victim.net.libp2p.addEventListener('connection:open', (e) => {
      if (e.detail.remotePeer.equals(liar.peerId)) reopened++;
    });
    // (The dialler's side may finish its handshake before the victim drops the socket.)
    await liar.dial(multiaddr(victim.net.multiaddrs()[0]), { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
    await waitUntil(() => liar.getConnections(victim.net.libp2p.peerId).length === 0, 'the refused connection gone');
    expect(reopened).toBe(0);
    expect(victim.net.peers().map((p) => p.id)).not.toContain(liar.peerId.toString());
  });

  it('a peer answering with an oversized frame is banned; the node syncs from the others', async () => {
    const bloater = await rawNode();
    await bloater.handle(
      ids.sync,
      (stream) => {
        // A frame announcing 3 MiB (the limit is 2 MiB), then some of it.
        const prefix = new Uint8Array(4);
        new DataView(prefix.buffer).setUint32(0, 3 * 1024 * 1024, true);
        stream.send(prefix);
        stream.send(new Uint8Array(64 * 1024));
      },
      { runOnLimitedConnection: true },
    );
    const victim = await startNetNode('victim2', { bootstrap: [bloater.getMultiaddrs()[0].toString(), honest.net.multiaddrs()[0]] });
    nodes.push(victim);
    const ban = await victim.net.events.waitFor('banned', (b) => b.peerId === bloater.peerId.toString(), 30_000);
    expect(ban.offence).toBe('oversizedFrame');
    await waitUntil(() => victim.node.height === 30, 'the victim synced from the honest peer', 30_000);
    expect(victim.net.gate.scores.isBanned(bloater.peerId.toString())).toBe(true);
    await waitUntil(() => !victim.net.peers().some((p) => p.id === bloater.peerId.toString()), 'the bloater hung up');
    expect(victim.net.peers().map((p) => p.id)).toContain(honest.net.peerId);
  });

  it('a peer gossiping a block without proof of work is banned; the gossip goes no further', async () => {
    const gossiper: TabchainLibp2p = await createLibp2pNode({ network: 'test', transports: nodeTransports(), listen: ['/ip4/127.0.0.1/tcp/0'], gate: new PeerGate(), start: true });
    raw.push(gossiper);
    gossiper.services.pubsub.subscribe(ids.blocksTopic);
    const victim = await startNetNode('victim3', { bootstrap: [gossiper.getMultiaddrs()[0].toString(), honest.net.multiaddrs()[0]] });
    nodes.push(victim);
    await waitUntil(() => victim.node.height === 30, 'the victim synced', 30_000);
    await waitUntil(() => gossiper.services.pubsub.getSubscribers(ids.blocksTopic).some((p) => p.equals(victim.net.libp2p.peerId)), 'the victim subscribed to blocks');

    const next = honestChain.build([]);
    const bad = { ...next, header: unmineHeader(next.header) };
    const honestSaw: string[] = [];
    honest.node.events.on('block', (e) => honestSaw.push(e.hash));
    const banned = victim.net.events.waitFor('banned', (b) => b.peerId === gossiper.peerId.toString(), 30_000);
    await gossiper.services.pubsub.publish(ids.blocksTopic, encodeBlock(bad));
    expect((await banned).offence).toBe('invalidBlock');
    expect(victim.node.height).toBe(30);
    // Rejected, so the victim did not forward it to the honest node.
    await new Promise((r) => setTimeout(r, 300));
    expect(honestSaw).not.toContain(hashToHex(blockHash(bad.header)));
  });
});
