/**
 * Fuzz target of the wallet backup reader (src/node/backup.ts): parseWalletBackup and
 * decryptWalletBackup fed junk JSON, random JSON, non-JSON text, over-long text, arbitrary
 * values, and a real backup mutated field by field and character by character.
 *
 * Properties: parseWalletBackup returns a version-1 document or throws ApiError BAD_BACKUP, never
 * anything else; decryptWalletBackup refuses whatever parse refuses with the same BAD_BACKUP and
 * BEFORE any key derivation (a hostile file must not cost a scrypt run, and here scrypt is
 * counted); otherwise it resolves only with the key of the recorded address, or rejects with
 * BAD_BACKUP / BAD_PASSPHRASE / BAD_INPUT.
 *
 * scrypt is replaced by a cheap stand-in of the same signature (vi.mock), so that 100,000 inputs
 * can reach the decryption path; the real KDF is wallet.test.ts's business.
 */
import { beforeAll, describe, expect, vi } from 'vitest';
import fc from 'fast-check';
import { encodeAddress, NETWORKS, publicKeyOf } from '../../src/chain/index.ts';
import { BACKUP_LIMITS, decryptWalletBackup, encryptWalletBackup, parseWalletBackup, type WalletBackup } from '../../src/node/backup.ts';
import { ApiError } from '../../src/node/errors.ts';
import { fuzzAsync, rejectionOf, thrownBy } from './harness.ts';

const kdf = vi.hoisted(() => ({ calls: 0 }));

vi.mock('@noble/hashes/scrypt.js', async () => {
  const { sha512 } = await import('@noble/hashes/sha2.js');
  return {
    // Deterministic in every input scrypt takes, 64 bytes like the real call: a wrong passphrase,
    // salt or cost still derives another key.
    scryptAsync: async (password: string, salt: Uint8Array, opts: { N: number; r: number; p: number; dkLen: number }) => {
      kdf.calls++;
      const pw = new TextEncoder().encode(`${password}|${opts.N}|${opts.r}|${opts.p}|`);
      const seed = new Uint8Array([...pw, ...salt]);
      return sha512(seed).slice(0, opts.dkLen);
    },
  };
});

const HERE = import.meta.url;
const params = NETWORKS.test;
const PASS = 'correct horse battery staple';
const SECRET = new Uint8Array(32).fill(0x42);

let valid: WalletBackup;
let validText: string;

beforeAll(async () => {
  valid = await encryptWalletBackup(SECRET, PASS, { network: 'test', addressPrefix: params.addressPrefix }, { kdf: { N: BACKUP_LIMITS.minN, r: BACKUP_LIMITS.minR, p: 1 }, now: () => new Date(0) });
  validText = JSON.stringify(valid);
});

const FIELDS = ['format', 'version', 'network', 'address', 'createdAt', 'kdf', 'kdf.name', 'kdf.N', 'kdf.r', 'kdf.p', 'kdf.salt', 'cipher', 'cipher.name', 'cipher.nonce', 'check', 'ciphertext'];

/** Edge values a field may be replaced with: other types, bounds of the scrypt costs, hex of the wrong shape. */
const arbFieldValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom<unknown>(
    null,
    undefined,
    0,
    -1,
    1.5,
    2 ** 53,
    Number.MAX_VALUE,
    '',
    'main',
    'dev',
    '1',
    BACKUP_LIMITS.minN / 2,
    BACKUP_LIMITS.maxN,
    BACKUP_LIMITS.maxN * 2,
    (1 << 15) + 1,
    BACKUP_LIMITS.maxR + 1,
    BACKUP_LIMITS.maxP + 1,
    'ABCDEF',
    '00'.repeat(16),
    '00'.repeat(24),
    'zz'.repeat(16),
    'x'.repeat(101),
    [],
    {},
  ),
);

function setPath(doc: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const out = structuredClone(doc);
  const [a, b] = path.split('.');
  if (b === undefined) {
    if (value === undefined) delete out[a];
    else out[a] = value;
  } else if (typeof out[a] === 'object' && out[a] !== null) {
    const inner = out[a] as Record<string, unknown>;
    if (value === undefined) delete inner[b];
    else inner[b] = value;
  }
  return out;
}

/** A hex digit of a hex field changed (still well-formed: reaches the check, the tag or the address). */
function flipHex(doc: WalletBackup, field: 'kdf.salt' | 'cipher.nonce' | 'check' | 'ciphertext', at: number): Record<string, unknown> {
  const get = (d: WalletBackup) => (field === 'kdf.salt' ? d.kdf.salt : field === 'cipher.nonce' ? d.cipher.nonce : d[field]);
  const hex = get(doc);
  const i = at % hex.length;
  const digit = '0123456789abcdef'[(parseInt(hex[i], 16) + 1 + (at % 15)) % 16];
  return setPath(doc as unknown as Record<string, unknown>, field, hex.slice(0, i) + digit + hex.slice(i + 1));
}

type Input = { input: string | object; passphrase: string };

const arbInput: fc.Arbitrary<Input> = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom(PASS, 'wrong passphrase', '', 'correct horse battery stapl\u0065\u0301').map((passphrase) => ({ input: validText, passphrase })) },
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...FIELDS), arbFieldValue).map(([f, v]) => ({ input: JSON.stringify(setPath(valid as unknown as Record<string, unknown>, f, v)), passphrase: PASS })) },
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom('kdf.salt' as const, 'cipher.nonce' as const, 'check' as const, 'ciphertext' as const), fc.nat()).map(([f, at]) => ({ input: flipHex(valid, f, at), passphrase: PASS })) },
  // the text, edited: flips, cuts, insertions
  {
    weight: 3,
    arbitrary: fc.tuple(fc.nat(), fc.nat(), fc.string({ maxLength: 3 }), fc.nat({ max: 4 })).map(([at, len, ins, cut]) => {
      const i = at % (validText.length + 1);
      return { input: validText.slice(0, i) + ins + validText.slice(i + (len % 4) + (cut === 0 ? validText.length : 0)), passphrase: PASS };
    }),
  },
  { weight: 1, arbitrary: fc.json({ maxDepth: 3 }).map((input) => ({ input, passphrase: PASS })) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }).map((input) => ({ input, passphrase: PASS })) },
  { weight: 1, arbitrary: fc.integer({ min: 4097, max: 6000 }).map((n) => ({ input: ' '.repeat(n - validText.length) + validText, passphrase: PASS })) },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 2 }).filter((x) => typeof x === 'object' && x !== null).map((input) => ({ input: input as object, passphrase: PASS })) },
);

describe('wallet backup', () => {
  fuzzAsync(
    'parseWalletBackup / decryptWalletBackup',
    arbInput,
    async ({ input, passphrase }) => {
      const parseErr = thrownBy(() => parseWalletBackup(input));
      if (parseErr !== undefined && !(parseErr instanceof ApiError && parseErr.code === 'BAD_BACKUP')) {
        expect.fail(`parseWalletBackup threw ${String(parseErr)}`);
      }
      const before = kdf.calls;
      const err = await rejectionOf(decryptWalletBackup(input, passphrase, params.addressPrefix));
      if (parseErr !== undefined) {
        // Refused exactly as parse refuses, before any key derivation.
        expect(err).toBeInstanceOf(ApiError);
        expect((err as ApiError).code).toBe('BAD_BACKUP');
        expect(kdf.calls).toBe(before);
        return 'BAD_BACKUP before the KDF';
      }
      if (err === undefined) {
        const out = await decryptWalletBackup(input, passphrase, params.addressPrefix);
        expect(out.address).toBe(encodeAddress(publicKeyOf(out.secretKey), params.addressPrefix));
        expect(out.address).toBe(parseWalletBackup(input).address);
        return 'opened';
      }
      if (!(err instanceof ApiError) || !['BAD_BACKUP', 'BAD_PASSPHRASE', 'BAD_INPUT'].includes(String(err.code))) expect.fail(`decryptWalletBackup rejected with ${String(err)}`);
      // An empty passphrase is refused before the KDF runs too.
      if (err.code === 'BAD_INPUT') expect(kdf.calls).toBe(before);
      return String(err.code);
    },
    HERE,
    { mustSee: ['BAD_BACKUP before the KDF', 'opened', 'BAD_BACKUP', 'BAD_PASSPHRASE', 'BAD_INPUT'] },
  );
});
