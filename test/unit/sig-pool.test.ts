/**
 * SignaturePool: native verification on the calling thread (small batches) and in workers (large
 * ones), YES-or-no-verdict only, bounded, and robust to workers that die or answer wrongly.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ed25519, ED25519_TORSION_SUBGROUP } from '@noble/curves/ed25519.js';
import { verifySignature } from '../../src/chain/index.ts';
import { inlineSigWorker, MAX_WORKER_FAILURES, SignaturePool, type SigWorker, type SignatureItem } from '../../src/node/sig-pool.ts';
import { acceptRecords, createSigWorkerHandler, SIG_RECORD_BYTES, type FromSigWorker } from '../../src/node/sig-worker-core.ts';
import { nodeCryptoEd25519, syncNativeOf, webCryptoEd25519 } from '../../src/node/native-ed25519.ts';
import { countingNative } from './helpers/sig-corpus.ts';

const pools: SignaturePool[] = [];
afterEach(() => {
  for (const p of pools.splice(0)) p.close();
});
const track = (p: SignaturePool) => (pools.push(p), p);

const seeds = Array.from({ length: 8 }, (_, i) => new Uint8Array(32).fill(i + 1));
/** `n` items: valid signatures, every 7th with a flipped bit, every 11th under a small-order key. */
function items(n: number): SignatureItem[] {
  return Array.from({ length: n }, (_, i) => {
    const seed = seeds[i % seeds.length];
    const msg = new Uint8Array(32);
    msg[0] = i;
    msg[1] = i >> 8;
    const sig = ed25519.sign(msg, seed);
    if (i % 7 === 3) sig[40] ^= 4;
    const pub = i % 11 === 5 ? ed25519.Point.fromHex(ED25519_TORSION_SUBGROUP[1]).toBytes() : ed25519.getPublicKey(seed);
    return { sig, msg, pub };
  });
}
const truth = (xs: SignatureItem[]) => xs.map((x) => (verifySignature(x.sig, x.msg, x.pub) ? 1 : 0));


describe('SignaturePool', () => {
  it('says YES exactly for the valid signatures the native verifier accepts; small batches stay on the calling thread', async () => {
    const c = await countingNative();
    let spawned = 0;
    const pool = track(new SignaturePool({ workers: 2, native: c.native, spawn: () => (spawned++, inlineSigWorker(c.native)) }));
    const xs = items(40);
    expect([...(await pool.acceptedNatively(xs))]).toEqual(truth(xs));
    expect(spawned).toBe(0);
    expect(pool.stats).toMatchObject({ requested: 40, onCallingThread: 40, inWorkers: 0 });
    // Small-order keys never reach the native verifier (the precheck refuses them first).
    expect(c.calls()).toBe(40 - xs.filter((_, i) => i % 11 === 5).length);
  });

  it('cuts a large batch into chunks for the workers, one chunk in flight per worker', async () => {
    const c = await countingNative();
    const posted: number[] = [];
    const spawn = (): SigWorker => {
      const w = inlineSigWorker(c.native);
      const post = w.post.bind(w);
      w.post = (m) => {
        posted.push(m.records.length / SIG_RECORD_BYTES);
        post(m);
      };
      return w;
    };
    const pool = track(new SignaturePool({ workers: 2, native: c.native, spawn }));
    const xs = items(600);
    expect([...(await pool.acceptedNatively(xs))]).toEqual(truth(xs));
    expect(pool.transports).toEqual(['inline', 'inline']);
    expect(pool.stats).toMatchObject({ requested: 600, inWorkers: 600, onCallingThread: 0 });
    // 600 / (2 workers × 4) → chunks of 75 (at least 64 each).
    expect(posted).toEqual([75, 75, 75, 75, 75, 75, 75, 75]);
  });

  it('runs real worker_threads in Node and gets the same verdicts', async () => {
    const pool = track(new SignaturePool({ workers: 2 }));
    const xs = items(300);
    expect([...(await pool.acceptedNatively(xs))]).toEqual(truth(xs));
    expect(pool.transports).toEqual(['thread', 'thread']);
    expect(pool.stats.workerFailures).toBe(0);
  });

  it('a worker that dies or answers wrongly loses no verdict: its chunk is verified on the calling thread', async () => {
    const c = await countingNative();
    let spawned = 0;
    const dying = (): SigWorker => {
      spawned++;
      const w: SigWorker = { transport: 'thread', onMessage: null, onError: null, post: () => queueMicrotask(() => w.onError?.(new Error('worker crashed'))), terminate: () => {} };
      return w;
    };
    const pool = track(new SignaturePool({ workers: 2, native: c.native, spawn: dying }));
    const xs = items(200);
    expect([...(await pool.acceptedNatively(xs))]).toEqual(truth(xs));
    expect(pool.stats.workerFailures).toBeGreaterThanOrEqual(1);
    // After MAX_WORKER_FAILURES the pool stops spawning and works on the calling thread.
    for (let i = 0; i < MAX_WORKER_FAILURES && pool.stats.workerFailures < MAX_WORKER_FAILURES; i++) await pool.acceptedNatively(xs);
    expect(pool.stats.workerFailures).toBeGreaterThanOrEqual(MAX_WORKER_FAILURES);
    const spawnedThen = spawned;
    for (let i = 0; i < 3; i++) expect([...(await pool.acceptedNatively(xs))]).toEqual(truth(xs));
    expect(spawned).toBe(spawnedThen);
    expect(pool.transports).toEqual([]);

    // Wrong id, wrong length, or an error reply: ignored or refused, and the chunk is redone here.
    for (const reply of [
      (id: number): FromSigWorker => ({ type: 'verified', id, accepted: new Uint8Array(1).fill(1) }),
      (id: number): FromSigWorker => ({ type: 'error', id, message: 'boom' }),
    ]) {
      const liar = (): SigWorker => {
        const w: SigWorker = { transport: 'thread', onMessage: null, onError: null, post: (m) => queueMicrotask(() => w.onMessage?.(reply(m.id))), terminate: () => {} };
        return w;
      };
      const p = track(new SignaturePool({ workers: 1, native: c.native, spawn: liar }));
      expect([...(await p.acceptedNatively(xs))]).toEqual(truth(xs));
    }
  });

  it('is bounded: beyond maxPendingRecords a batch gets no verdicts at once', async () => {
    const c = await countingNative();
    const silent = (): SigWorker => ({ transport: 'thread', onMessage: null, onError: null, post: () => {}, terminate: () => {} });
    const pool = track(new SignaturePool({ workers: 1, native: c.native, spawn: silent, maxPendingRecords: 100 }));
    const stuck = pool.acceptedNatively(items(80));
    const over = await pool.acceptedNatively(items(30));
    expect([...over]).toEqual(new Array(30).fill(0));
    expect(pool.stats.overloaded).toBe(30);
    pool.close(); // the stuck batch ends with no verdicts
    expect([...(await stuck)]).toEqual(new Array(80).fill(0));
  });

  it('without a native verifier there are no verdicts (the pure-JS verifier decides everything)', async () => {
    const pool = track(new SignaturePool({ workers: 0, native: Promise.resolve(null) }));
    expect(await pool.hasNative()).toBe(false);
    expect([...(await pool.acceptedNatively(items(10)))]).toEqual(new Array(10).fill(0));
  });

  it('a spawner that throws leaves the work on the calling thread', async () => {
    const c = await countingNative();
    const pool = track(
      new SignaturePool({
        workers: 2,
        native: c.native,
        spawn: () => {
          throw new Error('no workers here');
        },
      }),
    );
    const xs = items(100);
    expect([...(await pool.acceptedNatively(xs))]).toEqual(truth(xs));
  });
});

describe('signature worker protocol', () => {
  it('refuses malformed batches and unknown messages with an error reply', async () => {
    const replies: FromSigWorker[] = [];
    const handle = createSigWorkerHandler((m) => replies.push(m), webCryptoEd25519());
    await handle({ type: 'verify', id: 1, records: new Uint8Array(SIG_RECORD_BYTES + 1) });
    await handle({ type: 'bogus', id: 2 } as never);
    await handle({ type: 'verify', id: 3, records: new Uint8Array(SIG_RECORD_BYTES * 10_001) });
    expect(replies.map((r) => [r.type, r.id])).toEqual([
      ['error', 1],
      ['error', 2],
      ['error', 3],
    ]);
  });

  it('acceptRecords answers one byte per record', async () => {
    const xs = items(20);
    const records = new Uint8Array(xs.length * SIG_RECORD_BYTES);
    xs.forEach((x, i) => {
      records.set(x.pub, i * SIG_RECORD_BYTES);
      records.set(x.msg, i * SIG_RECORD_BYTES + 32);
      records.set(x.sig, i * SIG_RECORD_BYTES + 64);
    });
    expect([...(await acceptRecords(records, (await webCryptoEd25519())!))]).toEqual(truth(xs));
  });

  it('acceptRecords with node:crypto takes the synchronous path and gives the same bytes: bad items refused, the rest accepted', async () => {
    const xs = items(80); // flipped bits and small-order keys among them
    const records = new Uint8Array(xs.length * SIG_RECORD_BYTES);
    xs.forEach((x, i) => {
      records.set(x.pub, i * SIG_RECORD_BYTES);
      records.set(x.msg, i * SIG_RECORD_BYTES + 32);
      records.set(x.sig, i * SIG_RECORD_BYTES + 64);
    });
    const openssl = (await nodeCryptoEd25519())!;
    expect(syncNativeOf(openssl)).toBeTypeOf('function');
    const got = [...(await acceptRecords(records, openssl))];
    expect(got).toEqual(truth(xs));
    expect(got.filter((v) => v === 0).length).toBeGreaterThan(10);
    // Bounds first, whichever path: a malformed or oversized batch is refused before any verification.
    await expect(acceptRecords(records.subarray(1), openssl)).rejects.toThrow(RangeError);
    await expect(acceptRecords(new Uint8Array(SIG_RECORD_BYTES * 10_001), openssl)).rejects.toThrow(RangeError);
  });
});
