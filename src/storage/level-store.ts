/**
 * LevelStore: the headless Node node's ChainStore (`--data DIR`), in LevelDB via classic-level.
 *
 * Node-only (native addon, node:fs): import it from this file; the storage index does not
 * re-export it, so browser bundles never see it.
 *
 * One LevelDB in DIR. Collections are key prefixes (`headers:<hex>`, `state:<key>`, …); values are
 * {@link encodeValue} bytes. Every ChainStore write is ONE `db.batch()`, which LevelDB applies
 * atomically through its write-ahead log (the same way Bitcoin Core's CDBWrapper::WriteBatch
 * commits the chainstate and its best-block marker together), so a killed process reopens with a
 * tip and a state from the same batch. LevelDB's LOCK file keeps a second process out ('LOCKED').
 *
 * The directory holds the raw wallet key (the `keys` collection), so it is made private: created
 * 0700 and tightened to 0700 on every open, its files to 0600 — LevelDB creates files under the
 * process umask (usually 0644), and a 0700 directory keeps other users from reaching even those.
 * @module
 */
import { ClassicLevel } from 'classic-level';
import { chmod, mkdir, readdir, rm, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { StorageUsage, StoreOptions } from './chain-store.ts';
import { StorageError } from './errors.ts';
import type { CollectionName, EngineTx, KvEngine } from './kv-engine.ts';
import { EngineChainStore } from './engine-chain-store.ts';
import { decodeValue, encodeValue } from './value-codec.ts';

/** Current on-disk layout version, kept under `schema` (outside every collection). */
export const LEVEL_SCHEMA_VERSION = 1;
const SCHEMA_KEY = 'schema';

// ':' (0x3a) ends every prefix, so ';' (0x3b) bounds a collection's key range.
const prefix = (c: CollectionName) => `${c}:`;

type BatchOp = { type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string };

/** The file system calls {@link makePrivate} and {@link dirSize} make (tests inject a racing one). */
export interface LevelDirFs {
  mkdir: typeof mkdir;
  chmod: typeof chmod;
  readdir: typeof readdir;
  stat: typeof stat;
}

const NODE_FS: LevelDirFs = { mkdir, chmod, readdir, stat };

/**
 * `op`, except that a file which vanished since the directory was listed is no error: LevelDB
 * deletes table and log files in the background (compaction starts right after open, at once when
 * the open recovered the log of a killed process), so a listing is stale as soon as it is read.
 */
async function unlessGone<T>(op: Promise<T>): Promise<T | undefined> {
  try {
    return await op;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Bytes of the files under `dir` (those LevelDB deletes while we count are not counted). */
export async function dirSize(dir: string, fs: LevelDirFs = NODE_FS): Promise<number> {
  let total = 0;
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    total += entry.isDirectory() ? await dirSize(p, fs) : ((await unlessGone(fs.stat(p)))?.size ?? 0);
  }
  return total;
}

/**
 * Owner-only access: the directory 0700 (created so), its regular files 0600 (see the module
 * note). A file LevelDB deletes meanwhile needs nothing; one it creates meanwhile is behind the
 * 0700 directory.
 */
export async function makePrivate(dir: string, fs: LevelDirFs = NODE_FS): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await fs.chmod(dir, 0o700);
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    if (entry.isFile()) await unlessGone(fs.chmod(join(dir, entry.name), 0o600));
  }
}

class LevelEngine implements KvEngine {
  readonly medium = 'disk' as const;
  private db: ClassicLevel<string, Uint8Array> | null = null;

  constructor(
    private readonly dir: string,
    private readonly sync: boolean,
  ) {}

  async open(): Promise<number> {
    await makePrivate(this.dir);
    const db = new ClassicLevel<string, Uint8Array>(this.dir, { keyEncoding: 'utf8', valueEncoding: 'view' });
    await db.open();
    try {
      await makePrivate(this.dir); // the log and manifest LevelDB just created
      const raw = await db.get(SCHEMA_KEY);
      const version = raw === undefined ? undefined : decodeValue(raw);
      if (version === undefined) {
        await db.put(SCHEMA_KEY, encodeValue(LEVEL_SCHEMA_VERSION));
      } else if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
        throw new StorageError('CORRUPT', `open: bad schema version in ${this.dir}`);
      } else if (version > LEVEL_SCHEMA_VERSION) {
        throw new StorageError('SCHEMA_TOO_NEW', `open: ${this.dir} was written by a newer tabchain (schema ${version}); update tabchain`);
      }
      // Future layouts: migrate here from `version` to LEVEL_SCHEMA_VERSION in one batch.
    } catch (e) {
      await db.close();
      throw e;
    }
    this.db = db;
    return LEVEL_SCHEMA_VERSION;
  }

  private handle(): ClassicLevel<string, Uint8Array> {
    if (!this.db) throw Object.assign(new Error('the database is closed'), { code: 'LEVEL_DATABASE_NOT_OPEN' });
    return this.db;
  }

  async run<T>(
    mode: 'readonly' | 'readwrite',
    _collections: readonly CollectionName[],
    body: (tx: EngineTx) => Promise<T>,
    beforeCommit?: (raw?: unknown) => void,
  ): Promise<T> {
    // The store core runs one operation at a time, so reads see no concurrent write.
    const db = this.handle();
    const ops: BatchOp[] = [];
    const readonly = () => {
      if (mode !== 'readwrite') throw Object.assign(new Error('readonly transaction'), { name: 'ReadOnlyError' });
    };
    const tx: EngineTx = {
      get: async (c, key) => {
        const raw = await db.get(prefix(c) + key);
        return raw === undefined ? undefined : decodeValue(raw);
      },
      getAll: async (c) => {
        const p = prefix(c);
        const rows = await db.iterator({ gte: p, lt: `${c};` }).all();
        return rows.map(([k, v]) => [k.slice(p.length), decodeValue(v)] as [string, unknown]);
      },
      put: (c, key, value) => {
        readonly();
        ops.push({ type: 'put', key: prefix(c) + key, value: encodeValue(value) });
      },
      delete: (c, key) => {
        readonly();
        ops.push({ type: 'del', key: prefix(c) + key });
      },
    };
    const result = await body(tx);
    if (mode === 'readwrite') {
      beforeCommit?.();
      if (ops.length > 0) await db.batch(ops, { sync: this.sync });
    }
    return result;
  }

  async usage(): Promise<StorageUsage | null> {
    const used = await dirSize(this.dir);
    const fs = await statfs(this.dir);
    return { usage: used, quota: used + Number(fs.bavail) * Number(fs.bsize) };
  }

  async close(): Promise<void> {
    const db = this.db;
    this.db = null;
    if (db) await db.close();
  }

  async destroy(): Promise<void> {
    await this.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Options of {@link LevelStore}. */
export interface LevelStoreOptions extends StoreOptions {
  /** The data directory (created if missing). */
  dir: string;
  /**
   * fsync every write (default false). Atomicity does not depend on it: LevelDB drops a torn log
   * record on recovery, so a crash loses at most the last writes, never half of one. Like Bitcoin
   * Core, which does not sync per block, we trade power-loss durability of the newest blocks (they
   * are re-downloaded) for connect throughput; a killed process loses nothing (page cache).
   */
  sync?: boolean;
}

/**
 * The ChainStore of a headless node, in a LevelDB directory.
 * @example
 * ```ts
 * const store = new LevelStore({ network: 'main', dir: args.data });
 * const { meta } = await store.open();
 * ```
 */
export class LevelStore extends EngineChainStore {
  readonly dir: string;
  constructor(opts: LevelStoreOptions) {
    if (typeof opts.dir !== 'string' || opts.dir.length === 0) throw new StorageError('INVALID', 'LevelStore: dir must be a path');
    super(new LevelEngine(opts.dir, opts.sync ?? false), opts);
    this.dir = opts.dir;
  }
}
