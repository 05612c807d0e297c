/**
 * The simulation (suite 'sim'; bench/sim/, docs/SIMULATION.md): 100 real nodes in one process
 * over the in-memory wire (50 ms ± 20 ms links), 30 blocks at one per 4 s on average, a 10 s
 * partition a third of the way in. Rows: wall time, block propagation p50/p95/p99, stale rate,
 * convergence after the heal, bytes per node per block. `SIM_BENCH_NODES` changes the size.
 */
import { runSim } from './sim/sim-network.ts';
import type { BenchContext, BenchRow } from './run.ts';

const NODES = Number(process.env.SIM_BENCH_NODES ?? 100);

export default async function (ctx: BenchContext): Promise<BenchRow[]> {
  const r = await runSim({ nodes: NODES, partitionS: 10, log: (m) => ctx.log(m) });
  const o = r.options;
  const note = `${o.nodes} nodes, degree ${o.degree}, ${o.latencyMs}±${o.jitterMs} ms, ${r.blocksMined} blocks, mean interval ${r.meanIntervalS} s; load ${r.loadAvg.start[0].toFixed(2)} → ${r.loadAvg.end[0].toFixed(2)}`;
  const row = (name: string, value: number, unit: string, extra?: string, target?: string): BenchRow => ({ suite: 'sim', name: `${name}, ${o.nodes} nodes`, value, unit, note: extra ?? note, ...(target ? { target } : {}) });
  return [
    row('wall time', r.wallMs.total / 1000, 's', `setup ${(r.wallMs.setup / 1000).toFixed(0)} s, mining ${(r.wallMs.mining / 1000).toFixed(0)} s; CPU ${r.cpuS.toFixed(0)} s`, o.nodes === 200 ? '< 300' : undefined),
    row('propagation p50', r.propagationMs.p50, 'ms'),
    row('propagation p95', r.propagationMs.p95, 'ms', `${r.propagationMs.count} arrivals, ${(r.propagationCoverage * 100).toFixed(1)}% of final-chain pairs`),
    row('propagation p99', r.propagationMs.p99, 'ms'),
    row('stale rate', r.staleRate * 100, '%', `${r.staleBlocks} of ${r.blocksMined} blocks`),
    row('convergence after heal', r.convergenceMs ?? NaN, 'ms', r.converged ? `${r.tipsAtHeal} tips at the heal` : 'NOT converged'),
    row('bytes per node per block', r.bytesPerNodePerBlock, 'B', `${r.blockBytesPerNodePerBlock.toFixed(0)} B less background (${r.idleBytesPerNodePerS.toFixed(0)} B/s per node idle)`),
  ];
}
