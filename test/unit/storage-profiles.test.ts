/**
 * Profiles in one simulated browser: a shared Web Locks manager and IndexedDB, one sessionStorage
 * per tab (a duplicated tab starts with a copy of its original's).
 */
import './storage-fixtures.ts'; // fake-indexeddb globals
import { IDBFactory, IDBObjectStore } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { storageCodeOf as codeOf } from '../support/codes.ts';
import type { StateEntry } from '../../src/chain/types.ts';
import { IdbStore } from '../../src/storage/idb-store.ts';
import { ProfileManager, profileLockName, sessionKey, type LockManagerLike, type SessionStorageLike } from '../../src/storage/profiles.ts';
import { hashOf, makeUndo, stateEntry } from './storage-fixtures.ts';

/** Web Locks with `ifAvailable` semantics, shared by every tab of the simulated browser. */
class FakeLocks implements LockManagerLike {
  readonly held = new Set<string>();
  async request<T>(name: string, _opts: { ifAvailable: true }, cb: (lock: { name: string } | null) => Promise<T> | T): Promise<T> {
    if (this.held.has(name)) return cb(null);
    this.held.add(name);
    try {
      return await cb({ name });
    } finally {
      this.held.delete(name);
    }
  }
  async query() {
    return { held: [...this.held].map((name) => ({ name, mode: 'exclusive' })) };
  }
}

class FakeSession implements SessionStorageLike {
  constructor(readonly items = new Map<string, string>()) {}
  getItem(k: string) {
    return this.items.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.items.set(k, v);
  }
  copy() {
    return new FakeSession(new Map(this.items));
  }
}

function browser() {
  const indexedDB = new IDBFactory();
  const locks = new FakeLocks();
  let seq = 0;
  let clock = 1000;
  const tab = (session = new FakeSession(), extra: { persist?: () => Promise<boolean> } = {}) => ({
    session,
    profiles: new ProfileManager({
      network: 'dev',
      sessionStorage: session,
      locks,
      indexedDB,
      randomId: () => `id${++seq}`,
      now: () => (clock += 10),
      storage: { persist: extra.persist, estimate: async () => ({ usage: 5, quota: 500 }) },
    }),
  });
  return { indexedDB, locks, tab };
}


describe('profiles', () => {
  it('a first visit creates a profile, remembers it in sessionStorage and holds its Web Lock', async () => {
    const b = browser();
    const { session, profiles } = b.tab();
    const p = await profiles.acquire();
    expect(p).toEqual({ id: 'id1', network: 'dev', databaseName: 'tabchain-dev-id1', created: true });
    expect(session.getItem(sessionKey('dev'))).toBe('id1');
    expect(b.locks.held.has(profileLockName('dev', 'id1'))).toBe(true);
    expect(profileLockName('dev', 'id1')).toBe('tabchain-profile-dev-id1');
    await profiles.close();
    expect(b.locks.held.size).toBe(0);
  });

  it('a reload (same sessionStorage, lock released) gets the same profile and its data', async () => {
    const b = browser();
    const first = b.tab();
    const p = await first.profiles.acquire();
    const store = new IdbStore({ network: 'dev', profileId: p.id, indexedDB: b.indexedDB });
    await store.open();
    await store.connectBlock({ hash: hashOf(0), height: 0, undo: makeUndo(new Map<string, StateEntry>(), hashOf(0), 0, [['a:0', stateEntry(0)]]) });
    await store.close();
    await first.profiles.close(); // the page unloads: the browser releases the lock

    const reloaded = b.tab(first.session);
    const again = await reloaded.profiles.acquire();
    expect(again.id).toBe(p.id);
    expect(again.created).toBe(false);
    const reopened = new IdbStore({ network: 'dev', profileId: again.id, indexedDB: b.indexedDB });
    expect((await reopened.open()).meta.tipHeight).toBe(0);
    await reopened.close();
    await reloaded.profiles.close();
  });

  it('a duplicated tab (copied sessionStorage, lock taken) gets a fresh profile, and the two stay separate', async () => {
    const b = browser();
    const original = b.tab();
    const p1 = await original.profiles.acquire();
    const duplicate = b.tab(original.session.copy());
    const p2 = await duplicate.profiles.acquire();
    expect(p2.id).not.toBe(p1.id);
    expect(p2.created).toBe(true);
    expect(duplicate.session.getItem(sessionKey('dev'))).toBe(p2.id);
    expect(original.session.getItem(sessionKey('dev'))).toBe(p1.id);

    // Two profiles in one IndexedDB: separate chains and wallets.
    const s1 = new IdbStore({ network: 'dev', profileId: p1.id, indexedDB: b.indexedDB });
    const s2 = new IdbStore({ network: 'dev', profileId: p2.id, indexedDB: b.indexedDB });
    await s1.open();
    await s2.open();
    await s1.connectBlock({ hash: hashOf(0), height: 0, undo: makeUndo(new Map(), hashOf(0), 0, [['a:0', stateEntry(0)]]) });
    await s2.putKey({ id: 'k', privateKey: new Uint8Array(32), publicKey: new Uint8Array(32), createdAt: 1 });
    expect((await s1.open()).meta.tipHeight).toBe(0);
    expect((await s2.open()).meta.tipHeight).toBe(-1);
    expect(await s1.getKeys()).toEqual([]);
    expect(await s2.getKeys()).toHaveLength(1);
    await s1.close();
    await s2.close();

    const listed = await original.profiles.list();
    expect(listed.map((p) => [p.id, p.locked, p.current])).toEqual([
      [p2.id, true, false],
      [p1.id, true, true],
    ]);
    await original.profiles.close();
    await duplicate.profiles.close();
  });

  it('reopens an earlier unlocked profile by id, refuses a locked one, and can start a fresh one', async () => {
    const b = browser();
    const a = b.tab();
    const pa = await a.profiles.acquire({ label: 'till' });
    await a.profiles.close();
    const other = b.tab();
    const po = await other.profiles.acquire();
    expect(po.id).not.toBe(pa.id);
    const info = (await other.profiles.list()).find((p) => p.id === pa.id)!;
    expect(info).toMatchObject({ label: 'till', locked: false, current: false, databaseName: `tabchain-dev-${pa.id}` });

    const switched = await other.profiles.acquire({ id: pa.id });
    expect(switched).toMatchObject({ id: pa.id, created: false });
    expect(other.session.getItem(sessionKey('dev'))).toBe(pa.id);
    expect(b.locks.held.has(profileLockName('dev', po.id))).toBe(false); // the previous one was released

    const third = b.tab();
    expect(await codeOf(third.profiles.acquire({ id: pa.id }))).toBe('LOCKED');
    const fresh = await third.profiles.acquire({ fresh: true });
    expect(fresh.created).toBe(true);
    expect((await third.profiles.list()).map((p) => p.id).sort()).toEqual([pa.id, po.id, fresh.id].sort());
    await other.profiles.close();
    await third.profiles.close();
  });

  it('a full disk still opens the profile a tab already has (its "last used" stays old), but cannot make a new one', async () => {
    const b = browser();
    const first = b.tab();
    const p = await first.profiles.acquire();
    await first.profiles.close();
    const put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function () {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    };
    try {
      const reloaded = b.tab(first.session);
      expect(await reloaded.profiles.acquire()).toMatchObject({ id: p.id, created: false });
      expect(b.locks.held.has(profileLockName('dev', p.id))).toBe(true);
      await reloaded.profiles.close();
      const newcomer = b.tab();
      expect(await codeOf(newcomer.profiles.acquire())).toBe('QUOTA_EXCEEDED');
      expect(b.locks.held.size).toBe(0); // the new profile's lock was given back
    } finally {
      IDBObjectStore.prototype.put = put;
    }
  });

  it('deleting a profile: refused while any tab holds it (this one included); otherwise its database goes', async () => {
    const b = browser();
    const t1 = b.tab();
    const p1 = await t1.profiles.acquire();
    const s1 = new IdbStore({ network: 'dev', profileId: p1.id, indexedDB: b.indexedDB });
    await s1.open();
    await s1.setMeta('note', 'keep me');
    await s1.close();
    const t2 = b.tab();
    const p2 = await t2.profiles.acquire();

    expect(await codeOf(t2.profiles.deleteProfile(p1.id))).toBe('LOCKED'); // held by tab 1
    expect(await codeOf(t2.profiles.deleteProfile(p2.id))).toBe('LOCKED'); // our own
    const check = new IdbStore({ network: 'dev', profileId: p1.id, indexedDB: b.indexedDB });
    await check.open();
    expect(await check.getMeta('note')).toBe('keep me');
    await check.close();

    await t1.profiles.close(); // tab 1 closes
    await t2.profiles.deleteProfile(p1.id);
    expect((await t2.profiles.list()).map((p) => p.id)).toEqual([p2.id]);
    expect(b.locks.held.has(profileLockName('dev', p1.id))).toBe(false);
    const gone = new IdbStore({ network: 'dev', profileId: p1.id, indexedDB: b.indexedDB });
    await gone.open();
    expect(await gone.getMeta('note')).toBeUndefined();
    await gone.close();
    await t2.profiles.close();
  });

  it('asks for persistent storage and reports usage/quota', async () => {
    const b = browser();
    let asked = 0;
    const { profiles } = b.tab(undefined, { persist: async () => (++asked, true) });
    expect(await profiles.requestPersistence()).toBe(true);
    expect(asked).toBe(1);
    expect(await profiles.estimate()).toEqual({ usage: 5, quota: 500 });
    const refused = b.tab(undefined, {
      persist: async () => {
        throw new DOMException('not allowed', 'NotAllowedError');
      },
    });
    expect(await refused.profiles.requestPersistence()).toBe(false);
  });

  it('keeps networks apart: a main profile is not listed on dev', async () => {
    const b = browser();
    const session = new FakeSession();
    const main = new ProfileManager({ network: 'main', sessionStorage: session, locks: b.locks, indexedDB: b.indexedDB, randomId: () => 'mainid' });
    const pm = await main.acquire();
    expect(pm.databaseName).toBe('tabchain-main-mainid');
    const { profiles: dev } = b.tab(session);
    const pd = await dev.acquire(); // the main id in the same tab's sessionStorage does not leak into dev
    expect(pd.id).toBe('id1');
    expect((await dev.list()).map((p) => p.id)).toEqual(['id1']);
    await main.close();
    await dev.close();
  });
});
