/**
 * IdbStore: the browser tab's ChainStore, in IndexedDB through the `idb` package.
 *
 * One database per profile, `tabchain-<network>-<profileId>`, with one object store per
 * collection (headers, blocks, undo, state, meta, keys, outbox, peers; out-of-line string keys,
 * values by structured clone, which keeps bigint and Uint8Array). Every ChainStore write is ONE
 * IndexedDB transaction: if the tab dies or the quota runs out mid-way, the browser rolls the whole
 * transaction back (IndexedDB 3.0 §5.4 "transaction lifecycle"), so tip and state always agree.
 *
 * Schema changes go through {@link IDB_MIGRATIONS}: migration i upgrades version i to i + 1, and the
 * database version is their count. Opening a database written by a newer version fails with
 * 'SCHEMA_TOO_NEW' instead of touching it.
 *
 * `idb` needs the IndexedDB classes as globals (IDBRequest, IDBDatabase, …) for its wrappers; a
 * browser has them, Node tests get them from `fake-indexeddb/auto` and pass a fresh IDBFactory.
 * @module
 */
import { wrap, unwrap, type IDBPDatabase, type IDBPTransaction } from 'idb';
import type { NetworkName } from '../chain/types.ts';
import type { StorageUsage, StoreOptions } from './chain-store.ts';
import { StorageError } from './errors.ts';
import { COLLECTIONS, type CollectionName, type EngineTx, type KvEngine } from './kv-engine.ts';
import { EngineChainStore } from './engine-chain-store.ts';

/** One schema step, run inside the `versionchange` transaction. */
export type IdbMigration = (db: IDBDatabase, tx: IDBTransaction) => void;

/** The schema history. Version 1: the eight collections. Append, never edit, a released step. */
export const IDB_MIGRATIONS: readonly IdbMigration[] = [
  (db) => {
    for (const name of COLLECTIONS) if (!db.objectStoreNames.contains(name)) db.createObjectStore(name);
  },
];

/** Current IndexedDB schema version. */
export const IDB_SCHEMA_VERSION = IDB_MIGRATIONS.length;

const PROFILE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The database name of a profile.
 * @example
 * ```ts
 * profileDatabaseName('main', 'k3j9a0') // 'tabchain-main-k3j9a0'
 * ```
 */
export function profileDatabaseName(network: NetworkName, profileId: string): string {
  if (!PROFILE_ID.test(profileId)) throw new StorageError('INVALID', `profile id must match ${PROFILE_ID}`);
  return `tabchain-${network}-${profileId}`;
}

/** Options of {@link IdbStore}. */
export interface IdbStoreOptions extends StoreOptions {
  profileId: string;
  /** Defaults to `globalThis.indexedDB`. */
  indexedDB?: IDBFactory;
  /** Defaults to `navigator.storage.estimate`; usage() returns null without either. */
  estimate?: () => Promise<{ usage?: number; quota?: number }>;
  /** Defaults to {@link IDB_MIGRATIONS}; tests pass a longer list to exercise an upgrade. */
  migrations?: readonly IdbMigration[];
}

function closedError(why: string): Error {
  return Object.assign(new Error(why), { name: 'InvalidStateError' });
}

const ignore = () => undefined;

class IdbEngine implements KvEngine {
  readonly medium = 'browser' as const;
  private db: IDBPDatabase | null = null;
  private closedBecause = 'the database is closed';

  constructor(
    private readonly factory: IDBFactory,
    private readonly name: string,
    private readonly migrations: readonly IdbMigration[],
    private readonly estimate: (() => Promise<{ usage?: number; quota?: number }>) | undefined,
  ) {}

  open(): Promise<number> {
    const version = this.migrations.length;
    return new Promise<number>((resolve, reject) => {
      let settled = false;
      let request: IDBOpenDBRequest;
      try {
        request = this.factory.open(this.name, version);
      } catch (e) {
        return reject(e);
      }
      request.onupgradeneeded = (ev) => {
        const db = request.result;
        const tx = request.transaction!;
        for (let v = ev.oldVersion; v < version; v++) this.migrations[v](db, tx);
        // Any upgrade also repairs a store an early build never created (idempotent).
        for (const c of COLLECTIONS) if (!db.objectStoreNames.contains(c)) db.createObjectStore(c);
      };
      request.onblocked = () => {
        // An older version is open in another tab and did not close on 'versionchange'.
        settled = true;
        reject(new StorageError('LOCKED', 'open: another tab has this profile open with an older tabchain; close it and reload'));
      };
      request.onerror = (ev) => {
        ev.preventDefault();
        if (!settled) reject(request.error);
        settled = true;
      };
      request.onsuccess = () => {
        const raw = request.result;
        if (settled) return raw.close(); // opened after we gave up on a blocked upgrade
        settled = true;
        const missing = COLLECTIONS.filter((c) => !raw.objectStoreNames.contains(c));
        if (missing.length > 0) {
          raw.close();
          return reject(new StorageError('CORRUPT', `open: the profile database lacks ${missing.join(', ')}`));
        }
        // Let another tab's upgrade or deletion proceed: close, and fail later calls with CLOSED.
        raw.onversionchange = () => this.drop('the database was closed because another tab is upgrading or deleting this profile');
        raw.onclose = () => this.drop('the browser closed the database unexpectedly');
        this.db = wrap(raw);
        resolve(raw.version);
      };
    });
  }

  private drop(why: string): void {
    this.closedBecause = why;
    this.db?.close();
    this.db = null;
  }

  async run<T>(
    mode: 'readonly' | 'readwrite',
    collections: readonly CollectionName[],
    body: (tx: EngineTx) => Promise<T>,
    beforeCommit?: (raw?: unknown) => void,
  ): Promise<T> {
    if (!this.db) throw closedError(this.closedBecause);
    const tx: IDBPTransaction<unknown, CollectionName[], 'readonly' | 'readwrite'> = this.db.transaction([...collections], mode);
    const etx: EngineTx = {
      get: (c, key) => tx.objectStore(c).get(key),
      getAll: async (c) => {
        const store = tx.objectStore(c);
        const [keys, values] = await Promise.all([store.getAllKeys(), store.getAll()]);
        return keys.map((k, i) => [k as string, values[i]]);
      },
      put: (c, key, value) => {
        // Errors of the request also abort the transaction; tx.done reports them.
        tx.objectStore(c).put!(value, key).catch(ignore);
      },
      delete: (c, key) => {
        tx.objectStore(c).delete!(key).catch(ignore);
      },
    };
    let result: T;
    try {
      result = await body(etx);
      if (mode === 'readwrite') beforeCommit?.(unwrap(tx));
    } catch (e) {
      try {
        tx.abort();
      } catch {
        // already finished or aborted
      }
      await tx.done.catch(ignore);
      throw e;
    }
    if (mode === 'readwrite') {
      try {
        await tx.done;
      } catch (e) {
        throw (unwrap(tx) as IDBTransaction).error ?? e;
      }
    }
    return result;
  }

  async usage(): Promise<StorageUsage | null> {
    const estimate = this.estimate ?? (globalThis.navigator?.storage?.estimate ? () => globalThis.navigator.storage.estimate() : undefined);
    if (!estimate) return null;
    const e = await estimate();
    return { usage: e.usage ?? 0, quota: e.quota ?? 0 };
  }

  async close(): Promise<void> {
    this.drop('the database is closed');
  }

  destroy(): Promise<void> {
    return new Promise((resolve, reject) => {
      const request = this.factory.deleteDatabase(this.name);
      request.onsuccess = () => resolve();
      request.onerror = () => reject(request.error);
      request.onblocked = () => reject(new StorageError('LOCKED', 'destroy: another tab has this profile open; it is deleted once that tab closes it'));
    });
  }
}

/**
 * The browser ChainStore of one profile.
 * @example
 * ```ts
 * const store = new IdbStore({ network: 'main', profileId: profile.id });
 * const { meta, headers, state } = await store.open();
 * ```
 */
export class IdbStore extends EngineChainStore {
  /** The IndexedDB database name, `tabchain-<network>-<profileId>`. */
  readonly databaseName: string;
  constructor(opts: IdbStoreOptions) {
    const factory = opts.indexedDB ?? globalThis.indexedDB;
    if (!factory) throw new StorageError('UNAVAILABLE', 'IndexedDB is not available here (private mode or an old browser?)');
    const migrations = opts.migrations ?? IDB_MIGRATIONS;
    if (migrations.length < 1) throw new StorageError('INVALID', 'at least one migration is needed');
    const name = profileDatabaseName(opts.network, opts.profileId);
    super(new IdbEngine(factory, name, migrations, opts.estimate), opts);
    this.databaseName = name;
  }
}
