import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { calculateAsertTarget, nextBits, bitsToTarget, targetToBits, NETWORKS, type NetworkParams } from '../../src/chain/index.ts';

// --- Official aserti3-2d vectors (Bitcoin Cash Node qa-assets), see test/fixtures/aserti3-2d/README.md.

interface Run {
  name: string;
  anchorHeight: bigint;
  anchorParentTime: bigint;
  anchorBits: number;
  iterations: number;
  lines: { height: bigint; time: bigint; bits: number }[];
}

function readRun(name: string): Run {
  const text = readFileSync(new URL(`../fixtures/aserti3-2d/${name}`, import.meta.url), 'utf8');
  const fields = new Map<string, string>();
  const lines: Run['lines'] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('##')) {
      const m = /^##\s*([^:]+):\s*(.*)$/.exec(line);
      if (m) fields.set(m[1].trim(), m[2].trim());
      continue;
    }
    if (line.startsWith('#')) continue;
    const parts = line.split(' ');
    expect(parts.length).toBe(4);
    expect(parts[3]).toMatch(/^0x[0-9a-f]{8}$/);
    lines.push({ height: BigInt(parts[1]), time: BigInt(parts[2]), bits: Number(parts[3]) });
  }
  const parentTime = fields.get('anchor parent time') ?? fields.get('anchor ancestor time');
  return {
    name,
    anchorHeight: BigInt(fields.get('anchor height')!),
    anchorParentTime: BigInt(parentTime!),
    anchorBits: Number(fields.get('anchor nBits')!),
    iterations: Number(fields.get('iterations')!),
    lines,
  };
}

// Bitcoin Cash mainnet parameters shared by every run.
const BCH = { spacing: 600n, halfLife: 172800n, powLimit: (1n << 224n) - 1n };
const RUNS = Array.from({ length: 12 }, (_, i) => `run${String(i + 1).padStart(2, '0')}`);

describe('calculateAsertTarget reproduces the official aserti3-2d vectors', () => {
  let total = 0;
  for (const name of RUNS) {
    it(name, () => {
      const run = readRun(name);
      expect(run.lines.length).toBe(run.iterations);
      const refTarget = bitsToTarget(run.anchorBits);
      const mismatches: string[] = [];
      for (const l of run.lines) {
        const target = calculateAsertTarget({
          refTarget,
          powLimit: BCH.powLimit,
          spacing: BCH.spacing,
          halfLife: BCH.halfLife,
          timeDiff: l.time - run.anchorParentTime,
          heightDiff: l.height - run.anchorHeight,
        });
        const bits = targetToBits(target);
        if (bits !== l.bits) mismatches.push(`${l.height} ${l.time}: got 0x${bits.toString(16)}, want 0x${l.bits.toString(16)}`);
      }
      expect(mismatches).toEqual([]);
      total += run.lines.length;
    });
  }
  it('covered all 4200 lines', () => {
    expect(total).toBe(4200);
  });

  it('the untrimmed run12 last line still holds (10000 10001 1201 0x13643f64)', () => {
    const run = readRun('run12');
    const target = calculateAsertTarget({
      refTarget: bitsToTarget(run.anchorBits),
      ...BCH,
      timeDiff: 1201n - run.anchorParentTime,
      heightDiff: 10001n - run.anchorHeight,
    });
    expect(targetToBits(target)).toBe(0x13643f64);
  });
});

describe('calculateAsertTarget bounds', () => {
  const powLimit = bitsToTarget(0x207fffff);
  const base = { refTarget: bitsToTarget(0x1f00ffff), powLimit, spacing: 2n, halfLife: 120n };

  it('never exceeds powLimit and never returns 0, for any time offset (large powLimit, exact BigInt)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(1n << 40n), max: 1n << 40n }), fc.bigInt({ min: 0n, max: 1n << 32n }), (timeDiff, heightDiff) => {
        const t = calculateAsertTarget({ ...base, timeDiff, heightDiff });
        expect(t >= 1n && t <= powLimit).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('clamps to powLimit when far behind schedule and to 1 when far ahead', () => {
    expect(calculateAsertTarget({ ...base, timeDiff: 10n ** 12n, heightDiff: 0n })).toBe(powLimit);
    expect(calculateAsertTarget({ ...base, timeDiff: 120n * 300n, heightDiff: 0n })).toBe(powLimit); // 2^300 × ref
    expect(calculateAsertTarget({ ...base, timeDiff: -(10n ** 12n), heightDiff: 0n })).toBe(1n);
  });

  it('with powLimit = 2^256 − 1 the 256-bit overflow test, not the clamp, caps the result', () => {
    const max = (1n << 256n) - 1n;
    // ref = 2^255, one half-life late: 2^256 does not fit in 256 bits → powLimit.
    expect(calculateAsertTarget({ refTarget: 1n << 255n, powLimit: max, spacing: 2n, halfLife: 120n, timeDiff: 2n + 120n, heightDiff: 0n })).toBe(max);
  });

  it('rejects inputs the reference asserts against', () => {
    expect(() => calculateAsertTarget({ ...base, refTarget: 0n, timeDiff: 0n, heightDiff: 0n })).toThrow(RangeError);
    expect(() => calculateAsertTarget({ ...base, refTarget: powLimit + 1n, timeDiff: 0n, heightDiff: 0n })).toThrow(RangeError);
    expect(() => calculateAsertTarget({ ...base, timeDiff: 0n, heightDiff: -1n })).toThrow(RangeError);
    expect(() => calculateAsertTarget({ ...base, halfLife: 0n, timeDiff: 0n, heightDiff: 0n })).toThrow(RangeError);
  });
});

// --- nextBits: anchored at genesis's target and block 1's time (see asert.ts).

describe.each(Object.values(NETWORKS).map((p) => [p.name, p] as [string, NetworkParams]))('nextBits on %s', (_name, params) => {
  const spacing = params.targetSpacing;
  const half = params.asertHalfLife;
  const genesisTarget = bitsToTarget(params.genesisBits);
  // Block 1 mined long after the fixed genesis timestamp: the schedule must not care.
  const block1Time = params.genesis.header.time + 400 * 24 * 3600;
  const onSchedule = (height: number) => block1Time + (height - 1) * spacing;
  const targetAfter = (height: number, time: number) => bitsToTarget(nextBits(params, { height, time }, block1Time));

  it('block 1 needs the genesis bits, whatever the time', () => {
    expect(nextBits(params, { height: 0, time: params.genesis.header.time })).toBe(params.genesisBits);
    expect(nextBits(params, { height: 0, time: block1Time })).toBe(params.genesisBits);
  });

  it('block 2 after an on-time block 1 gets exactly the genesis target', () => {
    expect(nextBits(params, { height: 1, time: block1Time }, block1Time)).toBe(params.genesisBits);
  });

  it('blocks on schedule keep the genesis target, however old genesis is', () => {
    for (const h of [1, 2, 3, 10, 1000, 123_456, 5_000_000]) {
      expect(nextBits(params, { height: h, time: onSchedule(h) }, block1Time)).toBe(params.genesisBits);
    }
  });

  it('blocks faster than the spacing raise the difficulty', () => {
    const h = 100;
    expect(targetAfter(h, onSchedule(h) - spacing * 10) < genesisTarget).toBe(true);
    // Monotone: the earlier the parent, the smaller (harder) the target.
    expect(targetAfter(h, onSchedule(h) - half) < targetAfter(h, onSchedule(h) - spacing * 10)).toBe(true);
  });

  it('a half-life late doubles the target, a half-life early halves it', () => {
    const h = 500;
    const doubled = genesisTarget * 2n > params.powLimit ? params.powLimit : genesisTarget * 2n; // test: genesis = powLimit
    expect(nextBits(params, { height: h, time: onSchedule(h) + half }, block1Time)).toBe(targetToBits(doubled));
    expect(nextBits(params, { height: h, time: onSchedule(h) - half }, block1Time)).toBe(targetToBits(genesisTarget / 2n));
  });

  it('clamps at powLimit when the chain stalls, and stays a valid target when it races', () => {
    const stalled = nextBits(params, { height: 10, time: onSchedule(10) + 400 * half }, block1Time);
    expect(stalled).toBe(params.powLimitBits);
    expect(bitsToTarget(stalled)).toBe(params.powLimit);
    const raced = nextBits(params, { height: 1_000_000, time: block1Time }, block1Time);
    expect(bitsToTarget(raced) >= 1n).toBe(true);
  });

  it('the target never decreases with a later parent time and never exceeds powLimit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: -50 * half, max: 50 * half }), fc.integer({ min: 0, max: 5 * half }), (h, offset, later) => {
        const a = targetAfter(h, onSchedule(h) + offset);
        const b = targetAfter(h, onSchedule(h) + offset + later);
        expect(a <= b).toBe(true);
        expect(b <= params.powLimit).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('requires block 1 time after block 1', () => {
    expect(() => nextBits(params, { height: 1, time: block1Time })).toThrow(TypeError);
  });
});
