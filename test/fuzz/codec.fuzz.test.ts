/**
 * Fuzz targets of the chain codec (src/chain): decodeTx, decodeBlock, decodeHeader and the Reader
 * primitives, fed random bytes, random bytes behind a valid prefix, valid encodings and mutations
 * of valid encodings (mutate.ts).
 *
 * Properties: every input either decodes to a value that re-encodes to exactly the input (one
 * encoding per value) or is refused with the documented error — DecodeError (MALFORMED), or the
 * RuleError TX_TOO_LARGE / BLOCK_TOO_LARGE for an input over the size bound, never anything else;
 * valid values round-trip (decode(encode(x)) = x); a length prefix is bounded before anything is
 * allocated (a Reader asked for a 4 GiB or 2^64 length fails without allocating it).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Reader, Writer } from '../../src/chain/codec.ts';
import { decodeTx, encodeTx, MAX_TX_BYTES } from '../../src/chain/tx.ts';
import { decodeBlock, encodeBlock } from '../../src/chain/block.ts';
import { decodeHeader, encodeHeader } from '../../src/chain/header.ts';
import { DecodeError, RuleError } from '../../src/chain/errors.ts';
import { TX_KIND_TAGS, type Block, type Transaction } from '../../src/chain/types.ts';
import { bytesToHex, concatBytes, equalBytes } from '../../src/chain/bytes.ts';
import { TX_KINDS, arbBlock, arbHeader, arbTx, arbTxOfKind } from '../unit/arbitraries.ts';
import { fuzz, thrownBy } from './harness.ts';
import { arbEdgeByte, arbHugeCompactSize, arbNoise, EDGE_BYTES, mutated } from './mutate.ts';
import { arrayBufferGrowth, expectCanonicalOrRefused, expectOneOf } from './properties.ts';

const HERE = import.meta.url;
/** Each target must see inputs accepted and inputs refused. */
const BOTH = { mustSee: ['accepted', 'refused'] };
const outcome = (value: unknown) => (value === undefined ? 'refused' : 'accepted');
const isDecodeError = (e: unknown) => e instanceof DecodeError;
const txRefusal = (e: unknown) => e instanceof DecodeError || (e instanceof RuleError && e.code === 'TX_TOO_LARGE');
const blockRefusal = (e: unknown) => e instanceof DecodeError || (e instanceof RuleError && e.code === 'BLOCK_TOO_LARGE');

/** The CompactSize offsets of a transaction encoding: item.create's sku and name lengths. */
function txPrefixOffsets(b: Uint8Array): number[] {
  if (b[4] !== TX_KIND_TAGS['item.create'] || b.length < 50) return [];
  return [49, 50 + b[49]];
}

/** The CompactSize offsets of a block encoding: the transaction count and each transaction's length. */
function blockPrefixOffsets(b: Uint8Array): number[] {
  const out = [80];
  try {
    const r = new Reader(b.subarray(80));
    const n = r.varint(Number.MAX_SAFE_INTEGER);
    for (let i = 0; i < n; i++) {
      out.push(80 + r.offset);
      const len = r.varint(Number.MAX_SAFE_INTEGER);
      out.push(...txPrefixOffsets(b.subarray(80 + r.offset, 80 + r.offset + len)).map((o) => o + 80 + r.offset));
      r.bytes(len);
    }
  } catch {
    // a valid encoding always walks; nothing to add otherwise
  }
  return out;
}

type TxInput = { bytes: Uint8Array; tx?: Transaction };
const arbTxInput: fc.Arbitrary<TxInput> = fc.oneof(
  arbTx.map((tx) => ({ tx, bytes: encodeTx(tx) })),
  arbNoise(300).map((bytes) => ({ bytes })),
  // chainId and a known kind tag, then noise: reaches every payload decoder
  fc.tuple(fc.nat(), fc.constantFrom(...Object.values(TX_KIND_TAGS)), arbNoise(260)).map(([chainId, tag, rest]) => ({ bytes: concatBytes(new Writer().u32(chainId >>> 0).u8(tag).finish(), rest) })),
  { weight: 4, arbitrary: mutated(arbTx.map(encodeTx), txPrefixOffsets).map((bytes) => ({ bytes })) },
  // over the size bound
  fc.integer({ min: MAX_TX_BYTES + 1, max: MAX_TX_BYTES + 64 }).map((n) => ({ bytes: new Uint8Array(n) })),
);

type BlockInput = { bytes: Uint8Array; block?: Block };
const arbBlockInput: fc.Arbitrary<BlockInput> = fc.oneof(
  arbBlock(4).map((block) => ({ block, bytes: encodeBlock(block) })),
  arbNoise(400).map((bytes) => ({ bytes })),
  // a header, a small count, then noise
  fc.tuple(fc.uint8Array({ minLength: 80, maxLength: 80 }), fc.integer({ min: 0, max: 3 }), arbNoise(300)).map(([h, n, rest]) => ({ bytes: concatBytes(h, Uint8Array.of(n), rest) })),
  { weight: 4, arbitrary: mutated(arbBlock(4).map(encodeBlock), blockPrefixOffsets).map((bytes) => ({ bytes })) },
);

describe('chain codec', () => {
  fuzz(
    'decodeTx',
    arbTxInput,
    ({ bytes, tx }) => {
      const value = expectCanonicalOrRefused(bytes, (b) => decodeTx(b), encodeTx, txRefusal);
      if (tx) expect(value).toEqual(tx);
      return outcome(value);
    },
    HERE,
    BOTH,
  );

  fuzz(
    'decodeBlock',
    arbBlockInput,
    ({ bytes, block }) => {
      const value = expectCanonicalOrRefused(bytes, (b) => decodeBlock(b), encodeBlock, blockRefusal);
      if (block) expect(value).toEqual(block);
      return outcome(value);
    },
    HERE,
    BOTH,
  );

  fuzz(
    'decodeBlock (small limits)',
    // The limits a caller passes are enforced too: a count, a transaction or a block over them is refused.
    fc.tuple(mutated(arbBlock(6).map(encodeBlock), blockPrefixOffsets), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 80, max: 600 }), fc.integer({ min: 100, max: 300 })),
    ([bytes, maxBlockTxs, maxBlockBytes, maxTxBytes]) => {
      const limits = { maxBlockTxs, maxBlockBytes, maxTxBytes };
      const value = expectCanonicalOrRefused(bytes, (b) => decodeBlock(b, limits), encodeBlock, blockRefusal);
      if (value) {
        expect(bytes.length).toBeLessThanOrEqual(maxBlockBytes);
        expect(value.txs.length).toBeLessThanOrEqual(maxBlockTxs);
        for (const t of value.txs) expect(encodeTx(t).length).toBeLessThanOrEqual(maxTxBytes);
      }
      return outcome(value);
    },
    HERE,
    BOTH,
  );

  fuzz(
    'decodeHeader',
    fc.oneof(arbHeader.map((h) => ({ h, bytes: encodeHeader(h) })), fc.uint8Array({ maxLength: 120 }).map((bytes) => ({ bytes, h: undefined })), mutated(arbHeader.map(encodeHeader)).map((bytes) => ({ bytes, h: undefined }))),
    ({ bytes, h }) => {
      const value = expectCanonicalOrRefused(bytes, decodeHeader, encodeHeader, isDecodeError);
      // Every 80-byte string is a header; nothing else is.
      expect(value !== undefined).toBe(bytes.length === 80);
      if (h) expect(value).toEqual(h);
      return outcome(value);
    },
    HERE,
    BOTH,
  );

  const READ_MAXES = [0, 1, 10, 252, 253, 0xffff, 0x10000, 2 ** 32, Number.MAX_SAFE_INTEGER];
  const arbReadOp = fc.record({ op: fc.integer({ min: 0, max: 7 }), max: fc.constantFrom(...READ_MAXES), n: fc.integer({ min: 0, max: 12 }) });

  fuzz(
    'Reader (programs of reads)',
    fc.tuple(arbNoise(40), fc.array(arbReadOp, { minLength: 1, maxLength: 6 })),
    ([input, program]) => {
      // Each read either gives a value that the Writer re-encodes to exactly the bytes consumed,
      // or throws DecodeError without moving backwards; end() holds iff every byte was read.
      const r = new Reader(input);
      const w = new Writer();
      for (const { op, max, n } of program) {
        const before = r.offset;
        const small = Math.min(max, 64);
        const e = thrownBy(() => {
          switch (op) {
            case 0: w.u8(r.u8()); break;
            case 1: w.u16(r.u16()); break;
            case 2: w.u32(r.u32()); break;
            case 3: w.u64(r.u64()); break;
            case 4: w.varint(r.varint(max)); break;
            case 5: w.bytes(r.bytes(n)); break;
            case 6: w.varBytes(r.varBytes(small), small); break;
            default: w.string(r.string(small), small);
          }
        });
        if (e !== undefined) {
          expectOneOf(e, [DecodeError], `read ${op} of ${bytesToHex(input)}`);
          expect(r.offset).toBeGreaterThanOrEqual(before);
          return 'refused';
        }
        expect(equalBytes(w.finish(), input.subarray(0, r.offset))).toBe(true);
      }
      const end = thrownBy(() => r.end());
      expect(end === undefined).toBe(r.remaining === 0);
      if (end !== undefined) expectOneOf(end, [DecodeError]);
      return 'accepted';
    },
    HERE,
    BOTH,
  );

  fuzz(
    'Reader (huge length prefixes)',
    // A CompactSize that claims up to 2^64 − 1 bytes, then a little data: every length read fails
    // with DecodeError before allocating (the bound, then what is left, are checked first).
    fc.tuple(arbHugeCompactSize, fc.uint8Array({ maxLength: 16 }), fc.integer({ min: 0, max: 3 }), fc.constantFrom(64, 8192, 2 ** 20, 2 ** 32, Number.MAX_SAFE_INTEGER)),
    ([size, tail, op, max]) => {
      const input = concatBytes(size, tail);
      const { grew, thrown } = arrayBufferGrowth(() => {
        const r = new Reader(input);
        if (op === 0) r.varBytes(max);
        else if (op === 1) r.string(max);
        else if (op === 2) r.bytes(r.varint(max));
        else decodeTx(concatBytes(new Uint8Array(49).fill(0).map((_, i) => (i === 4 ? TX_KIND_TAGS['item.create'] : 0)), input));
      });
      expectOneOf(thrown, [DecodeError], bytesToHex(input));
      expect(grew).toBeLessThan(64 * 1024);
      return 'refused';
    },
    HERE,
  );

  fuzz(
    'Reader.varint (every marker)',
    fc.tuple(fc.oneof(fc.constantFrom(0xfd, 0xfe, 0xff), arbEdgeByte), arbNoise(10)),
    ([marker, body]) => {
      const input = concatBytes(Uint8Array.of(marker), body);
      const read = (b: Uint8Array) => {
        const r = new Reader(b);
        const n = r.varint(Number.MAX_SAFE_INTEGER);
        r.end();
        return n;
      };
      return outcome(expectCanonicalOrRefused(input, read, (n) => new Writer().varint(n).finish(), isDecodeError));
    },
    HERE,
    BOTH,
  );
});

/** Every position of `src` set to each edge value and to ±1 of its value. */
function* pointEdits(src: Uint8Array): Generator<Uint8Array> {
  for (let i = 0; i < src.length; i++) {
    for (const v of [...EDGE_BYTES, (src[i] + 1) & 0xff, (src[i] + 255) & 0xff]) {
      if (v === src[i]) continue;
      const b = Uint8Array.from(src);
      b[i] = v;
      yield b;
    }
  }
}

describe('chain codec, exhaustive point edits', () => {
  // Not random: for a few encodings of every kind, EVERY byte is set to every edge value, so that
  // each tag, flag and length of each payload is tried with each value that steers the parser.
  it('decodeTx: every byte of every kind set to every edge value', () => {
    let refused = 0;
    let accepted = 0;
    const perKind = TX_KINDS.flatMap((k, i) => fc.sample(arbTxOfKind(k), { numRuns: 3, seed: 100 + i })).map(encodeTx);
    for (const v of perKind) {
      for (const m of pointEdits(v)) {
        if (expectCanonicalOrRefused(m, (b) => decodeTx(b), encodeTx, txRefusal) === undefined) refused++;
        else accepted++;
      }
    }
    // Edits inside values give other valid transactions; edits of tags, flags and lengths do not.
    expect(accepted).toBeGreaterThan(1000);
    expect(refused).toBeGreaterThan(1000);
  });

  it('decodeBlock: every byte of small blocks set to every edge value', () => {
    let refused = 0;
    const valid = fc.sample(arbBlock(3), { numRuns: 40, seed: 12 }).map(encodeBlock).filter((b) => b.length < 700).slice(0, 3);
    expect(valid.length).toBe(3);
    for (const v of valid) for (const m of pointEdits(v)) if (expectCanonicalOrRefused(m, (b) => decodeBlock(b), encodeBlock, blockRefusal) === undefined) refused++;
    expect(refused).toBeGreaterThan(100);
  });
});
