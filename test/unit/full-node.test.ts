/**
 * FullNode: one serialized block/tx path, fork choice with reorgs (and failed reorgs), orphans,
 * held blocks, headers-first, mempool upkeep, mining, and restart without replay. Every node runs
 * on the 'test' network (about two hashes per block) with a clock that advances by targetSpacing
 * per block of its own chain, so blocks stay on schedule and difficulty at genesis.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  COIN,
  ChainState,
  DEFAULT_MAX_ORPHANS_PER_SOURCE,
  applyBlock,
  blockHash,
  encodeBlock,
  hashToHex,
  makeCoinbase,
  merkleRoot,
  nextBits,
  signTx,
  txid,
  NETWORKS,
  type Block,
  type HeaderEntry,
  type Transaction,
} from '../../src/chain/index.ts';
import { MemoryDatabase, MemoryStore } from '../../src/storage/memory-store.ts';
import type { ChainStore } from '../../src/storage/chain-store.ts';
import { FullNode, type FullNodeOptions, type NodeEvents } from '../../src/node/full-node.ts';
import { mineHeader, wallet } from './helpers/chain-builder.ts';

const params = NETWORKS.test;
const G = params.genesis.header.time;
const alice = wallet('alice');
const bob = wallet('bob');
const carol = wallet('carol');
const dave = wallet('dave'); // never paid anything
const FEE = 5_000n;

const nodes: FullNode[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) await n.stop();
});

interface TestNode {
  node: FullNode;
  store: ChainStore;
  /** Seconds added to the node's clock. */
  skew: { s: number };
  events: { [K in keyof NodeEvents]?: NodeEvents[K][] };
}

/** A started node whose clock reads genesis time + targetSpacing × (its height + 1) + skew. */
async function startNode(opts: { miner?: Uint8Array; database?: MemoryDatabase; store?: ChainStore; timing?: FullNodeOptions['timing'] } = {}): Promise<TestNode> {
  const store = opts.store ?? new MemoryStore({ network: 'test', database: opts.database });
  const skew = { s: 0 };
  const now = () => G + params.targetSpacing * (node.height + 1) + skew.s;
  const node: FullNode = new FullNode({ params, store, now, minerPubKey: opts.miner ?? alice.pub, miner: { useWorkers: false }, timing: opts.timing });
  nodes.push(node);
  const events: TestNode['events'] = {};
  const record = <K extends keyof NodeEvents>(type: K) => node.events.on(type, (p) => void ((events[type] ??= []) as NodeEvents[K][]).push(p));
  for (const type of ['tip', 'block', 'reorg', 'tx', 'txRemoved', 'mempool', 'error'] as const) record(type);
  await node.start();
  return { node, store, skew, events };
}

/** A transfer signed by `from` with the next nonce after its confirmed and pending ones. */
function transfer(node: FullNode, from = alice, to = bob, amount = COIN, nonce?: number): Transaction {
  const n = nonce ?? node.state.account(from.pub).nonce + 1 + node.mempool.pendingFor(from.pub).length;
  return signTx({ chainId: params.chainId, kind: 'transfer', from: from.pub, nonce: n, fee: FEE, to: to.pub, amount }, from.priv) as Transaction;
}

/** Recomputes the state by applying the node's active chain from genesis; must equal node.state. */
async function expectStateIsReplay(node: FullNode): Promise<void> {
  const state = new ChainState();
  for (let h = 1; h <= node.height; h++) {
    const block = (await node.getBlockAtHeight(h))!;
    applyBlock(state, block, { params, height: h, hash: blockHash(block.header) });
  }
  expect(node.state.entries()).toEqual(state.entries());
}

/** The node's active chain blocks 1..height. */
async function blocksOf(node: FullNode, from = 1, to = node.height): Promise<Block[]> {
  const out: Block[] = [];
  for (let h = from; h <= to; h++) out.push((await node.getBlockAtHeight(h))!);
  return out;
}

/** A node that has `blocks` (fed in order) and then mines `more` blocks of its own. */
async function branchNode(blocks: Block[], more: number, miner = carol.pub): Promise<{ node: FullNode; mined: Block[] }> {
  const { node } = await startNode({ miner });
  for (const b of blocks) expect((await node.processBlock(b, 'peer')).status).toBe('extended');
  const hashes = await node.miner.mineBlocks(more);
  return { node, mined: await Promise.all(hashes.map(async (h) => (await node.getBlock(h))!)) };
}

/** A mined block on `parent` (any branch), with a coinbase and `txs`, time on schedule unless given. */
function childOf(node: FullNode, parent: HeaderEntry, txs: Transaction[] = [], time?: number): Block {
  const height = parent.height + 1;
  const block1Time = parent.height >= 1 ? node.headers.ancestorAt(parent, 1)!.header.time : undefined;
  const all = [makeCoinbase(params, height, carol.pub, 0n), ...txs];
  const header = mineHeader({
    version: 1,
    prevHash: parent.hash,
    merkleRoot: merkleRoot(all),
    time: time ?? parent.header.time + params.targetSpacing,
    bits: nextBits(params, { height: parent.height, time: parent.header.time }, block1Time),
    nonce: 0,
  });
  return { header, txs: all };
}

const hex = (b: Block) => hashToHex(blockHash(b.header));

describe('FullNode', () => {
  it('mines 200 blocks with a mempool transaction confirmed on the way; state equals a replay', async () => {
    const { node, events } = await startNode();
    expect(node.height).toBe(0);
    expect(hashToHex(node.tip.hash)).toBe(hashToHex(params.genesisHash));
    await node.miner.mineBlocks(3); // block 1's reward matures at height 1 + 2 = 3
    const tx = transfer(node);
    const id = hashToHex(txid(tx));
    expect(await node.processTx(tx, 'local')).toEqual({ status: 'accepted', txid: id });
    expect(events.tx?.at(-1)).toMatchObject({ txid: id, source: 'local', result: { status: 'accepted' } });
    expect(await node.findTx(id)).toMatchObject({ state: 'pending' });
    expect(await node.processTx(tx, 'peer')).toEqual({ status: 'duplicate', txid: id });

    const [h4] = await node.miner.mineBlocks(1);
    expect(node.mempool.size).toBe(0);
    expect(events.txRemoved).toContainEqual({ txid: id, reason: 'confirmed', blockHash: h4 });
    expect((await node.getBlock(h4))!.txs.map((t) => hashToHex(txid(t)))).toContain(id);
    expect(await node.processTx(tx, 'peer')).toEqual({ status: 'duplicate', txid: id }); // confirmed

    const hashes = await node.miner.mineBlocks(196);
    expect(hashes).toHaveLength(196);
    expect(node.height).toBe(200);
    expect(hashes.at(-1)).toBe(hashToHex(node.tip.hash));
    expect(events.tip?.at(-1)).toEqual({ hash: hashes.at(-1), height: 200 });
    expect(await node.findTx(id)).toMatchObject({ state: 'confirmed', blockHash: h4, height: 4, confirmations: 197 });
    expect(node.state.account(bob.pub).balance).toBe(COIN);
    await expectStateIsReplay(node);
  });

  it('reorgs to a heavier branch and back; readmits a dropped transaction, then confirms it again', async () => {
    const a = await startNode();
    await a.node.miner.mineBlocks(24);
    const tx = transfer(a.node);
    const id = hashToHex(txid(tx));
    expect((await a.node.processTx(tx, 'local')).status).toBe('accepted');
    await a.node.miner.mineBlocks(6); // tx confirmed in block 25; tip 30
    const original = await blocksOf(a.node);
    expect(original[24].txs.map((t) => hashToHex(txid(t)))).toContain(id);

    // Branch B: forks at 20, 20 blocks of its own (40 > 30).
    const b = await branchNode(original.slice(0, 20), 20);
    const results = [];
    for (const block of b.mined) results.push(await a.node.processBlock(block, 'peer'));
    expect(results.slice(0, 10).map((r) => r.status)).toEqual(Array(10).fill('side')); // up to equal work
    expect(results[10].status).toBe('reorged');
    expect(results.slice(11).map((r) => r.status)).toEqual(Array(9).fill('extended'));
    expect(hashToHex(a.node.tip.hash)).toBe(hashToHex(b.node.tip.hash));
    expect(a.node.height).toBe(40);
    const reorg = a.events.reorg!.at(-1)!;
    expect(reorg.fork).toEqual({ hash: hex(original[19]), height: 20 });
    expect(reorg.disconnected).toEqual(original.slice(20).reverse().map(hex));
    expect(reorg.connected).toEqual(b.mined.slice(0, 11).map(hex));
    expect(reorg.readmitted).toEqual([id]);
    expect(await a.node.findTx(id)).toMatchObject({ state: 'pending' });
    expect(a.node.state.entries()).toEqual(b.node.state.entries());
    await expectStateIsReplay(a.node);

    // The original branch grows (C has it and mines 15 more: 45 > 40) and wins again.
    const c = await branchNode(original, 15, alice.pub);
    let last;
    for (const block of c.mined) last = await a.node.processBlock(block, 'peer');
    expect(last?.status).toBe('extended');
    expect(a.events.reorg!.at(-1)).toMatchObject({ fork: { height: 20 }, readmitted: [] });
    expect(hashToHex(a.node.tip.hash)).toBe(hashToHex(c.node.tip.hash));
    expect(a.node.mempool.size).toBe(0); // the readmitted tx is confirmed again, in block 25
    expect(a.events.txRemoved).toContainEqual({ txid: id, reason: 'confirmed', blockHash: hex(original[24]) });
    expect(await a.node.findTx(id)).toMatchObject({ state: 'confirmed', height: 25 });
    await expectStateIsReplay(a.node);
  });

  it('an invalid block in a heavier branch: stays on the best valid chain, marks it and its descendants invalid', async () => {
    const { node, events } = await startNode();
    await node.miner.mineBlocks(10);
    const tipBefore = hashToHex(node.tip.hash);
    const fork = node.headers.ancestorAt(node.tip, 8)!;
    // b1 valid; b2 spends coins dave does not have (sane: signed, fee ok; fails to connect); b3.. on top.
    const b1 = childOf(node, fork);
    expect((await node.processBlock(b1, 'peer')).status).toBe('side');
    const unfunded = signTx({ chainId: params.chainId, kind: 'transfer', from: dave.pub, nonce: 1, fee: FEE, to: bob.pub, amount: 10n * COIN }, dave.priv) as Transaction;
    const b2 = childOf(node, node.headers.get(blockHash(b1.header))!, [unfunded]);
    expect((await node.processBlock(b2, 'peer')).status).toBe('side'); // equal work: first seen stays
    const b3 = childOf(node, node.headers.get(blockHash(b2.header))!);
    const r3 = await node.processBlock(b3, 'peer');
    expect(r3).toMatchObject({ status: 'invalid', code: 'BAD_PREV', height: 11 });
    expect(hashToHex(node.tip.hash)).toBe(tipBefore);
    expect(node.height).toBe(10);
    expect(events.reorg ?? []).toEqual([]); // it went back: no net reorg
    expect(node.headers.get(blockHash(b1.header))!.status).not.toBe('invalid');
    expect(node.headers.get(blockHash(b2.header))!.status).toBe('invalid');
    expect(node.headers.get(blockHash(b3.header))!.status).toBe('invalid');
    await expectStateIsReplay(node);

    // The bad block itself is answered with its rule; a block on top of the branch is rejected.
    expect(await node.processBlock(b2, 'peer')).toMatchObject({ status: 'invalid', code: 'INSUFFICIENT_FUNDS' });
    const b4 = childOf(node, node.headers.get(blockHash(b3.header))!);
    expect(await node.processBlock(b4, 'peer')).toMatchObject({ status: 'invalid', code: 'BAD_PREV' });
    expect(node.headers.get(blockHash(b4.header))!.status).toBe('invalid');
    // The node goes on normally.
    await node.miner.mineBlocks(1);
    expect(node.height).toBe(11);
  });

  it('a reorg that fails part-way goes back, then settles on the valid part of the branch if it has more work', async () => {
    const { node, events } = await startNode();
    await node.miner.mineBlocks(10);
    const old = await blocksOf(node);
    // Branch from 8: b1..b5 valid, b6 invalid, b7 on top. Headers first, then bodies b7..b1.
    const branch: Block[] = [];
    let parent = node.headers.ancestorAt(node.tip, 8)!;
    const unfunded = signTx({ chainId: params.chainId, kind: 'transfer', from: dave.pub, nonce: 1, fee: FEE, to: bob.pub, amount: COIN }, dave.priv) as Transaction;
    for (let i = 1; i <= 7; i++) {
      const b = childOf(node, parent, i === 6 ? [unfunded] : []);
      branch.push(b);
      await node.processHeaders([b.header]);
      parent = node.headers.get(blockHash(b.header))!;
    }
    for (const b of [...branch].reverse().slice(0, 6)) expect((await node.processBlock(b, 'peer')).status).toBe('side');
    // b1 completes the bodies: fork choice tries b7, fails at b6, returns to the old chain, then
    // takes b5 (13 blocks > 10).
    expect(await node.processBlock(branch[0], 'peer')).toMatchObject({ status: 'reorged', height: 9 });
    expect(node.height).toBe(13);
    expect(hashToHex(node.tip.hash)).toBe(hex(branch[4]));
    expect(node.headers.get(blockHash(branch[5].header))!.status).toBe('invalid');
    expect(node.headers.get(blockHash(branch[6].header))!.status).toBe('invalid');
    expect(events.reorg).toHaveLength(1);
    expect(events.reorg![0]).toMatchObject({ fork: { height: 8 }, disconnected: [hex(old[9]), hex(old[8])], connected: branch.slice(0, 5).map(hex) });
    expect(events.tip!.at(-1)).toEqual({ hash: hex(branch[4]), height: 13 });
    await expectStateIsReplay(node);
  });

  it('a mutated body (duplicated transaction) is rejected without marking the header; the right body connects', async () => {
    const { node } = await startNode();
    await node.miner.mineBlocks(4);
    for (let i = 0; i < 2; i++) expect((await node.processTx(transfer(node), 'local')).status).toBe('accepted');
    const t = node.template().block;
    expect(t.txs).toHaveLength(3);
    const header = mineHeader(t.header);
    // CVE-2012-2459: [cb, t1, t2, t2] has the merkle root of [cb, t1, t2].
    const mutated: Block = { header, txs: [...t.txs, t.txs[2]] };
    expect(await node.processBlock(mutated, 'peer')).toMatchObject({ status: 'invalid', code: 'DUPLICATE_TX' });
    expect(node.headers.has(blockHash(header))).toBe(false);
    expect(await node.processBlock({ header, txs: t.txs }, 'peer')).toMatchObject({ status: 'extended', height: 5 });
    expect(node.mempool.size).toBe(0);
  });

  it('orphans fed in reverse order connect when their parent arrives', async () => {
    // As many orphans as one source may hold (the node's own 'peer' path counts as one source).
    const n = DEFAULT_MAX_ORPHANS_PER_SOURCE + 1;
    const src = await branchNode([], n);
    const { node, events } = await startNode();
    const statuses = [];
    for (const b of [...src.mined].reverse()) statuses.push((await node.processBlock(b, 'peer')).status);
    expect(statuses).toEqual([...Array(n - 1).fill('orphan'), 'extended']);
    expect(node.orphanCount).toBe(0);
    expect(node.height).toBe(n);
    expect(hashToHex(node.tip.hash)).toBe(hashToHex(src.node.tip.hash));
    // Every orphan was processed through the block path after its parent, with its own source.
    const connected = events.block!.filter((e) => e.result.status === 'extended');
    expect(connected.map((e) => e.height)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(connected.every((e) => e.source === 'peer')).toBe(true);
    expect(events.tip!.at(-1)).toEqual({ hash: hashToHex(node.tip.hash), height: n });
    await expectStateIsReplay(node);
  });

  it('answers duplicates and undecodable bytes', async () => {
    const { node } = await startNode();
    const [h] = await node.miner.mineBlocks(1);
    const block = (await node.getBlock(h))!;
    expect(await node.processBlock(block, 'peer')).toEqual({ status: 'duplicate', hash: h, height: 1 });
    expect(await node.processBlock(params.genesis, 'peer')).toMatchObject({ status: 'duplicate', height: 0 });
    expect(await node.processBlock(Uint8Array.of(1, 2, 3), 'peer')).toEqual({ status: 'invalid', code: 'MALFORMED', hash: '' });
    expect(await node.processTx(Uint8Array.of(9), 'peer')).toEqual({ status: 'invalid', code: 'MALFORMED', txid: '' });
    const broke = transfer(node, dave);
    expect(await node.processTx(broke, 'peer')).toMatchObject({ status: 'invalid', code: 'INSUFFICIENT_FUNDS' });
    expect(node.mempool.size).toBe(0);
  });

  it('holds a block too far in the future (TIME_TOO_NEW) and connects it once the clock has moved', async () => {
    const { node, skew } = await startNode();
    await node.miner.mineBlocks(2);
    const future = node.tip.header.time + 1000; // far beyond now + 120
    const block = childOf(node, node.tip, [], future);
    expect(await node.processBlock(block, 'peer')).toMatchObject({ status: 'held', code: 'TIME_TOO_NEW', height: 3 });
    expect(node.heldCount).toBe(1);
    expect(node.headers.has(blockHash(block.header))).toBe(false); // nothing marked, nothing stored
    expect(await node.retryHeld()).toMatchObject([{ status: 'held' }]);
    skew.s = 1000;
    expect(await node.retryHeld()).toMatchObject([{ status: 'extended', height: 3 }]);
    expect(node.heldCount).toBe(0);
    expect(hashToHex(node.tip.hash)).toBe(hex(block));
  });

  it('on its own timers, retries held blocks and expires old transactions', async () => {
    const { node, skew } = await startNode({ timing: { heldRetryMs: 20, maintenanceMs: 20, mempoolMaxAgeSeconds: 3600 } });
    await node.miner.mineBlocks(3);
    const tx = transfer(node);
    expect((await node.processTx(tx, 'local')).status).toBe('accepted');
    const block = childOf(node, node.tip, [], node.tip.header.time + 500);
    expect((await node.processBlock(block, 'peer')).status).toBe('held');
    const tip = node.events.waitFor('tip', (t) => t.hash === hex(block), 10_000);
    const expired = node.events.waitFor('txRemoved', (e) => e.reason === 'expired', 10_000);
    skew.s = 3601;
    expect(await tip).toEqual({ hash: hex(block), height: 4 });
    expect(await expired).toEqual({ txid: hashToHex(txid(tx)), reason: 'expired' });
    expect(node.mempool.size).toBe(0);
  });

  it('headers first: stores headers-only entries, asks for their bodies, connects when the bodies arrive', async () => {
    const src = await branchNode([], 5);
    const { node } = await startNode();
    const r = await node.processHeaders(src.mined.map((b) => b.header));
    expect(r).toEqual({ added: 5, needBodies: src.mined.map(hex) });
    expect(node.height).toBe(0);
    expect(node.headers.bestTip().height).toBe(5);
    expect(await node.processHeaders(src.mined.map((b) => b.header))).toEqual({ added: 0, needBodies: src.mined.map(hex) });
    // Bodies in reverse order: stored on the side until the chain of bodies is complete.
    const statuses = [];
    for (const b of [...src.mined].reverse()) statuses.push((await node.processBlock(b, 'peer')).status);
    expect(statuses).toEqual(['side', 'side', 'side', 'side', 'extended']);
    expect(node.height).toBe(5);
    expect(node.missingBodies()).toEqual([]);
    // A header with bad bits is invalid; one whose parent is unknown stops the batch.
    const bad = { ...childOf(node, node.tip).header, bits: 0x1d00ffff };
    expect((await node.processHeaders([bad])).invalid?.code).toMatch(/BAD_BITS|BAD_POW/);
    const stray = mineHeader({ ...childOf(node, node.tip).header, prevHash: new Uint8Array(32).fill(7) });
    expect((await node.processHeaders([stray])).unconnected).toBe(hashToHex(blockHash(stray)));
    await expectStateIsReplay(node);
  });

  it('restarts on the same store with the same tip, state and invalid marks, without replaying blocks', async () => {
    const database = new MemoryDatabase();
    const first = await startNode({ database });
    await first.node.miner.mineBlocks(3);
    await first.node.processTx(transfer(first.node), 'local');
    await first.node.miner.mineBlocks(17);
    const bad = childOf(first.node, first.node.tip, [transfer(first.node, dave)]);
    expect((await first.node.processBlock(bad, 'peer')).status).toBe('invalid');
    const tip = hashToHex(first.node.tip.hash);
    const entries = first.node.state.entries();
    await first.node.stop();

    // Count what start() asks of the store: no block is read or connected.
    const store = new MemoryStore({ network: 'test', database });
    const calls = { getBlock: 0, getBlocks: 0, connectBlock: 0, connectBlocks: 0, getUndo: 0 };
    for (const m of Object.keys(calls) as (keyof typeof calls)[]) {
      const orig = store[m].bind(store) as (...a: unknown[]) => Promise<unknown>;
      (store as unknown as Record<string, unknown>)[m] = (...a: unknown[]) => {
        calls[m]++;
        return orig(...a);
      };
    }
    const second = await startNode({ store });
    expect(calls).toEqual({ getBlock: 0, getBlocks: 0, connectBlock: 0, connectBlocks: 0, getUndo: 0 });
    expect(hashToHex(second.node.tip.hash)).toBe(tip);
    expect(second.node.height).toBe(20);
    expect(second.node.state.entries()).toEqual(entries);
    expect(second.node.headers.get(blockHash(bad.header))?.status).toBe('invalid');
    expect((await second.node.processBlock(bad, 'peer')).status).toBe('invalid');
    await second.node.miner.mineBlocks(1);
    expect(second.node.height).toBe(21);
    await expectStateIsReplay(second.node);
  });

  it('processBlocks: a run of blocks is one store write and ends as processBlock one by one would', async () => {
    const src = await branchNode([], 40);
    const blocks = await blocksOf(src.node);
    const one = await startNode();
    for (const b of blocks) await one.node.processBlock(b, 'peer');
    const database = new MemoryDatabase();
    const store = new MemoryStore({ network: 'test', database });
    const writes: number[] = [];
    const orig = store.connectBlocks.bind(store);
    store.connectBlocks = (list) => {
      writes.push(list.length);
      return orig(list);
    };
    const run = await startNode({ store });
    writes.length = 0;
    const results = await run.node.processBlocks(blocks.map(encodeBlock), 'peer');
    expect(results.map((r) => [r.status, r.height])).toEqual(blocks.map((_, i) => ['extended', i + 1]));
    expect(writes).toEqual([40]);
    expect(run.events.tip).toEqual([{ hash: hex(blocks[39]), height: 40 }]); // one step, one tip event
    expect(run.events.block!.map((e) => e.height)).toEqual(blocks.map((_, i) => i + 1));
    expect(run.node.state.entries()).toEqual(one.node.state.entries());
    await run.node.stop();
    const again = await startNode({ database });
    expect(hashToHex(again.node.tip.hash)).toBe(hex(blocks[39]));
    expect(again.node.state.entries()).toEqual(one.node.state.entries());
    await expectStateIsReplay(again.node);
  });

  it('processBlocks: an invalid block mid-run keeps the valid ones before it and refuses the rest', async () => {
    const { node } = await startNode();
    await node.miner.mineBlocks(3);
    const unfunded = signTx({ chainId: params.chainId, kind: 'transfer', from: dave.pub, nonce: 1, fee: FEE, to: bob.pub, amount: COIN }, dave.priv) as Transaction;
    const run: Block[] = [];
    let parent = node.tip;
    for (let i = 0; i < 6; i++) {
      const b = childOf(node, parent, i === 3 ? [unfunded] : []);
      run.push(b);
      // Headers first, so the blocks after the bad one have a known parent.
      await node.processHeaders([b.header]);
      parent = node.headers.get(blockHash(b.header))!;
    }
    const results = await node.processBlocks(run, 'peer');
    expect(results.map((r) => r.status)).toEqual(['extended', 'extended', 'extended', 'invalid', 'invalid', 'invalid']);
    expect(results[3].code).toBe('INSUFFICIENT_FUNDS');
    expect(results[4].code).toBe('BAD_PREV');
    expect(node.height).toBe(6);
    expect(hashToHex(node.tip.hash)).toBe(hex(run[2]));
    await expectStateIsReplay(node);
  });

  it('processBlocks: a failed store write leaves the node where the store is, and the same run connects later', async () => {
    const src = await branchNode([], 12);
    const blocks = await blocksOf(src.node);
    const database = new MemoryDatabase();
    let fail = false;
    const store = new MemoryStore({
      network: 'test',
      database,
      onBeforeCommit: (kind) => {
        if (fail && kind === 'connectBlock') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      },
    });
    const t = await startNode({ store });
    await t.node.processBlocks(blocks.slice(0, 4), 'peer');
    const before = t.node.state.entries();
    t.events.block = [];
    fail = true;
    await expect(t.node.processBlocks(blocks.slice(4), 'peer')).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED' });
    expect(t.node.height).toBe(4);
    expect(t.node.state.entries()).toEqual(before);
    // No verdict claims a block was connected.
    expect((t.events.block ?? []).filter((e) => e.result.status === 'extended')).toEqual([]);
    fail = false;
    const results = await t.node.processBlocks(blocks.slice(4), 'peer');
    expect(results.map((r) => r.status)).toEqual(blocks.slice(4).map(() => 'duplicate')); // stored already, connected now
    expect(t.node.height).toBe(12);
    await t.node.stop();
    const again = await startNode({ database });
    expect(again.node.height).toBe(12);
    await expectStateIsReplay(again.node);
  });

  it('continuous mining through the miner service (same-thread worker) until stopped', async () => {
    const { node } = await startNode();
    await node.miner.startMining({ workers: 1 });
    expect(node.miner.minerStatus()).toMatchObject({ started: true, synced: true });
    await node.events.waitFor('tip', (t) => t.height >= 3, 20_000);
    await node.miner.stopMining();
    expect(node.miner.minerStatus().started).toBe(false);
    const blocks = await blocksOf(node);
    expect(blocks.every((b) => b.txs[0].kind === 'coinbase' && b.txs[0].miner.every((x, i) => x === alice.pub[i]))).toBe(true);
    await expectStateIsReplay(node);
    // Unsynced, the service does not mine; mineBlocks still does (explicit request).
    node.setSynced(false);
    expect(await node.miner.mineBlocks(1)).toHaveLength(1);
  });

  it('continuous mining stops, with one clear error, when storage is full; the chain stays as stored', async () => {
    let full = false;
    const database = new MemoryDatabase();
    const store = new MemoryStore({
      network: 'test',
      database,
      onBeforeCommit: (kind) => {
        if (full && kind === 'connectBlock') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      },
    });
    const { node, events } = await startNode({ store });
    await node.miner.mineBlocks(2);
    full = true;
    await node.miner.startMining({ workers: 1 });
    const error = await node.events.waitFor('error', (e) => e.code === 'QUOTA_EXCEEDED', 20_000);
    expect(error.message).toMatch(/storage is full.*left at block 2.*Mining stopped/);
    await expect.poll(() => node.miner.minerStatus().started).toBe(false);
    await new Promise((r) => setTimeout(r, 200));
    expect((events.error ?? []).filter((e) => e.code === 'QUOTA_EXCEEDED')).toHaveLength(1);
    expect(node.height).toBe(2);
    // An explicit request says so too; with space again, mining goes on from the same chain.
    await expect(node.miner.mineBlocks(1)).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED' });
    full = false;
    // The block found while full was kept aside; with space again it connects, and one more is mined.
    const [hash] = await node.miner.mineBlocks(1);
    expect(hashToHex(node.tip.hash)).toBe(hash);
    expect(node.height).toBe(4);
    await node.stop();
    const again = await startNode({ database });
    expect(again.node.height).toBe(4);
    await expectStateIsReplay(again.node);
  });
});
