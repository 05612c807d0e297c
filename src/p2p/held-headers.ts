/**
 * Headers held back during sync, stored as their 80-byte encodings in one buffer per batch.
 *
 * The SyncManager holds a peer's low-work header branch (proof of work checked, not yet stored)
 * until it reaches the anti-DoS work threshold — up to 20,000 headers, all of a peer's choosing.
 * As decoded objects (two 32-byte arrays each plus the object) they cost ~630 bytes of heap each,
 * 12 MiB for 20,000 (measured with node --expose-gc); as encodings in one buffer per batch of
 * 2,000 they cost 80 bytes each, 1.6 MB. They are decoded again only when the branch is handed to
 * the node.
 * @module
 */
import { blockHash, decodeHeader, encodeHeader, HEADER_BYTES, type BlockHeader } from '../chain/index.ts';

/**
 * A bounded run of headers kept as encodings.
 * @example
 * ```ts
 * const held = new HeldHeaders(20_000);
 * held.push(batch);
 * locator.unshift(held.lastHash!);
 * const all = [...held.headers(), ...next];
 * held.clear();
 * ```
 */
export class HeldHeaders {
  /** Headers held at most. */
  readonly max: number;
  #chunks: Uint8Array[] = [];
  #count = 0;
  #lastHash: Uint8Array | undefined;

  constructor(max: number) {
    if (!Number.isSafeInteger(max) || max < 0) throw new TypeError(`HeldHeaders: bad maximum ${max}`);
    this.max = max;
  }

  /** Headers held. @example held.length // 0 */
  get length(): number {
    return this.#count;
  }

  /** Bytes of header encodings held (80 per header). @example held.bytes */
  get bytes(): number {
    return this.#count * HEADER_BYTES;
  }

  /** Hash of the last header held (undefined when empty). @example locator.unshift(held.lastHash!) */
  get lastHash(): Uint8Array | undefined {
    return this.#lastHash;
  }

  /**
   * Appends headers, in order. RangeError if they would take it over `max` (the caller checks).
   * @example held.push(headers)
   */
  push(headers: readonly BlockHeader[]): void {
    if (headers.length === 0) return;
    if (this.#count + headers.length > this.max) throw new RangeError(`HeldHeaders: ${this.#count} + ${headers.length} over the maximum ${this.max}`);
    const chunk = new Uint8Array(headers.length * HEADER_BYTES);
    headers.forEach((h, i) => chunk.set(encodeHeader(h), i * HEADER_BYTES));
    this.#chunks.push(chunk);
    this.#count += headers.length;
    this.#lastHash = blockHash(headers[headers.length - 1]);
  }

  /** The held headers, decoded, in order. @example const batch = [...held.headers(), ...headers] */
  headers(): BlockHeader[] {
    const out: BlockHeader[] = [];
    for (const chunk of this.#chunks) {
      for (let at = 0; at < chunk.length; at += HEADER_BYTES) out.push(decodeHeader(chunk.subarray(at, at + HEADER_BYTES)));
    }
    return out;
  }

  /** Forgets everything. @example held.clear() */
  clear(): void {
    this.#chunks = [];
    this.#count = 0;
    this.#lastHash = undefined;
  }
}
