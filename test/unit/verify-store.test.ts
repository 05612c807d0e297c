/**
 * verifyStore (src/storage/verify-store.ts): a store written by a real node — transactions, a run
 * of blocks, a reorg — replays clean; the same store corrupted by hand, one way at a time (what a
 * torn or misordered write would leave), is caught with the right discrepancy kind.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NETWORKS, bytesToHex, hashToHex, txid, type StateEntry } from '../../src/chain/index.ts';
import { FullNode } from '../../src/node/full-node.ts';
import type { CollectionName } from '../../src/storage/kv-engine.ts';
import { MemoryDatabase, MemoryStore } from '../../src/storage/memory-store.ts';
import { MAX_DISCREPANCIES, verifyStore, type DiscrepancyKind } from '../../src/storage/verify-store.ts';
import { ChainBuilder, wallet } from './helpers/chain-builder.ts';

const params = NETWORKS.test;
const alice = wallet('alice');
const bob = wallet('bob');
const carol = wallet('carol');

let database: MemoryDatabase;
let store: MemoryStore;
let node: FullNode;
let main: ChainBuilder;
let side: ChainBuilder;

/** Alice and Bob funded, transfers in several blocks, a fork at height 6 that wins with more blocks. */
async function buildNode(): Promise<void> {
  database = new MemoryDatabase();
  store = new MemoryStore({ network: 'test', database });
  node = new FullNode({ params, store, minerPubKey: alice.pub, miner: { useWorkers: false }, signatures: false });
  await node.start();
  main = ChainBuilder.funded([alice, bob]);
  main.add(alice, { kind: 'transfer', to: carol.pub, amount: 7n });
  main.mine();
  side = main.fork();
  side.miner = bob.pub;
  for (let i = 0; i < 3; i++) {
    main.add(bob, { kind: 'transfer', to: carol.pub, amount: BigInt(i + 1) });
    main.mine();
  }
  for (let i = 0; i < 5; i++) {
    side.add(alice, { kind: 'transfer', to: bob.pub, amount: BigInt(i + 10) });
    side.mine();
  }
  const results = await node.processBlocks(main.blocks.slice(1), 'peer');
  expect(results.every((r) => r.status === 'extended')).toBe(true);
  const reorg = await node.processBlocks(side.blocks.slice(main.blocks.length - 3), 'peer');
  expect(reorg.map((r) => r.status)).toContain('reorged');
  expect(hashToHex(node.tip.hash)).toBe(hashToHex(side.tip.hash));
}

const col = (c: CollectionName) => database.collections.get(c)!;
const hex = (h: Uint8Array) => bytesToHex(h);

async function kinds(): Promise<DiscrepancyKind[]> {
  return [...new Set((await verifyAll()).discrepancies.map((d) => d.kind))].sort();
}

async function verifyAll() {
  return verifyStore(await store.readAll(), params);
}

beforeEach(buildNode);
afterEach(async () => {
  await node.stop();
});

describe('verifyStore', () => {
  it('replays a store written by a node through a run and a reorg without a discrepancy', async () => {
    const v = await verifyAll();
    expect(v.discrepancies).toEqual([]);
    expect(v.replayed).toBe(side.height);
    expect(v.tipHeight).toBe(side.height);
    // The side branch's undo records and index entries are there; the losing branch's are gone.
    const snap = await store.readAll();
    expect(snap.undo.length).toBe(side.height + 1);
    expect(snap.blockTxids.length).toBe(side.height + 1);
    // A restart on the same database reads a store that is still consistent.
    await node.stop();
    store = new MemoryStore({ network: 'test', database });
    node = new FullNode({ params, store, minerPubKey: alice.pub, miner: { useWorkers: false }, signatures: false });
    await node.start();
    expect((await verifyAll()).discrepancies).toEqual([]);
  });

  it('catches a changed, a missing and an extra state entry', async () => {
    const key = `a:${hex(alice.pub)}`;
    const entry = col('state').get(key) as Extract<StateEntry, { type: 'account' }>;
    col('state').set(key, { type: 'account', value: { ...entry.value, balance: entry.value.balance + 1n } });
    col('state').delete(`a:${hex(carol.pub)}`);
    col('state').set('h:ghost', { type: 'holding', value: 1n });
    const d = (await verifyAll()).discrepancies;
    expect(d.map((x) => [x.kind, x.key])).toEqual(
      expect.arrayContaining([
        ['STATE_MISMATCH', key],
        ['STATE_MISMATCH', `a:${hex(carol.pub)}`],
        ['STATE_MISMATCH', 'h:ghost'],
      ]),
    );
    expect(d).toHaveLength(3);
  });

  it('catches a tip moved without its disconnect (half a reorg)', async () => {
    const chain = col('meta').get('tabchain:chain') as { tipHash: Uint8Array; tipHeight: number };
    col('meta').set('tabchain:chain', { ...chain, tipHash: side.entries[side.height - 1].hash, tipHeight: side.height - 1 });
    expect(await kinds()).toEqual(['BLOCKTXS_STRAY', 'STATE_MISMATCH', 'TXINDEX_STRAY', 'UNDO_STRAY']);
  });

  it('catches a missing, an altered and a stray undo record', async () => {
    const tipKey = hex(side.tip.hash);
    col('undo').delete(tipKey);
    expect(await kinds()).toEqual(['UNDO_MISSING']);
    const midKey = hex(side.entries[4].hash);
    const mid = col('undo').get(midKey) as { changes: unknown[] };
    col('undo').set(midKey, { ...mid, changes: mid.changes.slice(1) });
    col('undo').set(hex(main.tip.hash), { hash: main.tip.hash, height: main.height, changes: [] });
    const d = (await verifyAll()).discrepancies;
    expect(d.map((x) => [x.kind, x.key])).toEqual([
      ['UNDO_STRAY', hex(main.tip.hash)],
      ['UNDO_MISMATCH', midKey],
      ['UNDO_MISSING', tipKey],
    ]);
    expect(d.find((x) => x.kind === 'UNDO_MISMATCH')!.height).toBe(4);
  });

  it('catches txid index entries missing, misplaced and left over', async () => {
    const tx1 = hex(txid(side.blocks[side.height].txs[1]));
    const tx0 = hex(txid(side.blocks[3].txs[0]));
    const lost = hex(txid(main.blocks[main.height].txs[1]));
    col('meta').delete(`tabchain:tx:${tx1}`);
    col('meta').set(`tabchain:tx:${tx0}`, { blockHash: side.entries[2].hash, height: 2 });
    col('meta').set(`tabchain:tx:${lost}`, { blockHash: main.tip.hash, height: main.height });
    col('meta').delete(`tabchain:blocktxs:${hex(side.entries[5].hash)}`);
    const d = (await verifyAll()).discrepancies;
    expect(d.map((x) => [x.kind, x.key])).toEqual(
      expect.arrayContaining([
        ['TXINDEX_MISSING', tx1],
        ['TXINDEX_WRONG', tx0],
        ['TXINDEX_STRAY', lost],
        ['BLOCKTXS_MISSING', hex(side.entries[5].hash)],
      ]),
    );
    expect(d).toHaveLength(4);
  });

  it('catches a lost body, a header whose body is not there, an invalid block on the active chain', async () => {
    const k5 = hex(side.entries[5].hash);
    col('blocks').delete(k5);
    const snap = await store.readAll();
    const v = verifyStore(snap, params);
    // Once as a header that says it has its body, once as the active chain's block.
    expect(v.discrepancies.map((x) => [x.kind, x.key])).toEqual([
      ['BODY_MISSING', k5],
      ['BODY_MISSING', k5],
    ]);
    expect(v.replayed).toBe(4); // the replay stops at the missing body
    col('blocks').set(k5, col('blocks').get(hex(side.entries[6].hash)));
    const h = col('headers').get(k5) as object;
    col('headers').set(k5, { ...h, status: 'invalid' });
    expect(await kinds()).toEqual(['ACTIVE_NOT_VALID', 'BODY_MISMATCH']);
  });

  it('catches a tip that is not in the header index, and a header that does not follow its parent', async () => {
    const k3 = hex(side.entries[3].hash);
    const h3 = col('headers').get(k3) as { chainwork: bigint };
    col('headers').set(k3, { ...h3, chainwork: h3.chainwork + 1n });
    const d = (await verifyAll()).discrepancies;
    expect(d.map((x) => [x.kind, x.key])).toEqual(
      expect.arrayContaining([
        ['HEADER_LINK', k3],
        ['HEADER_LINK', hex(side.entries[4].hash)],
      ]),
    );
    expect(d).toHaveLength(2);
    const chain = col('meta').get('tabchain:chain') as object;
    col('meta').set('tabchain:chain', { ...chain, tipHash: new Uint8Array(32).fill(7) });
    expect(await kinds()).toEqual(['HEADER_LINK', 'TIP_NOT_IN_INDEX']);
  });

  it(`lists at most ${MAX_DISCREPANCIES} discrepancies and says how many more there were`, async () => {
    for (let i = 0; i < MAX_DISCREPANCIES + 50; i++) col('state').set(`h:junk${i}`, { type: 'holding', value: 1n });
    const d = (await verifyAll()).discrepancies;
    expect(d).toHaveLength(MAX_DISCREPANCIES + 1);
    expect(d[MAX_DISCREPANCIES]).toMatchObject({ kind: 'TRUNCATED', message: '50 more discrepancies not listed' });
  });
});
