/**
 * Profiles: which IndexedDB database a browser tab's node uses.
 *
 * Each tab is its own full node, so two tabs must never write the same database. A profile is a
 * database `tabchain-<network>-<id>` (see {@link profileDatabaseName}); the tab
 * - keeps the id in sessionStorage, so a reload reopens the same node;
 * - holds the Web Lock `tabchain-profile-<network>-<id>` for its lifetime (released by the browser
 *   when the tab closes or crashes);
 * - if that lock is taken — a duplicated tab copies sessionStorage — takes a fresh profile id.
 * A small separate database, `tabchain-profiles`, lists profiles (createdAt, lastUsed, label), so a
 * tab can reopen an earlier unlocked profile or delete one (never a locked one).
 *
 * Every browser API is injectable (sessionStorage, navigator.locks, indexedDB, navigator.storage),
 * so Node tests drive it with fakes.
 * @module
 */
import { wrap, type IDBPDatabase } from 'idb';
import type { NetworkName } from '../chain/types.ts';
import type { StorageUsage } from './chain-store.ts';
import { StorageError, toStorageError } from './errors.ts';
import { profileDatabaseName } from './idb-store.ts';

/** The part of `Storage` (sessionStorage) profiles use. */
export interface SessionStorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** The part of the Web Locks `LockManager` profiles use. */
export interface LockManagerLike {
  request<T>(name: string, options: { ifAvailable: true }, callback: (lock: { name: string } | null) => Promise<T> | T): Promise<T>;
  query(): Promise<{ held?: Array<{ name?: string }> }>;
}

/** The part of `navigator.storage` profiles use. */
export interface StorageManagerLike {
  persist?(): Promise<boolean>;
  persisted?(): Promise<boolean>;
  estimate?(): Promise<{ usage?: number; quota?: number }>;
}

/** A row of the profile list. */
export interface ProfileRecord {
  id: string;
  network: NetworkName;
  createdAt: number; // ms since epoch
  lastUsed: number; // ms since epoch
  label?: string;
}

/** A profile as the UI shows it. */
export interface ProfileInfo extends ProfileRecord {
  databaseName: string;
  /** Held by some tab (this one included). */
  locked: boolean;
  /** The profile this manager holds. */
  current: boolean;
}

/** The profile this tab holds. */
export interface ActiveProfile {
  id: string;
  network: NetworkName;
  databaseName: string;
  /** True when this acquire created the profile (first visit, or a duplicated tab). */
  created: boolean;
}

/** Options of {@link ProfileManager}; browser globals by default. */
export interface ProfileManagerOptions {
  network: NetworkName;
  sessionStorage?: SessionStorageLike;
  locks?: LockManagerLike;
  indexedDB?: IDBFactory;
  storage?: StorageManagerLike;
  /** New profile ids; 12 random hex characters by default. */
  randomId?: () => string;
  now?: () => number;
}

/** Name of the profile-list database. */
export const PROFILES_DATABASE = 'tabchain-profiles';
const PROFILES_STORE = 'profiles';

/**
 * The Web Lock name of a profile.
 * @example
 * ```ts
 * profileLockName('main', 'a1b2c3') // 'tabchain-profile-main-a1b2c3'
 * ```
 */
export function profileLockName(network: NetworkName, id: string): string {
  return `tabchain-profile-${network}-${id}`;
}

/** sessionStorage key of the tab's profile id. */
export function sessionKey(network: NetworkName): string {
  return `tabchain-profile-${network}`;
}

function defaultRandomId(): string {
  const b = new Uint8Array(6);
  globalThis.crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

const VALID_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Picks, locks and lists the profiles of one network in this browser.
 * @example
 * ```ts
 * const profiles = new ProfileManager({ network: 'main' });
 * const profile = await profiles.acquire();
 * await profiles.requestPersistence();
 * const store = new IdbStore({ network: 'main', profileId: profile.id });
 * ```
 */
export class ProfileManager {
  readonly network: NetworkName;
  private readonly session: SessionStorageLike;
  private readonly locks: LockManagerLike;
  private readonly factory: IDBFactory;
  private readonly storage: StorageManagerLike | undefined;
  private readonly randomId: () => string;
  private readonly now: () => number;
  private listDb: Promise<IDBPDatabase> | null = null;
  private current: { profile: ActiveProfile; release: () => Promise<void> } | null = null;

  constructor(opts: ProfileManagerOptions) {
    const nav = globalThis.navigator as (Navigator & { locks?: LockManagerLike }) | undefined;
    const session = opts.sessionStorage ?? globalThis.sessionStorage;
    const locks = opts.locks ?? nav?.locks;
    const factory = opts.indexedDB ?? globalThis.indexedDB;
    if (!session || !locks || !factory)
      throw new StorageError('UNAVAILABLE', 'this browser lacks sessionStorage, Web Locks or IndexedDB, which tabchain needs to keep a node');
    this.network = opts.network;
    this.session = session;
    this.locks = locks;
    this.factory = factory;
    this.storage = opts.storage ?? nav?.storage;
    this.randomId = opts.randomId ?? defaultRandomId;
    this.now = opts.now ?? Date.now;
  }

  /** The profile held now, or null. @example profiles.profile?.id */
  get profile(): ActiveProfile | null {
    return this.current?.profile ?? null;
  }

  private openList(): Promise<IDBPDatabase> {
    this.listDb ??= new Promise<IDBPDatabase>((resolve, reject) => {
      const request = this.factory.open(PROFILES_DATABASE, 1);
      request.onupgradeneeded = () => {
        if (!request.result.objectStoreNames.contains(PROFILES_STORE)) request.result.createObjectStore(PROFILES_STORE);
      };
      request.onsuccess = () => {
        const db = request.result;
        db.onversionchange = () => {
          db.close();
          this.listDb = null;
        };
        resolve(wrap(db));
      };
      request.onerror = () => reject(request.error);
      request.onblocked = () => reject(new StorageError('LOCKED', 'the profile list is being upgraded by another tab; reload'));
    }).catch((e) => {
      this.listDb = null;
      throw toStorageError(e, { op: 'profile list', medium: 'browser' });
    });
    return this.listDb;
  }

  private recordKey(id: string): string {
    return `${this.network}/${id}`;
  }

  /** Takes the lock of `id` if free; resolves to its release function, or null if taken. */
  private tryLock(id: string): Promise<(() => Promise<void>) | null> {
    return new Promise((resolve, reject) => {
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      const done = this.locks.request(profileLockName(this.network, id), { ifAvailable: true }, async (lock) => {
        if (!lock) return resolve(null);
        resolve(async () => {
          release();
          await done;
        });
        await held; // hold the lock until released (or the tab goes away)
      });
      done.catch(reject);
    });
  }

  private async heldLockNames(): Promise<Set<string>> {
    const { held = [] } = await this.locks.query();
    return new Set(held.map((l) => l.name ?? ''));
  }

  /**
   * Takes this tab's profile: by default the one in sessionStorage if its lock is free (a reload),
   * else a new one (first visit, or a duplicated tab whose original still holds the lock).
   * `{ id }` takes that existing profile or fails with 'LOCKED'; `{ fresh: true }` always makes a
   * new one. Releases the profile held before, if any. Remembers the choice in sessionStorage.
   * @example
   * ```ts
   * const { id, created } = await profiles.acquire();
   * ```
   */
  async acquire(opts: { id?: string; fresh?: boolean; label?: string } = {}): Promise<ActiveProfile> {
    if (opts.id !== undefined && !VALID_ID.test(opts.id)) throw new StorageError('INVALID', `acquire: bad profile id ${opts.id}`);
    await this.release();
    const key = sessionKey(this.network);
    let id: string | null = null;
    let release: (() => Promise<void>) | null = null;
    if (opts.id !== undefined) {
      release = await this.tryLock(opts.id);
      if (!release) throw new StorageError('LOCKED', `profile ${opts.id} is open in another tab`);
      id = opts.id;
    } else if (!opts.fresh) {
      const remembered = this.session.getItem(key);
      if (remembered !== null && VALID_ID.test(remembered)) {
        release = await this.tryLock(remembered);
        if (release) id = remembered;
      }
    }
    const list = await this.openList();
    const existing = id === null ? undefined : ((await list.get(PROFILES_STORE, this.recordKey(id))) as ProfileRecord | undefined);
    let created = existing === undefined;
    for (let tries = 0; id === null; tries++) {
      if (tries === 16) throw new StorageError('INVALID', 'randomId() keeps returning ids already in use');
      const candidate = this.randomId();
      if (!VALID_ID.test(candidate)) throw new StorageError('INVALID', `randomId() gave a bad id ${candidate}`);
      if (await list.get(PROFILES_STORE, this.recordKey(candidate))) continue;
      release = await this.tryLock(candidate);
      if (release) id = candidate;
      created = true;
    }
    const now = this.now();
    const label = opts.label ?? existing?.label;
    const record: ProfileRecord = { id, network: this.network, createdAt: existing?.createdAt ?? now, lastUsed: now, ...(label === undefined ? {} : { label }) };
    try {
      await list.put(PROFILES_STORE, record, this.recordKey(id));
    } catch (e) {
      const err = toStorageError(e, { op: 'acquire profile', medium: 'browser' });
      // A full disk must not lock a person out of the chain they already have: an existing
      // profile opens with its old "last used" time. A new one needs its record written.
      if (created || err.code !== 'QUOTA_EXCEEDED') {
        await release!();
        throw err;
      }
    }
    this.session.setItem(key, id);
    const profile: ActiveProfile = { id, network: this.network, databaseName: profileDatabaseName(this.network, id), created };
    this.current = { profile, release: release! };
    return profile;
  }

  /**
   * Releases the held profile's lock (the browser also does it when the tab goes away). Close the
   * profile's ChainStore first.
   * @example
   * ```ts
   * await store.close(); await profiles.release();
   * ```
   */
  async release(): Promise<void> {
    const cur = this.current;
    this.current = null;
    if (cur) await cur.release();
  }

  /**
   * Every profile of this network, most recently used first, with whether a tab holds it.
   * @example
   * ```ts
   * const reopenable = (await profiles.list()).filter((p) => !p.locked);
   * ```
   */
  async list(): Promise<ProfileInfo[]> {
    const list = await this.openList();
    const records = ((await list.getAll(PROFILES_STORE)) as ProfileRecord[]).filter((r) => r.network === this.network);
    const held = await this.heldLockNames();
    return records
      .map((r) => ({
        ...r,
        databaseName: profileDatabaseName(this.network, r.id),
        locked: held.has(profileLockName(this.network, r.id)),
        current: r.id === this.current?.profile.id,
      }))
      .sort((a, b) => b.lastUsed - a.lastUsed);
  }

  /** Names a profile for the UI. @example await profiles.setLabel(id, 'shop till') */
  async setLabel(id: string, label: string): Promise<void> {
    const list = await this.openList();
    const rec = (await list.get(PROFILES_STORE, this.recordKey(id))) as ProfileRecord | undefined;
    if (!rec) throw new StorageError('NOT_FOUND', `no profile ${id}`);
    await list.put(PROFILES_STORE, { ...rec, label }, this.recordKey(id));
  }

  /**
   * Deletes a profile's database and list entry. Refused ('LOCKED') while any tab holds it,
   * this one included (acquire another profile first). The lock is held during the deletion so no
   * tab can open it meanwhile.
   * @example
   * ```ts
   * await profiles.deleteProfile(old.id);
   * ```
   */
  async deleteProfile(id: string): Promise<void> {
    if (!VALID_ID.test(id)) throw new StorageError('INVALID', `deleteProfile: bad profile id ${id}`);
    const mine = this.current?.profile.id === id;
    const release = mine ? null : await this.tryLock(id);
    if (!release)
      throw new StorageError('LOCKED', mine ? `profile ${id} is this tab's profile; switch to another one first` : `profile ${id} is open in another tab; close it first`);
    try {
      await new Promise<void>((resolve, reject) => {
        const request = this.factory.deleteDatabase(profileDatabaseName(this.network, id));
        request.onsuccess = () => resolve();
        request.onerror = () => reject(request.error);
        request.onblocked = () => reject(new StorageError('LOCKED', `profile ${id} is still open somewhere; it is deleted once closed`));
      });
      const list = await this.openList();
      await list.delete(PROFILES_STORE, this.recordKey(id));
    } catch (e) {
      throw toStorageError(e, { op: 'delete profile', medium: 'browser' });
    } finally {
      await release();
    }
  }

  /**
   * Asks the browser not to evict this origin's data under storage pressure
   * (`navigator.storage.persist()`). Resolves to whether storage is now persistent.
   * @example
   * ```ts
   * if (!(await profiles.requestPersistence())) ui.note('the browser may evict the chain when space runs low');
   * ```
   */
  async requestPersistence(): Promise<boolean> {
    const s = this.storage;
    if (!s) return false;
    try {
      if (s.persisted && (await s.persisted())) return true;
      return s.persist ? await s.persist() : false;
    } catch {
      return false; // e.g. refused in a third-party context: not fatal
    }
  }

  /**
   * Origin-wide bytes used and quota (`navigator.storage.estimate()`), or null if unknown.
   * @example
   * ```ts
   * const u = await profiles.estimate();
   * ```
   */
  async estimate(): Promise<StorageUsage | null> {
    if (!this.storage?.estimate) return null;
    const e = await this.storage.estimate();
    return { usage: e.usage ?? 0, quota: e.quota ?? 0 };
  }

  /** Releases the profile and closes the list database. @example await profiles.close() */
  async close(): Promise<void> {
    await this.release();
    const db = this.listDb;
    this.listDb = null;
    if (db) (await db.catch(() => null))?.close();
  }
}
