/**
 * Hashrate measurement shared by the Node bench (bench/miner.bench.ts) and the Chromium page
 * (bench/miner-page/): the project's kernels and the reference sha256d loops, each scanning
 * nonces of one header for a fixed time after a warm-up (so V8 has tiered the code up), and the
 * MinerPool measured the same way on both.
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { createSHA256 } from 'hash-wasm';
import { createScanner } from '../../src/miner/kernels.ts';
import { MinerPool } from '../../src/miner/pool.ts';

/** What can be measured in both Node and the browser. */
export type BenchKernel = 'wasm-simd' | 'wasm' | 'js' | 'noble' | 'hash-wasm';
export const BENCH_KERNELS: readonly BenchKernel[] = ['wasm-simd', 'wasm', 'js', 'noble', 'hash-wasm'];

/** Bitcoin's genesis header (any 80 bytes would do). */
export const GENESIS_HEADER_HEX =
  '0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c';

export function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g)!.map((b) => parseInt(b, 16)));
}

/** Keeps the optimiser from discarding the reference loops' hashes. */
export let sink = 0;

/** A function hashing `count` nonces from `start`, and its natural batch size. */
export type Hasher = { batch: number; run(header: Uint8Array, start: number, count: number): void };

function setNonce(h: Uint8Array, n: number): void {
  h[76] = n & 0xff;
  h[77] = (n >>> 8) & 0xff;
  h[78] = (n >>> 16) & 0xff;
  h[79] = n >>> 24;
}

export async function makeHasher(kind: BenchKernel | 'node:crypto', extra?: { nodeSha256d?: (b: Uint8Array) => Uint8Array }): Promise<Hasher> {
  if (kind === 'wasm-simd' || kind === 'wasm' || kind === 'js') {
    const s = await createScanner(kind);
    // target 0: no nonce wins, so every call hashes exactly `count` nonces
    return { batch: kind === 'js' ? 1 << 14 : 1 << 16, run: (h, start, count) => void s.scan(h, start, count, 0n) };
  }
  if (kind === 'noble') {
    return {
      batch: 1 << 12,
      run(h, start, count) {
        for (let n = start; n < start + count; n++) {
          setNonce(h, n);
          sink ^= sha256(sha256(h))[31];
        }
      },
    };
  }
  if (kind === 'hash-wasm') {
    const hasher = await createSHA256();
    return {
      batch: 1 << 12,
      run(h, start, count) {
        for (let n = start; n < start + count; n++) {
          setNonce(h, n);
          const first = hasher.init().update(h).digest('binary');
          sink ^= hasher.init().update(first).digest('binary')[31];
        }
      },
    };
  }
  const f = extra?.nodeSha256d;
  if (!f) throw new Error('node:crypto needs nodeSha256d');
  return {
    batch: 1 << 12,
    run(h, start, count) {
      for (let n = start; n < start + count; n++) {
        setNonce(h, n);
        sink ^= f(h)[31];
      }
    },
  };
}

/** MH/s of `hasher` over `measureMs` after `warmMs` of warm-up. */
export function measure(hasher: Hasher, warmMs: number, measureMs: number): number {
  const h = hexBytes(GENESIS_HEADER_HEX);
  let nonce = 0;
  const runFor = (ms: number): [number, number] => {
    const t0 = performance.now();
    let hashed = 0;
    let t = t0;
    do {
      hasher.run(h, nonce, hasher.batch);
      nonce = (nonce + hasher.batch) % 0xffff0000;
      hashed += hasher.batch;
      t = performance.now();
    } while (t - t0 < ms);
    return [hashed, t - t0];
  };
  runFor(warmMs);
  const [hashed, ms] = runFor(measureMs);
  return hashed / ms / 1000;
}

/**
 * The real MinerPool (Web Workers or worker_threads) with `workers` wasm-simd workers on the
 * genesis header: warmed for `warmMs`, then its hash counter read over `measureMs`. Total MH/s,
 * each worker's moving average (MH/s), and how the workers ran.
 * @example const { total } = await measurePool(2, 1000, 2500)
 */
export async function measurePool(workers: number, warmMs: number, measureMs: number): Promise<{ total: number; perWorker: number[]; transports: string[] }> {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const pool = await MinerPool.create({ workers, kind: 'wasm-simd' });
  try {
    const header = hexBytes(GENESIS_HEADER_HEX);
    pool.mine({ target: 0n, headerFor: () => header });
    await sleep(warmMs + 500);
    const h0 = pool.stats.hashes;
    const t0 = performance.now();
    await sleep(measureMs + 500);
    const total = (pool.stats.hashes - h0) / (performance.now() - t0) / 1000;
    return { total, perWorker: pool.workerHashrates().map((r) => r / 1e6), transports: pool.transports };
  } finally {
    pool.close();
  }
}
