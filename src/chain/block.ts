/**
 * Blocks: encoding and the merkle root.
 *
 * Wire layout: the 80-byte header (header.ts), then the transaction count as a CompactSize, then
 * each transaction as CompactSize length + its complete encoding (tx.ts). The per-transaction
 * length prefix lets a decoder bound each transaction before parsing it.
 *
 * Merkle root: Bitcoin's tree (Bitcoin Core `ComputeMerkleRoot` in consensus/merkle.cpp) over
 * leaves sha256d(encodeTx(tx)) — the complete bytes, signature included, so the header commits to
 * exactly the bytes that were relayed (txid, which excludes the signature, would not).
 * @module
 */
import { Reader, Writer, varintSize } from './codec.ts';
import { concatBytes, equalBytes } from './bytes.ts';
import { DecodeError, RuleError } from './errors.ts';
import { sha256d } from './hash.ts';
import { HEADER_BYTES, decodeHeader, encodeHeader } from './header.ts';
import { MAX_TX_BYTES, decodeTx, encodeTx } from './tx.ts';
import type { Block, NetworkParams, Transaction } from './types.ts';

/** Size limits that a block decoder enforces (consensus values by default). */
export type BlockLimits = Pick<NetworkParams, 'maxBlockBytes' | 'maxBlockTxs' | 'maxTxBytes'>;

/** The consensus limits: 1 MiB per block, 10,000 transactions, 8 KiB per transaction. */
export const DEFAULT_BLOCK_LIMITS: Readonly<BlockLimits> = Object.freeze({
  maxBlockBytes: 1_048_576,
  maxBlockTxs: 10_000,
  maxTxBytes: MAX_TX_BYTES,
});

/**
 * Encodes a block. Does not enforce the size limits (a template builder may want to measure an
 * oversized candidate); checkBlockSanity and decodeBlock do.
 * @example
 * ```ts
 * const bytes = encodeBlock({ header, txs: [coinbase, ...txs] });
 * ```
 */
export function encodeBlock(b: Block): Uint8Array {
  const txBytes = b.txs.map(encodeTx);
  const w = new Writer(HEADER_BYTES + 9 + txBytes.reduce((n, t) => n + t.length + 3, 0));
  w.bytes(encodeHeader(b.header), HEADER_BYTES).varint(txBytes.length);
  for (const t of txBytes) w.varint(t.length).bytes(t);
  return w.finish();
}

/**
 * Encoded size of a block in bytes.
 * @example
 * ```ts
 * if (blockSize(block) > params.maxBlockBytes) fail('BLOCK_TOO_LARGE');
 * ```
 */
export function blockSize(b: Block): number {
  let n = HEADER_BYTES + varintSize(b.txs.length);
  for (const tx of b.txs) {
    const len = encodeTx(tx).length;
    n += varintSize(len) + len;
  }
  return n;
}

/**
 * {@link blockSize} of a block whose transactions encode (`encodeTx`, in order) to `encodings`.
 * @example blockSizeOfEncodings(block.txs.map(encodeTx)) === blockSize(block)
 */
export function blockSizeOfEncodings(encodings: readonly Uint8Array[]): number {
  let n = HEADER_BYTES + varintSize(encodings.length);
  for (const enc of encodings) n += varintSize(enc.length) + enc.length;
  return n;
}

/**
 * Parses a block. Throws RuleError `BLOCK_TOO_LARGE` if `bytes` is longer than
 * `limits.maxBlockBytes` (checked first), and DecodeError for anything else that is not exactly
 * one canonical encoding: a count over maxBlockTxs, a transaction length over maxTxBytes (both
 * checked before allocating), a malformed transaction, truncation, trailing bytes. A block with
 * zero transactions decodes (its merkle root is zero); having a coinbase is validate.ts's rule.
 * @example
 * ```ts
 * const block = decodeBlock(bytes, params);
 * ```
 */
export function decodeBlock(bytes: Uint8Array, limits: BlockLimits = DEFAULT_BLOCK_LIMITS): Block {
  if (!(bytes instanceof Uint8Array)) throw new DecodeError('expected a Uint8Array');
  if (bytes.length > limits.maxBlockBytes) throw new RuleError('BLOCK_TOO_LARGE', `${bytes.length} bytes > ${limits.maxBlockBytes}`);
  const r = new Reader(bytes);
  const header = decodeHeader(r.bytes(HEADER_BYTES));
  const count = r.varint(limits.maxBlockTxs);
  const txs: Transaction[] = [];
  for (let i = 0; i < count; i++) {
    const raw = r.varBytes(limits.maxTxBytes);
    try {
      txs.push(decodeTx(raw, limits.maxTxBytes));
    } catch (e) {
      if (e instanceof DecodeError) throw new DecodeError(`tx ${i}: ${e.message.replace(/^MALFORMED: /, '')}`);
      throw e;
    }
  }
  r.end();
  return { header, txs };
}

/**
 * The merkle leaf of a transaction: sha256d of its complete encoding (signature included).
 * @example
 * ```ts
 * const leaves = block.txs.map(txLeafHash);
 * ```
 */
export function txLeafHash(tx: Transaction): Uint8Array {
  return sha256d(encodeTx(tx));
}

/**
 * Bitcoin Core's `ComputeMerkleRoot` (consensus/merkle.cpp): pair hashes level by level with
 * sha256d(left || right), duplicating the last hash of an odd level; no leaves → 32 zero bytes.
 * `mutated` is set when some level pairs two identical adjacent hashes (checked before the odd
 * duplication, as Core does): such a list has the same root as a different list of transactions
 * (CVE-2012-2459), e.g. [a, b, c] and [a, b, c, c], so a block with mutated = true is invalid.
 * @example
 * ```ts
 * const { root, mutated } = computeMerkle(block.txs.map(txLeafHash));
 * ```
 */
export function computeMerkle(leaves: readonly Uint8Array[]): { root: Uint8Array; mutated: boolean } {
  for (const leaf of leaves) if (!(leaf instanceof Uint8Array) || leaf.length !== 32) throw new TypeError('merkle leaf: expected 32 bytes');
  let level = leaves.slice();
  let mutated = false;
  while (level.length > 1) {
    for (let i = 0; i + 1 < level.length; i += 2) {
      if (equalBytes(level[i], level[i + 1])) mutated = true;
    }
    if (level.length & 1) level.push(level[level.length - 1]);
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(sha256d(concatBytes(level[i], level[i + 1])));
    level = next;
  }
  return { root: level.length ? Uint8Array.from(level[0]) : new Uint8Array(32), mutated };
}

/**
 * The merkle root of a block's transactions (see {@link computeMerkle}; this ignores the mutation
 * flag, so validation must use computeMerkle).
 * @example
 * ```ts
 * const header = { ...template, merkleRoot: merkleRoot(txs) };
 * ```
 */
export function merkleRoot(txs: readonly Transaction[]): Uint8Array {
  return computeMerkle(txs.map(txLeafHash)).root;
}
