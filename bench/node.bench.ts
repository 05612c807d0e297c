/**
 * FullNode benchmarks (suite 'node'), each through the node's one block path into MemoryStore,
 * IdbStore and LevelStore:
 * - connect throughput: coinbase-only blocks (blocks/s), and blocks of 50 signed transfers
 *   (blocks/s, txs/s — every signature verified, every block one atomic write);
 * - a reorg of depth 100 (100 blocks disconnected, 101 connected, mempool readmission), ms;
 * - reopen of a 10,000-block chain through FullNode.start() (target ≤ 1 s in Chromium), ms.
 *
 * IdbStore runs on fake-indexeddb here (a pure-JS IndexedDB emulation in Node): those rows
 * measure our code plus the emulation, NOT a browser's IndexedDB. LevelStore writes to tmpdir.
 */
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ChainState,
  applyBlock,
  blockHash,
  bitsToTarget,
  encodeBlock,
  hashToBigInt,
  makeCoinbase,
  merkleRoot,
  nextBits,
  publicKeyOf,
  sha256,
  signTx,
  txid,
  workForBits,
  NETWORKS,
  type Block,
  type BlockHeader,
  type HeaderEntry,
  type Transaction,
} from '../src/chain/index.ts';
import type { ChainStore } from '../src/storage/chain-store.ts';
import { IdbStore } from '../src/storage/idb-store.ts';
import { LevelStore } from '../src/storage/level-store.ts';
import { MemoryDatabase, MemoryStore } from '../src/storage/memory-store.ts';
import { FullNode } from '../src/node/full-node.ts';
import type { BenchContext, BenchRow } from './run.ts';

const params = NETWORKS.test;
const G = params.genesis.header.time;
const key = (name: string) => sha256(new TextEncoder().encode('node-bench/' + name));
const richPriv = key('rich');
const richPub = publicKeyOf(richPriv);

interface Backend {
  name: string;
  /** A store on a fresh location, and a maker of further stores on that same location. */
  open(): Promise<{ store: ChainStore; again: () => ChainStore; cleanup: () => Promise<void> }>;
}

let seq = 0;
const BACKENDS: Backend[] = [
  {
    name: 'MemoryStore',
    open: async () => {
      const database = new MemoryDatabase();
      return { store: new MemoryStore({ network: 'test', database }), again: () => new MemoryStore({ network: 'test', database }), cleanup: async () => {} };
    },
  },
  {
    name: 'IdbStore (fake-indexeddb)',
    open: async () => {
      const indexedDB = new IDBFactory();
      const profileId = `bench${++seq}`;
      return { store: new IdbStore({ network: 'test', profileId, indexedDB }), again: () => new IdbStore({ network: 'test', profileId, indexedDB }), cleanup: async () => {} };
    },
  },
  {
    name: 'LevelStore',
    open: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'tabchain-node-bench-'));
      return { store: new LevelStore({ network: 'test', dir }), again: () => new LevelStore({ network: 'test', dir }), cleanup: () => rm(dir, { recursive: true, force: true }) };
    },
  },
];

/** A node whose clock follows its own height (blocks on schedule). */
function nodeOn(store: ChainStore, miner = richPub): FullNode {
  const now = () => G + params.targetSpacing * (node.height + 1);
  const node: FullNode = new FullNode({ params, store, now, minerPubKey: miner, miner: { useWorkers: false } });
  return node;
}

async function activeBlocks(node: FullNode, from: number): Promise<Block[]> {
  const out: Block[] = [];
  for (let h = from; h <= node.height; h++) out.push((await node.getBlockAtHeight(h))!);
  return out;
}

/** Blocks 1..n of a chain where block 3+ carry `txsPerBlock` transfers from `rich` (blocks 1–2 mature its reward). */
async function sourceChain(n: number, txsPerBlock: number): Promise<Block[]> {
  const node = nodeOn(new MemoryStore({ network: 'test' }));
  await node.start();
  await node.mineBlocks(2);
  let nonce = 0;
  while (node.height < n) {
    for (let i = 0; i < txsPerBlock; i++) {
      const to = sha256(Uint8Array.of(i, nonce & 0xff, nonce >> 8));
      const tx = signTx({ chainId: params.chainId, kind: 'transfer', from: richPub, nonce: ++nonce, fee: 5_000n, to, amount: 1_000n }, richPriv) as Transaction;
      const r = await node.processTx(tx, 'local');
      if (r.status !== 'accepted') throw new Error(`bench setup: tx ${r.status} ${r.code}`);
    }
    await node.mineBlocks(1);
  }
  const blocks = await activeBlocks(node, 1);
  await node.stop();
  return blocks;
}

/** A branch: `base` fed to a fresh node, then `more` coinbase-only blocks mined by `miner`. */
async function branch(base: Block[], more: number, miner: Uint8Array): Promise<Block[]> {
  const node = nodeOn(new MemoryStore({ network: 'test' }), miner);
  await node.start();
  for (const b of base) await node.processBlock(b, 'peer');
  await node.mineBlocks(more);
  const blocks = await activeBlocks(node, base.length + 1);
  await node.stop();
  return blocks;
}

function mine(header: BlockHeader): BlockHeader {
  const target = bitsToTarget(header.bits);
  const h = { ...header };
  for (h.nonce = 0; hashToBigInt(blockHash(h)) > target; h.nonce++);
  return h;
}

/**
 * Writes a chain of `n` coinbase-only blocks (1,000 distinct miners) straight into `store` with
 * real undo records, as the node would have — the fast way to get a long chain to reopen.
 */
async function writeLongChain(store: ChainStore, n: number): Promise<void> {
  await store.open();
  const state = new ChainState();
  const g = params.genesis;
  let prev: HeaderEntry = { hash: params.genesisHash, header: g.header, height: 0, chainwork: workForBits(g.header.bits), status: 'valid', hasBody: true };
  await store.connectBlock({ hash: prev.hash, height: 0, body: encodeBlock(g), undo: { hash: prev.hash, height: 0, changes: [] }, headers: [prev], txids: g.txs.map(txid) });
  let block1Time: number | undefined;
  for (let h = 1; h <= n; h++) {
    const miner = sha256(Uint8Array.of(h % 1000 & 0xff, (h % 1000) >> 8));
    const txs = [makeCoinbase(params, h, miner, 0n)];
    const header = mine({
      version: 1,
      prevHash: prev.hash,
      merkleRoot: merkleRoot(txs),
      time: G + params.targetSpacing * h,
      bits: nextBits(params, { height: prev.height, time: prev.header.time }, block1Time),
      nonce: 0,
    });
    block1Time ??= header.time;
    const block: Block = { header, txs };
    const hash = blockHash(header);
    const undo = applyBlock(state, block, { params, height: h, hash });
    const entry: HeaderEntry = { hash, header, height: h, chainwork: prev.chainwork + workForBits(header.bits), status: 'valid', hasBody: true };
    await store.connectBlock({ hash, height: h, body: encodeBlock(block), undo, headers: [entry], txids: txs.map(txid) });
    prev = entry;
  }
  await store.close();
}

export default async function nodeBench(ctx: BenchContext): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  ctx.log('building source chains (mining, signing) …');
  const EMPTY = 300;
  const FULL = 30;
  const TXS = 50;
  const empty = await sourceChain(EMPTY, 0);
  const full = await sourceChain(FULL + 2, TXS);
  const REORG = 100;
  const mainChain = await sourceChain(10 + REORG, 0);
  const side = await branch(mainChain.slice(0, 10), REORG + 1, key('side'));
  const LONG = 10_000;

  for (const backend of BACKENDS) {
    // Connect throughput, coinbase-only blocks.
    {
      const { store, cleanup } = await backend.open();
      const node = nodeOn(store);
      await node.start();
      const t0 = performance.now();
      for (const b of empty) await node.processBlock(b, 'peer');
      const ms = performance.now() - t0;
      if (node.height !== EMPTY) throw new Error('bench: empty chain did not connect');
      await node.stop();
      await cleanup();
      rows.push({ suite: 'node', name: `connect coinbase-only blocks, ${backend.name}`, value: (EMPTY * 1000) / ms, unit: 'blocks/s', note: 'processBlock: sanity + context + apply + one atomic write' });
    }
    // Connect throughput, 50 signed transfers per block.
    {
      const { store, cleanup } = await backend.open();
      const node = nodeOn(store);
      await node.start();
      for (const b of full.slice(0, 2)) await node.processBlock(b, 'peer');
      const t0 = performance.now();
      for (const b of full.slice(2)) await node.processBlock(b, 'peer');
      const ms = performance.now() - t0;
      if (node.height !== FULL + 2) throw new Error('bench: full chain did not connect');
      await node.stop();
      await cleanup();
      rows.push({ suite: 'node', name: `connect ${TXS}-transfer blocks, ${backend.name}`, value: (FULL * 1000) / ms, unit: 'blocks/s', note: 'every signature verified' });
      rows.push({ suite: 'node', name: `connect ${TXS}-transfer blocks, ${backend.name}`, value: (FULL * TXS * 1000) / ms, unit: 'txs/s' });
    }
    // Reorg of depth 100.
    {
      const { store, cleanup } = await backend.open();
      const node = nodeOn(store);
      await node.start();
      for (const b of mainChain) await node.processBlock(b, 'peer');
      for (const b of side.slice(0, REORG)) await node.processBlock(b, 'peer');
      const t0 = performance.now();
      const r = await node.processBlock(side[REORG], 'peer');
      const ms = performance.now() - t0;
      if (r.status !== 'reorged') throw new Error(`bench: reorg gave ${r.status}`);
      await node.stop();
      await cleanup();
      rows.push({ suite: 'node', name: `reorg depth ${REORG}, ${backend.name}`, value: ms, unit: 'ms', note: `${REORG} disconnected + ${REORG + 1} connected, one processBlock` });
    }
    // Reopen of a 10,000-block chain.
    {
      ctx.log(`${backend.name}: writing a ${LONG}-block chain …`);
      const { store, again, cleanup } = await backend.open();
      await writeLongChain(store, LONG);
      const node = nodeOn(again());
      const t0 = performance.now();
      await node.start();
      const ms = performance.now() - t0;
      if (node.height !== LONG) throw new Error('bench: reopen height');
      await node.stop();
      await cleanup();
      rows.push({
        suite: 'node',
        name: `reopen ${LONG}-block chain via FullNode.start(), ${backend.name}`,
        value: ms,
        unit: 'ms',
        target: backend.name.startsWith('IdbStore') ? '<= 1000 (Chromium)' : undefined,
        note: backend.name.startsWith('IdbStore') ? 'Node + fake-indexeddb, not Chromium' : 'no replay: index + state as stored',
      });
    }
  }
  return rows;
}
