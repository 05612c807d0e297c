/**
 * IdbStore specifics: database layout, schema upgrade, newer-schema refusal, the real
 * transaction-abort path of a quota error, and closing when another tab upgrades or deletes.
 */
import './storage-fixtures.ts'; // fake-indexeddb globals
import { IDBFactory, forceCloseDatabase } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { storageCodeOf as codeOf } from '../support/codes.ts';
import type { StateEntry } from '../../src/chain/types.ts';
import { StorageError } from '../../src/storage/errors.ts';
import { IDB_MIGRATIONS, IDB_SCHEMA_VERSION, IdbStore, profileDatabaseName, type IdbMigration } from '../../src/storage/idb-store.ts';
import { hashOf, headerEntry, makeUndo, stateEntry } from './storage-fixtures.ts';

function rawOpen(factory: IDBFactory, name: string, version?: number, upgrade?: (db: IDBDatabase) => void): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = factory.open(name, version);
    req.onupgradeneeded = () => upgrade?.(req.result);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function rawPut(db: IDBDatabase, store: string, key: string, value: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    const tx = db.transaction(store, 'readwrite');
    tx.objectStore(store).put(value, key);
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
  });
}


describe('IdbStore', () => {
  it('uses one database per network and profile, with the eight object stores', async () => {
    const factory = new IDBFactory();
    const store = new IdbStore({ network: 'main', profileId: 'abc123', indexedDB: factory });
    expect(store.databaseName).toBe('tabchain-main-abc123');
    await store.open();
    await store.close();
    const db = await rawOpen(factory, 'tabchain-main-abc123');
    expect([...db.objectStoreNames].sort()).toEqual(['blocks', 'headers', 'keys', 'meta', 'outbox', 'peers', 'state', 'undo']);
    expect(db.version).toBe(IDB_SCHEMA_VERSION);
    db.close();
    expect(() => profileDatabaseName('main', '../x')).toThrow(StorageError);
  });

  it('upgrades an older hand-made schema (missing stores) and keeps its chain', async () => {
    const factory = new IDBFactory();
    const name = profileDatabaseName('dev', 'old');
    // An early layout: version 1 with only meta, headers and state (no blocks, undo, keys, outbox, peers).
    const old = await rawOpen(factory, name, 1, (db) => ['meta', 'headers', 'state'].forEach((s) => db.createObjectStore(s)));
    await rawPut(old, 'meta', 'tabchain:chain', { network: 'dev', tipHash: hashOf(0), tipHeight: 0 });
    await rawPut(old, 'headers', Buffer.from(hashOf(0)).toString('hex'), headerEntry(0));
    await rawPut(old, 'state', 'a:genesis', stateEntry(0));
    old.close();

    // The current release cannot use it: an incomplete schema is reported, not papered over.
    expect(await codeOf(new IdbStore({ network: 'dev', profileId: 'old', indexedDB: factory }).open())).toBe('CORRUPT');

    // A release with a version-2 step upgrades it in place; every earlier record survives.
    let ranV2 = 0;
    const v2: IdbMigration = (db) => {
      ranV2++;
      db.createObjectStore('mempool');
    };
    const upgraded = new IdbStore({ network: 'dev', profileId: 'old', indexedDB: factory, migrations: [...IDB_MIGRATIONS, v2] });
    const chain = await upgraded.open();
    expect(ranV2).toBe(1);
    expect(chain.meta).toEqual({ schemaVersion: 2, network: 'dev', tipHash: hashOf(0), tipHeight: 0 });
    expect(chain.headers).toEqual([headerEntry(0)]);
    expect(chain.state).toEqual([['a:genesis', stateEntry(0)]]);
    // The stores the old layout lacked now work.
    await upgraded.putPeer({ peerId: 'p', multiaddrs: [], lastSeen: 1 });
    const model = new Map<string, StateEntry>([['a:genesis', stateEntry(0)]]);
    await upgraded.connectBlock({ hash: hashOf(1), height: 1, body: Uint8Array.of(1), undo: makeUndo(model, hashOf(1), 1, [['a:1', stateEntry(1)]]) });
    await upgraded.close();

    // Going back to the version-1 release is refused, and leaves the data alone.
    expect(await codeOf(new IdbStore({ network: 'dev', profileId: 'old', indexedDB: factory }).open())).toBe('SCHEMA_TOO_NEW');
    const again = new IdbStore({ network: 'dev', profileId: 'old', indexedDB: factory, migrations: [...IDB_MIGRATIONS, v2] });
    const reopened = await again.open();
    expect(ranV2).toBe(1); // no second upgrade
    expect(reopened.meta.tipHeight).toBe(1);
    expect(await again.listPeers()).toHaveLength(1);
    await again.close();
  });

  it('a database whose chain record names another network is refused', async () => {
    const factory = new IDBFactory();
    const store = new IdbStore({ network: 'dev', profileId: 'x', indexedDB: factory });
    await store.open();
    await store.close();
    const db = await rawOpen(factory, profileDatabaseName('dev', 'x'));
    await rawPut(db, 'meta', 'tabchain:chain', { network: 'main', tipHash: null, tipHeight: -1 });
    db.close();
    expect(await codeOf(new IdbStore({ network: 'dev', profileId: 'x', indexedDB: factory }).open())).toBe('WRONG_NETWORK');
  });

  it('a transaction the browser aborts for quota (error on the transaction) is QUOTA_EXCEEDED and writes nothing', async () => {
    const factory = new IDBFactory();
    let abortWithQuota = false;
    const store = new IdbStore({
      network: 'dev',
      profileId: 'q',
      indexedDB: factory,
      // Simulate what Chromium does when the origin is over quota at commit time: the transaction
      // is aborted with error QuotaExceededError (fake-indexeddb's internal abort sets tx.error).
      onBeforeCommit: (_kind, raw) => {
        if (abortWithQuota) (raw as { _abort(name: string): void })._abort('QuotaExceededError');
      },
    });
    await store.open();
    const model = new Map<string, StateEntry>();
    await store.connectBlock({ hash: hashOf(0), height: 0, undo: makeUndo(model, hashOf(0), 0, [['a:0', stateEntry(0)]]) });
    abortWithQuota = true;
    const err = await store
      .connectBlock({ hash: hashOf(1), height: 1, body: new Uint8Array(1000), undo: makeUndo(new Map(model), hashOf(1), 1, [['a:1', stateEntry(1)]]) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).code).toBe('QUOTA_EXCEEDED');
    expect((err as StorageError).message).toBe('Browser storage is full: free space or delete an old profile; the chain was left at block 0');
    abortWithQuota = false;
    const chain = await store.open();
    expect(chain.meta.tipHeight).toBe(0);
    expect(chain.state).toEqual([['a:0', stateEntry(0)]]);
    expect(await store.hasBlock(hashOf(1))).toBe(false);
    await store.close();
  });

  it('closes itself when another tab deletes the profile, and then fails with CLOSED', async () => {
    const factory = new IDBFactory();
    const store = new IdbStore({ network: 'dev', profileId: 'gone', indexedDB: factory });
    await store.open();
    await new Promise<void>((resolve, reject) => {
      const req = factory.deleteDatabase(store.databaseName);
      req.onsuccess = () => resolve();
      req.onerror = () => reject(req.error);
      req.onblocked = () => reject(new Error('blocked: the store did not close on versionchange'));
    });
    const e = await store.getKeys().catch((x: unknown) => x);
    expect((e as StorageError).code).toBe('CLOSED');
    expect((e as StorageError).message).toMatch(/another tab/);
  });

  it('reports CLOSED after the browser force-closes the connection', async () => {
    const factory = new IDBFactory();
    let raw: unknown;
    const store = new IdbStore({ network: 'dev', profileId: 'fc', indexedDB: factory, onBeforeCommit: (_k, tx) => (raw = tx) });
    await store.open();
    await store.setMeta('x', 1);
    forceCloseDatabase((raw as IDBTransaction).db as never);
    expect(await codeOf(store.getMeta('x'))).toBe('CLOSED');
  });

  it('usage() reports navigator.storage.estimate() figures when given', async () => {
    const store = new IdbStore({ network: 'dev', profileId: 'u', indexedDB: new IDBFactory(), estimate: async () => ({ usage: 1234, quota: 10_000 }) });
    await store.open();
    expect(await store.usage()).toEqual({ usage: 1234, quota: 10_000 });
    await store.close();
  });
});
