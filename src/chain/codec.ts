/**
 * The canonical binary codec of the consensus core: a {@link Writer} and a {@link Reader} for
 * fixed-width little-endian integers, Bitcoin CompactSize varints, fixed and length-prefixed bytes
 * and UTF-8 strings.
 *
 * Canonical means one encoding per value, so that hashes over encodings (txids, merkle leaves)
 * identify values:
 * - integers are little-endian and fixed-width (u8, u16, u32, u64) as in Bitcoin;
 * - lengths and counts are Bitcoin CompactSize (`WriteCompactSize` / `ReadCompactSize` of Bitcoin
 *   Core's serialize.h) in its minimal form only: a value that fits a shorter form is rejected
 *   ("non-canonical ReadCompactSize()"), like Core does;
 * - every length is checked against a caller-given maximum BEFORE anything is allocated, so a
 *   peer cannot make us allocate memory by lying about a length;
 * - strings are UTF-8, decoded with a fatal decoder (invalid UTF-8 is an error, never U+FFFD) that
 *   keeps a leading BOM (so the bytes round-trip);
 * - {@link Reader.end} rejects trailing bytes.
 *
 * Every decoding failure is a {@link DecodeError} (code `MALFORMED`). The Writer throws TypeError
 * for a value out of range: that is a bug in the caller (decoded values are always in range), not a
 * peer's fault.
 * @module
 */
import { DecodeError } from './errors.ts';

const U32_MAX = 0xffffffff;
const U64_MAX = (1n << 64n) - 1n;

const utf8Encoder = new TextEncoder();
// fatal: invalid UTF-8 throws instead of becoming U+FFFD; ignoreBOM: a leading EF BB BF stays in
// the string (by default TextDecoder strips it, which would make two encodings decode alike).
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
// A lone surrogate cannot be encoded as UTF-8 (TextEncoder would silently write U+FFFD), so a
// string holding one has no faithful encoding. With the `u` flag \p{Cs} matches only lone ones.
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Size in bytes of the CompactSize encoding of `n`.
 * @example
 * ```ts
 * varintSize(252) // 1
 * varintSize(253) // 3
 * ```
 */
export function varintSize(n: number): number {
  checkVarint(n);
  return n < 0xfd ? 1 : n <= 0xffff ? 3 : n <= U32_MAX ? 5 : 9;
}

/**
 * UTF-8 bytes of a string; TypeError if it holds a lone surrogate (no faithful encoding).
 * @example
 * ```ts
 * utf8Bytes('héllo').length // 6
 * ```
 */
export function utf8Bytes(s: string): Uint8Array {
  if (typeof s !== 'string') throw new TypeError('expected a string');
  if (LONE_SURROGATE.test(s)) throw new TypeError('string holds a lone surrogate (not encodable as UTF-8)');
  return utf8Encoder.encode(s);
}

function checkVarint(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new TypeError(`varint: expected a safe non-negative integer, got ${n}`);
}

function checkMax(max: number): void {
  if (!Number.isSafeInteger(max) || max < 0) throw new TypeError(`expected a non-negative maximum, got ${max}`);
}

/**
 * Appends canonical encodings to a growing buffer. Every method returns `this` for chaining;
 * {@link Writer.finish} returns the bytes written.
 * @example
 * ```ts
 * const bytes = new Writer().u32(7).u64(5n).varBytes(new Uint8Array([1, 2]), 16).finish();
 * ```
 */
export class Writer {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(initialCapacity = 128) {
    this.buf = new Uint8Array(Math.max(16, initialCapacity));
    this.view = new DataView(this.buf.buffer);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.pos;
  }

  private reserve(n: number): number {
    const at = this.pos;
    if (at + n > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, at + n));
      next.set(this.buf.subarray(0, at));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    this.pos = at + n;
    return at;
  }

  /** One byte. @example w.u8(1) */
  u8(n: number): this {
    if (!Number.isInteger(n) || n < 0 || n > 0xff) throw new TypeError(`u8 out of range: ${n}`);
    const at = this.reserve(1); // reserve first: it may replace this.buf
    this.buf[at] = n;
    return this;
  }

  /** u16 little-endian. @example w.u16(0xfffe) */
  u16(n: number): this {
    if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new TypeError(`u16 out of range: ${n}`);
    const at = this.reserve(2);
    this.view.setUint16(at, n, true);
    return this;
  }

  /** u32 little-endian. @example w.u32(height) */
  u32(n: number): this {
    if (!Number.isInteger(n) || n < 0 || n > U32_MAX) throw new TypeError(`u32 out of range: ${n}`);
    const at = this.reserve(4);
    this.view.setUint32(at, n, true);
    return this;
  }

  /** u64 little-endian, from a bigint in [0, 2^64). @example w.u64(amount) */
  u64(n: bigint): this {
    if (typeof n !== 'bigint' || n < 0n || n > U64_MAX) throw new TypeError(`u64 out of range: ${String(n)}`);
    const at = this.reserve(8);
    this.view.setBigUint64(at, n, true);
    return this;
  }

  /**
   * Bitcoin CompactSize in its minimal form: < 0xfd → 1 byte; ≤ 0xffff → 0xfd + u16;
   * ≤ 0xffffffff → 0xfe + u32; else 0xff + u64.
   * @example
   * ```ts
   * new Writer().varint(300).finish() // fd 2c 01
   * ```
   */
  varint(n: number): this {
    checkVarint(n);
    if (n < 0xfd) return this.u8(n);
    if (n <= 0xffff) return this.u8(0xfd).u16(n);
    if (n <= U32_MAX) return this.u8(0xfe).u32(n);
    return this.u8(0xff).u64(BigInt(n));
  }

  /**
   * Raw bytes with no length prefix (fixed-size fields: hashes, keys, signatures). If `length`
   * is given the input must have exactly that length.
   * @example w.bytes(pubkey, 32)
   */
  bytes(b: Uint8Array, length?: number): this {
    if (!(b instanceof Uint8Array)) throw new TypeError('bytes: expected a Uint8Array');
    if (length !== undefined && b.length !== length) throw new TypeError(`bytes: expected ${length} bytes, got ${b.length}`);
    const at = this.reserve(b.length);
    this.buf.set(b, at);
    return this;
  }

  /**
   * CompactSize length then the bytes; `max` is the bound the decoder will apply.
   * @example w.varBytes(txBytes, 8192)
   */
  varBytes(b: Uint8Array, max: number): this {
    checkMax(max);
    if (!(b instanceof Uint8Array)) throw new TypeError('varBytes: expected a Uint8Array');
    if (b.length > max) throw new TypeError(`varBytes: ${b.length} bytes over the maximum ${max}`);
    return this.varint(b.length).bytes(b);
  }

  /**
   * CompactSize byte length then UTF-8; at most `maxBytes` bytes of UTF-8.
   * @example w.string('Red shirt', 64)
   */
  string(s: string, maxBytes: number): this {
    return this.varBytes(utf8Bytes(s), maxBytes);
  }

  /** The bytes written (a copy of exactly `length` bytes). @example const bytes = w.finish() */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

/**
 * Reads canonical encodings from bytes. Every read checks that enough bytes remain; every length
 * is checked against the caller's maximum before allocating; {@link Reader.end} rejects trailing
 * bytes. All failures are DecodeError.
 * @example
 * ```ts
 * const r = new Reader(bytes);
 * const height = r.u32();
 * const name = r.string(64);
 * r.end();
 * ```
 */
export class Reader {
  private readonly data: Uint8Array;
  private readonly view: DataView;
  private pos = 0;

  constructor(bytes: Uint8Array) {
    if (!(bytes instanceof Uint8Array)) throw new DecodeError('expected a Uint8Array');
    this.data = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Bytes read so far. */
  get offset(): number {
    return this.pos;
  }

  /** Bytes not yet read. */
  get remaining(): number {
    return this.data.length - this.pos;
  }

  private take(n: number, what: string): number {
    if (n > this.data.length - this.pos) {
      throw new DecodeError(`truncated: ${what} needs ${n} bytes at offset ${this.pos}, ${this.remaining} left`);
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  /** One byte. @example r.u8() */
  u8(): number {
    return this.data[this.take(1, 'u8')];
  }

  /** u16 little-endian. @example r.u16() */
  u16(): number {
    return this.view.getUint16(this.take(2, 'u16'), true);
  }

  /** u32 little-endian. @example r.u32() */
  u32(): number {
    return this.view.getUint32(this.take(4, 'u32'), true);
  }

  /** u64 little-endian as a bigint. @example r.u64() */
  u64(): bigint {
    return this.view.getBigUint64(this.take(8, 'u64'), true);
  }

  /**
   * A minimal CompactSize not above `max` (Bitcoin Core `ReadCompactSize` with its
   * "non-canonical" checks; the range check here is the caller's bound).
   * @example
   * ```ts
   * const count = r.varint(10_000);
   * ```
   */
  varint(max: number): number {
    checkMax(max);
    const first = this.u8();
    let n: number;
    if (first < 0xfd) n = first;
    else if (first === 0xfd) {
      n = this.u16();
      if (n < 0xfd) throw new DecodeError(`non-canonical CompactSize: ${n} in 3 bytes`);
    } else if (first === 0xfe) {
      n = this.u32();
      if (n <= 0xffff) throw new DecodeError(`non-canonical CompactSize: ${n} in 5 bytes`);
    } else {
      const big = this.u64();
      if (big <= BigInt(U32_MAX)) throw new DecodeError(`non-canonical CompactSize: ${big} in 9 bytes`);
      if (big > BigInt(max)) throw new DecodeError(`CompactSize ${big} over the maximum ${max}`);
      n = Number(big);
    }
    if (n > max) throw new DecodeError(`CompactSize ${n} over the maximum ${max}`);
    return n;
  }

  /** Exactly `n` bytes (a copy). @example const hash = r.bytes(32) */
  bytes(n: number): Uint8Array {
    if (!Number.isSafeInteger(n) || n < 0) throw new TypeError(`bytes: bad length ${n}`);
    const at = this.take(n, `${n} bytes`);
    return this.data.slice(at, at + n);
  }

  /**
   * A CompactSize length (at most `max`, checked before allocating) then that many bytes.
   * @example const tx = r.varBytes(8192)
   */
  varBytes(max: number): Uint8Array {
    return this.bytes(this.varint(max));
  }

  /**
   * A CompactSize byte length (at most `maxBytes`) then strict UTF-8.
   * @example const name = r.string(64)
   */
  string(maxBytes: number): string {
    const raw = this.varBytes(maxBytes);
    try {
      return utf8Decoder.decode(raw);
    } catch {
      throw new DecodeError('invalid UTF-8');
    }
  }

  /** Throws DecodeError unless every byte has been read. @example r.end() */
  end(): void {
    if (this.pos !== this.data.length) throw new DecodeError(`${this.remaining} trailing bytes`);
  }
}
