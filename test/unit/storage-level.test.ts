/**
 * LevelStore specifics: a process killed mid-write reopens consistent, a newer on-disk schema is
 * refused, and a full disk reads as QUOTA_EXCEEDED.
 */
import { ClassicLevel } from 'classic-level';
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { StorageError } from '../../src/storage/errors.ts';
import { LevelStore, dirSize, makePrivate, type LevelDirFs } from '../../src/storage/level-store.ts';
import { encodeValue } from '../../src/storage/value-codec.ts';
import { hashOf, makeUndo, stateEntry } from './storage-fixtures.ts';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'tabchain-level-'));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** Runs the writer child until it has reported `atLeast` blocks, then SIGKILLs it; returns the last height it reported. */
function runAndKill(dir: string, atLeast: number): Promise<number> {
  const writer = fileURLToPath(new URL('./storage-crash-writer.ts', import.meta.url));
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', writer, dir], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const lines = out.trim().split('\n');
      if (lines.length >= atLeast && !child.killed) child.kill('SIGKILL');
    });
    child.on('exit', (_code, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`writer exited on its own: ${err}`));
      const heights = out.trim().split('\n').map(Number);
      resolve(heights[heights.length - 1]);
    });
  });
}

describe('LevelStore', () => {
  it('keeps its directory private (0700, files 0600): it holds the raw wallet key', async () => {
    const parent = await tempDir();
    const fresh = join(parent, 'data');
    const store = new LevelStore({ network: 'dev', dir: fresh });
    await store.open();
    await store.putKey({ id: 'primary', privateKey: new Uint8Array(32).fill(7), publicKey: new Uint8Array(32).fill(8), createdAt: 1 });
    await store.close();
    const modeOf = async (p: string) => (await stat(p)).mode & 0o777;
    expect(await modeOf(fresh)).toBe(0o700);
    // A directory someone made world-readable before (an older tabchain, a careless mkdir) is tightened on open.
    const old = join(parent, 'old');
    await mkdir(old, { mode: 0o755 });
    await chmod(old, 0o755);
    await writeFile(join(old, 'stray'), 'x', { mode: 0o644 });
    const again = new LevelStore({ network: 'dev', dir: old });
    await again.open();
    await again.close();
    expect(await modeOf(old)).toBe(0o700);
    for (const name of await readdir(old)) expect(await modeOf(join(old, name)), name).toBe(0o600);
  });

  it('a process killed with SIGKILL while connecting blocks reopens with tip and state from the same block', async () => {
    const dir = await tempDir();
    // Two kills: the second restarts from the reopened tip, so a torn first run would show here too.
    for (const atLeast of [15, 25]) {
      const lastReported = await runAndKill(dir, atLeast);
      const store = new LevelStore({ network: 'dev', dir });
      const { meta, state } = await store.open();
      // Every block reported as committed is there (a killed process loses nothing it wrote)…
      expect(meta.tipHeight).toBeGreaterThanOrEqual(lastReported);
      // …and tip and state agree: the counter says the tip height, every block's keys are present.
      const counter = state.find(([k]) => k === 'counter')?.[1];
      expect(counter).toEqual({ type: 'holding', value: BigInt(meta.tipHeight) });
      expect(state.filter(([k]) => k.startsWith('b:')).length).toBe(200 * (meta.tipHeight + 1));
      expect(await store.getUndo(meta.tipHash!)).not.toBeNull();
      await store.close();
    }
  });

  it('refuses a data directory written by a newer schema', async () => {
    const dir = await tempDir();
    const raw = new ClassicLevel<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' });
    await raw.put('schema', encodeValue(2));
    await raw.close();
    const e = await new LevelStore({ network: 'dev', dir }).open().catch((x: unknown) => x);
    expect((e as StorageError).code).toBe('SCHEMA_TOO_NEW');
  });

  it('refuses a data directory whose stored values do not decode (CORRUPT)', async () => {
    const dir = await tempDir();
    const store = new LevelStore({ network: 'dev', dir });
    await store.open();
    await store.close();
    const raw = new ClassicLevel<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' });
    await raw.put('state:a:1', Uint8Array.of(8, 5)); // an object claiming 5 entries, truncated
    await raw.close();
    const e = await new LevelStore({ network: 'dev', dir }).open().catch((x: unknown) => x);
    expect((e as StorageError).code).toBe('CORRUPT');
  });

  it('a full disk (ENOSPC from LevelDB) is QUOTA_EXCEEDED, naming the block the chain was left at', async () => {
    const dir = await tempDir();
    let full = false;
    const store = new LevelStore({
      network: 'dev',
      dir,
      onBeforeCommit: () => {
        if (full) throw Object.assign(new Error('IO error: /data/000005.log: No space left on device'), { code: 'LEVEL_IO_ERROR' });
      },
    });
    await store.open();
    const model = new Map();
    await store.connectBlock({ hash: hashOf(0), height: 0, undo: makeUndo(model, hashOf(0), 0, [['a:0', stateEntry(0)]]) });
    full = true;
    const e = (await store
      .connectBlock({ hash: hashOf(1), height: 1, undo: makeUndo(new Map(model), hashOf(1), 1, [['a:1', stateEntry(1)]]) })
      .catch((x: unknown) => x)) as StorageError;
    expect(e.code).toBe('QUOTA_EXCEEDED');
    expect(e.message).toBe("Disk is full: free space on the data directory's disk; the chain was left at block 0");
    await store.close();
  });
});

describe('LevelStore directory upkeep racing LevelDB', () => {
  /**
   * A file system whose directory listing is stale by the time it is used: every listing still
   * names the .ldb files it deletes right after reading it, as LevelDB's background compaction
   * does right after an open that recovered a killed process's log (the crash test
   * crash-headless.test.ts hit it: `open: ENOENT … chmod '…/000078.ldb'`, and the node could not
   * start again).
   */
  function compactingFs(): LevelDirFs & { deleted: string[] } {
    const deleted: string[] = [];
    const racing: LevelDirFs = {
      mkdir,
      chmod,
      stat,
      readdir: (async (dir: string, opts: { withFileTypes: true }) => {
        const listing = await readdir(dir, opts);
        for (const e of listing) {
          if (e.isFile() && e.name.endsWith('.ldb')) {
            await rm(join(dir, e.name));
            deleted.push(e.name);
          }
        }
        return listing;
      }) as unknown as LevelDirFs['readdir'],
    };
    return Object.assign(racing, { deleted });
  }

  it('makePrivate and dirSize pass over files deleted since the listing, and still tighten the rest', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, '000078.ldb'), 'table', { mode: 0o644 });
    await writeFile(join(dir, 'MANIFEST-000079'), 'manifest', { mode: 0o644 });
    const fs = compactingFs();
    await makePrivate(dir, fs);
    expect(fs.deleted).toEqual(['000078.ldb']);
    expect((await stat(join(dir, 'MANIFEST-000079'))).mode & 0o777).toBe(0o600);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    await writeFile(join(dir, '000080.ldb'), 'another table');
    expect(await dirSize(dir, compactingFs())).toBe('manifest'.length);
  });

  it('a real error of chmod still fails', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'CURRENT'), 'x');
    const denied = Object.assign(new Error('EPERM: operation not permitted'), { code: 'EPERM' });
    const fs: LevelDirFs = { mkdir, readdir, stat, chmod: (async (p: string, m: number) => (p.endsWith('CURRENT') ? Promise.reject(denied) : chmod(p, m))) as LevelDirFs['chmod'] };
    await expect(makePrivate(dir, fs)).rejects.toThrow(/EPERM/);
  });
});

