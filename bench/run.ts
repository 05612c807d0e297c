/**
 * `npm run bench`: runs every bench/*.bench.ts (or those named on the command line), prints one
 * table and writes the rows as JSON to bench/results/<timestamp>.json and bench/results/latest.json,
 * then ends with the table of headline figures (summary.ts), each from the newest run that
 * measured it, also written to bench/results/SUMMARY.md.
 *
 * A bench module default-exports `async (ctx) => BenchRow[]`. Timing lives here, never in tests.
 */
import { readdir, mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import os from 'node:os';
import { loadRuns, summaryTable } from './summary.ts';

export interface BenchRow {
  suite: string; // e.g. 'chain', 'miner'
  name: string; // what was measured
  value: number;
  unit: string; // e.g. 'MH/s', 'ops/s', 'ms'
  target?: string; // the goal, if the issue states one, e.g. '>= 5'
  note?: string;
}

export interface BenchContext {
  /** Repeats `fn` until `minMs` have passed; returns operations per second. */
  rate(fn: () => void, opsPerCall?: number, minMs?: number): number;
  /** {@link rate} for asynchronous work: awaits each call before the next. */
  rateAsync(fn: () => Promise<void>, opsPerCall?: number, minMs?: number): Promise<number>;
  log(msg: string): void;
}

const here = dirname(fileURLToPath(import.meta.url));

const ctx: BenchContext = {
  rate(fn, opsPerCall = 1, minMs = 1000) {
    fn(); // warm up
    let calls = 0;
    const start = performance.now();
    let elapsed = 0;
    do {
      fn();
      calls++;
      elapsed = performance.now() - start;
    } while (elapsed < minMs);
    return (calls * opsPerCall) / (elapsed / 1000);
  },
  async rateAsync(fn, opsPerCall = 1, minMs = 1000) {
    await fn(); // warm up
    let calls = 0;
    const start = performance.now();
    let elapsed = 0;
    do {
      await fn();
      calls++;
      elapsed = performance.now() - start;
    } while (elapsed < minMs);
    return (calls * opsPerCall) / (elapsed / 1000);
  },
  log: (msg) => console.error(`  ${msg}`),
};

function fmt(v: number): string {
  if (v >= 100) return v.toFixed(0);
  if (v >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

async function main() {
  const only = process.argv.slice(2);
  const files = (await readdir(here)).filter((f) => f.endsWith('.bench.ts')).sort();
  const selected = only.length ? files.filter((f) => only.some((o) => f.includes(o))) : files;
  const rows: BenchRow[] = [];
  for (const file of selected) {
    console.error(`bench ${file} …`);
    const mod = (await import(pathToFileURL(join(here, file)).href)) as { default: (c: BenchContext) => Promise<BenchRow[]> };
    rows.push(...(await mod.default(ctx)));
  }
  const header = ['suite', 'name', 'value', 'unit', 'target', 'note'];
  const table = rows.map((r) => [r.suite, r.name, fmt(r.value), r.unit, r.target ?? '', r.note ?? '']);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  console.log(line(header));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const t of table) console.log(line(t));
  const out = join(here, 'results');
  await mkdir(out, { recursive: true });
  const json = JSON.stringify({ at: new Date().toISOString(), node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model, load: os.loadavg()[0], rows }, null, 2);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  await writeFile(join(out, `${stamp}.json`), json);
  await writeFile(join(out, 'latest.json'), json);
  console.error(`wrote bench/results/latest.json`);
  const summary = `# Headline figures\n\n${summaryTable(await loadRuns(out))}`;
  await writeFile(join(out, 'SUMMARY.md'), summary);
  console.log(`\n${summary}`);
  console.error('wrote bench/results/SUMMARY.md');
}

await main();
