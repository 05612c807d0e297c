/**
 * A small exact binary serializer for stored values (LevelStore's on-disk format).
 *
 * IndexedDB stores our records by structured clone, which keeps `bigint` and `Uint8Array`; JSON
 * keeps neither. This codec keeps exactly what structured clone keeps for the values we store —
 * null, booleans, numbers (IEEE-754 bits, so -0 and NaN survive), bigints of any size, strings,
 * Uint8Array, arrays and plain objects — and nothing else (a Map, Date, function or class instance
 * is refused, as IndexedDB's DataCloneError would refuse a function). Object properties whose
 * value is `undefined` are omitted (as JSON does); keys are written sorted, so equal values encode
 * to equal bytes.
 *
 * Format: one tag byte per value, then
 *   0 null | 1 false | 2 true | 3 number: f64 LE | 4 bigint: sign byte (0 ≥ 0, 1 < 0), varint n,
 *   n magnitude bytes LE (minimal, n = 0 for 0) | 5 string: varint n, n UTF-8 bytes | 6 bytes:
 *   varint n, n bytes | 7 array: varint count, items | 8 object: varint count, (string, value) pairs.
 * varint = unsigned LEB128, minimal, < 2^53.
 * @module
 */
import { StorageError } from './errors.ts';

const T_NULL = 0;
const T_FALSE = 1;
const T_TRUE = 2;
const T_NUMBER = 3;
const T_BIGINT = 4;
const T_STRING = 5;
const T_BYTES = 6;
const T_ARRAY = 7;
const T_OBJECT = 8;

/** Nesting bound for both directions: our records are at most ~5 levels deep. */
const MAX_DEPTH = 32;

const CANONICAL_NAN = new Uint8Array(8);
new DataView(CANONICAL_NAN.buffer).setFloat64(0, NaN, true);

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

class ByteSink {
  buf = new Uint8Array(256);
  len = 0;
  reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  byte(b: number): void {
    this.reserve(1);
    this.buf[this.len++] = b;
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  varint(n: number): void {
    this.reserve(8);
    while (n >= 0x80) {
      this.buf[this.len++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.len++] = n;
  }
}

function invalid(message: string): never {
  throw new StorageError('INVALID', `value cannot be stored: ${message}`);
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function write(out: ByteSink, v: unknown, depth: number): void {
  if (depth > MAX_DEPTH) invalid('nested too deeply');
  if (v === null) return out.byte(T_NULL);
  switch (typeof v) {
    case 'boolean':
      return out.byte(v ? T_TRUE : T_FALSE);
    case 'number': {
      out.byte(T_NUMBER);
      if (Number.isNaN(v)) return out.bytes(CANONICAL_NAN);
      const b = new Uint8Array(8);
      new DataView(b.buffer).setFloat64(0, v, true);
      return out.bytes(b);
    }
    case 'bigint': {
      out.byte(T_BIGINT);
      out.byte(v < 0n ? 1 : 0);
      let m = v < 0n ? -v : v;
      const mag: number[] = [];
      while (m > 0n) {
        mag.push(Number(m & 0xffn));
        m >>= 8n;
      }
      out.varint(mag.length);
      return out.bytes(Uint8Array.from(mag));
    }
    case 'string': {
      const b = utf8Encoder.encode(v);
      out.byte(T_STRING);
      out.varint(b.length);
      return out.bytes(b);
    }
    case 'object': {
      if (v instanceof Uint8Array) {
        // Structured clone turns a Buffer into a plain Uint8Array; so do we (on decode).
        out.byte(T_BYTES);
        out.varint(v.length);
        return out.bytes(v);
      }
      if (Array.isArray(v)) {
        out.byte(T_ARRAY);
        out.varint(v.length);
        for (const item of v) write(out, item, depth + 1);
        return;
      }
      if (!isPlainObject(v)) invalid(`unsupported object ${Object.prototype.toString.call(v)}`);
      const keys = Object.keys(v)
        .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
        .sort();
      out.byte(T_OBJECT);
      out.varint(keys.length);
      for (const k of keys) {
        const kb = utf8Encoder.encode(k);
        out.varint(kb.length);
        out.bytes(kb);
        write(out, (v as Record<string, unknown>)[k], depth + 1);
      }
      return;
    }
    default:
      invalid(`unsupported type ${typeof v}`);
  }
}

/**
 * Encodes a value; throws StorageError 'INVALID' for anything structured clone would not keep
 * exactly (functions, symbols, undefined at top level or in arrays, Map/Set/Date/class instances).
 * @example
 * ```ts
 * const bytes = encodeValue({ balance: 5n, key: new Uint8Array(32) });
 * ```
 */
export function encodeValue(v: unknown): Uint8Array {
  const out = new ByteSink();
  write(out, v, 0);
  return out.buf.slice(0, out.len);
}

class ByteSource {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}
  corrupt(message: string): never {
    throw new StorageError('CORRUPT', `stored value does not decode: ${message} at byte ${this.pos}`);
  }
  byte(): number {
    if (this.pos >= this.buf.length) this.corrupt('truncated');
    return this.buf[this.pos++];
  }
  take(n: number): Uint8Array {
    // Bound every length by what is left BEFORE allocating.
    if (n > this.buf.length - this.pos) this.corrupt(`length ${n} exceeds the remaining bytes`);
    const b = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  varint(): number {
    let n = 0;
    let scale = 1;
    for (let i = 0; ; i++) {
      const b = this.byte();
      if (i === 7 && b > 0x0f) this.corrupt('varint too large');
      n += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (b === 0 && i > 0) this.corrupt('non-minimal varint');
        return n;
      }
      scale *= 0x80;
    }
  }
  /** A count of items still to read: each takes at least one byte. */
  count(): number {
    const n = this.varint();
    if (n > this.buf.length - this.pos) this.corrupt(`count ${n} exceeds the remaining bytes`);
    return n;
  }
  string(): string {
    const b = this.take(this.varint());
    try {
      return utf8Decoder.decode(b);
    } catch {
      return this.corrupt('invalid UTF-8');
    }
  }
}

function read(src: ByteSource, depth: number): unknown {
  if (depth > MAX_DEPTH) src.corrupt('nested too deeply');
  const tag = src.byte();
  switch (tag) {
    case T_NULL:
      return null;
    case T_FALSE:
      return false;
    case T_TRUE:
      return true;
    case T_NUMBER: {
      const b = src.take(8);
      const n = new DataView(b.buffer).getFloat64(0, true);
      // One encoding per value: NaN only with the canonical bits encodeValue writes.
      if (Number.isNaN(n) && !b.every((x, i) => x === CANONICAL_NAN[i])) src.corrupt('non-canonical NaN');
      return n;
    }
    case T_BIGINT: {
      const sign = src.byte();
      if (sign > 1) src.corrupt('bad bigint sign');
      const mag = src.take(src.varint());
      if (mag.length > 0 && mag[mag.length - 1] === 0) src.corrupt('non-minimal bigint');
      if (mag.length === 0 && sign === 1) src.corrupt('negative zero bigint');
      let m = 0n;
      for (let i = mag.length - 1; i >= 0; i--) m = (m << 8n) | BigInt(mag[i]);
      return sign ? -m : m;
    }
    case T_STRING:
      return src.string();
    case T_BYTES:
      return src.take(src.varint());
    case T_ARRAY: {
      const n = src.count();
      const out: unknown[] = [];
      for (let i = 0; i < n; i++) out.push(read(src, depth + 1));
      return out;
    }
    case T_OBJECT: {
      const n = src.count();
      const out: Record<string, unknown> = {};
      let prev: string | null = null;
      for (let i = 0; i < n; i++) {
        const k = src.string();
        if (prev !== null && !(k > prev)) src.corrupt('object keys not sorted');
        prev = k;
        // defineProperty, so a stored '__proto__' key is data, never a prototype.
        Object.defineProperty(out, k, { value: read(src, depth + 1), enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    default:
      return src.corrupt(`unknown tag ${tag}`);
  }
}

/**
 * Decodes {@link encodeValue} output; throws StorageError 'CORRUPT' on truncated, trailing or
 * non-canonical bytes. Returned byte strings are fresh copies.
 * @example
 * ```ts
 * const v = decodeValue(encodeValue([1n, 'a'])); // [1n, 'a']
 * ```
 */
export function decodeValue(bytes: Uint8Array): unknown {
  // A Node Buffer (what LevelDB hands back) slices to views of itself: read through a plain view.
  if (bytes.constructor !== Uint8Array) bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const src = new ByteSource(bytes);
  const v = read(src, 0);
  if (src.pos !== bytes.length) src.corrupt('trailing bytes');
  return v;
}
