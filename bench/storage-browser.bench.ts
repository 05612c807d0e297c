/**
 * Storage benchmark in a real browser (`npm run bench storage-browser`, suite 'storage-browser'):
 * FullNode over IdbStore on headless Chromium's own IndexedDB — not fake-indexeddb — with the
 * workloads of bench/node.bench.ts ('test' network, injected clock):
 * - connect throughput through FullNode.processBlock: coinbase-only blocks (blocks/s), blocks of
 *   50 signed transfers (blocks/s, txs/s);
 * - a reorg of depth 100 (one processBlock), ms;
 * - reopen of a 10,000-block chain through FullNode.start() (target ≤ 1 s in Chromium), in the
 *   session that wrote it and again after a browser restart, with a breakdown (store.open() and
 *   its raw IndexedDB reads, HeaderIndex.load, ChainState).
 *
 * Chromium runs on a persistent on-disk profile in tmpdir (playwright's default contexts are
 * off-the-record, where Chromium keeps IndexedDB in memory — not what a user's tab has). The page
 * (bench/storage-page/) is built with vite into tmpdir and served on 127.0.0.1 (bench/browser-page.ts).
 *
 * Env: STORAGE_BENCH_LONG (reopen chain length, default 10000), STORAGE_BENCH_EMPTY (coinbase-only
 * blocks, default 300), STORAGE_BENCH_FULL (50-transfer blocks, default 30).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchContext, BenchRow } from './run.ts';
import { launchSession, pageResult, withBuiltPage } from './browser-page.ts';
import type { PageRow } from './storage-page/main.ts';

const here = dirname(fileURLToPath(import.meta.url));
const LONG = Number(process.env.STORAGE_BENCH_LONG ?? 10_000);
const EMPTY = Number(process.env.STORAGE_BENCH_EMPTY ?? 300);
const FULL = Number(process.env.STORAGE_BENCH_FULL ?? 30);

interface PageResult {
  rows: PageRow[];
  userAgent: string;
  cores: number;
  storage: { usage?: number; quota?: number };
}

function toRow(r: PageRow): BenchRow {
  const target = /^reopen .*FullNode\.start\(\)/.test(r.name) ? '<= 1000' : undefined;
  return { suite: 'storage-browser', name: r.name, value: r.value, unit: r.unit, target, note: r.note };
}

/** One visit of the page in a browser launched on `profileDir`; the browser is closed afterwards. */
async function visit(ctx: BenchContext, url: string, profileDir: string): Promise<PageResult> {
  const chromium = await launchSession({ userDataDir: profileDir });
  try {
    const page = await chromium.newPage();
    page.on('pageerror', (err) => ctx.log(`chromium page error: ${err.message}`));
    page.on('console', (m) => {
      if (m.text().startsWith('[storage-bench]')) ctx.log(m.text().slice(16));
    });
    const r = await pageResult<PageResult>(page, url, 'storageBench', 900_000);
    const version = /Chrome\/([\d.]+)/.exec(r.userAgent)?.[1] ?? '?';
    ctx.log(`chromium ${version}, ${r.cores} cores, origin usage ${((r.storage.usage ?? 0) / 1e6).toFixed(1)} MB`);
    return r;
  } finally {
    await chromium.close();
  }
}

export default async function storageBrowserBench(ctx: BenchContext): Promise<BenchRow[]> {
  ctx.log(`load average before: ${loadavg().map((x) => x.toFixed(2)).join(' ')} (other processes on this machine lower every figure)`);
  const profileDir = await mkdtemp(join(tmpdir(), 'tabchain-storage-bench-profile-'));
  try {
    const rows = await withBuiltPage({ root: join(here, 'storage-page'), tmpPrefix: 'tabchain-storage-bench-' }, async (base) => {
      const sizes = `long=${LONG}&empty=${EMPTY}&full=${FULL}`;
      const session = await visit(ctx, `${base}index.html?phase=session&${sizes}`, profileDir);
      // Same origin and profile, new browser process: the reopen a user sees after a restart.
      const restarted = await visit(ctx, `${base}index.html?phase=reopen&${sizes}`, profileDir);
      const version = /Chrome\/([\d.]+)/.exec(session.userAgent)?.[1] ?? '?';
      const out = [...session.rows, ...restarted.rows].map(toRow);
      for (const r of out) if (!r.name.startsWith('reopen breakdown')) r.note = r.note ? `${r.note}; Chromium ${version}` : `Chromium ${version}`;
      return out;
    });
    ctx.log(`load average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    return rows;
  } finally {
    await rm(profileDir, { recursive: true, force: true });
  }
}
