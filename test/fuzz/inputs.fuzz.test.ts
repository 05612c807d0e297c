/**
 * Fuzz targets of the parsers of text and stored bytes from outside the chain protocols:
 *
 * - decodeValue (src/storage/value-codec.ts, LevelStore's on-disk format): canonical or
 *   StorageError CORRUPT; stored values round-trip exactly; a huge length is refused before
 *   allocating.
 * - parseHostHeader (relay/server.ts): undefined, or a host name and port that print back to the
 *   header (the relay writes them into /bootstrap.json).
 * - decodeAddress (src/chain/keys.ts) and the API's parseAddress: the key of exactly one address
 *   (its lowercase form), or RuleError / ApiError BAD_ADDRESS.
 * - The page's parsers (src/ui/format.ts): parseTab and parseCount accept exactly the plain
 *   decimals in range and give their exact value (InputError otherwise); addressProblem and
 *   nameProblem say null exactly when the chain would accept the input; none throws anything else.
 * - The API's parsers (src/node/api.ts): parseAmount, parseQuantity, parseLots, parseId,
 *   parseAsset accept exactly what the API contract says, ApiError with its code otherwise.
 */
import { describe, expect } from 'vitest';
import fc from 'fast-check';
import { decodeAddress, encodeAddress, hashToHex, isAddress, isValidItemName, RuleError, MAX_NAME_BYTES } from '../../src/chain/index.ts';
import { bytesToHex, equalBytes } from '../../src/chain/bytes.ts';
import { decodeValue, encodeValue } from '../../src/storage/value-codec.ts';
import { StorageError } from '../../src/storage/errors.ts';
import { parseHostHeader } from '../../relay/server.ts';
import { ApiError } from '../../src/node/errors.ts';
import { parseAddress, parseAmount, parseAsset, parseId, parseLots, parseQuantity } from '../../src/node/api-input.ts';
import { addressProblem, formatTab, InputError, MAX_ITEM_COUNT, nameProblem, parseCount, parseTab } from '../../src/ui/format.ts';
import { fuzz, thrownBy } from './harness.ts';
import { arbNoise, mutated } from './mutate.ts';
import { arrayBufferGrowth, expectCanonicalOrRefused, expectOneOf } from './properties.ts';

const HERE = import.meta.url;
const MAX_UNITS = (1n << 63n) - 1n;

// ---------------------------------------------------------------------------------------------
// decodeValue

/** Values LevelStore keeps: what structured clone keeps (no undefined inside, plain objects only). */
const arbStored: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.double(),
    fc.constantFrom(-0, NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER),
    fc.bigInt({ min: -(1n << 300n), max: 1n << 300n }),
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    fc.uint8Array({ maxLength: 40 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 6 }), tie('value'), { maxKeys: 4, noNullPrototype: true }),
  ),
})).value;

/** LEB128 of n (any size). */
function leb128(n: bigint): number[] {
  const out: number[] = [];
  do {
    let b = Number(n & 0x7fn);
    n >>= 7n;
    if (n > 0n) b |= 0x80;
    out.push(b);
  } while (n > 0n);
  return out;
}

describe('stored values', () => {
  fuzz(
    'decodeValue',
    fc.oneof(
      arbStored.map((value) => ({ value, bytes: encodeValue(value), huge: false })),
      { weight: 3, arbitrary: mutated(arbStored.map(encodeValue)).map((bytes) => ({ bytes, value: undefined, huge: false })) },
      arbNoise(80).map((bytes) => ({ bytes, value: undefined, huge: false })),
      // a string, bytes, array or object announcing up to 2^70 bytes or items
      fc
        .tuple(fc.constantFrom(4, 5, 6, 7, 8), fc.bigInt({ min: 1n << 20n, max: 1n << 70n }), fc.uint8Array({ maxLength: 8 }))
        .map(([tag, n, tail]) => ({ bytes: Uint8Array.from([tag, ...(tag === 4 ? [0] : []), ...leb128(n), ...tail]), value: undefined, huge: true })),
    ),
    ({ bytes, value, huge }) => {
      const { grew, thrown } = arrayBufferGrowth(() => {
        const got = expectCanonicalOrRefused(bytes, decodeValue, encodeValue, (e) => e instanceof StorageError && e.code === 'CORRUPT');
        if (value !== undefined) expect(got).toEqual(value);
      });
      if (thrown) throw thrown;
      if (huge) expect(grew).toBeLessThan(64 * 1024);
      return thrownBy(() => decodeValue(bytes)) === undefined ? 'accepted' : 'refused';
    },
    HERE,
    { mustSee: ['accepted', 'refused'] },
  );
});

// ---------------------------------------------------------------------------------------------
// parseHostHeader

const arbHostName = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9.-]{1,70}$/),
  fc.constantFrom('localhost', 'tab.example.org', '127.0.0.1', '0.0.0.0', '-', '.', '..', 'a..b', 'x'.repeat(254)),
  fc.ipV4(),
  fc.ipV6().map((ip) => `[${ip}]`),
  fc.constantFrom('[::1]', '[::]', '[fe80::1%eth0]', '[1:2:3:4:5:6:7:8:9]', '[::ffff:1.2.3.4]', '[]', '[:::]', '[127.0.0.1]', '::1'),
);
const arbPort = fc.oneof(fc.constant(''), fc.integer({ min: 0, max: 99_999 }).map((p) => `:${p}`), fc.constantFrom(':', ':00080', ':65535', ':65536', ':+80', ':8o', ': 80', ':123456'));

describe('relay host header', () => {
  fuzz(
    'parseHostHeader',
    fc.oneof(
      { weight: 4, arbitrary: fc.tuple(arbHostName, arbPort).map(([h, p]) => h + p) },
      { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
      { weight: 1, arbitrary: fc.integer({ min: 250, max: 300 }).map((n) => 'a'.repeat(n)) },
      { weight: 1, arbitrary: fc.constantFrom<string | undefined>(undefined, '', 'evil.example\r\nX-Injected: 1', 'a b', 'host/path', 'user@host', 'host:80:90', '[::1]]:80') },
    ),
    (host) => {
      const r = parseHostHeader(host);
      if (r === undefined) return 'refused';
      // A name and port that print back to the header (modulo leading zeros of the port).
      expect(host!.length).toBeLessThanOrEqual(255);
      const bracketed = host!.startsWith('[');
      if (bracketed) expect(r.name.includes(':')).toBe(true);
      else expect(r.name).toMatch(/^[A-Za-z0-9.-]+$/);
      if (r.port !== undefined) {
        expect(Number.isInteger(r.port) && r.port >= 0 && r.port <= 65535).toBe(true);
        expect(host!.replace(/:0*(\d+)$/, ':$1')).toBe(`${bracketed ? `[${r.name}]` : r.name}:${r.port}`);
      } else expect(host).toBe(bracketed ? `[${r.name}]` : r.name);
      expect(parseHostHeader(`${bracketed ? `[${r.name}]` : r.name}${r.port === undefined ? '' : `:${r.port}`}`)).toEqual(r);
      return 'accepted';
    },
    HERE,
    { mustSee: ['accepted', 'refused'] },
  );
});

// ---------------------------------------------------------------------------------------------
// Addresses

const PREFIXES = ['tab', 'tabdev', 'tabtest'];
const BECH32_CHARS = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';

const arbAddressInput: fc.Arbitrary<{ text: unknown; prefix: string }> = fc.constantFrom(...PREFIXES).chain((prefix) => {
  const valid = fc.tuple(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.constantFrom(...PREFIXES)).map(([k, p]) => encodeAddress(k, p));
  const edited = fc.tuple(valid, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 5 }), fc.constantFrom(...BECH32_CHARS, 'b', 'i', 'o', '1', 'B', ' ', '\u0131', 'Q')), { minLength: 1, maxLength: 3 })).map(([a, edits]) => {
    let s = a;
    for (const [at, op, ch] of edits) {
      const i = at % (s.length + 1);
      if (op === 0) s = s.slice(0, i) + ch + s.slice(i + 1); // substitute
      else if (op === 1) s = s.slice(0, i) + ch + s.slice(i); // insert
      else if (op === 2) s = s.slice(0, i) + s.slice(i + 1); // delete
      else if (op === 3) s = s.toUpperCase(); // all upper: allowed (BIP 173)
      else if (op === 4) s = s.slice(0, i) + s.slice(i, i + 1).toUpperCase() + s.slice(i + 1); // mixed case
      else s = s.slice(0, i); // truncate
    }
    return s;
  });
  return fc.record({
    text: fc.oneof({ weight: 2, arbitrary: valid }, { weight: 6, arbitrary: edited }, fc.string({ maxLength: 100 }), fc.constantFrom<unknown>(undefined, null, 42, {}, ['tab1'], `${prefix}1${'q'.repeat(200)}`)),
    prefix: fc.constant(prefix),
  });
});

describe('addresses', () => {
  fuzz(
    'decodeAddress / parseAddress / addressProblem',
    arbAddressInput,
    ({ text, prefix }) => {
      let pub: Uint8Array | undefined;
      const err = thrownBy(() => (pub = decodeAddress(text as string, prefix)));
      const apiErr = thrownBy(() => parseAddress(text, prefix));
      expect(isAddress(text as string, prefix)).toBe(err === undefined);
      if (typeof text === 'string') {
        const problem = addressProblem(text, prefix);
        // The page says nothing against exactly the addresses the chain takes (after trimming).
        expect(problem === null).toBe(!/\s/.test(text.trim()) && isAddress(text.trim(), prefix));
      }
      if (err !== undefined) {
        expectOneOf(err, [RuleError]);
        expect((err as RuleError).code).toBe('BAD_ADDRESS');
        expect(apiErr).toBeInstanceOf(ApiError);
        expect((apiErr as ApiError).code).toBe('BAD_ADDRESS');
        return 'refused';
      }
      // One key, one address: the input is that key's address, in either case but not mixed.
      expect(pub!.length).toBe(32);
      expect((text as string).toLowerCase()).toBe(encodeAddress(pub!, prefix));
      expect([encodeAddress(pub!, prefix), encodeAddress(pub!, prefix).toUpperCase()]).toContain(text);
      expect(apiErr).toBeUndefined();
      return 'accepted';
    },
    HERE,
    { mustSee: ['accepted', 'refused'] },
  );
});

// ---------------------------------------------------------------------------------------------
// The page's parsers

const arbNumberText = fc.oneof(
  fc.stringMatching(/^\s?[0-9]{0,22}(\.[0-9]{0,10})?\s?$/),
  fc.string({ unit: fc.constantFrom(...'0123456789.,-−–+eE \t\u00a0١٢'.split('')), maxLength: 24 }),
  fc.string({ maxLength: 20 }),
  fc.constantFrom('1,5', '1,000', '1.000,5', '١', '0x10', '1_000', 'Infinity', 'NaN', '92233720368.54775807', '92233720368.54775808', '0.00000001', '0.000000001', '000000000000000000001', '.', '5.', '.5'),
);

/** The exact base units of a plain decimal TAB amount, or undefined if it is not one. */
function tabUnits(text: string): bigint | undefined {
  const m = /^([0-9]*)(?:\.([0-9]*))?$/.exec(text.trim());
  if (!m || (m[1] === '' && !m[2]) || (m[2] ?? '').length > 8) return undefined;
  return BigInt(m[1] || '0') * 100_000_000n + BigInt((m[2] ?? '').padEnd(8, '0'));
}

describe('page input parsers', () => {
  fuzz(
    'parseTab',
    arbNumberText,
    (text) => {
      const want = tabUnits(text);
      const inRange = want !== undefined && want >= 1n && want <= MAX_UNITS;
      let got: string | undefined;
      const e = thrownBy(() => (got = parseTab(text)));
      if (e !== undefined) {
        expectOneOf(e, [InputError], JSON.stringify(text));
        expect(inRange).toBe(false);
        return 'refused';
      }
      expect(inRange).toBe(true);
      expect(got).toBe(want!.toString());
      // What the page shows reads back to the same amount.
      expect(parseTab(formatTab(got!, { unit: false }).replace(/,/g, ''))).toBe(got);
      return 'accepted';
    },
    HERE,
    { mustSee: ['accepted', 'refused'] },
  );

  fuzz(
    'parseCount',
    fc.tuple(fc.oneof(arbNumberText, fc.double().map(String), fc.integer({ min: -5, max: 2 * MAX_ITEM_COUNT }).map(String)), fc.constantFrom(1, 10, 1_000_000, MAX_ITEM_COUNT)),
    ([text, max]) => {
      const t = text.trim();
      const inRange = /^[0-9]+$/.test(t) && BigInt(t) >= 1n && BigInt(t) <= BigInt(max);
      let got: number | undefined;
      const e = thrownBy(() => (got = parseCount(text, 'Quantity', max)));
      if (e !== undefined) {
        expectOneOf(e, [InputError], JSON.stringify(text));
        expect(inRange).toBe(false);
        return 'refused';
      }
      expect(inRange).toBe(true);
      expect(BigInt(got!)).toBe(BigInt(t));
      return 'accepted';
    },
    HERE,
    { mustSee: ['accepted', 'refused'] },
  );

  fuzz(
    'nameProblem',
    fc.oneof(fc.string({ maxLength: 70 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 40 }), fc.constantFrom('', '   ', 'Blue mug', 'Blue mug \u202egpj.exe', '\u200eMug', 'a\u0000b', '👕'.repeat(16), '👕'.repeat(17), 'é'.repeat(32), 'é'.repeat(33), '\ud800')),
    (name) => {
      const problem = nameProblem(name);
      const t = name.trim();
      const ok = t !== '' && new TextEncoder().encode(t).length <= MAX_NAME_BYTES && isValidItemName(t);
      expect(problem === null).toBe(ok);
      if (problem !== null) expect(typeof problem).toBe('string');
      return ok ? 'accepted' : 'refused';
    },
    HERE,
    { mustSee: ['accepted', 'refused'] },
  );
});

// ---------------------------------------------------------------------------------------------
// The API's parsers (window.tabchain: any page script may call them)

const arbApiValue: fc.Arbitrary<unknown> = fc.oneof(
  arbNumberText,
  fc.bigInt({ min: 0n, max: 1n << 70n }).map(String),
  fc.integer(),
  fc.double(),
  fc.constantFrom<unknown>(0, 1, -1, 0xffffffff, 2 ** 32, Number.MAX_SAFE_INTEGER, 2 ** 53, 1.5, NaN, Infinity, null, undefined, true, '1', '01', '9223372036854775807', '9223372036854775808', 'coin', 'COIN', [], {}, 5n),
  fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => bytesToHex(b)),
  fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => bytesToHex(b).toUpperCase()),
  fc.stringMatching(/^[0-9a-fA-FxX]{62,66}$/),
);

describe('API input parsers', () => {
  fuzz(
    'parseAmount / parseQuantity / parseLots / parseId / parseAsset',
    arbApiValue,
    (v) => {
      const outcome = (fn: () => unknown, ok: boolean, code: string): unknown => {
        let got: unknown;
        const e = thrownBy(() => (got = fn()));
        if (!ok) {
          expectOneOf(e, [ApiError], `${fn.toString()} of ${String(v)}`);
          expect((e as ApiError).code).toBe(code);
          return undefined;
        }
        expect(e).toBeUndefined();
        return got;
      };
      const amountOk = typeof v === 'string' && /^[1-9][0-9]*$/.test(v) && BigInt(v) <= MAX_UNITS;
      const amount = outcome(() => parseAmount(v), amountOk, 'BAD_AMOUNT');
      if (amountOk) expect(amount).toBe(BigInt(v as string));
      const qtyOk = typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;
      if (qtyOk) expect(outcome(() => parseQuantity(v), true, 'BAD_AMOUNT')).toBe(BigInt(v as number));
      else outcome(() => parseQuantity(v), false, 'BAD_AMOUNT');
      const lotsOk = typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 0xffffffff;
      if (lotsOk) expect(outcome(() => parseLots(v), true, 'BAD_AMOUNT')).toBe(v);
      else outcome(() => parseLots(v), false, 'BAD_AMOUNT');
      const idOk = typeof v === 'string' && /^[0-9a-fA-F]{64}$/.test(v);
      const id = outcome(() => parseId(v, 'id'), idOk, 'BAD_ID') as Uint8Array | undefined;
      if (id) expect(hashToHex(id)).toBe((v as string).toLowerCase());
      const asset = outcome(() => parseAsset(v, 'give'), v === 'coin' || idOk, 'BAD_ID');
      if (asset && v !== 'coin') expect(equalBytes((asset as { itemId: Uint8Array }).itemId, id!)).toBe(true);
      return amountOk ? 'amount' : qtyOk ? 'quantity' : idOk ? 'id' : 'refused';
    },
    HERE,
    { mustSee: ['amount', 'quantity', 'id', 'refused'] },
  );
});
