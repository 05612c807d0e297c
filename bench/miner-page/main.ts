/**
 * The Chromium miner bench page: each kernel in its own Web Worker (one at a time, so they do
 * not compete for cores), then the real MinerPool (Web Workers) with 1 and 2 workers.
 * Results land in `window.minerBench` for the Node side (bench/miner.bench.ts) to collect.
 */
import { BENCH_KERNELS, measurePool, type BenchKernel } from './measure.ts';

interface Result { name: string; mhs: number }
const params = new URLSearchParams(location.search);
const warmMs = Number(params.get('warm') ?? 1000);
const measureMs = Number(params.get('measure') ?? 2500);

function kernelInWorker(kind: BenchKernel): Promise<number> {
  const w = new Worker(new URL('./kernel-worker.ts', import.meta.url), { type: 'module' });
  return new Promise<number>((resolve, reject) => {
    w.onmessage = (e: MessageEvent<{ ok: boolean; mhs?: number; error?: string }>) => (e.data.ok ? resolve(e.data.mhs!) : reject(new Error(e.data.error)));
    w.onerror = (e) => reject(new Error(e.message));
    w.postMessage({ kind, warmMs, measureMs });
  }).finally(() => w.terminate());
}

async function run(): Promise<{ results: Result[]; userAgent: string; cores: number; pool: unknown[] }> {
  const results: Result[] = [];
  for (const kind of BENCH_KERNELS) results.push({ name: kind, mhs: await kernelInWorker(kind) });
  const pool: unknown[] = [];
  for (const n of [1, 2]) {
    const p = await measurePool(n, warmMs, measureMs);
    pool.push(p);
    results.push({ name: `pool-${n}`, mhs: p.total });
  }
  return { results, userAgent: navigator.userAgent, cores: navigator.hardwareConcurrency, pool };
}

const w = window as unknown as { minerBench?: unknown; minerBenchError?: string };
run().then(
  (r) => (w.minerBench = r),
  (err) => (w.minerBenchError = String(err instanceof Error ? (err.stack ?? err.message) : err)),
);
