/**
 * Byte-level inputs for the decoders: random bytes biased towards the values that steer a parser
 * (tags, flags, CompactSize markers, ASCII and UTF-8 bounds), and mutations of valid encodings —
 * byte flips, edge values, insertions, deletions, truncations, extensions, splices from another
 * valid encoding, duplicated ranges, and length-prefix tampering (a CompactSize rewritten to a
 * huge value, at a random offset or at an offset where the encoding really has one).
 *
 * Everything is a fast-check arbitrary, so it is seeded and a failing input shrinks (the edit
 * list shrinks towards fewer, simpler edits).
 * @module
 */
import fc from 'fast-check';
import { concatBytes } from '../../src/chain/bytes.ts';

/** Byte values that steer parsers: small tags, flags, ASCII bounds, UTF-8 lead bytes, CompactSize markers. */
export const EDGE_BYTES = [0, 1, 2, 3, 9, 0x1f, 0x20, 0x7e, 0x7f, 0x80, 0xbf, 0xc0, 0xc3, 0xe2, 0xed, 0xef, 0xf0, 0xf4, 0xfc, 0xfd, 0xfe, 0xff] as const;

/** One byte, half of the time an edge value. */
export const arbEdgeByte: fc.Arbitrary<number> = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(...EDGE_BYTES));

/** Random bytes of length ≤ maxLength: uniformly random, edge-biased, or mostly zero. */
export function arbNoise(maxLength: number): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.uint8Array({ maxLength }),
    fc.array(arbEdgeByte, { maxLength }).map((a) => Uint8Array.from(a)),
    fc.array(fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: arbEdgeByte }), { maxLength }).map((a) => Uint8Array.from(a)),
  );
}

/** A CompactSize encoding of a value too large for any bound in the codebase. */
export const arbHugeCompactSize: fc.Arbitrary<Uint8Array> = fc.oneof(
  // 0xfd + u16 (canonical: ≥ 0xfd)
  fc.integer({ min: 0xfd, max: 0xffff }).map((n) => Uint8Array.of(0xfd, n & 0xff, n >>> 8)),
  // 0xfe + u32 (canonical: > 0xffff), up to 4 GiB
  fc.integer({ min: 0x10000, max: 0xffffffff }).map((n) => {
    const b = new Uint8Array(5);
    b[0] = 0xfe;
    new DataView(b.buffer).setUint32(1, n, true);
    return b;
  }),
  // 0xff + u64 (canonical: > u32), up to 2^64 − 1
  fc.bigInt({ min: 1n << 32n, max: (1n << 64n) - 1n }).map((n) => {
    const b = new Uint8Array(9);
    b[0] = 0xff;
    new DataView(b.buffer).setBigUint64(1, n, true);
    return b;
  }),
  // non-minimal forms of small values
  fc.integer({ min: 0, max: 0xfc }).map((n) => Uint8Array.of(0xfd, n, 0)),
  fc.integer({ min: 0, max: 0xffff }).map((n) => Uint8Array.of(0xfe, n & 0xff, n >>> 8, 0, 0)),
);

/** One edit of an encoding (positions are taken modulo the length when applied). */
export type Edit =
  | { op: 'flip'; at: number; xor: number }
  | { op: 'set'; at: number; value: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; len: number }
  | { op: 'truncate'; at: number }
  | { op: 'extend'; bytes: Uint8Array }
  | { op: 'splice'; at: number; from: number; len: number }
  | { op: 'duplicate'; at: number; len: number }
  | { op: 'prefix'; at: number; known: boolean; size: Uint8Array; replace: boolean };

const pos = fc.nat({ max: 0xffffff });

const arbEdit: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('flip' as const), at: pos, xor: fc.integer({ min: 1, max: 255 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('set' as const), at: pos, value: arbEdgeByte }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('insert' as const), at: pos, bytes: fc.uint8Array({ minLength: 1, maxLength: 9 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), at: pos, len: fc.integer({ min: 1, max: 40 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: pos }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('extend' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('splice' as const), at: pos, from: pos, len: fc.integer({ min: 1, max: 200 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('duplicate' as const), at: pos, len: fc.integer({ min: 1, max: 200 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('prefix' as const), at: pos, known: fc.boolean(), size: arbHugeCompactSize, replace: fc.boolean() }) },
);

/** Where a valid encoding has its CompactSize prefixes (so tampering can hit real ones). */
export type PrefixOffsets = (valid: Uint8Array) => number[];

/** 1–4 edits, to apply to bytes known only when the input runs ({@link applyEdits}). */
export const arbEdits: fc.Arbitrary<Edit[]> = fc.array(arbEdit, { minLength: 1, maxLength: 4 });

/** Applies edits to `src` (splices copy from `donor`). */
export function applyEdits(src: Uint8Array, donor: Uint8Array, edits: readonly Edit[], prefixOffsets?: PrefixOffsets): Uint8Array {
  let b = src;
  const known = prefixOffsets ? prefixOffsets(src) : [];
  for (const e of edits) {
    const n = b.length;
    switch (e.op) {
      case 'flip':
        if (n > 0) {
          b = b.slice();
          b[e.at % n] ^= e.xor;
        }
        break;
      case 'set':
        if (n > 0) {
          b = b.slice();
          b[e.at % n] = e.value;
        }
        break;
      case 'insert': {
        const at = e.at % (n + 1);
        b = concatBytes(b.subarray(0, at), e.bytes, b.subarray(at));
        break;
      }
      case 'delete': {
        const at = e.at % (n + 1);
        b = concatBytes(b.subarray(0, at), b.subarray(at + e.len));
        break;
      }
      case 'truncate':
        b = b.slice(0, e.at % (n + 1));
        break;
      case 'extend':
        b = concatBytes(b, e.bytes);
        break;
      case 'splice': {
        const at = e.at % (n + 1);
        const from = donor.length > 0 ? e.from % donor.length : 0;
        b = concatBytes(b.subarray(0, at), donor.subarray(from, from + e.len), b.subarray(at));
        break;
      }
      case 'duplicate': {
        const at = e.at % (n + 1);
        b = concatBytes(b.subarray(0, at + e.len), b.subarray(at));
        break;
      }
      case 'prefix': {
        // At one of the encoding's real CompactSize offsets (still right after the earlier
        // edits if those did not move it), or anywhere; replacing the old prefix byte or not.
        const at = e.known && known.length > 0 ? known[e.at % known.length] : e.at % (n + 1);
        const cut = Math.min(n, at + (e.replace ? 1 : 0));
        b = concatBytes(b.subarray(0, Math.min(at, n)), e.size, b.subarray(cut));
        break;
      }
    }
  }
  return b;
}

/**
 * Mutations of valid encodings: each input is one valid encoding with 1–4 edits (splices copy
 * from a second valid encoding). `prefixOffsets` names where the encoding has CompactSize
 * prefixes, so that length tampering often hits a real one.
 * @example
 * ```ts
 * fuzz('decodeTx', mutated(arbTx.map(encodeTx)), (b) => …);
 * ```
 */
export function mutated(valid: fc.Arbitrary<Uint8Array>, prefixOffsets?: PrefixOffsets): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(valid, valid, arbEdits)
    .map(([src, donor, edits]) => applyEdits(src, donor, edits, prefixOffsets));
}

/**
 * Mutations that keep the length: 1–4 byte flips or edge values. Most length-changing edits stop
 * a decoder early; these reach the rules behind it (signatures, amounts, proof of work, merkle).
 */
export function mutatedInPlace(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  const edit = fc.oneof(
    fc.record({ op: fc.constant('flip' as const), at: pos, xor: fc.integer({ min: 1, max: 255 }) }),
    fc.record({ op: fc.constant('set' as const), at: pos, value: arbEdgeByte }),
  );
  return fc.tuple(valid, fc.array(edit, { minLength: 1, maxLength: 4 })).map(([src, edits]) => applyEdits(src, src, edits));
}

/** Splits bytes into chunks at the given cut points (sorted, deduplicated, empty chunks kept sometimes). */
export function chunked(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  out.push(bytes.subarray(prev));
  return out;
}
