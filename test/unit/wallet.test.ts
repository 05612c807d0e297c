import { describe, expect, it } from 'vitest';
import { bytesToHex, encodeAddress, generatePrivateKey, publicKeyOf } from '../../src/chain/index.ts';
import { decryptWalletBackup, encryptWalletBackup, parseWalletBackup } from '../../src/node/backup.ts';
import { ApiError } from '../../src/node/errors.ts';

// Small scrypt costs keep the suite fast; the format records them, so decryption uses the same.
const FAST = { kdf: { N: 1 << 10, r: 8, p: 1 } };
const NET = { network: 'test' as const, addressPrefix: 'tabtest' };

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    expect((e as Error).message.startsWith((e as ApiError).code)).toBe(true);
    return (e as ApiError).code;
  }
  throw new Error('expected a rejection');
}

describe('wallet backup', () => {
  it('round-trips the secret key through JSON and names the address before decryption', async () => {
    const secret = generatePrivateKey();
    const backup = await encryptWalletBackup(secret, 'correct horse battery staple', NET, FAST);
    const text = JSON.stringify(backup);
    expect(text).not.toContain(bytesToHex(secret));
    const address = encodeAddress(publicKeyOf(secret), 'tabtest');
    expect(parseWalletBackup(text)).toMatchObject({ network: 'test', address, version: 1 });
    const out = await decryptWalletBackup(text, 'correct horse battery staple', 'tabtest');
    expect(bytesToHex(out.secretKey)).toBe(bytesToHex(secret));
    expect(out.address).toBe(address);
  });

  it('accepts the passphrase in another Unicode normalisation form (NFKC)', async () => {
    const secret = generatePrivateKey();
    const backup = await encryptWalletBackup(secret, 'caf\u00e9', NET, FAST);
    const out = await decryptWalletBackup(backup, 'cafe\u0301', 'tabtest');
    expect(bytesToHex(out.secretKey)).toBe(bytesToHex(secret));
  });

  it('rejects a wrong passphrase with BAD_PASSPHRASE', async () => {
    const backup = await encryptWalletBackup(generatePrivateKey(), 'right', NET, FAST);
    expect(await codeOf(decryptWalletBackup(JSON.stringify(backup), 'wrong', 'tabtest'))).toBe('BAD_PASSPHRASE');
  });

  it('rejects a tampered file with BAD_BACKUP (ciphertext, authenticated header, address)', async () => {
    const secret = generatePrivateKey();
    const backup = await encryptWalletBackup(secret, 'pw', NET, FAST);
    const flip = (hex: string) => (hex[0] === '0' ? '1' : '0') + hex.slice(1);
    expect(await codeOf(decryptWalletBackup({ ...backup, ciphertext: flip(backup.ciphertext) }, 'pw', 'tabtest'))).toBe('BAD_BACKUP');
    expect(await codeOf(decryptWalletBackup({ ...backup, createdAt: '2000-01-01T00:00:00.000Z' }, 'pw', 'tabtest'))).toBe('BAD_BACKUP');
    const other = encodeAddress(publicKeyOf(generatePrivateKey()), 'tabtest');
    expect(await codeOf(decryptWalletBackup({ ...backup, address: other }, 'pw', 'tabtest'))).toBe('BAD_BACKUP');
    // A backup of another network does not decode into this network's address.
    expect(await codeOf(decryptWalletBackup(backup, 'pw', 'tab'))).toBe('BAD_BACKUP');
  });

  it('rejects malformed documents, other versions and hostile costs with BAD_BACKUP before any work', async () => {
    const backup = await encryptWalletBackup(generatePrivateKey(), 'pw', NET, FAST);
    for (const bad of [
      'not json',
      JSON.stringify({ ...backup, version: 2 }),
      JSON.stringify({ ...backup, format: 'x' }),
      JSON.stringify({ ...backup, kdf: { ...backup.kdf, N: 1 << 30 } }),
      JSON.stringify({ ...backup, kdf: { ...backup.kdf, N: 1000 } }),
      JSON.stringify({ ...backup, cipher: { ...backup.cipher, nonce: 'zz' } }),
      JSON.stringify({ ...backup, ciphertext: backup.ciphertext.slice(2) }),
      'x'.repeat(10_000),
    ]) {
      expect(await codeOf(decryptWalletBackup(bad, 'pw', 'tabtest'))).toBe('BAD_BACKUP');
    }
  });

  it('refuses an empty passphrase', async () => {
    expect(await codeOf(encryptWalletBackup(generatePrivateKey(), '', NET, FAST))).toBe('BAD_INPUT');
  });
});
