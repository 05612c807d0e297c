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
import type { ChainStore } from '../src/storage/chain-store.ts';
import { IdbStore } from '../src/storage/idb-store.ts';
import { LevelStore } from '../src/storage/level-store.ts';
import { MemoryDatabase, MemoryStore } from '../src/storage/memory-store.ts';
import type { BenchContext, BenchRow } from './run.ts';
import { benchKey, branch, nodeOn, sourceChain, timeConnects, timeReorg, writeLongChain } from './chains.ts';

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
  const side = await branch(mainChain.slice(0, 10), REORG + 1, benchKey('side'));
  const LONG = 10_000;

  for (const backend of BACKENDS) {
    // Connect throughput, coinbase-only blocks.
    {
      const { store, cleanup } = await backend.open();
      const ms = await timeConnects(store, empty);
      await cleanup();
      rows.push({ suite: 'node', name: `connect coinbase-only blocks, ${backend.name}`, value: (EMPTY * 1000) / ms, unit: 'blocks/s', note: 'processBlock: sanity + context + apply + one atomic write' });
    }
    // Connect throughput, 50 signed transfers per block.
    {
      const { store, cleanup } = await backend.open();
      const ms = await timeConnects(store, full, 2);
      await cleanup();
      rows.push({ suite: 'node', name: `connect ${TXS}-transfer blocks, ${backend.name}`, value: (FULL * 1000) / ms, unit: 'blocks/s', note: 'every signature verified' });
      rows.push({ suite: 'node', name: `connect ${TXS}-transfer blocks, ${backend.name}`, value: (FULL * TXS * 1000) / ms, unit: 'txs/s' });
    }
    // Reorg of depth 100.
    {
      const { store, cleanup } = await backend.open();
      const ms = await timeReorg(store, mainChain, side);
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
