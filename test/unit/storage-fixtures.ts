/**
 * Synthetic chains for the storage tests: header entries, state entries of every type and undo
 * records built against a model of the state, so `before` is always the true previous value.
 */
import 'fake-indexeddb/auto'; // idb's wrappers need the IDB* classes as globals
import { IDBFactory } from 'fake-indexeddb';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BlockUndo, HeaderEntry, StateChange, StateEntry } from '../../src/chain/types.ts';
import type { ChainStore, StoreOptions } from '../../src/storage/chain-store.ts';
import { IdbStore } from '../../src/storage/idb-store.ts';
import { LevelStore } from '../../src/storage/level-store.ts';
import { MemoryDatabase, MemoryStore } from '../../src/storage/memory-store.ts';

/** A distinct 32-byte hash for each (n, salt). */
export function hashOf(n: number, salt = 0): Uint8Array {
  const h = new Uint8Array(32);
  new DataView(h.buffer).setUint32(0, n);
  new DataView(h.buffer).setUint32(4, salt);
  h[31] = 0xab;
  return h;
}

/** A header entry of the synthetic chain (branch `salt`). */
export function headerEntry(height: number, salt = 0, parentSalt = salt): HeaderEntry {
  return {
    hash: hashOf(height, salt),
    header: {
      version: 1,
      prevHash: height === 0 ? new Uint8Array(32) : hashOf(height - 1, parentSalt),
      merkleRoot: hashOf(height, salt + 1000),
      time: 1_700_000_000 + height * 60,
      bits: 0x207fffff,
      nonce: height * 7,
    },
    height,
    chainwork: (1n << 200n) + BigInt(height) * 3n,
    status: 'valid',
    hasBody: false,
  };
}

/** A state entry of one of the five types, chosen by `n`. */
export function stateEntry(n: number): StateEntry {
  const id = hashOf(n, 77);
  switch (n % 5) {
    case 0:
      return { type: 'account', value: { balance: BigInt(n) * 100_000_000n, immature: BigInt(n % 3), nonce: n } };
    case 1:
      return { type: 'item', value: { itemId: id, issuer: hashOf(n, 78), sku: `SKU-${n}`, name: `Widget ${n} ✓`, supply: 2n ** 63n - BigInt(n), createdHeight: n } };
    case 2:
      return { type: 'holding', value: BigInt(n) + 1n };
    case 3:
      return {
        type: 'offer',
        value: {
          offerId: id,
          maker: hashOf(n, 79),
          give: { asset: { type: 'item', itemId: hashOf(n, 80) }, amount: 3n },
          want: { asset: { type: 'coin' }, amount: 5n * BigInt(n + 1) },
          lotsLeft: n % 4,
          lotsTotal: 4,
          expiresAtHeight: n % 2 === 0 ? null : n + 100,
          createdHeight: n,
        },
      };
    default:
      return { type: 'maturing', value: { height: n, miner: hashOf(n, 81), amount: 50n * 100_000_000n } };
  }
}

/** Builds the undo record of writing `writes` (key → new entry or null) over `model`, and applies it to `model`. */
export function makeUndo(model: Map<string, StateEntry>, hash: Uint8Array, height: number, writes: Array<[string, StateEntry | null]>): BlockUndo {
  const changes: StateChange[] = [];
  for (const [key, after] of writes) {
    changes.push({ key, before: model.get(key) ?? null, after });
    if (after === null) model.delete(key);
    else model.set(key, after);
  }
  return { hash, height, changes };
}

/** Sorted state entries, for comparing two states. */
export function sortedState(state: Array<[string, StateEntry]> | Map<string, StateEntry>): Array<[string, StateEntry]> {
  return [...state].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Header entries sorted by height then hash. */
export function sortedHeaders(headers: HeaderEntry[]): HeaderEntry[] {
  const hex = (h: Uint8Array) => Buffer.from(h).toString('hex');
  return [...headers].sort((a, b) => a.height - b.height || (hex(a.hash) < hex(b.hash) ? -1 : 1));
}

/** One storage location ("a disk") and a way to open stores on it. */
export interface StoreEnv {
  /** A new store instance on this location (an app restart). */
  make(opts?: Partial<StoreOptions>): ChainStore;
  cleanup(): Promise<void>;
}

export interface Backend {
  name: string;
  /** Whether two open stores on one location are refused (LevelDB LOCK; IndexedDB leaves that to profile locks). */
  exclusive: boolean;
  /** Whether the network is part of the database name (IndexedDB), rather than checked on open. */
  networkInName: boolean;
  env(): Promise<StoreEnv>;
}

export const BACKENDS: Backend[] = [
  {
    name: 'MemoryStore',
    exclusive: true,
    networkInName: false,
    async env() {
      const database = new MemoryDatabase();
      return { make: (o = {}) => new MemoryStore({ network: 'dev', database, ...o }), cleanup: async () => undefined };
    },
  },
  {
    name: 'IdbStore',
    exclusive: false,
    networkInName: true,
    async env() {
      const factory = new IDBFactory();
      return { make: (o = {}) => new IdbStore({ network: 'dev', profileId: 'p1', indexedDB: factory, ...o }), cleanup: async () => undefined };
    },
  },
  {
    name: 'LevelStore',
    exclusive: true,
    networkInName: false,
    async env() {
      const dir = await mkdtemp(join(tmpdir(), 'tabchain-storage-'));
      return { make: (o = {}) => new LevelStore({ network: 'dev', dir, ...o }), cleanup: () => rm(dir, { recursive: true, force: true }) };
    },
  },
];
