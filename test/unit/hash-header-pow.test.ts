import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  sha256,
  sha256d,
  hashToHex,
  hexToHash,
  HEADER_BYTES,
  encodeHeader,
  decodeHeader,
  blockHash,
  decodeCompact,
  bitsToTarget,
  targetToBits,
  workForBits,
  workForTarget,
  hashToBigInt,
  checkProofOfWork,
  bytesToHex,
  hexToBytes,
  RuleError,
  DecodeError,
  type BlockHeader,
} from '../../src/chain/index.ts';

interface HeaderRecord {
  height: number;
  hash: string;
  headerHex: string;
  version: number;
  prevHash: string;
  merkleRoot: string;
  time: number;
  bits: number;
  nonce: number;
  target: string;
  work: string;
}
interface BitsRecord {
  bits: number;
  target: string | null;
  negative: boolean;
  overflow: boolean;
  getCompact: number | null;
}
const fixtures = JSON.parse(readFileSync(new URL('../fixtures/bitcoin-headers.json', import.meta.url), 'utf8')) as {
  headers: HeaderRecord[];
  bits: BitsRecord[];
};

const nodeSha256 = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());
const nodeSha256d = (b: Uint8Array) => nodeSha256(nodeSha256(b));
/** Bitcoin mainnet powLimit, 2^224 − 1 (chainparams.cpp `consensus.powLimit`). */
const BITCOIN_POW_LIMIT = (1n << 224n) - 1n;

function expectRuleError(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RuleError);
    expect((e as RuleError).code).toBe(code);
    return;
  }
  expect.fail(`expected RuleError ${code}`);
}

describe('sha256 / sha256d', () => {
  it('matches node:crypto on every length 0..200 (all padding boundaries)', () => {
    for (let n = 0; n <= 200; n++) {
      const b = randomBytes(n);
      expect(bytesToHex(sha256(b))).toBe(bytesToHex(nodeSha256(b)));
      expect(bytesToHex(sha256d(b))).toBe(bytesToHex(nodeSha256d(b)));
    }
  });

  it('matches node:crypto sha256d on 1,000 random inputs', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1024 }), (b) => {
        expect(bytesToHex(sha256d(b))).toBe(bytesToHex(nodeSha256d(b)));
      }),
      { numRuns: 1000 },
    );
  });

  it('known answer: sha256d("") and FIPS 180 "abc"', () => {
    expect(bytesToHex(sha256(new TextEncoder().encode('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(bytesToHex(sha256d(new Uint8Array()))).toBe('5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456');
  });
});

describe('hashToHex / hexToHash', () => {
  it('display order is the byte-reversed internal order', () => {
    const h = new Uint8Array(32);
    h[0] = 0xab;
    h[31] = 0x01;
    expect(hashToHex(h)).toBe('01' + '00'.repeat(30) + 'ab');
  });

  it('round trips any 32 bytes and any 64-digit hex', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (h) => {
        expect(hexToHash(hashToHex(h))).toEqual(h);
      }),
      { numRuns: 200 },
    );
    const hex = 'ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789';
    expect(hashToHex(hexToHash(hex))).toBe(hex.toLowerCase());
  });

  it('hexToHash rejects wrong lengths and non-hex with DecodeError', () => {
    for (const bad of ['', '00'.repeat(31), '00'.repeat(32) + '0', '00'.repeat(33), 'zz' + '00'.repeat(31), ' ' + '0'.repeat(63), '0x' + '00'.repeat(31)]) {
      expect(() => hexToHash(bad)).toThrow(DecodeError);
    }
  });
});

describe('Bitcoin mainnet headers', () => {
  it('fixture covers several versions and block 1 follows genesis', () => {
    expect(fixtures.headers.length).toBeGreaterThanOrEqual(5);
    const genesis = fixtures.headers.find((h) => h.height === 0)!;
    const one = fixtures.headers.find((h) => h.height === 1)!;
    expect(one.prevHash).toBe(genesis.hash);
    const h1 = decodeHeader(hexToBytes(one.headerHex));
    expect(h1.prevHash).toEqual(blockHash(decodeHeader(hexToBytes(genesis.headerHex))));
  });

  for (const rec of fixtures.headers) {
    it(`height ${rec.height}: decode, encode, hash, target, work, PoW`, () => {
      const bytes = hexToBytes(rec.headerHex);
      expect(bytes.length).toBe(HEADER_BYTES);
      const h = decodeHeader(bytes);
      // Fields as the record states them (hashes given in display order).
      expect(h.version).toBe(rec.version);
      expect(hashToHex(h.prevHash)).toBe(rec.prevHash);
      expect(hashToHex(h.merkleRoot)).toBe(rec.merkleRoot);
      expect(h.time).toBe(rec.time);
      expect(h.bits).toBe(rec.bits);
      expect(h.nonce).toBe(rec.nonce);
      // Re-encoding is byte-identical.
      expect(bytesToHex(encodeHeader(h))).toBe(rec.headerHex);
      // Hash: ours, node:crypto and the record agree.
      const hash = blockHash(h);
      expect(hashToHex(hash)).toBe(rec.hash);
      expect(hash).toEqual(nodeSha256d(bytes));
      expect(hexToHash(rec.hash)).toEqual(hash);
      // Target and work as Bitcoin Core computes them.
      const target = bitsToTarget(h.bits);
      expect(target).toBe(BigInt('0x' + rec.target));
      expect(targetToBits(target)).toBe(h.bits);
      expect(workForBits(h.bits)).toBe(BigInt(rec.work));
      expect(workForTarget(target)).toBe(BigInt(rec.work));
      // Proof of work holds against Bitcoin's powLimit.
      expect(hashToBigInt(hash)).toBe(BigInt('0x' + rec.hash));
      expect(hashToBigInt(hash) <= target).toBe(true);
      expect(() => checkProofOfWork(hash, h.bits, BITCOIN_POW_LIMIT)).not.toThrow();
    });
  }

  it('a changed nonce breaks the proof of work (BAD_POW)', () => {
    for (const rec of fixtures.headers) {
      const h = decodeHeader(hexToBytes(rec.headerHex));
      const tampered: BlockHeader = { ...h, nonce: (h.nonce + 1) >>> 0 };
      expectRuleError(() => checkProofOfWork(blockHash(tampered), tampered.bits, BITCOIN_POW_LIMIT), 'BAD_POW');
    }
  });

  it('bits easier than powLimit are BAD_BITS even if the hash meets them', () => {
    const h = decodeHeader(hexToBytes(fixtures.headers[0].headerHex));
    expectRuleError(() => checkProofOfWork(blockHash(h), 0x1d01ffff, BITCOIN_POW_LIMIT), 'BAD_BITS');
    expectRuleError(() => checkProofOfWork(blockHash(h), 0x1d00ffff, bitsToTarget(0x1c00ffff)), 'BAD_BITS');
  });
});

describe('header encoding', () => {
  const arbHeader = fc.record({
    version: fc.nat({ max: 0xffffffff }),
    prevHash: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    merkleRoot: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    time: fc.nat({ max: 0xffffffff }),
    bits: fc.nat({ max: 0xffffffff }),
    nonce: fc.nat({ max: 0xffffffff }),
  });

  it('decode(encode(h)) = h, always 80 bytes, hash = sha256d of the bytes', () => {
    fc.assert(
      fc.property(arbHeader, (h) => {
        const bytes = encodeHeader(h);
        expect(bytes.length).toBe(80);
        expect(decodeHeader(bytes)).toEqual(h);
        expect(blockHash(h)).toEqual(nodeSha256d(bytes));
      }),
      { numRuns: 300 },
    );
  });

  it('decodeHeader rejects anything but exactly 80 bytes with DecodeError', () => {
    for (const n of [0, 1, 79, 81, 160]) expect(() => decodeHeader(new Uint8Array(n))).toThrow(DecodeError);
  });

  it('decodeHeader reads a header inside a larger buffer (subarray) and copies its hashes', () => {
    const bytes = hexToBytes(fixtures.headers[2].headerHex);
    const big = new Uint8Array(100);
    big.set(bytes, 7);
    const view = big.subarray(7, 87);
    const h = decodeHeader(view);
    expect(hashToHex(blockHash(h))).toBe(fixtures.headers[2].hash);
    big.fill(0);
    expect(hashToHex(blockHash(h))).toBe(fixtures.headers[2].hash);
  });

  it('encodeHeader refuses out-of-range fields instead of wrapping them', () => {
    const h = decodeHeader(hexToBytes(fixtures.headers[0].headerHex));
    expect(() => encodeHeader({ ...h, nonce: 2 ** 32 })).toThrow(TypeError);
    expect(() => encodeHeader({ ...h, time: -1 })).toThrow(TypeError);
    expect(() => encodeHeader({ ...h, prevHash: new Uint8Array(31) })).toThrow(TypeError);
  });
});

describe('compact bits (Bitcoin Core SetCompact / GetCompact)', () => {
  it('fixture covers zero, negative and overflow cases', () => {
    expect(fixtures.bits.some((b) => b.negative)).toBe(true);
    expect(fixtures.bits.some((b) => b.overflow)).toBe(true);
    expect(fixtures.bits.some((b) => b.target !== null && BigInt('0x' + b.target) === 0n)).toBe(true);
  });

  for (const rec of fixtures.bits) {
    const label = `0x${rec.bits.toString(16).padStart(8, '0')}`;
    it(`${label}: target, flags, re-encoding, validity`, () => {
      const d = decodeCompact(rec.bits);
      expect(d.negative).toBe(rec.negative);
      expect(d.overflow).toBe(rec.overflow);
      if (rec.target !== null) expect(d.target).toBe(BigInt('0x' + rec.target));
      if (rec.getCompact !== null) {
        // Core's test encodes with fNegative = true where the value is negative; ours never sets
        // the sign bit, so that case is ours plus the sign bit.
        const ours = targetToBits(d.target);
        expect(ours & 0x00800000).toBe(0);
        expect(rec.negative ? (ours | 0x00800000) >>> 0 : ours).toBe(rec.getCompact);
      }
      if (rec.negative || rec.overflow || d.target === 0n) {
        expectRuleError(() => bitsToTarget(rec.bits), 'BAD_BITS');
        expect(workForBits(rec.bits)).toBe(0n);
      } else {
        expect(bitsToTarget(rec.bits)).toBe(d.target);
        expect(workForBits(rec.bits)).toBe((1n << 256n) / (d.target + 1n));
      }
    });
  }

  it('targetToBits never sets the sign bit and keeps the top bits of the target', () => {
    const arbTarget = fc.bigInt({ min: 1n, max: (1n << 256n) - 1n });
    fc.assert(
      fc.property(arbTarget, (t) => {
        const bits = targetToBits(t);
        expect(bits & 0x00800000).toBe(0);
        const back = bitsToTarget(bits); // valid: not negative, not overflowing, not zero
        expect(back <= t).toBe(true);
        // At least 15 significant bits survive (mantissa ≥ 0x8000 once it is shifted).
        const bitLen = t.toString(2).length;
        if (bitLen > 24) expect(t - back < 1n << BigInt(bitLen - 15)).toBe(true);
        else expect(back).toBe(t);
        expect(targetToBits(back)).toBe(bits); // canonical: idempotent
      }),
      { numRuns: 1000 },
    );
  });

  it('decodeCompact(bits) re-encodes to bits for every canonical bits value', () => {
    fc.assert(
      fc.property(fc.integer({ min: 4, max: 0x20 }), fc.integer({ min: 0x8000, max: 0x7fffff }), (size, mantissa) => {
        const bits = ((size << 24) | mantissa) >>> 0;
        expect(targetToBits(decodeCompact(bits).target)).toBe(bits);
      }),
      { numRuns: 500 },
    );
  });

  it('work: the easiest target 2^256−1 is 1 hash, regtest 0x207fffff is 2', () => {
    expect(workForTarget((1n << 256n) - 1n)).toBe(1n);
    expect(workForBits(0x207fffff)).toBe(2n);
  });

  it('bitsToTarget rejects negative, overflow and zero bits with BAD_BITS', () => {
    for (const bits of [0x04923456, 0x01fedcba, 0x1d80ffff, 0xff123456, 0x22010000, 0x21010000, 0x00000000, 0x03000000]) {
      expectRuleError(() => bitsToTarget(bits), 'BAD_BITS');
    }
    // The largest sizes that still fit in 256 bits are valid.
    expect(bitsToTarget(0x2100ffff)).toBe(0xffffn << 240n);
    expect(bitsToTarget(0x22000001)).toBe(1n << 248n);
  });
});
