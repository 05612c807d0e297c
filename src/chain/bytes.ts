/**
 * Byte helpers shared by the consensus code. Hex and concatenation come from @noble/hashes;
 * what is here is what it does not have.
 * @module
 */
import { bytesToHex, hexToBytes, concatBytes } from '@noble/hashes/utils.js';

export { bytesToHex, hexToBytes, concatBytes };

/** Constant-length byte equality. @example equalBytes(a, b) */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** Lexicographic comparison, -1 / 0 / 1. @example compareBytes(a, b) < 0 */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** A reversed copy (internal byte order ↔ display order). @example reverseBytes(hash) */
export function reverseBytes(b: Uint8Array): Uint8Array {
  return Uint8Array.from(b).reverse();
}

/** Reads a byte string as an unsigned little-endian integer. @example leToBigInt(hash) */
export function leToBigInt(b: Uint8Array): bigint {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]);
  return n;
}

/** 32 zero bytes: the null hash (genesis prevHash, coinbase `from`). */
export const ZERO_HASH: Uint8Array = new Uint8Array(32);
