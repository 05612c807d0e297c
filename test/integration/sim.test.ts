/**
 * The simulation (bench/sim/, `npm run sim`) at test size: 16 real nodes over the in-memory wire,
 * split into two halves that both mine, then healed — every node must end on one tip, and every
 * figure the simulation reports must be computed from what happened. Correctness only: no
 * timing is asserted (the figures themselves are bench/ material).
 */
import { describe, expect, it } from 'vitest';
import { parseSimArgs } from '../../bench/sim/main.ts';
import { seededRandom } from '../../bench/sim/seeded-random.ts';
import { describeViews, percentiles, runSim } from '../../bench/sim/sim-network.ts';
import { FAST_TIMING } from './helpers/net-nodes.ts';

describe('simulation', () => {
  it('16 nodes split in two, both halves mine, the heal brings every node to one tip', async () => {
    const r = await runSim({
      nodes: 16,
      degree: 4,
      blocks: 18,
      // ~0.8 s between blocks: several blocks on each side of a 5 s split.
      blockWork: 1000,
      hashrate: 1250,
      latencyMs: 10,
      jitterMs: 10,
      loss: 0.01,
      partitionS: 5,
      seed: 7,
      discoveryMs: 5000,
      settleTimeoutMs: 60_000,
      // The extra peer every 2 s (60 s in production): after the split each half refills its
      // slots from its own side, and only the extra peer dials across once the heal comes.
      timing: { ...FAST_TIMING, extraPeerEveryMs: 2000 },
    });
    expect(r.converged, ['not converged; tips and peers per node:', ...describeViews(r.notConverged ?? [])].join('\n')).toBe(true);
    expect(r.notConverged).toBeUndefined();
    // The split happened: the halves were on different tips when it healed, and one side's blocks lost.
    expect(r.tipsAtHeal).toBeGreaterThanOrEqual(2);
    expect(r.convergenceMs).toBeGreaterThan(0);
    expect(r.staleBlocks).toBeGreaterThan(0);
    expect(r.blocksMined).toBeGreaterThanOrEqual(18);
    expect(r.staleRate).toBeCloseTo(r.staleBlocks / r.blocksMined);
    expect(r.finalHeight).toBe(r.blocksMined - r.staleBlocks);
    // Propagation: blocks mined while whole reached the other nodes.
    expect(r.propagationMs.count).toBeGreaterThan(0);
    expect(r.propagationCoverage, `blocks that missed nodes: ${JSON.stringify(r.missedBlocks)}; timeline ${JSON.stringify(r.timeline)}; load ${r.loadAvg.start[0]} → ${r.loadAvg.end[0]}`).toBeGreaterThan(0.9);
    expect(r.propagationMs.p50).toBeGreaterThan(0);
    expect(r.propagationMs.p50).toBeLessThanOrEqual(r.propagationMs.p95);
    expect(r.propagationMs.p95).toBeLessThanOrEqual(r.propagationMs.p99);
    expect(r.bytesPerNodePerBlock).toBeGreaterThan(0);
    expect(r.blockBytesPerNodePerBlock).toBeLessThanOrEqual(r.bytesPerNodePerBlock);
    expect(r.peersMean).toBeGreaterThanOrEqual(4);
  }, 180_000);

  it('percentiles by nearest rank, seeded randomness repeats', () => {
    const v = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentiles(v)).toEqual({ p50: 50, p95: 95, p99: 99, max: 100, count: 100 });
    expect(percentiles([]).count).toBe(0);
    const a = seededRandom(3);
    const b = seededRandom(3);
    const xs = Array.from({ length: 5 }, () => a());
    expect(xs).toEqual(Array.from({ length: 5 }, () => b()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('a run that did not converge explains itself: nodes grouped by tip, with their peers', () => {
    const lines = describeViews([
      { node: 0, side: 0, height: 7, tip: 'aaaa', peers: [1] },
      { node: 1, side: 0, height: 7, tip: 'aaaa', peers: [0], extraPeer: 2 },
      { node: 2, side: 1, height: 8, tip: 'bbbb', peers: [] },
    ]);
    expect(lines).toEqual([
      'tip aaaa (height 7): 2 nodes',
      '  node 0 (side 0): peers [1]',
      '  node 1 (side 0): peers [0], extra 2',
      'tip bbbb (height 8): 1 nodes',
      '  node 2 (side 1): peers []',
    ]);
  });

  it('command line: options parsed, hostile values refused with the option named', () => {
    expect(parseSimArgs(['--nodes', '200', '--latency', '80', '--loss', '0.02', '--partition', '10']).opts).toMatchObject({ nodes: 200, latencyMs: 80, loss: 0.02, partitionS: 10 });
    expect(parseSimArgs(['--duration', '60']).opts.blocks).toBe(15); // one block per 4 s by default
    expect(() => parseSimArgs(['--nodes', '1e9'])).toThrow(/--nodes/);
    expect(() => parseSimArgs(['--nodes', '2.5'])).toThrow(/--nodes/);
    expect(() => parseSimArgs(['--loss', '1'])).toThrow(/--loss/);
    expect(() => parseSimArgs(['--latency', 'NaN'])).toThrow(/--latency/);
    expect(() => parseSimArgs(['--blocks', '5', '--duration', '10'])).toThrow(/exclude/);
    expect(() => parseSimArgs(['--bogus', '1'])).toThrow();
  });
});
