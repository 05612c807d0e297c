/**
 * The one table of headline figures that `npm run bench` ends with (and writes to
 * bench/results/SUMMARY.md): the rows the benches already produce, picked by suite and name. Runs
 * of a subset (`npm run bench -- sync`) measure only some rows, so the table takes each headline
 * from the newest run that measured it (every bench/results/<timestamp>.json), and says which run
 * that was; a headline no run measured is listed as such.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchRow } from './run.ts';

/** A saved run (bench/results/<timestamp>.json, as run.ts writes it). */
export interface BenchRun {
  at: string;
  node?: string;
  cpus?: number;
  cpu?: string;
  /** The machine's 1-minute load average when the run ended. */
  load?: number;
  rows: BenchRow[];
}

/** One headline: a label and the suite/name of the row that holds it. */
interface Headline {
  label: string;
  suite: string;
  name: RegExp;
}

const h = (label: string, suite: string, name: RegExp): Headline => ({ label, suite, name });

/** The headlines, in the order (issue 16 item 5). */
export const HEADLINES: Headline[] = [
  ...['wasm-simd', 'wasm', 'js', 'noble'].flatMap((k) => [
    h(`hashrate, ${k} kernel (Node, one thread)`, 'miner', new RegExp(`^${k} \\(Node\\)$`)),
    h(`hashrate, ${k} kernel (Chromium worker)`, 'miner', new RegExp(`^${k} \\(Chromium\\)$`)),
  ]),
  h('hashrate, pool of 1 worker (Node)', 'miner', /^pool 1 worker total \(Node\)$/),
  h('hashrate, pool of 2 workers (Node)', 'miner', /^pool 2 workers total \(Node\)$/),
  h('hashrate, pool of 2 workers (Chromium)', 'miner', /^pool 2 workers total \(Chromium\)$/),
  h('wasm-simd / @noble/hashes (Node)', 'miner', /^wasm-simd \/ noble \(Node\)$/),
  h('wasm-simd / @noble/hashes (Chromium)', 'miner', /^wasm-simd \/ noble \(Chromium\)$/),
  h('pool 2 / pool 1 workers (Chromium)', 'miner', /^pool 2 \/ pool 1 \(Chromium\)$/),
  // Issue 17: Firefox ESR beside Chromium, measured in the same run.
  h('hashrate, wasm-simd kernel (Firefox worker)', 'miner', /^wasm-simd \(Firefox\)$/),
  h('hashrate, pool of 2 workers (Firefox)', 'miner', /^pool 2 workers total \(Firefox\)$/),
  h('wasm-simd worker, Firefox / Chromium', 'miner', /^wasm-simd Firefox \/ Chromium$/),
  h('block validation, cold, native pool (Node)', 'chain', /^block validation cold, native pool \(Node\)$/),
  h('block validation, cold, native pool (Chromium)', 'chain-browser', /^block validation cold, native pool \(Chromium\)$/),
  h('IndexedDB connect, coinbase-only blocks (Chromium)', 'storage-browser', /^connect coinbase-only blocks, /),
  h('IndexedDB connect, runs of 128 (Chromium)', 'storage-browser', /^connect coinbase-only blocks in runs of 128, /),
  h('IndexedDB reopen, 10,000 blocks (Chromium)', 'storage-browser', /^reopen .*\(median of 3\)$/),
  h('LevelDB reopen, 10,000 blocks (Node)', 'node', /^reopen .*LevelStore$/),
  h('sync 10,000 blocks, Node ↔ Node, 1 peer', 'p2p', /^sync 10000 blocks from 1 peer$/),
  h('sync 10,000 blocks, Node ↔ Node, 2 peers', 'p2p', /^sync 10000 blocks from 2 peers$/),
  h('sync, tab → tab over WebRTC', 'p2p-browser', /^sync \d+ blocks tab → tab over WebRTC$/),
  h('sync, blocks of 50 transfers, tab → tab over WebRTC', 'p2p-browser', /^sync \d+ blocks of 50 transfers tab → tab over WebRTC \(txs\)$/),
  h('block propagation p95, tabs over WebRTC', 'p2p-browser', /^block propagation p95/),
  h('page load → first WebRTC peer (median)', 'p2p-browser', /^page load → first WebRTC peer \(median/),
  h('page load → synced, 1,000 blocks (median)', 'p2p-browser', /^page load → synced, 1000-block network, median/),
  h('page load → synced, 1,000 blocks, 2 tabs mining (median)', 'p2p-browser', /^page load → synced, 1000-block network, 2 tabs mining, median/),
  h('initial JS (gzip)', 'app', /^initial JS \(gzip\)$/),
  h('service worker precache (gzip)', 'app', /^service worker precache \(gzip\)$/),
  h('simulation: wall time', 'sim', /^wall time, \d+ nodes$/),
  h('simulation: block propagation p50', 'sim', /^propagation p50, \d+ nodes$/),
  h('simulation: block propagation p95', 'sim', /^propagation p95, \d+ nodes$/),
  h('simulation: block propagation p99', 'sim', /^propagation p99, \d+ nodes$/),
  h('simulation: stale block rate', 'sim', /^stale rate, \d+ nodes$/),
  h('simulation: convergence after a partition heals', 'sim', /^convergence after heal, \d+ nodes$/),
  h('simulation: bytes sent per node per block', 'sim', /^bytes per node per block, \d+ nodes$/),
];

/** Every saved run in `dir`, oldest first (latest.json, a copy, and sim-*.json are not runs). */
export async function loadRuns(dir: string): Promise<BenchRun[]> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => /^\d{4}-\d\d-\d\dT[\d-]+Z\.json$/.test(f)).sort();
  } catch {
    return [];
  }
  const runs: BenchRun[] = [];
  for (const f of files) {
    try {
      const run = JSON.parse(await readFile(join(dir, f), 'utf8')) as BenchRun;
      if (typeof run.at === 'string' && Array.isArray(run.rows)) runs.push(run);
    } catch {
      // a half-written or foreign file: not a run
    }
  }
  return runs;
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return '—';
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

/**
 * The markdown table: each headline from the newest run that has it, then the runs it came from
 * (machine, time, load).
 * @example summaryTable(await loadRuns('bench/results'))
 */
export function summaryTable(runs: BenchRun[]): string {
  const used: BenchRun[] = [];
  const lines = ['| figure | value | unit | target | row | run |', '|---|---|---|---|---|---|'];
  for (const hl of HEADLINES) {
    let found: { row: BenchRow; run: BenchRun } | undefined;
    for (let i = runs.length - 1; i >= 0 && !found; i--) {
      const row = runs[i].rows.find((r) => r.suite === hl.suite && hl.name.test(r.name));
      if (row) found = { row, run: runs[i] };
    }
    if (!found) {
      lines.push(`| ${hl.label} | not measured | | | | |`);
      continue;
    }
    if (!used.includes(found.run)) used.push(found.run);
    const { row, run } = found;
    lines.push(`| ${hl.label} | ${fmt(row.value)} | ${row.unit} | ${row.target ?? ''} | ${row.suite}: ${row.name} | ${String.fromCharCode(65 + used.indexOf(run))} |`);
  }
  lines.push('', 'Runs:');
  used.forEach((run, i) => {
    const load = run.load === undefined ? '' : `, load ${run.load.toFixed(2)}`;
    lines.push(`- ${String.fromCharCode(65 + i)}: ${run.at}, ${run.cpus ?? '?'} × ${run.cpu ?? '?'}, Node ${run.node ?? '?'}${load}`);
  });
  return lines.join('\n') + '\n';
}
