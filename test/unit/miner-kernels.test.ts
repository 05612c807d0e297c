import { describe, expect, it, beforeAll } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { sha256 } from '@noble/hashes/sha2.js';
import { hexToBytes } from '@noble/hashes/utils.js';
import { bitsToTarget } from '../../src/chain/pow.ts';
import { createScanner, bestScanner, SCANNER_KINDS, type Scanner } from '../../src/miner/index.ts';
import { scan, scanKind } from '../../src/miner/default-scan.ts';

// The reference: the straightforward definition, with @noble/hashes only.
function hashValue(header80: Uint8Array, nonce: number): bigint {
  const h = header80.slice();
  new DataView(h.buffer).setUint32(76, nonce, true);
  const digest = sha256(sha256(h));
  let v = 0n;
  for (let i = 31; i >= 0; i--) v = (v << 8n) | BigInt(digest[i]); // little-endian 256-bit number
  return v;
}
function referenceScan(header80: Uint8Array, start: number, count: number, target: bigint): number | null {
  for (let n = start; n < start + count; n++) if (hashValue(header80, n) <= target) return n;
  return null;
}

const MAX = (1n << 256n) - 1n;
const fixtures = JSON.parse(readFileSync(new URL('../fixtures/bitcoin-headers.json', import.meta.url), 'utf8')) as {
  headers: { height: number; headerHex: string; bits: number; nonce: number }[];
};

let kernels: Scanner[] = [];
beforeAll(async () => {
  kernels = await Promise.all(SCANNER_KINDS.map((k) => createScanner(k)));
});

describe('miner kernels on real Bitcoin headers', () => {
  it('have the five fixture headers', () => {
    expect(fixtures.headers.length).toBeGreaterThanOrEqual(5);
  });

  for (const kind of SCANNER_KINDS) {
    it(`${kind}: scanning ±100,000 around the real nonce with the target from bits finds exactly the real nonce`, () => {
      const kernel = kernels.find((k) => k.kind === kind)!;
      for (const h of fixtures.headers) {
        const header = hexToBytes(h.headerHex);
        const target = bitsToTarget(h.bits);
        const start = Math.max(0, h.nonce - 100_000);
        const end = Math.min(2 ** 32, h.nonce + 100_001);
        expect(kernel.scan(header, start, end - start, target), `height ${h.height}`).toBe(h.nonce);
        // and nothing in the range just below the real nonce
        expect(kernel.scan(header, start, h.nonce - start, target), `height ${h.height}`).toBeNull();
      }
    });
  }

  it('the module-level scan uses the fastest kernel (wasm-simd in Node) and finds the genesis nonce', async () => {
    expect(scanKind()).toBe('wasm-simd');
    expect((await bestScanner()).kind).toBe('wasm-simd');
    const g = fixtures.headers[0];
    expect(scan(hexToBytes(g.headerHex), g.nonce - 5000, 10_000, bitsToTarget(g.bits))).toBe(g.nonce);
  });
});

describe('miner kernels agree with the @noble/hashes reference', () => {
  const header = fc.uint8Array({ minLength: 80, maxLength: 80 });
  const range = fc.record({ start: fc.oneof(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 2 ** 32 - 40, max: 2 ** 32 - 1 }), fc.constant(0)), count: fc.integer({ min: 0, max: 24 }) }).map(({ start, count }) => ({ start, count: Math.min(count, 2 ** 32 - start) }));

  it('on random headers, ranges and targets (every nonce, none, exactly one, and top-word ties)', () => {
    let checked = 0;
    fc.assert(
      fc.property(header, range, fc.integer({ min: 0, max: 6 }), fc.bigInt({ min: 0n, max: MAX }), (h, { start, count }, mode, random) => {
        const values = Array.from({ length: count }, (_, i) => hashValue(h, start + i));
        const min = values.length ? values.reduce((a, b) => (a < b ? a : b)) : 0n;
        const pick = values.length ? values[Number(random % BigInt(values.length))] : 0n;
        const low224 = (1n << 224n) - 1n;
        const targets: Record<number, bigint> = {
          0: MAX, // accepts every nonce
          1: 0n, // accepts none (a zero hash will not happen)
          2: min, // exactly one: the nonce with the smallest hash
          3: min > 0n ? min - 1n : 0n, // none, by one
          4: random, // anything
          5: pick, // the lowest nonce whose hash ≤ some hash in the range
          6: (pick & ~low224) | ((pick & low224) > 0n ? (pick & low224) - 1n : 0n), // same top word, lower tail
        };
        const target = targets[mode];
        const expected = referenceScan(h, start, count, target);
        if (mode === 0 && count > 0) expect(expected).toBe(start);
        if (mode === 2 && count > 0) expect(values.filter((v) => v <= target).length).toBe(1);
        for (const k of kernels) expect(k.scan(h, start, count, target), `${k.kind} mode ${mode}`).toBe(expected);
        checked++;
      }),
      { numRuns: 2000 },
    );
    expect(checked).toBe(2000);
  });

  it('on headers whose hashes tie the target in the top 32 bits (the exact 256-bit comparison decides)', () => {
    fc.assert(
      fc.property(header, fc.integer({ min: 0, max: 2 ** 32 - 64 }), fc.integer({ min: 0, max: 63 }), (h, start, offset) => {
        const nonce = start + offset;
        const v = hashValue(h, nonce);
        const sameTopBelow = v - 1n; // same top word (unless the low 224 bits are zero: never)
        expect(sameTopBelow >> 224n).toBe(v >> 224n);
        // Only nonces at or after `nonce` can be returned when the target is below every earlier hash.
        const before = Array.from({ length: offset }, (_, i) => hashValue(h, start + i));
        const minBefore = before.reduce((a, b) => (a < b ? a : b), MAX);
        for (const k of kernels) {
          const hit = k.scan(h, start, 64, v);
          expect(hit, k.kind).toBe(referenceScan(h, start, 64, v));
          if (minBefore > v) expect(hit, k.kind).toBe(nonce);
          expect(k.scan(h, nonce, 1, sameTopBelow), k.kind).toBeNull();
          expect(k.scan(h, nonce, 1, v), k.kind).toBe(nonce);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('handle range edges: count 0, the last nonce 2^32 − 1, counts not a multiple of 4', () => {
    const h = hexToBytes(fixtures.headers[1].headerHex);
    for (const k of kernels) {
      expect(k.scan(h, 123, 0, MAX)).toBeNull();
      expect(k.scan(h, 2 ** 32 - 1, 1, MAX)).toBe(2 ** 32 - 1);
      expect(k.scan(h, 2 ** 32 - 3, 3, 0n)).toBeNull();
      for (let count = 1; count <= 9; count++) {
        const values = Array.from({ length: count }, (_, i) => hashValue(h, 1000 + i));
        const last = values[count - 1];
        const expected = values.findIndex((v) => v <= last);
        expect(k.scan(h, 1000, count, last), `${k.kind} count ${count}`).toBe(1000 + expected);
      }
    }
  });

  it('recompute the per-template values whenever any header byte but the nonce changes', () => {
    const base = hexToBytes(fixtures.headers[2].headerHex);
    const target = MAX >> 6n;
    for (const k of kernels) {
      for (const at of [0, 4, 35, 36, 63, 64, 67, 68, 71, 72, 75]) {
        const h = base.slice();
        expect(k.scan(h, 500, 300, target), `${k.kind} before byte ${at}`).toBe(referenceScan(h, 500, 300, target));
        h[at] ^= 0x01;
        expect(k.scan(h, 500, 300, target), `${k.kind} byte ${at}`).toBe(referenceScan(h, 500, 300, target));
        h[79] ^= 0xff; // the nonce bytes are ignored
        expect(k.scan(h, 500, 300, target), `${k.kind} byte ${at}, nonce bytes`).toBe(referenceScan(h, 500, 300, target));
      }
    }
  });

  it('reject bad arguments and leave the header untouched', () => {
    const h = hexToBytes(fixtures.headers[0].headerHex);
    const copy = h.slice();
    for (const k of kernels) {
      expect(() => k.scan(h.subarray(0, 79), 0, 1, MAX)).toThrow(TypeError);
      expect(() => k.scan(h, -1, 1, MAX)).toThrow(RangeError);
      expect(() => k.scan(h, 2 ** 32, 0, MAX)).toThrow(RangeError);
      expect(() => k.scan(h, 2 ** 32 - 1, 2, MAX)).toThrow(RangeError);
      expect(() => k.scan(h, 0, 1.5, MAX)).toThrow(RangeError);
      expect(() => k.scan(h, 0, 1, -1n)).toThrow(RangeError);
      k.scan(h, 0, 100, MAX >> 4n);
      expect(h).toEqual(copy);
    }
  });

  it('createScanner rejects an unknown kind', async () => {
    await expect(createScanner('gpu' as never)).rejects.toThrow(TypeError);
  });
});
