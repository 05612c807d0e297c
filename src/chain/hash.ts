/**
 * Hashes of the consensus core: SHA-256 and Bitcoin's double SHA-256, and the display form of a
 * hash. Hashes are kept in internal byte order (the order sha256d produces); block explorers and
 * our UI show them byte-reversed, as Bitcoin Core's `uint256::GetHex` does.
 * @module
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, reverseBytes } from './bytes.ts';
import { DecodeError } from './errors.ts';

/** Length of every hash (and public key) in bytes. */
export const HASH_BYTES = 32;

/**
 * Single SHA-256 (FIPS 180-4).
 * @example
 * ```ts
 * sha256(new Uint8Array()) // e3b0c442…b855
 * ```
 */
export function sha256(bytes: Uint8Array): Uint8Array {
  return nobleSha256(bytes);
}

/**
 * Bitcoin's double SHA-256, `SHA256(SHA256(bytes))` (Bitcoin Core `Hash()` / `CHash256`): block
 * hashes, txids and merkle nodes.
 * @example
 * ```ts
 * const id = sha256d(encodeHeader(header));
 * ```
 */
export function sha256d(bytes: Uint8Array): Uint8Array {
  return nobleSha256(nobleSha256(bytes));
}

/**
 * A 32-byte hash in display order: byte-reversed lowercase hex, as block explorers show it.
 * @example
 * ```ts
 * hashToHex(blockHash(genesisHeader)) // '000000000019d668…e26f' for Bitcoin's genesis
 * ```
 */
export function hashToHex(hash: Uint8Array): string {
  if (!(hash instanceof Uint8Array) || hash.length !== HASH_BYTES) {
    throw new TypeError(`hashToHex: expected ${HASH_BYTES} bytes`);
  }
  return bytesToHex(reverseBytes(hash));
}

/**
 * Inverse of {@link hashToHex}: 64 hex digits in display order → hash in internal order.
 * Throws DecodeError on anything else (wrong length, non-hex characters).
 * @example
 * ```ts
 * equalBytes(hexToHash(hashToHex(h)), h) // true
 * ```
 */
export function hexToHash(hex: string): Uint8Array {
  if (typeof hex !== 'string' || hex.length !== HASH_BYTES * 2 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new DecodeError(`hexToHash: expected ${HASH_BYTES * 2} hex digits`);
  }
  return reverseBytes(hexToBytes(hex));
}
