/**
 * Proof of work: the compact `bits` encoding of a target, the work a target represents, and the
 * check that a block hash meets its target. Everything mirrors Bitcoin Core bit for bit
 * (`arith_uint256::SetCompact` / `GetCompact`, `GetBlockProof`, `CheckProofOfWork`), using BigInt
 * for the 256-bit arithmetic.
 * @module
 */
import { leToBigInt } from './bytes.ts';
import { RuleError } from './errors.ts';
import { HASH_BYTES } from './hash.ts';

const TWO_256 = 1n << 256n;
const MASK_256 = TWO_256 - 1n;

function checkBits(bits: number): void {
  if (!Number.isInteger(bits) || bits < 0 || bits > 0xffffffff) {
    throw new TypeError(`bits: expected a u32, got ${bits}`);
  }
}

function checkTarget(target: bigint): void {
  if (typeof target !== 'bigint' || target < 0n || target > MASK_256) {
    throw new TypeError('target: expected a bigint in [0, 2^256)');
  }
}

/** The result of decoding compact bits (Bitcoin Core `SetCompact` with both out-flags). */
export interface CompactDecoding {
  /** The magnitude, sign bit masked off, truncated to 256 bits as arith_uint256 does. */
  target: bigint;
  /** Sign bit 0x00800000 set with a non-zero mantissa: not a valid target. */
  negative: boolean;
  /** The value does not fit in 256 bits: not a valid target. */
  overflow: boolean;
}

/**
 * Decodes compact bits exactly as Bitcoin Core's `arith_uint256::SetCompact`: the top byte is a
 * base-256 exponent (size), the low 23 bits the mantissa, bit 0x00800000 a sign.
 * @example
 * ```ts
 * decodeCompact(0x1d00ffff) // { target: 0xffff << 208, negative: false, overflow: false }
 * decodeCompact(0x04923456).negative // true
 * ```
 */
export function decodeCompact(bits: number): CompactDecoding {
  checkBits(bits);
  const size = bits >>> 24;
  let word = bits & 0x007fffff;
  let target: bigint;
  if (size <= 3) {
    word >>>= 8 * (3 - size);
    target = BigInt(word);
  } else {
    // arith_uint256's <<= drops the bits shifted past 2^256.
    target = (BigInt(word) << BigInt(8 * (size - 3))) & MASK_256;
  }
  const negative = word !== 0 && (bits & 0x00800000) !== 0;
  const overflow = word !== 0 && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32));
  return { target, negative, overflow };
}

/**
 * The target encoded by `bits`. Throws RuleError BAD_BITS for negative, overflowing or zero
 * targets, which Bitcoin Core's `CheckProofOfWork` rejects.
 * @example
 * ```ts
 * bitsToTarget(0x207fffff) === 0x7fffffn << 232n // true
 * ```
 */
export function bitsToTarget(bits: number): bigint {
  const { target, negative, overflow } = decodeCompact(bits);
  if (negative) throw new RuleError('BAD_BITS', `bits 0x${hex8(bits)} are negative`);
  if (overflow) throw new RuleError('BAD_BITS', `bits 0x${hex8(bits)} overflow 256 bits`);
  if (target === 0n) throw new RuleError('BAD_BITS', `bits 0x${hex8(bits)} encode a zero target`);
  return target;
}

/**
 * Encodes a target as compact bits, exactly Bitcoin Core's `GetCompact(fNegative = false)`: it
 * never sets the sign bit — if the top mantissa byte would be ≥ 0x80 it moves one byte right.
 * Lossy: only the top 3 significant bytes survive.
 * @example
 * ```ts
 * targetToBits(0xffffn << 208n) // 0x1d00ffff
 * ```
 */
export function targetToBits(target: bigint): number {
  checkTarget(target);
  let size = byteLength(target);
  let compact: number;
  if (size <= 3) compact = Number(target) << (8 * (3 - size));
  else compact = Number(target >> BigInt(8 * (size - 3)));
  if (compact & 0x00800000) {
    compact >>>= 8;
    size++;
  }
  return ((size << 24) | compact) >>> 0;
}

/**
 * The expected number of hashes to find a block at `target`: `floor(2^256 / (target + 1))`
 * (Bitcoin Core `GetBlockProof`). Chainwork is the sum of this over a chain.
 * @example
 * ```ts
 * workForTarget(0xffffn << 208n) // 4295032833n
 * ```
 */
export function workForTarget(target: bigint): bigint {
  checkTarget(target);
  return TWO_256 / (target + 1n);
}

/**
 * The work of a header with these bits, `floor(2^256 / (target + 1))`. Like Bitcoin Core's
 * `GetBlockProof`, invalid bits (negative, overflow, zero target) count as 0 work.
 * @example
 * ```ts
 * workForBits(0x1d00ffff) // 4295032833n (Bitcoin's genesis)
 * ```
 */
export function workForBits(bits: number): bigint {
  const { target, negative, overflow } = decodeCompact(bits);
  if (negative || overflow || target === 0n) return 0n;
  return workForTarget(target);
}

/** Blocks of the tip's work below the tip that a branch may end at and still be taken in (Core: 144, a day). */
export const ANTI_DOS_BLOCKS = 144;

/**
 * The least chain work a branch offered by a peer must reach before its headers or unrequested
 * blocks are stored: the tip's work minus {@link ANTI_DOS_BLOCKS} blocks of the tip's difficulty
 * (Bitcoin Core `GetAntiDoSWorkThreshold`, validation.cpp; our chains have no minimum chain work).
 * Honest forks end near the tip; a flood of cheap headers forking far back never gets there, so it
 * is never stored.
 * @example
 * ```ts
 * if (branchEnd.chainwork < antiDosWorkThreshold(tip)) return 'low-work';
 * ```
 */
export function antiDosWorkThreshold(tip: { chainwork: bigint; header: { bits: number } }): bigint {
  const margin = BigInt(ANTI_DOS_BLOCKS) * workForBits(tip.header.bits);
  return tip.chainwork > margin ? tip.chainwork - margin : 0n;
}

/**
 * A hash as the 256-bit number compared with the target: its bytes read little-endian
 * (Bitcoin Core `UintToArith256`), i.e. the display hex read as a big-endian number.
 * @example
 * ```ts
 * hashToBigInt(blockHash(h)) <= bitsToTarget(h.bits)
 * ```
 */
export function hashToBigInt(hash: Uint8Array): bigint {
  if (!(hash instanceof Uint8Array) || hash.length !== HASH_BYTES) {
    throw new TypeError(`hashToBigInt: expected ${HASH_BYTES} bytes`);
  }
  return leToBigInt(hash);
}

/**
 * Bitcoin Core `CheckProofOfWork`: throws RuleError BAD_BITS if `bits` are invalid or easier than
 * `powLimit`, BAD_POW if the hash is above the target. Returns nothing on success.
 * @example
 * ```ts
 * checkProofOfWork(blockHash(h), h.bits, params.powLimit);
 * ```
 */
export function checkProofOfWork(hash: Uint8Array, bits: number, powLimit: bigint): void {
  const target = bitsToTarget(bits);
  if (target > powLimit) throw new RuleError('BAD_BITS', `bits 0x${hex8(bits)} are easier than powLimit`);
  if (hashToBigInt(hash) > target) throw new RuleError('BAD_POW', 'hash above target');
}

function byteLength(n: bigint): number {
  // (bits() + 7) / 8 in Core; 0 → 0.
  return n === 0n ? 0 : Math.ceil(n.toString(16).length / 2);
}

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}
