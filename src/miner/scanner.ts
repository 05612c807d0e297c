/**
 * What every scan kernel shares: the contract, argument checks, and the exact target test.
 *
 * A kernel may use any shortcut to find *candidates* (the wasm kernels look at the top 32 bits of
 * the hash only), but a nonce is returned only after {@link meetsTarget} has compared the full
 * 256-bit hash with the target, exactly as Bitcoin Core's `CheckProofOfWork` does: the hash is read
 * as a little-endian 256-bit number (`UintToArith256`) and must be ≤ target.
 * @module
 */
import { sha256d } from '../chain/hash.ts';
import { leToBigInt } from '../chain/bytes.ts';

/** The available kernels, fastest first. */
export type ScannerKind = 'wasm-simd' | 'wasm' | 'js';

/** All kernel kinds, fastest first. */
export const SCANNER_KINDS: readonly ScannerKind[] = ['wasm-simd', 'wasm', 'js'];

/** A proof-of-work scan kernel. */
export interface Scanner {
  readonly kind: ScannerKind;
  /**
   * The lowest nonce in [startNonce, startNonce + count) whose sha256d(header with that nonce),
   * read as a little-endian 256-bit number, is ≤ target; null if there is none. The nonce bytes
   * (76..79) of `header80` are ignored and the array is not modified.
   */
  scan(header80: Uint8Array, startNonce: number, count: number, target: bigint): number | null;
}

/** 2^32: the size of the nonce space. */
export const NONCE_SPACE = 0x1_0000_0000;
const MAX_HASH = (1n << 256n) - 1n;

/**
 * Throws TypeError/RangeError unless the arguments of `scan` are in range.
 * @example checkScanArgs(header80, 0, 65536, target)
 */
export function checkScanArgs(header80: Uint8Array, startNonce: number, count: number, target: bigint): void {
  if (!(header80 instanceof Uint8Array) || header80.length !== 80) throw new TypeError('scan: header80 must be 80 bytes');
  if (!Number.isInteger(startNonce) || startNonce < 0 || startNonce >= NONCE_SPACE) throw new RangeError(`scan: startNonce must be a u32, got ${startNonce}`);
  if (!Number.isInteger(count) || count < 0 || count > NONCE_SPACE - startNonce) {
    throw new RangeError(`scan: count must be in [0, 2^32 − startNonce], got ${count}`);
  }
  if (typeof target !== 'bigint' || target < 0n) throw new RangeError('scan: target must be a non-negative bigint');
}

/**
 * The top 32 bits of the target as a u32 (saturated for targets ≥ 2^256): a hash whose top word
 * is above this can never be ≤ target, which is the kernels' early reject.
 * @example targetTopWord(0x00000000ffffn << 208n) // 0
 */
export function targetTopWord(target: bigint): number {
  if (target >= MAX_HASH) return 0xffffffff;
  return Number(target >> 224n);
}

/**
 * Whether sha256d(header with `nonce`) ≤ target — the exact 256-bit comparison. `scratch` is
 * overwritten with the header and the nonce (so callers can reuse one buffer).
 * @example meetsTarget(header80.slice(), 2083236893, bitsToTarget(0x1d00ffff)) // genesis: true
 */
export function meetsTarget(scratch: Uint8Array, nonce: number, target: bigint): boolean {
  scratch[76] = nonce & 0xff;
  scratch[77] = (nonce >>> 8) & 0xff;
  scratch[78] = (nonce >>> 16) & 0xff;
  scratch[79] = nonce >>> 24;
  return leToBigInt(sha256d(scratch)) <= target;
}

/**
 * Whether two headers are the same template: bytes 0..75 (everything but the nonce) equal. The
 * kernels recompute the midstate only when this changes.
 * @example sameTemplate(a, b)
 */
export function sameTemplate(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 76; i++) if (a[i] !== b[i]) return false;
  return true;
}
