/**
 * The 80-byte block header, exactly Bitcoin's layout (Bitcoin Core `CBlockHeader::SERIALIZE_METHODS`):
 *
 * | offset | size | field                        |
 * |--------|------|------------------------------|
 * | 0      | 4    | version, u32 LE              |
 * | 4      | 32   | prevHash, internal order     |
 * | 36     | 32   | merkleRoot, internal order   |
 * | 68     | 4    | time, u32 LE (seconds)       |
 * | 72     | 4    | bits, u32 LE (compact target)|
 * | 76     | 4    | nonce, u32 LE                |
 *
 * Block hash = sha256d of these 80 bytes.
 * @module
 */
import { DecodeError } from './errors.ts';
import { sha256d, HASH_BYTES } from './hash.ts';
import type { BlockHeader } from './types.ts';

/** Encoded size of a header. */
export const HEADER_BYTES = 80;

function checkU32(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw new TypeError(`header.${name}: expected a u32, got ${v}`);
  }
}

function checkHash(name: string, v: Uint8Array): void {
  if (!(v instanceof Uint8Array) || v.length !== HASH_BYTES) {
    throw new TypeError(`header.${name}: expected ${HASH_BYTES} bytes`);
  }
}

/**
 * Serialises a header into its 80 bytes. Throws TypeError if a field is out of range (a
 * programming error, not a peer's fault: decoded headers are always in range).
 * @example
 * ```ts
 * const bytes = encodeHeader({ version: 1, prevHash, merkleRoot, time, bits, nonce: 0 });
 * bytes.length // 80
 * ```
 */
export function encodeHeader(h: BlockHeader): Uint8Array {
  checkU32('version', h.version);
  checkHash('prevHash', h.prevHash);
  checkHash('merkleRoot', h.merkleRoot);
  checkU32('time', h.time);
  checkU32('bits', h.bits);
  checkU32('nonce', h.nonce);
  const out = new Uint8Array(HEADER_BYTES);
  const view = new DataView(out.buffer);
  view.setUint32(0, h.version, true);
  out.set(h.prevHash, 4);
  out.set(h.merkleRoot, 36);
  view.setUint32(68, h.time, true);
  view.setUint32(72, h.bits, true);
  view.setUint32(76, h.nonce, true);
  return out;
}

/**
 * Parses exactly 80 bytes into a header (copies the hashes, so the input may be reused).
 * Throws DecodeError on any other length.
 * @example
 * ```ts
 * const h = decodeHeader(hexToBytes(headerHex));
 * h.bits // 0x1d00ffff
 * ```
 */
export function decodeHeader(bytes: Uint8Array): BlockHeader {
  if (!(bytes instanceof Uint8Array) || bytes.length !== HEADER_BYTES) {
    throw new DecodeError(`header: expected ${HEADER_BYTES} bytes, got ${bytes?.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    version: view.getUint32(0, true),
    prevHash: bytes.slice(4, 36),
    merkleRoot: bytes.slice(36, 68),
    time: view.getUint32(68, true),
    bits: view.getUint32(72, true),
    nonce: view.getUint32(76, true),
  };
}

/**
 * The block hash, sha256d of the encoded header, in internal byte order (use hashToHex to show it).
 * @example
 * ```ts
 * hashToHex(blockHash(header))
 * ```
 */
export function blockHash(h: BlockHeader): Uint8Array {
  return sha256d(encodeHeader(h));
}
