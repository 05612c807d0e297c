import { describe, expect, it } from 'vitest';
import { ticks, waitUntil as waitFor } from '../support/wait.ts';
import { sha256 } from '@noble/hashes/sha2.js';
import { MinerPool, spawnInlineWorker, defaultWorkerCount, type FoundNonce, type MinerWorker, type MiningWork, type SpawnWorker, type ToWorkerMessage } from '../../src/miner/index.ts';

const MAX = (1n << 256n) - 1n;

function hashValue(header80: Uint8Array, nonce: number): bigint {
  const h = header80.slice();
  new DataView(h.buffer).setUint32(76, nonce, true);
  const d = sha256(sha256(h));
  let v = 0n;
  for (let i = 31; i >= 0; i--) v = (v << 8n) | BigInt(d[i]);
  return v;
}

/** A fake template: the extraNonce changes the "coinbase", hence the merkle root (bytes 36..67). */
function fakeWork(seed: number, target: bigint): MiningWork & { headerFor(en: bigint): Uint8Array } {
  const base = sha256(new Uint8Array([seed, 1, 2, 3]));
  return {
    target,
    headerFor(en: bigint) {
      const h = new Uint8Array(80);
      h.set(base, 4); // prevHash
      const coinbase = new Uint8Array(40);
      coinbase.set(base);
      new DataView(coinbase.buffer).setBigUint64(32, en, true);
      h.set(sha256(sha256(coinbase)), 36); // merkle root of a one-transaction block
      new DataView(h.buffer).setUint32(68, 1_700_000_000 + seed, true);
      return h;
    },
  };
}

/** The pool works in 1 ms turns: poll as often. */
const waitUntil = (cond: () => boolean, what: string) => waitFor(cond, what, 30_000, 1);

/** Wraps a spawner to log every message the pool posts. */
function recording(spawn: SpawnWorker): { spawn: SpawnWorker; posted: ToWorkerMessage[] } {
  const posted: ToWorkerMessage[] = [];
  return {
    posted,
    spawn: () => {
      const w = spawn();
      const post = w.post.bind(w);
      w.post = (m) => {
        posted.push(m);
        post(m);
      };
      return w;
    },
  };
}

/** The first (extraNonce, nonce) in order whose hash ≤ target, and a target that makes the
 * first `minRolls` extraNonces barren: the smallest hash of the first extraNonce that beats all
 * earlier ones. */
function plantedSolution(work: ReturnType<typeof fakeWork>, nonceSpace: number, minRolls: number) {
  let best = MAX;
  for (let en = 0; en < 64; en++) {
    const header = work.headerFor(BigInt(en));
    let min = MAX;
    let at = -1;
    for (let n = 0; n < nonceSpace; n++) {
      const v = hashValue(header, n);
      if (v < min) [min, at] = [v, n];
    }
    if (en >= minRolls && min < best) return { target: min, extraNonce: BigInt(en), nonce: at };
    if (min < best) best = min;
  }
  throw new Error('no planted solution');
}

describe('miner pool (same-thread workers)', () => {
  it('stop takes effect within one chunk per worker: no chunk is handed out after stop', async () => {
    const rec = recording(spawnInlineWorker);
    const pool = await MinerPool.create({ spawn: rec.spawn, workers: 2, kind: 'js', chunkSize: 256 });
    pool.mine(fakeWork(1, 0n));
    await waitUntil(() => pool.stats.chunksCompleted >= 6, 'some chunks');
    expect(pool.mining).toBe(true);
    expect(pool.hashrate()).toBeGreaterThan(0);
    expect(pool.workerHashrates()).toHaveLength(2);
    pool.stop();
    const atStop = pool.stats;
    await waitUntil(() => pool.stats.chunksCompleted === pool.stats.chunksDispatched, 'in-flight chunks');
    await ticks(20);
    const after = pool.stats;
    expect(after.chunksDispatched).toBe(atStop.chunksDispatched);
    expect(after.chunksCompleted - atStop.chunksCompleted).toBeLessThanOrEqual(2);
    expect(after.staleResults).toBe(after.chunksCompleted - atStop.chunksCompleted);
    expect(pool.mining).toBe(false);
    expect(pool.hashrate()).toBe(0);
    pool.close();
  });

  it('a new template replaces the old one within one chunk, and its block is found', async () => {
    const rec = recording(spawnInlineWorker);
    const found: FoundNonce[] = [];
    const pool = await MinerPool.create({ spawn: rec.spawn, workers: 2, chunkSize: 1024, onFound: (f) => found.push(f) });
    const a = fakeWork(2, 0n);
    pool.mine(a);
    await waitUntil(() => pool.stats.chunksCompleted >= 4, 'some chunks of A');
    const b = fakeWork(3, MAX >> 10n); // about one nonce in 1024 wins
    const postedBefore = rec.posted.length;
    const idB = pool.mine(b);
    await waitUntil(() => found.length > 0, 'a block for B');
    await ticks(20);
    const scansAfter = rec.posted.slice(postedBefore).filter((m) => m.type === 'scan');
    expect(scansAfter.length).toBeGreaterThan(0);
    expect(scansAfter.every((m) => m.type === 'scan' && m.jobId === idB)).toBe(true);
    expect(found).toHaveLength(1); // the job pauses once solved
    const f = found[0];
    expect(f.work).toBe(b);
    expect(f.jobId).toBe(idB);
    const expectedHeader = b.headerFor(f.extraNonce);
    new DataView(expectedHeader.buffer).setUint32(76, f.nonce, true);
    expect(f.header80).toEqual(expectedHeader);
    expect(hashValue(f.header80, f.nonce)).toBeLessThanOrEqual(b.target);
    expect(pool.stats.staleResults).toBeLessThanOrEqual(2);
    expect(pool.mining).toBe(false);
    pool.close();
  });

  it('rolls the extraNonce when the nonce space is handed out, and finds the first solution in order', async () => {
    const nonceSpace = 64;
    const work0 = fakeWork(4, 0n);
    const planted = plantedSolution(work0, nonceSpace, 3);
    const work = { ...work0, target: planted.target };
    const found: FoundNonce[] = [];
    const pool = await MinerPool.create({ spawn: spawnInlineWorker, workers: 1, chunkSize: 16, nonceSpace, onFound: (f) => found.push(f) });
    pool.mine(work);
    await waitUntil(() => found.length > 0, 'the planted block');
    expect(found[0].extraNonce).toBe(planted.extraNonce);
    expect(found[0].nonce).toBe(planted.nonce);
    expect(pool.stats.extraNonceRolls).toBe(Number(planted.extraNonce));
    expect(hashValue(found[0].header80, found[0].nonce)).toBeLessThanOrEqual(work.target);
    pool.close();
  });

  it('starts from the work’s startExtraNonce', async () => {
    const found: FoundNonce[] = [];
    const pool = await MinerPool.create({ spawn: spawnInlineWorker, workers: 1, onFound: (f) => found.push(f) });
    pool.mine({ ...fakeWork(5, MAX), startExtraNonce: 41n });
    await waitUntil(() => found.length > 0, 'a block');
    expect(found[0]).toMatchObject({ extraNonce: 41n, nonce: 0 });
    pool.close();
  });

  it('falls back to same-thread workers when workers cannot be started or fail', async () => {
    const errors: Error[] = [];
    const found: FoundNonce[] = [];
    const pool = await MinerPool.create({
      spawn: () => {
        throw new Error('Worker is not defined');
      },
      workers: 2,
      onFound: (f) => found.push(f),
      onError: (e) => errors.push(e),
    });
    expect(pool.transports).toEqual(['inline', 'inline']);
    expect(errors).toHaveLength(2);
    pool.mine(fakeWork(6, MAX >> 8n));
    await waitUntil(() => found.length > 0, 'a block');
    pool.close();

    // A worker whose kernel fails on every chunk: replaced by a same-thread one, chunk retried.
    const broken: SpawnWorker = () => {
      const w: MinerWorker = {
        transport: 'web',
        onMessage: null,
        onError: null,
        post: (m) => {
          if (m.type === 'scan') setTimeout(() => w.onMessage?.({ type: 'error', message: 'wasm compile failed', chunkId: m.chunkId }), 0);
        },
        terminate: () => {},
      };
      return w;
    };
    const found2: FoundNonce[] = [];
    const errors2: Error[] = [];
    const pool2 = await MinerPool.create({ spawn: broken, workers: 1, chunkSize: 1 << 12, onFound: (f) => found2.push(f), onError: (e) => errors2.push(e) });
    const work = fakeWork(7, MAX >> 8n);
    pool2.mine(work);
    await waitUntil(() => found2.length > 0, 'a block after the fallback');
    expect(pool2.transports).toEqual(['inline']);
    expect(errors2.length).toBe(1);
    expect(found2[0].nonce).toBe(Array.from({ length: 4096 }, (_, n) => n).find((n) => hashValue(work.headerFor(0n), n) <= work.target));
    pool2.close();
  });

  it('grows and shrinks, validates the worker count, and has a sane default', async () => {
    expect(defaultWorkerCount()).toBeGreaterThanOrEqual(1);
    const pool = await MinerPool.create({ spawn: spawnInlineWorker, workers: 1, kind: 'js', chunkSize: 256 });
    pool.mine(fakeWork(8, 0n));
    pool.setWorkers(3);
    expect(pool.size).toBe(3);
    await waitUntil(() => pool.stats.chunksCompleted >= 6, 'chunks on three workers');
    pool.setWorkers(1);
    expect(pool.size).toBe(1);
    expect(() => pool.setWorkers(0)).toThrow(RangeError);
    expect(() => pool.setWorkers(1.5)).toThrow(RangeError);
    expect(() => pool.mine(fakeWork(9, -1n))).toThrow(RangeError);
    pool.close();
    expect(() => pool.mine(fakeWork(9, 0n))).toThrow(/closed/);
  });
});

describe('miner pool (worker_threads)', () => {
  it('mines in real threads and produces a valid block after rolling the extraNonce', async () => {
    const nonceSpace = 256;
    const work0 = fakeWork(10, 0n);
    const planted = plantedSolution(work0, nonceSpace, 2);
    const work = { ...work0, target: planted.target };
    const found: FoundNonce[] = [];
    const errors: Error[] = [];
    const pool = await MinerPool.create({ workers: 2, chunkSize: 32, nonceSpace, onFound: (f) => found.push(f), onError: (e) => errors.push(e) });
    expect(pool.transports).toEqual(['thread', 'thread']);
    pool.mine(work);
    await waitUntil(() => found.length > 0, 'a block from the threads');
    expect(errors).toEqual([]);
    const f = found[0];
    expect(f.extraNonce).toBeGreaterThanOrEqual(planted.extraNonce); // earlier extraNonces have no solution
    expect(f.nonce).toBeLessThan(nonceSpace);
    expect(pool.stats.extraNonceRolls).toBeGreaterThanOrEqual(Number(planted.extraNonce));
    const header = work.headerFor(f.extraNonce);
    new DataView(header.buffer).setUint32(76, f.nonce, true);
    expect(f.header80).toEqual(header);
    expect(hashValue(header, f.nonce)).toBeLessThanOrEqual(work.target);
    pool.close();
  });
});
