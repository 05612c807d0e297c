/**
 * Cheap branches are not stored (Bitcoin Core's anti-DoS work threshold): a block nobody asked
 * for that starts a branch ending far below the tip's work, and a peer's long header branch that
 * never gets near the tip's work, leave nothing behind — while blocks and branches near the tip
 * are taken as before.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ANTI_DOS_BLOCKS, antiDosWorkThreshold, blockHash, encodeBlock, hashToHex, NETWORKS, workForBits } from '../../src/chain/index.ts';
import { FullNode } from '../../src/node/full-node.ts';
import { chainAccessOf } from '../../src/node/network/attach.ts';
import type { TabchainLibp2p } from '../../src/p2p/libp2p-node.ts';
import { PeerGate } from '../../src/p2p/peer-gate.ts';
import { SyncClient, serveSyncPort } from '../../src/p2p/sync-client.ts';
import { SyncManager } from '../../src/p2p/sync-manager.ts';
import { MemoryStore } from '../../src/storage/memory-store.ts';
import { ChainBuilder, wallet } from './helpers/chain-builder.ts';
import { portPair, servedChain } from './helpers/p2p-chain.ts';

const params = NETWORKS.test;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A started node holding `chain`'s blocks, its clock just past the later of both chains' ends. */
async function nodeWith(chain: ChainBuilder, clockPast = chain.tip.header.time): Promise<FullNode> {
  const node = new FullNode({ params, store: new MemoryStore({ network: 'test' }), now: () => clockPast + 60, miner: { useWorkers: false } });
  await node.start();
  cleanups.push(() => node.stop());
  const results = await node.processBlocks(chain.blocks.slice(1).map(encodeBlock), 'local');
  expect(results.every((r) => r.status === 'extended')).toBe(true);
  return node;
}

/** A chain of `n` blocks mined by `name` (its own branch from genesis). */
function branch(name: string, n: number): ChainBuilder {
  const c = new ChainBuilder(params);
  c.miner = wallet(name).pub;
  while (c.height < n) c.mine();
  return c;
}

describe('anti-DoS work threshold', () => {
  it("is the tip's work less 144 blocks of the tip's difficulty, and 0 below that", () => {
    const ours = branch('ours', 200);
    const w = workForBits(ours.tip.header.bits);
    expect(ANTI_DOS_BLOCKS).toBe(144);
    expect(antiDosWorkThreshold(ours.tip)).toBe(ours.tip.chainwork - 144n * w);
    expect(antiDosWorkThreshold(ours.tip)).toBe(ours.entries[200 - 144].chainwork);
    expect(antiDosWorkThreshold(ours.entries[100])).toBe(0n);
  });

  it('a gossiped block starting a branch far below the tip is not stored; one near the tip is', async () => {
    const ours = branch('ours', 200);
    const node = await nodeWith(ours);
    const headersBefore = node.headers.size;
    // A one-block branch from genesis: its work is 199 blocks short of the tip.
    const cheap = branch('cheap', 1).blocks[1];
    expect(await node.processBlock(cheap, 'peer', { unrequested: true })).toMatchObject({ status: 'low-work', height: 1 });
    expect(node.headers.size).toBe(headersBefore);
    expect(node.headers.get(blockHash(cheap.header))).toBeUndefined();
    // A competing block at the tip's height (equal work) is kept, as a side branch.
    const rival = ours.fork();
    rival.disconnect();
    rival.miner = wallet('rival').pub;
    const side = rival.mine().block;
    expect(await node.processBlock(side, 'peer', { unrequested: true })).toMatchObject({ status: 'side', height: 200 });
    // The very block that was refused as gossip is taken when sync asks for it.
    expect(await node.processBlocks([cheap], 'peer')).toMatchObject([{ status: 'side', height: 1 }]);
  });

  it("a peer's long low-work header branch is dropped without storing a header; the peer's claim is then ignored", async () => {
    const ours = branch('ours', 2300);
    // The liar's branch: 2,100 valid headers from genesis (two getHeaders rounds), and a status
    // claiming far more work than it has.
    const liar = servedChain(2100, (() => {
      const c = new ChainBuilder(params);
      c.miner = wallet('liar').pub;
      return c;
    })());
    const node = await nodeWith(ours);
    const headersBefore = node.headers.size;
    const [mine, theirs] = portPair();
    cleanups.push(serveSyncPort(theirs, liar.view, { maxConcurrent: 8 }));
    const client = new SyncClient(mine, { timeoutMs: 5_000 });
    const getStatus = client.getStatus.bind(client);
    client.getStatus = async (opts) => ({ ...(await getStatus(opts)), chainwork: 1n << 200n, height: 100_000 });
    let headerRequests = 0;
    const getHeaders = client.getHeaders.bind(client);
    client.getHeaders = (locator, opts) => (headerRequests++, getHeaders(locator, opts));
    const logs: string[] = [];
    const sync = new SyncManager({ libp2p: {} as TabchainLibp2p, gate: new PeerGate(), statusEveryMs: 60_000, log: (m) => logs.push(m) });
    sync.attach(chainAccessOf(node));
    sync.start();
    cleanups.push(() => sync.stop());
    sync.addVirtualPeer('liar', client);
    await expect.poll(() => logs.some((l) => l.includes('2100 low-work headers from liar dropped')), { timeout: 10_000 }).toBe(true);
    await sync.idle();
    expect(headerRequests).toBe(2);
    expect(node.headers.size).toBe(headersBefore);
    expect(node.headers.get(liar.builder.tip.hash)).toBeUndefined();
    expect(hashToHex(node.tip.hash)).toBe(hashToHex(ours.tip.hash));
    // Its claim is not backed: the node counts as synced and does not ask again at once.
    expect(sync.synced).toBe(true);
  });

  it("a peer's branch that starts below the threshold and then passes it is stored whole (the held headers given back), and the node moves to it", async () => {
    const ours = branch('ours', 2300);
    // Theirs from genesis: its first 2,000 headers end below the threshold (held back), the
    // next 600 take it past our tip.
    const theirs = servedChain(2600, (() => {
      const c = new ChainBuilder(params);
      c.miner = wallet('theirs').pub;
      return c;
    })());
    const node = await nodeWith(ours, Math.max(ours.tip.header.time, theirs.builder.tip.header.time));
    const [mine, other] = portPair();
    cleanups.push(serveSyncPort(other, theirs.view, { maxConcurrent: 8 }));
    const client = new SyncClient(mine, { timeoutMs: 5_000 });
    const sync = new SyncManager({ libp2p: {} as TabchainLibp2p, gate: new PeerGate(), statusEveryMs: 60_000 });
    sync.attach(chainAccessOf(node));
    node.events.on('tip', () => sync.chainChanged());
    sync.start();
    cleanups.push(() => sync.stop());
    sync.addVirtualPeer('theirs', client);
    await expect.poll(() => node.height, { timeout: 20_000 }).toBe(2600);
    expect(hashToHex(node.tip.hash)).toBe(hashToHex(theirs.builder.tip.hash));
  });
});

