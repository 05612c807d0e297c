/**
 * The Level value codec (exact round trips, canonical bytes, bounded decoding) and the mapping of
 * backend errors to StorageError codes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StorageError, isQuotaError, toStorageError } from '../../src/storage/errors.ts';
import { decodeValue, encodeValue } from '../../src/storage/value-codec.ts';
import { stateEntry } from './storage-fixtures.ts';

const valueArb = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.double(),
    fc.bigInt({ min: -(2n ** 300n), max: 2n ** 300n }),
    fc.string({ unit: 'grapheme' }),
    fc.uint8Array({ maxLength: 40 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string(), tie('value'), { maxKeys: 4 }),
  ),
})).value;

function corruptCode(bytes: Uint8Array): string | null {
  try {
    decodeValue(bytes);
    return null;
  } catch (e) {
    return e instanceof StorageError ? e.code : `not a StorageError: ${String(e)}`;
  }
}

describe('value codec', () => {
  it('round-trips every storable value exactly (bigint, -0, NaN, bytes, unicode)', () => {
    fc.assert(
      fc.property(valueArb, (v) => {
        expect(decodeValue(encodeValue(v))).toEqual(v);
      }),
      { numRuns: 300 },
    );
    expect(Object.is(decodeValue(encodeValue(-0)), -0)).toBe(true);
    for (let n = 0; n < 5; n++) expect(decodeValue(encodeValue(stateEntry(n)))).toEqual(stateEntry(n));
  });

  it('encodes equal values to equal bytes whatever the key order, and drops undefined properties', () => {
    expect(encodeValue({ a: 1, b: [2n] })).toEqual(encodeValue({ b: [2n], a: 1 }));
    expect(encodeValue({ a: 1, e: undefined })).toEqual(encodeValue({ a: 1 }));
    expect(decodeValue(encodeValue({ a: 1, e: undefined }))).toStrictEqual({ a: 1 });
  });

  it('returns plain Uint8Array copies, also from a Node Buffer', () => {
    const bytes = encodeValue({ k: Uint8Array.of(1, 2, 3) });
    const buf = Buffer.concat([Buffer.from([9, 9]), Buffer.from(bytes)]).subarray(2);
    const out = decodeValue(buf) as { k: Uint8Array };
    expect(out.k.constructor).toBe(Uint8Array);
    buf.fill(0);
    expect(out.k).toEqual(Uint8Array.of(1, 2, 3));
  });

  it('refuses what structured clone would not keep exactly', () => {
    for (const bad of [() => 1, Symbol('s'), undefined, new Map(), new Date(0), new Uint16Array(2), [undefined], { f: () => 1 }]) {
      expect(() => encodeValue(bad)).toThrow(expect.objectContaining({ code: 'INVALID' }));
    }
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = [deep];
    expect(() => encodeValue(deep)).toThrow(expect.objectContaining({ code: 'INVALID' }));
  });

  it('rejects truncated, trailing and non-canonical bytes as CORRUPT', () => {
    const good = encodeValue({ a: [1n, 'x', Uint8Array.of(5)] });
    for (let n = 0; n < good.length; n++) expect(corruptCode(good.subarray(0, n))).toBe('CORRUPT');
    expect(corruptCode(Uint8Array.from([...good, 0]))).toBe('CORRUPT');
    expect(corruptCode(Uint8Array.of(5, 0x80, 0x00))).toBe('CORRUPT'); // non-minimal varint
    expect(corruptCode(Uint8Array.of(4, 0, 1, 0))).toBe('CORRUPT'); // bigint with a zero top byte
    expect(corruptCode(Uint8Array.of(4, 1, 0))).toBe('CORRUPT'); // negative zero
    expect(corruptCode(Uint8Array.of(8, 2, 1, 0x62, 0, 1, 0x61, 0))).toBe('CORRUPT'); // keys out of order
    expect(corruptCode(Uint8Array.of(5, 1, 0xff))).toBe('CORRUPT'); // bad UTF-8
    expect(corruptCode(Uint8Array.of(9))).toBe('CORRUPT'); // unknown tag
    expect(corruptCode(Uint8Array.of(3, 1, 0, 0, 0, 0, 0, 0xf0, 0x7f))).toBe('CORRUPT'); // a NaN payload
    // A huge declared length fails before any allocation.
    expect(corruptCode(Uint8Array.of(6, 0xff, 0xff, 0xff, 0xff, 0x0f))).toBe('CORRUPT');
    expect(corruptCode(Uint8Array.of(7, 0xff, 0xff, 0xff, 0xff, 0x0f))).toBe('CORRUPT');
  });

  it('decoding arbitrary bytes either succeeds or fails with CORRUPT, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        const code = corruptCode(b);
        expect(code === null || code === 'CORRUPT').toBe(true);
        if (code === null) expect(encodeValue(decodeValue(b))).toEqual(b); // canonical: one encoding per value
      }),
      { numRuns: 2000 },
    );
  });
});

describe('toStorageError', () => {
  it('recognises quota errors of every browser and of the file system', () => {
    expect(isQuotaError(new DOMException('x', 'QuotaExceededError'))).toBe(true);
    expect(isQuotaError({ name: 'NS_ERROR_DOM_QUOTA_REACHED' })).toBe(true);
    expect(isQuotaError(Object.assign(new Error('write failed'), { code: 'ENOSPC' }))).toBe(true);
    expect(isQuotaError(new Error('wrapped', { cause: new DOMException('x', 'QuotaExceededError') }))).toBe(true);
    expect(isQuotaError(new DOMException('x', 'AbortError'))).toBe(false);
    expect(isQuotaError(new Error('IO error: permission denied'))).toBe(false);
  });

  it('maps backend errors to stable codes with an actionable message', () => {
    const q = toStorageError(new DOMException('x', 'QuotaExceededError'), { op: 'connectBlock 8', tipHeight: 7, medium: 'browser' });
    expect([q.code, q.tipHeight, q.message]).toEqual(['QUOTA_EXCEEDED', 7, 'Browser storage is full: free space or delete an old profile; the chain was left at block 7']);
    expect(toStorageError(new DOMException('x', 'QuotaExceededError'), { op: 'setMeta', tipHeight: -1 }).message).toMatch(/still empty/);
    expect(toStorageError(new DOMException('x', 'VersionError'), { op: 'open' }).code).toBe('SCHEMA_TOO_NEW');
    expect(toStorageError(new DOMException('x', 'DataCloneError'), { op: 'put' }).code).toBe('INVALID');
    expect(toStorageError(new DOMException('x', 'InvalidStateError'), { op: 'get' }).code).toBe('CLOSED');
    expect(toStorageError(Object.assign(new Error('not open'), { code: 'LEVEL_DATABASE_NOT_OPEN', cause: { code: 'LEVEL_LOCKED' } }), { op: 'open' }).code).toBe('LOCKED');
    expect(toStorageError(new Error('boom'), { op: 'x' }).code).toBe('IO');
    const same = new StorageError('CORRUPT', 'bad');
    expect(toStorageError(same, { op: 'x' })).toBe(same);
  });
});
