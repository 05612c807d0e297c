/**
 * Decoder fuzzing: random and mutated byte strings into every decoder. Each input must either
 * decode to a value that re-encodes to exactly the same bytes (one encoding per value), or throw a
 * DecodeError — never another exception, never a value whose encoding differs. Deterministic
 * (seeded), so a failure reproduces.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Reader, Writer } from '../../src/chain/codec.ts';
import { decodeTx, encodeTx } from '../../src/chain/tx.ts';
import { decodeBlock, encodeBlock } from '../../src/chain/block.ts';
import { decodeHeader, encodeHeader } from '../../src/chain/header.ts';
import { DecodeError } from '../../src/chain/errors.ts';
import { bytesToHex, concatBytes, equalBytes } from '../../src/chain/bytes.ts';
import { TX_KINDS, arbBlock, arbTx, arbTxOfKind } from './arbitraries.ts';

// mulberry32: a tiny seeded PRNG so every run fuzzes the same inputs.
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => int(256));
  return { next, int, bytes };
}

type Rng = ReturnType<typeof prng>;

/** One random edit of a valid encoding: flip bytes, truncate, extend, insert or delete. */
function mutate(rng: Rng, src: Uint8Array): Uint8Array {
  const b = Uint8Array.from(src);
  switch (rng.int(5)) {
    case 0: {
      const flips = 1 + rng.int(3);
      for (let i = 0; i < flips && b.length; i++) b[rng.int(b.length)] ^= 1 + rng.int(255);
      return b;
    }
    case 1:
      return b.subarray(0, rng.int(b.length));
    case 2:
      return concatBytes(b, rng.bytes(1 + rng.int(8)));
    case 3: {
      const at = rng.int(b.length + 1);
      return concatBytes(b.subarray(0, at), rng.bytes(1), b.subarray(at));
    }
    default: {
      const at = rng.int(Math.max(1, b.length));
      return concatBytes(b.subarray(0, at), b.subarray(at + 1));
    }
  }
}

const INTERESTING = [0, 1, 2, 3, 9, 0x1f, 0x20, 0x7e, 0x7f, 0x80, 0xc3, 0xfc, 0xfd, 0xfe, 0xff];

/** Every position of `src` in turn set to each edge value (tags, flags, CompactSize markers, ASCII/UTF-8 bounds) and to ±1. */
function* pointEdits(src: Uint8Array): Generator<Uint8Array> {
  for (let i = 0; i < src.length; i++) {
    for (const v of [...INTERESTING, (src[i] + 1) & 0xff, (src[i] + 255) & 0xff]) {
      if (v === src[i]) continue;
      const b = Uint8Array.from(src);
      b[i] = v;
      yield b;
    }
  }
}

/** Random bytes, half of them edge values, so structure (tags, CompactSize markers) is hit often. */
function edgeBytes(rng: Rng, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => (rng.int(2) ? INTERESTING[rng.int(INTERESTING.length)] : rng.int(256)));
}

interface Tally {
  accepted: number;
  rejected: number;
}

/** decode must give a value that re-encodes to `input`, or throw DecodeError. */
function probe<T>(input: Uint8Array, decode: (b: Uint8Array) => T, encode: (v: T) => Uint8Array, tally: Tally): void {
  let value: T;
  try {
    value = decode(input);
  } catch (e) {
    if (!(e instanceof DecodeError)) throw new Error(`non-DecodeError ${String(e)} for input ${bytesToHex(input)}`);
    tally.rejected++;
    return;
  }
  const again = encode(value);
  if (!equalBytes(again, input)) throw new Error(`accepted ${bytesToHex(input)} but re-encodes to ${bytesToHex(again)}`);
  tally.accepted++;
}

const decodeTxDefault = (b: Uint8Array) => decodeTx(b);
const decodeBlockDefault = (b: Uint8Array) => decodeBlock(b);

describe('decoder fuzz', () => {
  const total: Tally = { accepted: 0, rejected: 0 };

  it('decodeTx: random bytes, random bytes behind a valid prefix, mutated valid encodings', () => {
    const rng = prng(1);
    const t: Tally = { accepted: 0, rejected: 0 };
    for (let i = 0; i < 3000; i++) probe(rng.bytes(rng.int(260)), decodeTxDefault, encodeTx, t);
    // chainId, a known kind tag, then random: reaches every payload decoder
    for (let i = 0; i < 3000; i++) {
      const head = new Writer().u32(rng.int(2 ** 32)).u8(rng.int(10)).finish();
      probe(concatBytes(head, rng.bytes(40 + rng.int(220))), decodeTxDefault, encodeTx, t);
    }
    const valid = fc.sample(arbTx, { numRuns: 300, seed: 11 }).map(encodeTx);
    for (let i = 0; i < 6000; i++) probe(mutate(rng, valid[i % valid.length]), decodeTxDefault, encodeTx, t);
    for (const v of valid) probe(v, decodeTxDefault, encodeTx, t);
    // a few of each kind, every byte set to every edge value
    const perKind = TX_KINDS.flatMap((k, i) => fc.sample(arbTxOfKind(k), { numRuns: 3, seed: 100 + i })).map(encodeTx);
    for (const v of perKind) for (const m of pointEdits(v)) probe(m, decodeTxDefault, encodeTx, t);
    expect(t.accepted).toBeGreaterThan(300); // the mutations also produce valid encodings (flips inside values)
    expect(t.rejected).toBeGreaterThan(8000);
    total.accepted += t.accepted;
    total.rejected += t.rejected;
  });

  it('decodeBlock: random bytes, random bodies behind a header, mutated valid blocks', () => {
    const rng = prng(2);
    const t: Tally = { accepted: 0, rejected: 0 };
    for (let i = 0; i < 1500; i++) probe(rng.bytes(rng.int(400)), decodeBlockDefault, encodeBlock, t);
    for (let i = 0; i < 1500; i++) probe(concatBytes(rng.bytes(80), Uint8Array.of(rng.int(4)), rng.bytes(rng.int(300))), decodeBlockDefault, encodeBlock, t);
    const valid = fc.sample(arbBlock(4), { numRuns: 80, seed: 12 }).map(encodeBlock);
    for (let i = 0; i < 3000; i++) probe(mutate(rng, valid[i % valid.length]), decodeBlockDefault, encodeBlock, t);
    for (const v of valid.filter((b) => b.length < 700).slice(0, 3)) for (const m of pointEdits(v)) probe(m, decodeBlockDefault, encodeBlock, t);
    expect(t.accepted).toBeGreaterThan(100);
    total.accepted += t.accepted;
    total.rejected += t.rejected;
  });

  it('decodeHeader: random lengths around 80', () => {
    const rng = prng(3);
    const t: Tally = { accepted: 0, rejected: 0 };
    for (let i = 0; i < 1500; i++) probe(rng.bytes(rng.int(3) === 0 ? 80 : rng.int(120)), decodeHeader, encodeHeader, t);
    expect(t.accepted).toBeGreaterThan(300); // every 80-byte string is a header
    total.accepted += t.accepted;
    total.rejected += t.rejected;
  });

  it('Reader: random programs of reads over random bytes re-encode to the bytes consumed', () => {
    const rng = prng(4);
    const t: Tally = { accepted: 0, rejected: 0 };
    const maxes = [0, 1, 10, 252, 253, 0xffff, 0x10000, 2 ** 32, Number.MAX_SAFE_INTEGER];
    for (let i = 0; i < 6000; i++) {
      const input = i % 2 ? rng.bytes(rng.int(40)) : edgeBytes(rng, rng.int(40));
      const r = new Reader(input);
      const w = new Writer();
      let failed = false;
      for (let step = 0; step < 6 && !failed; step++) {
        const before = r.offset;
        const max = maxes[rng.int(maxes.length)];
        const n = rng.int(12);
        try {
          switch (rng.int(8)) {
            case 0: w.u8(r.u8()); break;
            case 1: w.u16(r.u16()); break;
            case 2: w.u32(r.u32()); break;
            case 3: w.u64(r.u64()); break;
            case 4: w.varint(r.varint(max)); break;
            case 5: w.bytes(r.bytes(n)); break;
            case 6: w.varBytes(r.varBytes(Math.min(max, 64)), Math.min(max, 64)); break;
            default: w.string(r.string(Math.min(max, 64)), Math.min(max, 64));
          }
        } catch (e) {
          if (!(e instanceof DecodeError)) throw new Error(`non-DecodeError ${String(e)} for input ${bytesToHex(input)}`);
          failed = true;
          t.rejected++;
          expect(r.offset).toBeGreaterThanOrEqual(before);
        }
        if (!failed && !equalBytes(w.finish(), input.subarray(0, r.offset))) throw new Error(`reads of ${bytesToHex(input)} do not re-encode`);
      }
      if (!failed) {
        t.accepted++;
        try {
          r.end();
          expect(r.remaining).toBe(0);
        } catch (e) {
          expect(e).toBeInstanceOf(DecodeError);
          expect(r.remaining).toBeGreaterThan(0);
        }
      }
    }
    total.accepted += t.accepted;
    total.rejected += t.rejected;
  });

  it('Reader.varint: every marker byte with random and edge payloads', () => {
    const rng = prng(5);
    const t: Tally = { accepted: 0, rejected: 0 };
    const read = (b: Uint8Array) => {
      const r = new Reader(b);
      const n = r.varint(Number.MAX_SAFE_INTEGER);
      r.end();
      return n;
    };
    for (let i = 0; i < 3000; i++) {
      const marker = [0xfd, 0xfe, 0xff, rng.int(256)][rng.int(4)];
      const body = rng.int(2) ? edgeBytes(rng, rng.int(10)) : Uint8Array.from({ length: rng.int(10) }, () => (rng.int(3) ? 0 : rng.int(256)));
      probe(concatBytes(Uint8Array.of(marker), body), read, (n) => new Writer().varint(n).finish(), t);
    }
    expect(t.accepted).toBeGreaterThan(100);
    total.accepted += t.accepted;
    total.rejected += t.rejected;
  });

  it('fed at least 20,000 inputs in all', () => {
    expect(total.accepted + total.rejected).toBeGreaterThanOrEqual(20_000);
  });
});
