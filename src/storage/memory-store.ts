/**
 * MemoryStore: a ChainStore in Maps, for tests, benchmarks and throw-away nodes.
 *
 * Values are copied both in and out (the copy IndexedDB's structured clone would make), so a
 * caller can never alias what is stored, and a value IndexedDB would refuse (a function, …) is
 * refused here too with the same error. Writes are staged and applied only once the whole
 * operation succeeded, so a failure leaves the maps untouched, as an aborted transaction would.
 * @module
 */
import type { StorageUsage, StoreOptions } from './chain-store.ts';
import type { CollectionName, EngineTx, KvEngine } from './kv-engine.ts';
import { COLLECTIONS } from './kv-engine.ts';
import { EngineChainStore } from './engine-chain-store.ts';

/**
 * The "disk" of a MemoryStore. Pass the same instance to a new MemoryStore to simulate a reopen.
 * @example
 * ```ts
 * const disk = new MemoryDatabase();
 * await new MemoryStore({ network: 'dev', database: disk }).open();
 * ```
 */
export class MemoryDatabase {
  readonly collections = new Map<CollectionName, Map<string, unknown>>(COLLECTIONS.map((c) => [c, new Map()]));
  /** Whether a MemoryStore has it open (a second open is refused, as a LevelDB LOCK would). */
  inUse = false;
}

/**
 * The copy IndexedDB's structured clone would make, for the shapes we store (primitives,
 * Uint8Array, arrays, plain objects), about ten times faster than `structuredClone` in V8; any
 * other object goes through `structuredClone` itself, and functions/symbols are refused with the
 * same DataCloneError.
 */
function cloneValue(v: unknown): unknown {
  switch (typeof v) {
    case 'object': {
      if (v === null) return null;
      if (v instanceof Uint8Array) return new Uint8Array(v); // a plain copy, also of a Node Buffer
      if (Array.isArray(v)) return v.map(cloneValue);
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) return structuredClone(v);
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v)) out[k] = cloneValue((v as Record<string, unknown>)[k]);
      return out;
    }
    case 'function':
    case 'symbol':
      throw new DOMException(`${typeof v} could not be cloned`, 'DataCloneError');
    default:
      return v;
  }
}

type Staged = { collection: CollectionName; key: string; value: unknown } | { collection: CollectionName; key: string; delete: true };

class MemoryEngine implements KvEngine {
  readonly medium = 'memory' as const;
  private open_ = false;
  constructor(private readonly db: MemoryDatabase) {}

  private map(c: CollectionName): Map<string, unknown> {
    if (!this.open_) throw Object.assign(new Error('memory database is closed'), { name: 'InvalidStateError' });
    return this.db.collections.get(c)!;
  }

  async open(): Promise<number> {
    if (this.db.inUse) throw Object.assign(new Error('memory database is already open in another MemoryStore'), { code: 'LEVEL_LOCKED' });
    this.db.inUse = true;
    this.open_ = true;
    return 1;
  }

  async run<T>(
    mode: 'readonly' | 'readwrite',
    collections: readonly CollectionName[],
    body: (tx: EngineTx) => Promise<T>,
    beforeCommit?: (raw?: unknown) => void,
  ): Promise<T> {
    const staged: Staged[] = [];
    const scope = new Set(collections);
    const inScope = (c: CollectionName) => {
      if (!scope.has(c)) throw Object.assign(new Error(`${c} is not in the transaction's scope`), { name: 'NotFoundError' });
      return this.map(c);
    };
    const tx: EngineTx = {
      get: async (c, key) => {
        const v = inScope(c).get(key);
        return v === undefined ? undefined : cloneValue(v);
      },
      getAll: async (c) =>
        [...inScope(c).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => [k, cloneValue(v)] as [string, unknown]),
      put: (c, key, value) => {
        if (mode !== 'readwrite') throw Object.assign(new Error('readonly transaction'), { name: 'ReadOnlyError' });
        inScope(c);
        staged.push({ collection: c, key, value: cloneValue(value) });
      },
      delete: (c, key) => {
        if (mode !== 'readwrite') throw Object.assign(new Error('readonly transaction'), { name: 'ReadOnlyError' });
        inScope(c);
        staged.push({ collection: c, key, delete: true });
      },
    };
    const result = await body(tx);
    if (mode === 'readwrite') {
      beforeCommit?.();
      // Nothing below can throw: the write is all or nothing.
      for (const op of staged) {
        const m = this.map(op.collection);
        if ('delete' in op) m.delete(op.key);
        else m.set(op.key, op.value);
      }
    }
    return result;
  }

  async usage(): Promise<StorageUsage | null> {
    return null;
  }

  async close(): Promise<void> {
    if (this.open_) this.db.inUse = false;
    this.open_ = false;
  }

  async destroy(): Promise<void> {
    await this.close();
    for (const m of this.db.collections.values()) m.clear();
  }
}

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions extends StoreOptions {
  /** The backing maps; a fresh one by default. Reuse it across instances to simulate a reopen. */
  database?: MemoryDatabase;
}

/**
 * A ChainStore in memory. Nothing survives the process; everything else behaves as IdbStore.
 * @example
 * ```ts
 * const store = new MemoryStore({ network: 'dev' });
 * const { meta } = await store.open(); // meta.tipHeight === -1
 * ```
 */
export class MemoryStore extends EngineChainStore {
  readonly database: MemoryDatabase;
  constructor(opts: MemoryStoreOptions) {
    const database = opts.database ?? new MemoryDatabase();
    super(new MemoryEngine(database), opts);
    this.database = database;
  }
}
