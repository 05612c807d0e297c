/**
 * `npm run sim -- --nodes 200 [options]`: runs sim-network.ts once, prints its figures and
 * writes them to bench/results/sim-<nodes>.json. Options: docs/SIMULATION.md, or `--help`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_SIM_OPTIONS, describeViews, runSim, type SimOptions, type SimResult } from './sim-network.ts';

const USAGE = `npm run sim -- [options]
  --nodes N         nodes (default ${DEFAULT_SIM_OPTIONS.nodes})
  --degree D        peers each node dials at start and wants connected (default ${DEFAULT_SIM_OPTIONS.degree})
  --latency MS      one-way latency of every link (default ${DEFAULT_SIM_OPTIONS.latencyMs})
  --jitter MS       extra delay per chunk, uniform in [0, MS) (default ${DEFAULT_SIM_OPTIONS.jitterMs})
  --loss P          fraction of chunks lost and retransmitted (default ${DEFAULT_SIM_OPTIONS.loss})
  --partition S     split into two halves a third of the way in, for S seconds and until each half
                    has mined a block, then heal (default 0: none)
  --blocks N        blocks to mine (default ${DEFAULT_SIM_OPTIONS.blocks})
  --duration S      instead of --blocks: mine for about S seconds (blocks = S / mean interval)
  --hashrate H      total hashrate, H/s (default ${DEFAULT_SIM_OPTIONS.hashrate.toExponential(3)}: one block per 4 s)
  --block-work W    expected hashes per block (default ${DEFAULT_SIM_OPTIONS.blockWork.toExponential(3)}, main's genesis difficulty)
  --discovery MS    discovery announcement period per node, 0 = no announcements (default ${DEFAULT_SIM_OPTIONS.discoveryMs})
  --join-rate R     nodes joining per second at start (default ${DEFAULT_SIM_OPTIONS.joinRate})
  --seed N          topology, hashrate shares, block times and miners (default ${DEFAULT_SIM_OPTIONS.seed})
  --out FILE        result file (default bench/results/sim-<nodes>.json)`;

/** A number option: finite, within [min, max]. */
function num(v: string | undefined, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isFinite(x) || x < min || x > max) throw new RangeError(`--${name}: expected a number in [${min}, ${max}], got ${JSON.stringify(v)}`);
  return x;
}

/**
 * Parses the command line into simulation options.
 * @example parseSimArgs(['--nodes', '200', '--latency', '80'])
 */
export function parseSimArgs(argv: string[]): { opts: Partial<SimOptions>; out?: string; help: boolean } {
  const names = ['nodes', 'degree', 'latency', 'jitter', 'loss', 'partition', 'blocks', 'duration', 'hashrate', 'block-work', 'discovery', 'join-rate', 'seed', 'out'];
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: { help: { type: 'boolean', short: 'h' }, ...Object.fromEntries(names.map((k) => [k, { type: 'string' as const }])) },
  });
  const help = values.help === true;
  const s = values as Record<string, string | undefined>;
  const opts: Partial<SimOptions> = {};
  const set = <K extends keyof SimOptions>(k: K, x: SimOptions[K] | undefined) => {
    if (x !== undefined) opts[k] = x;
  };
  set('nodes', num(s.nodes, 'nodes', 2, 5000));
  set('degree', num(s.degree, 'degree', 1, 60));
  set('latencyMs', num(s.latency, 'latency', 0, 10_000));
  set('jitterMs', num(s.jitter, 'jitter', 0, 10_000));
  set('loss', num(s.loss, 'loss', 0, 0.5));
  set('partitionS', num(s.partition, 'partition', 0, 3600));
  set('blocks', num(s.blocks, 'blocks', 1, 100_000));
  set('hashrate', num(s.hashrate, 'hashrate', 1e-6, 1e18));
  set('blockWork', num(s['block-work'], 'block-work', 1, 1e30));
  set('discoveryMs', num(s.discovery, 'discovery', 0, 3_600_000));
  if (opts.discoveryMs !== undefined && opts.discoveryMs > 0 && opts.discoveryMs < 1000) throw new RangeError('--discovery: 0 or at least 1000 ms');
  set('joinRate', num(s['join-rate'], 'join-rate', 0.1, 10_000));
  set('seed', num(s.seed, 'seed', 0, 2 ** 32 - 1));
  for (const k of ['nodes', 'degree', 'blocks', 'seed'] as const) {
    if (opts[k] !== undefined && !Number.isInteger(opts[k])) throw new RangeError(`--${k}: expected an integer`);
  }
  const duration = num(s.duration, 'duration', 1, 86_400);
  if (duration !== undefined) {
    if (opts.blocks !== undefined) throw new RangeError('--blocks and --duration exclude each other');
    const interval = (opts.blockWork ?? DEFAULT_SIM_OPTIONS.blockWork) / (opts.hashrate ?? DEFAULT_SIM_OPTIONS.hashrate);
    opts.blocks = Math.max(1, Math.round(duration / interval));
  }
  return { opts, out: s.out, help };
}

const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '—');

/** The figures as printed lines. */
export function describeSim(r: SimResult): string[] {
  const o = r.options;
  return [
    `nodes ${o.nodes}, degree ${o.degree}, latency ${o.latencyMs}±${o.jitterMs} ms, loss ${o.loss}, partition ${o.partitionS} s, seed ${o.seed}`,
    `blocks mined ${r.blocksMined} (mean interval ${r.meanIntervalS.toFixed(2)} s${r.settleBlocks ? `; ${r.settleBlocks} after the planned ones to settle a fork` : ''}), final height ${r.finalHeight}, all on one tip: ${r.converged ? 'yes' : 'NO'}`,
    `propagation p50 ${f1(r.propagationMs.p50)} ms, p95 ${f1(r.propagationMs.p95)} ms, p99 ${f1(r.propagationMs.p99)} ms, max ${f1(r.propagationMs.max)} ms (${r.propagationMs.count} arrivals, ${(r.propagationCoverage * 100).toFixed(1)}% of final-chain pairs${r.missedBlocks.length ? `; ${r.missedBlocks.length} blocks missed some nodes, ${r.missedBlocks.filter((m) => m.stale).length} of them stale` : ''})`,
    `stale blocks ${r.staleBlocks} of ${r.blocksMined} (${(r.staleRate * 100).toFixed(1)}%)`,
    `convergence after heal: ${r.convergenceMs === undefined ? (o.partitionS > 0 ? 'NOT converged' : 'no partition') : `${f1(r.convergenceMs)} ms`}`,
    `bytes sent per node per block ${f1(r.bytesPerNodePerBlock)} (all traffic), ${f1(r.blockBytesPerNodePerBlock)} less background (${f1(r.idleBytesPerNodePerS)} B/s per node when idle); peers per node ${r.peersMean.toFixed(1)} mean, ${r.peersMax} max`,
    ...(r.notConverged ? ['NOT converged; tips and peers per node:', ...describeViews(r.notConverged)] : []),
    `wall ${(r.wallMs.total / 1000).toFixed(1)} s (setup ${(r.wallMs.setup / 1000).toFixed(1)}, mining ${(r.wallMs.mining / 1000).toFixed(1)}, teardown ${(r.wallMs.teardown / 1000).toFixed(1)}); CPU ${r.cpuS.toFixed(1)} s; load ${r.loadAvg.start.map((x) => x.toFixed(2)).join(' ')} → ${r.loadAvg.end.map((x) => x.toFixed(2)).join(' ')} on ${r.machine.cpus} × ${r.machine.cpu ?? '?'}`,
  ];
}

/** Where the sim's results go (bench/results/). */
export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');

async function main(): Promise<void> {
  const { opts, out, help } = parseSimArgs(process.argv.slice(2));
  if (help) {
    console.log(USAGE);
    return;
  }
  const r = await runSim({ ...opts, log: (m) => console.error(m) });
  for (const line of describeSim(r)) console.log(line);
  const file = out ?? join(RESULTS_DIR, `sim-${r.options.nodes}.json`);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify({ at: new Date().toISOString(), ...r }, null, 2));
  console.error(`wrote ${file}`);
  // Lingering libp2p timers must not keep a finished run alive.
  process.exit(r.converged ? 0 : 1);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
