/**
 * A bounded memory of transactions whose signatures already verified, like Bitcoin Core's
 * signature cache (`CSignatureCache`, src/script/sigcache.cpp). A transaction is usually verified
 * once when it enters the mempool and again when a block carrying it arrives; ed25519 verification
 * is the dominant cost of block validation, so the second check is answered from here.
 *
 * The key is sha256d of the COMPLETE transaction bytes (signature included), so a hit means these
 * exact bytes — key, message and signature — verified before. Only successes are remembered.
 * @module
 */
import { bytesToHex } from './bytes.ts';
import { sha256d } from './hash.ts';

/** Default capacity: ~50k entries of 64-char keys, a few MiB at most. */
export const DEFAULT_SIGCACHE_ENTRIES = 50_000;

/**
 * @example
 * ```ts
 * const cache = new SignatureCache();
 * checkTxSanity(tx, params, cache);     // verifies, remembers
 * checkBlockSanity(block, params, { sigCache: cache }); // tx's signature not verified again
 * ```
 */
export class SignatureCache {
  readonly #keys = new Set<string>();
  readonly maxEntries: number;

  constructor(maxEntries: number = DEFAULT_SIGCACHE_ENTRIES) {
    if (!(Number.isSafeInteger(maxEntries) && maxEntries >= 1)) throw new RangeError('SignatureCache: maxEntries must be a positive integer');
    this.maxEntries = maxEntries;
  }

  /** The cache key of a transaction's complete encoding. @example SignatureCache.keyOf(encodeTx(tx)) */
  static keyOf(txBytes: Uint8Array): string {
    return SignatureCache.keyOfLeaf(sha256d(txBytes));
  }

  /**
   * The same key from the transaction's merkle leaf, `txLeafHash(tx)` = sha256d(encodeTx(tx)), for
   * callers that hold the leaves already. @example SignatureCache.keyOfLeaf(txLeafHash(tx))
   */
  static keyOfLeaf(leaf: Uint8Array): string {
    return bytesToHex(leaf);
  }

  /** Whether these exact bytes verified before. @example cache.has(key) */
  has(key: string): boolean {
    return this.#keys.has(key);
  }

  /** Remembers a verified transaction, forgetting the oldest beyond capacity. @example cache.add(key) */
  add(key: string): void {
    if (this.#keys.has(key)) return;
    this.#keys.add(key);
    // A Set iterates in insertion order: the first key is the oldest.
    if (this.#keys.size > this.maxEntries) this.#keys.delete(this.#keys.values().next().value!);
  }

  get size(): number {
    return this.#keys.size;
  }
}
