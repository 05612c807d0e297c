import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Reader, Writer, varintSize } from '../../src/chain/codec.ts';
import { DecodeError } from '../../src/chain/errors.ts';
import { hexToBytes, bytesToHex } from '../../src/chain/bytes.ts';

const hex = (s: string) => hexToBytes(s.replace(/\s+/g, ''));
const read = (bytesHex: string, f: (r: Reader) => unknown) => {
  const r = new Reader(hex(bytesHex));
  const v = f(r);
  r.end();
  return v;
};

describe('Writer/Reader fixed-width integers', () => {
  it('are little-endian (Bitcoin serialization)', () => {
    const w = new Writer().u8(0xab).u16(0x0102).u32(0x01020304).u64(0x0102030405060708n);
    expect(bytesToHex(w.finish())).toBe('ab' + '0201' + '04030201' + '0807060504030201');
  });

  it('round-trip over their whole ranges', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        (a, b, c, d) => {
          const r = new Reader(new Writer().u8(a).u16(b).u32(c).u64(d).finish());
          expect([r.u8(), r.u16(), r.u32(), r.u64()]).toEqual([a, b, c, d]);
          r.end();
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuse to write values out of range', () => {
    const w = new Writer();
    expect(() => w.u8(256)).toThrow(TypeError);
    expect(() => w.u16(-1)).toThrow(TypeError);
    expect(() => w.u32(2 ** 32)).toThrow(TypeError);
    expect(() => w.u32(1.5)).toThrow(TypeError);
    expect(() => w.u64(1n << 64n)).toThrow(TypeError);
    expect(() => w.u64(-1n)).toThrow(TypeError);
    expect(w.length).toBe(0);
  });

  it('reject truncated input with DecodeError', () => {
    expect(() => new Reader(hex('')).u8()).toThrow(DecodeError);
    expect(() => new Reader(hex('01')).u16()).toThrow(DecodeError);
    expect(() => new Reader(hex('010203')).u32()).toThrow(DecodeError);
    expect(() => new Reader(hex('01020304050607')).u64()).toThrow(DecodeError);
  });
});

describe('CompactSize varint', () => {
  // Encodings from the definition of CompactSize (Bitcoin Core serialize.h WriteCompactSize).
  const cases: [number, string][] = [
    [0, '00'],
    [252, 'fc'],
    [253, 'fdfd00'],
    [0xffff, 'fdffff'],
    [0x10000, 'fe00000100'],
    [0xffffffff, 'feffffffff'],
    [2 ** 32, 'ff0000000001000000'],
    [Number.MAX_SAFE_INTEGER, 'ffffffffffffff1f00'],
  ];
  it.each(cases)('%d ⇄ %s', (n, enc) => {
    expect(bytesToHex(new Writer().varint(n).finish())).toBe(enc);
    expect(varintSize(n)).toBe(enc.length / 2);
    expect(read(enc, (r) => r.varint(Number.MAX_SAFE_INTEGER))).toBe(n);
  });

  it('round-trips and is minimal for any safe integer', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 0, max: 0x20000 }), fc.maxSafeNat()), (n) => {
        const b = new Writer().varint(n).finish();
        expect(b.length).toBe(varintSize(n));
        const r = new Reader(b);
        expect(r.varint(Number.MAX_SAFE_INTEGER)).toBe(n);
        r.end();
      }),
      { numRuns: 500 },
    );
  });

  it.each([
    ['fd0000', 0],
    ['fdfc00', 252],
    ['fe00000000', 0],
    ['feffff0000', 0xffff],
    ['ff0000000000000000', 0],
    ['ffffffffff00000000', 0xffffffff],
  ])('rejects the non-minimal %s (value %d)', (enc) => {
    expect(() => read(enc, (r) => r.varint(Number.MAX_SAFE_INTEGER))).toThrow(/non-canonical/);
    expect(() => read(enc, (r) => r.varint(Number.MAX_SAFE_INTEGER))).toThrow(DecodeError);
  });

  it('rejects a value over the caller maximum, at every width', () => {
    expect(read('0a', (r) => r.varint(10))).toBe(10);
    expect(() => read('0b', (r) => r.varint(10))).toThrow(DecodeError);
    expect(() => read('fd0001', (r) => r.varint(0xff))).toThrow(DecodeError);
    expect(() => read('fe00000100', (r) => r.varint(0xffff))).toThrow(DecodeError);
    expect(() => read('ffffffffffffffffff', (r) => r.varint(Number.MAX_SAFE_INTEGER))).toThrow(DecodeError);
  });

  it('rejects truncated varints', () => {
    for (const enc of ['fd', 'fdff', 'fe', 'feffffff', 'ff', 'ff00000000000001']) {
      expect(() => new Reader(hex(enc)).varint(Number.MAX_SAFE_INTEGER)).toThrow(DecodeError);
    }
  });
});

describe('bytes, varBytes and strings', () => {
  it('round-trip length-prefixed bytes and UTF-8 strings', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.string({ unit: 'grapheme', maxLength: 40 }), (b, s) => {
        const r = new Reader(new Writer().varBytes(b, 300).string(s, 1000).finish());
        expect(r.varBytes(300)).toEqual(b);
        expect(r.string(1000)).toBe(s);
        r.end();
      }),
      { numRuns: 300 },
    );
  });

  it('checks a declared length against the maximum before allocating or reading', () => {
    // Declares 2^32 − 1 bytes but carries none: must fail on the bound, not on allocation.
    expect(() => new Reader(hex('feffffffff')).varBytes(1000)).toThrow(/over the maximum 1000/);
    // Within the bound but not present: truncated.
    expect(() => new Reader(hex('0a0102')).varBytes(1000)).toThrow(/truncated/);
  });

  it('reads fixed bytes as a copy, and rejects a short read', () => {
    const src = hex('01020304');
    const r = new Reader(src);
    const got = r.bytes(3);
    src[0] = 9;
    expect(got).toEqual(hex('010203'));
    expect(r.remaining).toBe(1);
    expect(() => r.bytes(2)).toThrow(DecodeError);
  });

  it('writer refuses wrong fixed lengths and lengths over the bound', () => {
    expect(() => new Writer().bytes(new Uint8Array(31), 32)).toThrow(TypeError);
    expect(() => new Writer().varBytes(new Uint8Array(5), 4)).toThrow(TypeError);
    expect(() => new Writer().string('12345', 4)).toThrow(TypeError);
  });

  it.each([
    ['c080', 'overlong NUL'],
    ['eda080', 'encoded surrogate U+D800'],
    ['e282', 'truncated 3-byte sequence'],
    ['ff', 'invalid byte'],
    ['f4908080', 'above U+10FFFF'],
  ])('rejects invalid UTF-8 %s (%s)', (body) => {
    const b = hex(body);
    const enc = bytesToHex(new Writer().varBytes(b, 10).finish());
    expect(() => read(enc, (r) => r.string(10))).toThrow(DecodeError);
  });

  it('keeps a leading BOM, so the bytes round-trip', () => {
    const s = read('06efbbbf616263', (r) => r.string(10)) as string;
    expect(s).toBe('\uFEFFabc');
    expect(bytesToHex(new Writer().string(s, 10).finish())).toBe('06efbbbf616263');
  });

  it('refuses to encode a string with a lone surrogate (it has no UTF-8 form)', () => {
    expect(() => new Writer().string('a\uD800b', 10)).toThrow(TypeError);
    expect(() => new Writer().string('\uDC00', 10)).toThrow(TypeError);
    expect(new Writer().string('😀', 10).finish()).toEqual(hex('04f09f9880'));
  });

  it('end() rejects trailing bytes', () => {
    const r = new Reader(hex('0102'));
    r.u8();
    expect(() => r.end()).toThrow(/1 trailing/);
    r.u8();
    expect(() => r.end()).not.toThrow();
  });

  it('grows the writer buffer past its initial capacity', () => {
    const w = new Writer(16);
    const data = Uint8Array.from({ length: 5000 }, (_, i) => i & 0xff);
    w.u32(7).bytes(data).u8(1);
    const out = w.finish();
    expect(out.length).toBe(5005);
    expect(out.subarray(4, 5004)).toEqual(data);
  });
});
