/**
 * Miner benchmark (`npm run bench miner`): MH/s per worker of every kernel and of the reference
 * sha256d loops (@noble/hashes, hash-wasm, node:crypto), and the MinerPool total with 1 and 2
 * workers — in Node and in headless Chromium Web Workers (Debian's chromium via playwright-core;
 * the page is built with vite's build API and served on 127.0.0.1 by a tiny static server, see
 * bench/browser-page.ts).
 *
 * The same page runs in Firefox ESR (Debian's firefox-esr via puppeteer-core over WebDriver BiDi,
 * scripts/firefox.ts), opened as a window: Firefox throttles background tabs.
 *
 * Env: MINER_BENCH_MS (measure window per row, default 2500), MINER_BENCH_WARM_MS (warm-up before
 * each, default 3000), MINER_BENCH_CHROMIUM=0 / MINER_BENCH_FIREFOX=0 to skip that browser.
 */
import { createHash } from 'node:crypto';
import { loadavg } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchContext, BenchRow } from './run.ts';
import { BENCH_KERNELS, makeHasher, measure, measurePool, type BenchKernel } from './miner-page/measure.ts';
import { launchSession, pageResult, withBuiltPage } from './browser-page.ts';

const here = dirname(fileURLToPath(import.meta.url));
const measureMs = Number(process.env.MINER_BENCH_MS ?? 2500);
/**
 * Warm-up before each row is measured. Firefox runs a new WebAssembly module in its baseline tier
 * first (about 0.3 MH/s for the SIMD kernel) until its optimising compiler (Ion), working in the
 * background, has compiled the 92 KB SIMD kernel: measured in 500 ms windows on the shared
 * machine (load 9), 1.5–2 s passed before the rate rose to 2–6 MH/s. A 1 s warm-up measured that
 * baseline tier, not Firefox's steady state; 3 s covers it (V8 compiles the kernel optimised
 * from the start). Override with MINER_BENCH_WARM_MS.
 */
const warmMs = Number(process.env.MINER_BENCH_WARM_MS ?? 3000);

const TARGETS: Partial<Record<string, string>> = {
  'wasm-simd (Node)': '>= 5',
  'wasm-simd (Chromium)': '>= 6',
  'wasm-simd / noble (Node)': '>= 12',
  'wasm-simd / noble (Chromium)': '>= 12',
  'pool 2 / pool 1 (Chromium)': '>= 1.8',
  // Issue 17: a Firefox worker within 0.8× of a Chromium one, measured in the same run.
  'wasm-simd Firefox / Chromium': '>= 0.8',
};

const LABEL: Record<BenchKernel | 'node:crypto', string> = {
  'wasm-simd': 'wasm-simd',
  wasm: 'wasm',
  js: 'js',
  noble: 'noble',
  'hash-wasm': 'hash-wasm',
  'node:crypto': 'node:crypto',
};

function row(name: string, value: number, unit: string, note?: string): BenchRow {
  return { suite: 'miner', name, value, unit, target: TARGETS[name], note };
}

interface PageResult {
  results: { name: string; mhs: number }[];
  userAgent: string;
  cores: number;
  pool: { total: number; perWorker: number[]; transports: string[] }[];
}

async function chromiumRows(ctx: BenchContext): Promise<BenchRow[]> {
  return withBuiltPage({ root: join(here, 'miner-page'), tmpPrefix: 'tabchain-miner-bench-' }, async (base) => {
    const browser = await launchSession();
    try {
      const page = await browser.newPage();
      page.on('pageerror', (err) => ctx.log(`chromium page error: ${err.message}`));
      const r = await pageResult<PageResult>(page, `${base}index.html?warm=${warmMs}&measure=${measureMs}`, 'minerBench', 300_000);
      const version = /Chrome\/([\d.]+)/.exec(r.userAgent)?.[1] ?? '?';
      ctx.log(`chromium ${version}, ${r.cores} cores, pool transports ${r.pool.map((p) => p.transports.join('+')).join(', ')}`);
      const get = (n: string) => r.results.find((x) => x.name === n)!.mhs;
      const rows = BENCH_KERNELS.map((k) => row(`${LABEL[k]} (Chromium)`, get(k), 'MH/s', `Web Worker, Chromium ${version}`));
      rows.push(row('pool 1 worker total (Chromium)', get('pool-1'), 'MH/s', 'MinerPool, Web Workers, wasm-simd'));
      rows.push(row('pool 2 workers total (Chromium)', get('pool-2'), 'MH/s', `per worker (moving avg): ${r.pool[1].perWorker.map((x) => x.toFixed(2)).join(', ')}`));
      rows.push(row('wasm-simd / noble (Chromium)', get('wasm-simd') / get('noble'), '×'));
      rows.push(row('pool 2 / pool 1 (Chromium)', get('pool-2') / get('pool-1'), '×'));
      return rows;
    } finally {
      await browser.close();
    }
  });
}

/** The same page in Firefox ESR; `chromium` (this run's Chromium figures) gives the ratio row. */
async function firefoxRows(ctx: BenchContext, chromium: BenchRow[]): Promise<BenchRow[]> {
  const { launchFirefox } = await import('../scripts/firefox.ts');
  return withBuiltPage({ root: join(here, 'miner-page'), tmpPrefix: 'tabchain-miner-bench-' }, async (base) => {
    const browser = await launchFirefox();
    try {
      const page = await (await browser.createBrowserContext()).newPage({ type: 'window' });
      page.on('pageerror', (err) => ctx.log(`firefox page error: ${(err as Error).message}`));
      await page.goto(`${base}index.html?warm=${warmMs}&measure=${measureMs}`);
      await page.waitForFunction(() => {
        const w = window as unknown as { minerBench?: unknown; minerBenchError?: unknown };
        return w.minerBench !== undefined || w.minerBenchError !== undefined;
      }, { timeout: 300_000, polling: 500 });
      const { result, error } = await page.evaluate(() => {
        const w = window as unknown as { minerBench?: unknown; minerBenchError?: string };
        return { result: w.minerBench, error: w.minerBenchError };
      });
      if (error) throw new Error(`firefox bench failed: ${error}`);
      const r = result as PageResult;
      const version = /Firefox\/([\d.]+)/.exec(r.userAgent)?.[1] ?? '?';
      ctx.log(`firefox ${version}, ${r.cores} cores, pool transports ${r.pool.map((p) => p.transports.join('+')).join(', ')}`);
      const get = (n: string) => r.results.find((x) => x.name === n)!.mhs;
      const rows = BENCH_KERNELS.map((k) => row(`${LABEL[k]} (Firefox)`, get(k), 'MH/s', `Web Worker, Firefox ${version}`));
      rows.push(row('pool 1 worker total (Firefox)', get('pool-1'), 'MH/s', 'MinerPool, Web Workers, wasm-simd'));
      rows.push(row('pool 2 workers total (Firefox)', get('pool-2'), 'MH/s', `per worker (moving avg): ${r.pool[1].perWorker.map((x) => x.toFixed(2)).join(', ')}`));
      rows.push(row('pool 2 / pool 1 (Firefox)', get('pool-2') / get('pool-1'), '×'));
      const chromiumSimd = chromium.find((x) => x.name === 'wasm-simd (Chromium)')?.value;
      if (chromiumSimd) rows.push(row('wasm-simd Firefox / Chromium', get('wasm-simd') / chromiumSimd, '×', 'one Web Worker each, same run'));
      return rows;
    } finally {
      await browser.close();
    }
  });
}

export default async function minerBench(ctx: BenchContext): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  ctx.log(`load average before: ${loadavg().map((x) => x.toFixed(2)).join(' ')} (other processes on this machine lower every figure)`);
  const nodeSha256d = (b: Uint8Array) => createHash('sha256').update(createHash('sha256').update(b).digest()).digest();
  const mhs: Record<string, number> = {};
  for (const kind of [...BENCH_KERNELS, 'node:crypto'] as const) {
    mhs[kind] = measure(await makeHasher(kind, { nodeSha256d }), warmMs, measureMs);
    rows.push(row(`${LABEL[kind]} (Node)`, mhs[kind], 'MH/s', 'one thread'));
    ctx.log(`${kind}: ${mhs[kind].toFixed(2)} MH/s`);
  }
  const pool1 = (await measurePool(1, warmMs, measureMs)).total;
  const pool2 = (await measurePool(2, warmMs, measureMs)).total;
  rows.push(row('pool 1 worker total (Node)', pool1, 'MH/s', 'MinerPool, worker_threads, wasm-simd'));
  rows.push(row('pool 2 workers total (Node)', pool2, 'MH/s', 'MinerPool, worker_threads, wasm-simd'));
  rows.push(row('wasm-simd / noble (Node)', mhs['wasm-simd'] / mhs.noble, '×'));
  rows.push(row('pool 2 / pool 1 (Node)', pool2 / pool1, '×'));
  const chromium = process.env.MINER_BENCH_CHROMIUM !== '0' ? await chromiumRows(ctx) : [];
  rows.push(...chromium);
  if (process.env.MINER_BENCH_FIREFOX !== '0') rows.push(...(await firefoxRows(ctx, chromium)));
  ctx.log(`load average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  return rows;
}
