/**
 * The headline table of `npm run bench` (bench/summary.ts): each figure from the newest run that
 * measured it, the run named; figures no run measured are said to be missing; files in
 * bench/results that are not runs are skipped.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HEADLINES, loadRuns, summaryTable, type BenchRun } from '../../bench/summary.ts';

const run = (at: string, rows: BenchRun['rows']): BenchRun => ({ at, node: 'v22', cpus: 2, cpu: 'CPU', load: 1.5, rows });

describe('bench summary', () => {
  it('takes each headline from the newest run that has it and names that run', () => {
    const old = run('2026-01-01T00:00:00.000Z', [
      { suite: 'miner', name: 'wasm-simd (Node)', value: 4, unit: 'MH/s' },
      { suite: 'p2p', name: 'sync 10000 blocks from 1 peer', value: 2500, unit: 'blocks/s' },
    ]);
    const fresh = run('2026-02-01T00:00:00.000Z', [
      { suite: 'miner', name: 'wasm-simd (Node)', value: 6, unit: 'MH/s', target: '>= 5' },
      { suite: 'sim', name: 'propagation p95, 200 nodes', value: 480, unit: 'ms' },
    ]);
    const table = summaryTable([old, fresh]);
    const line = (label: string) => table.split('\n').find((l) => l.startsWith(`| ${label} |`));
    expect(line('hashrate, wasm-simd kernel (Node, one thread)')).toBe('| hashrate, wasm-simd kernel (Node, one thread) | 6.00 | MH/s | >= 5 | miner: wasm-simd (Node) | A |');
    expect(line('sync 10,000 blocks, Node ↔ Node, 1 peer')).toContain('| 2500 | blocks/s |');
    expect(line('sync 10,000 blocks, Node ↔ Node, 1 peer')).toMatch(/\| B \|$/);
    expect(line('simulation: block propagation p95')).toContain('| 480 | ms |');
    expect(line('page load → first WebRTC peer (median)')).toBe('| page load → first WebRTC peer (median) | not measured | | | | |');
    expect(table).toContain('- A: 2026-02-01T00:00:00.000Z, 2 × CPU, Node v22, load 1.50');
    expect(table).toContain('- B: 2026-01-01T00:00:00.000Z');
    expect(table.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| figure')).length).toBe(HEADLINES.length);
  });

  it('reads only run files, oldest first, and skips broken ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-summary-'));
    try {
      writeFileSync(join(dir, '2026-02-01T00-00-00-000Z.json'), JSON.stringify(run('b', [])));
      writeFileSync(join(dir, '2026-01-01T00-00-00-000Z.json'), JSON.stringify(run('a', [])));
      writeFileSync(join(dir, '2026-03-01T00-00-00-000Z.json'), '{"at": "c", "rows": [');
      writeFileSync(join(dir, 'latest.json'), JSON.stringify(run('latest', [])));
      writeFileSync(join(dir, 'sim-200.json'), JSON.stringify({ at: 'sim' }));
      expect((await loadRuns(dir)).map((r) => r.at)).toEqual(['a', 'b']);
      expect(await loadRuns(join(dir, 'missing'))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
