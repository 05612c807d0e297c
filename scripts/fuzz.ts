/**
 * `npm run fuzz`: every fuzz target in test/fuzz with FUZZ_RUNS inputs each (default 100,000)
 * under one seed — FUZZ_SEED if given, else a fresh one, printed first — then a table
 * target → inputs → time → how the inputs ended.
 *
 * The targets are the same vitest tests `npm test` runs with a sample of 1,000 inputs under a
 * fixed seed (test/fuzz/harness.ts); this script only scales them up and tabulates the records
 * they append to FUZZ_REPORT. Arguments after `--` go to vitest, e.g.
 * `npm run fuzz -- -t decodeTx` or `FUZZ_SEED=123 npm run fuzz -- test/fuzz/codec.fuzz.test.ts`.
 * A failure prints fast-check's counterexample with its seed and path; replay it with
 * `FUZZ_SEED=<seed> FUZZ_PATH=<path> npx vitest run test/fuzz -t '<target>'`.
 * @module
 */
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FuzzRecord } from '../test/fuzz/harness.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_RUNS = 100_000;

function intFromEnv(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new Error(`${name} must be an integer, got ${JSON.stringify(raw)}`);
  return n;
}

function fmtMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(0)} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** The most frequent outcomes as "name 12%", at most `n` of them. */
function fmtOutcomes(outcomes: Record<string, number>, inputs: number, n = 6): string {
  const sorted = Object.entries(outcomes).sort((a, b) => b[1] - a[1]);
  const pct = (c: number) => (c * 100 >= inputs ? `${Math.round((c * 100) / inputs)}%` : `${c}`);
  const shown = sorted.slice(0, n).map(([k, c]) => `${k} ${pct(c)}`);
  if (sorted.length > n) shown.push(`+${sorted.length - n} more`);
  return shown.join(', ');
}

function table(records: FuzzRecord[]): string {
  const header = ['file', 'target', 'inputs', 'time', 'inputs/s', 'outcomes'];
  const rows = records.map((r) => [r.file, r.target, r.inputs.toLocaleString('en'), fmtMs(r.ms), Math.round(r.inputs / (r.ms / 1000)).toLocaleString('en'), fmtOutcomes(r.outcomes, r.inputs)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => (i === 2 || i === 3 || i === 4 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ') + ' |';
  return [line(header), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...rows.map(line)].join('\n');
}

async function main(): Promise<number> {
  const runs = intFromEnv('FUZZ_RUNS') ?? DEFAULT_RUNS;
  const seed = intFromEnv('FUZZ_SEED') ?? randomInt(1, 2 ** 31 - 1);
  const dir = mkdtempSync(join(tmpdir(), 'tabchain-fuzz-'));
  const report = process.env.FUZZ_REPORT || join(dir, 'report.jsonl');
  console.log(`fuzz: ${runs.toLocaleString('en')} inputs per target, FUZZ_SEED=${seed}`);
  const vitest = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');
  const args = process.argv.slice(2);
  const start = performance.now();
  const code = await new Promise<number>((resolve) => {
    // testTimeout 0: a target's time grows with FUZZ_RUNS; each async input has its own hang limit.
    const child = spawn(process.execPath, [vitest, 'run', ...(args.some((a) => a.startsWith('test/')) ? [] : ['test/fuzz']), '--testTimeout=0', ...args], {
      cwd: ROOT,
      stdio: 'inherit',
      env: { ...process.env, FUZZ_RUNS: String(runs), FUZZ_SEED: String(seed), FUZZ_REPORT: report },
    });
    child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
  });
  const wall = performance.now() - start;
  let records: FuzzRecord[] = [];
  try {
    records = readFileSync(report, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as FuzzRecord)
      .sort((a, b) => a.file.localeCompare(b.file));
  } catch {
    // no target finished
  }
  if (!process.env.FUZZ_REPORT) rmSync(dir, { recursive: true, force: true });
  console.log(`\n${table(records)}`);
  const inputs = records.reduce((n, r) => n + r.inputs, 0);
  console.log(`\n${records.length} targets passed, ${inputs.toLocaleString('en')} inputs, ${fmtMs(wall)} wall clock, FUZZ_SEED=${seed}${code === 0 ? '' : ' — FAILED (see above)'}`);
  return code;
}

process.exitCode = await main();
