/**
 * Storage benchmarks (suite 'storage'):
 * - connect throughput: blocks of 10 state changes (+ a 1 KiB body and the header entry), blocks/s
 *   and state writes/s, into MemoryStore, IdbStore and LevelStore;
 * - reopen time of a 10,000-block chain (10,000 header entries, 5,000 state entries, bodies and
 *   undo records stored) for each store.
 *
 * IdbStore runs on fake-indexeddb here (a pure-JS IndexedDB in Node): its figures measure our code
 * plus that emulation, NOT a browser. Real-Chromium IndexedDB figures are a later step (run this
 * workload in a page via playwright-core) — until then do not read the IdbStore rows as browser
 * performance. LevelStore runs with its default (sync: false) on the machine's disk under tmpdir.
 */
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HeaderEntry, StateChange, StateEntry } from '../src/chain/types.ts';
import type { ChainStore } from '../src/storage/chain-store.ts';
import { IdbStore } from '../src/storage/idb-store.ts';
import { LevelStore } from '../src/storage/level-store.ts';
import { MemoryDatabase, MemoryStore } from '../src/storage/memory-store.ts';
import type { BenchContext, BenchRow } from './run.ts';

const CHANGES_PER_BLOCK = 10;

function hashOf(n: number, salt = 0): Uint8Array {
  const h = new Uint8Array(32);
  const v = new DataView(h.buffer);
  v.setUint32(0, n);
  v.setUint32(4, salt);
  h[31] = 1;
  return h;
}

function header(height: number, salt: number): HeaderEntry {
  return {
    hash: hashOf(height, salt),
    header: { version: 1, prevHash: height === 0 ? new Uint8Array(32) : hashOf(height - 1, salt), merkleRoot: hashOf(height, 99), time: 1_700_000_000 + height * 60, bits: 0x207fffff, nonce: height },
    height,
    chainwork: BigInt(height + 1) << 40n,
    status: 'valid',
    hasBody: true,
  };
}

/** A realistic mix: mostly accounts, some holdings, one maturing reward per block. */
function entry(n: number, height: number): StateEntry {
  if (n % 10 === 0) return { type: 'maturing', value: { height, miner: hashOf(n, 5), amount: 5_000_000_000n } };
  if (n % 3 === 0) return { type: 'holding', value: BigInt(n) + 1n };
  return { type: 'account', value: { balance: BigInt(n) * 1000n + BigInt(height), immature: 0n, nonce: height } };
}

/**
 * Connects blocks from+1..to; block h writes `perBlock` keys out of a key space of `keySpace`.
 * `model` tracks current values so undo `before`s are true.
 */
async function connectBlocks(store: ChainStore, model: Map<string, StateEntry>, from: number, to: number, perBlock: number, keySpace: number, salt: number): Promise<void> {
  const body = new Uint8Array(1024).fill(7);
  for (let h = from + 1; h <= to; h++) {
    const hash = hashOf(h, salt);
    const changes: StateChange[] = [];
    for (let i = 0; i < perBlock; i++) {
      const n = (h * perBlock + i) % keySpace;
      const key = n % 10 === 0 ? `m:${n}` : n % 3 === 0 ? `h:${n}` : `a:${n}`;
      const after = entry(n, h);
      changes.push({ key, before: model.get(key) ?? null, after });
      model.set(key, after);
    }
    await store.connectBlock({ hash, height: h, body, undo: { hash, height: h, changes }, headers: [header(h, salt)] });
  }
}

interface Subject {
  name: string;
  /** A fresh location; `make` opens store instances on it. */
  fresh(): Promise<{ make(): ChainStore; cleanup(): Promise<void> }>;
  connectBlocks: number;
}

const SUBJECTS: Subject[] = [
  {
    name: 'MemoryStore',
    connectBlocks: 5000,
    async fresh() {
      const database = new MemoryDatabase();
      return { make: () => new MemoryStore({ network: 'dev', database }), cleanup: async () => undefined };
    },
  },
  {
    name: 'IdbStore (fake-indexeddb)',
    connectBlocks: 1500,
    async fresh() {
      const indexedDB = new IDBFactory();
      return { make: () => new IdbStore({ network: 'dev', profileId: 'bench', indexedDB }), cleanup: async () => undefined };
    },
  },
  {
    name: 'LevelStore',
    connectBlocks: 3000,
    async fresh() {
      const dir = await mkdtemp(join(tmpdir(), 'tabchain-bench-'));
      return { make: () => new LevelStore({ network: 'dev', dir }), cleanup: () => rm(dir, { recursive: true, force: true }) };
    },
  },
];

export default async function storageBench(ctx: BenchContext): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const s of SUBJECTS) {
    // Connect throughput.
    {
      const env = await s.fresh();
      const store = env.make();
      await store.open();
      const model = new Map<string, StateEntry>();
      await connectBlocks(store, model, -1, 50, CHANGES_PER_BLOCK, 2000, 0); // warm up
      const t0 = performance.now();
      await connectBlocks(store, model, 50, 50 + s.connectBlocks, CHANGES_PER_BLOCK, 2000, 0);
      const secs = (performance.now() - t0) / 1000;
      const bps = s.connectBlocks / secs;
      const note = s.name.includes('fake') ? 'fake-indexeddb in Node, not a browser' : undefined;
      rows.push({ suite: 'storage', name: `${s.name} connectBlock (10 state changes, 1 KiB body)`, value: bps, unit: 'blocks/s', note });
      rows.push({ suite: 'storage', name: `${s.name} connectBlock state writes`, value: bps * CHANGES_PER_BLOCK, unit: 'writes/s', note });
      await store.close();
      await env.cleanup();
    }
    // Reopen a 10,000-block chain.
    {
      const env = await s.fresh();
      const store = env.make();
      await store.open();
      const t0 = performance.now();
      await connectBlocks(store, new Map(), -1, 9999, 1, 5000, 1);
      ctx.log(`${s.name}: built a 10,000-block chain in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      await store.close();
      const times: number[] = [];
      let counts = '';
      for (let i = 0; i < 3; i++) {
        const again = env.make();
        const t = performance.now();
        const chain = await again.open();
        times.push(performance.now() - t);
        counts = `${chain.headers.length} headers, ${chain.state.length} state entries, tip ${chain.meta.tipHeight}`;
        await again.close();
      }
      times.sort((a, b) => a - b);
      rows.push({ suite: 'storage', name: `${s.name} reopen 10,000-block chain (median of 3)`, value: times[1], unit: 'ms', note: counts });
      await env.cleanup();
    }
  }
  return rows;
}
