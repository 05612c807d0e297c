/**
 * Passphrase-encrypted backups of the wallet key, as a small versioned JSON document.
 *
 * Format (version 1; every byte string is lowercase hex):
 * ```json
 * { "format": "tabchain-wallet-backup", "version": 1, "network": "main", "address": "tab1…",
 *   "createdAt": "2026-11-22T10:00:00.000Z",
 *   "kdf": { "name": "scrypt", "N": 65536, "r": 8, "p": 1, "salt": "<16 bytes>" },
 *   "cipher": { "name": "xchacha20-poly1305", "nonce": "<24 bytes>" },
 *   "check": "<8 bytes>", "ciphertext": "<32-byte secret key + 16-byte tag>" }
 * ```
 * - Key derivation: scrypt (RFC 7914, @noble/hashes) of the NFKC-normalised passphrase — NFKC, as
 *   BIP 39 does for its passphrase, so the same words typed on another keyboard or OS give the same
 *   bytes — into 64 bytes: the first 32 are the XChaCha20-Poly1305 key, the last 32 feed `check`.
 *   N = 2^16, r = 8 (64 MiB, about a second in a browser) by default; a file may name other costs
 *   within {@link BACKUP_LIMITS}: at least N = 2^15, r = 8, and bounded so that a hostile file
 *   cannot make us allocate gigabytes. A backup is written only under a passphrase of at least
 *   {@link MIN_PASSPHRASE_CHARS} characters.
 * - Encryption: XChaCha20-Poly1305 (@noble/ciphers) with a random 24-byte nonce (large enough that
 *   random nonces never collide). The associated data is the canonical JSON of every other field
 *   but `ciphertext` and `check`, so editing the network, address, costs or date breaks the tag.
 * - `check` = first 8 bytes of sha256("tabchain/backup/check" || last 32 derived bytes). It tells a
 *   wrong passphrase (`BAD_PASSPHRASE`) apart from a damaged or edited file (`BAD_BACKUP`). It gives
 *   an attacker nothing the Poly1305 tag does not already give (both let one test a guess after
 *   paying for scrypt), and it is derived from a separate half of the scrypt output, so it says
 *   nothing about the encryption key.
 * - After decryption the secret key must give the recorded address, else `BAD_BACKUP`.
 * @module
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { bytesToHex, equalBytes, encodeAddress, hexToBytes, KEY_BYTES, publicKeyOf, type NetworkName } from '../chain/index.ts';
import { ApiError, showValue } from './errors.ts';

/** The `format` field of every backup. */
export const BACKUP_FORMAT = 'tabchain-wallet-backup';
/** The version this code writes (and the only one it reads). */
export const BACKUP_VERSION = 1;

/** Default scrypt costs: N = 2^16, r = 8, p = 1 (64 MiB). */
export const DEFAULT_BACKUP_KDF = { N: 1 << 16, r: 8, p: 1 } as const;

/**
 * Costs a backup may name, when written and when read: below the minimum is too weak to protect a
 * key (the floor is scrypt's interactive setting, N = 2^15, r = 8: 32 MiB, RFC 7914 §2 / Percival's
 * paper — a file that names less was not made by us and would teach users that weak files are
 * fine), above the maximum too costly to read (a hostile file must not make us allocate gigabytes).
 */
export const BACKUP_LIMITS = { minN: 1 << 15, minR: 8, maxN: 1 << 20, maxR: 16, maxP: 4, maxMemBytes: 256 * 1024 * 1024 } as const;

/**
 * Shortest passphrase a backup is written under, in characters (code points, after NFKC). The
 * scrypt costs slow a guesser down by a constant; only length makes the space large. Reading a
 * backup takes any non-empty passphrase, so files written before this floor still open.
 */
export const MIN_PASSPHRASE_CHARS = 8;

const CHECK_DOMAIN = new TextEncoder().encode('tabchain/backup/check');
const SALT_BYTES = 16;
const NONCE_BYTES = 24;
const CHECK_BYTES = 8;
const TAG_BYTES = 16;
const MAX_BACKUP_CHARS = 4096;

/** A parsed backup document (version 1). */
export interface WalletBackup {
  format: typeof BACKUP_FORMAT;
  version: 1;
  network: NetworkName;
  address: string;
  createdAt: string;
  kdf: { name: 'scrypt'; N: number; r: number; p: number; salt: string };
  cipher: { name: 'xchacha20-poly1305'; nonce: string };
  check: string;
  ciphertext: string;
}

/** What a backup holds once decrypted. */
export interface DecryptedBackup {
  network: NetworkName;
  address: string;
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

/** Options of {@link encryptWalletBackup}. */
export interface EncryptOptions {
  /** scrypt costs within {@link BACKUP_LIMITS} (tests use the minimum); defaults to {@link DEFAULT_BACKUP_KDF}. */
  kdf?: { N: number; r: number; p: number };
  /** Date written into the file; now by default. */
  now?: () => Date;
}

function normalisePassphrase(passphrase: unknown): string {
  if (typeof passphrase !== 'string' || passphrase.length === 0) throw new ApiError('BAD_INPUT', 'the passphrase must be a non-empty string');
  return passphrase.normalize('NFKC');
}

function checkCosts(k: { N: unknown; r: unknown; p: unknown }, code: 'BAD_BACKUP' | 'BAD_INPUT'): void {
  const { N, r, p } = k;
  const ok =
    Number.isSafeInteger(N) && Number.isSafeInteger(r) && Number.isSafeInteger(p) &&
    (N as number) >= BACKUP_LIMITS.minN && (N as number) <= BACKUP_LIMITS.maxN && ((N as number) & ((N as number) - 1)) === 0 &&
    (r as number) >= BACKUP_LIMITS.minR && (r as number) <= BACKUP_LIMITS.maxR && (p as number) >= 1 && (p as number) <= BACKUP_LIMITS.maxP &&
    128 * (N as number) * (r as number) <= BACKUP_LIMITS.maxMemBytes;
  if (!ok) throw new ApiError(code, `scrypt costs N=${showValue(N)} r=${showValue(r)} p=${showValue(p)} are outside the supported range`);
}

/** The authenticated header: every field but ciphertext and check, in a fixed order. */
function associatedData(b: Omit<WalletBackup, 'ciphertext' | 'check'>): Uint8Array {
  const canonical = JSON.stringify([b.format, b.version, b.network, b.address, b.createdAt, b.kdf.name, b.kdf.N, b.kdf.r, b.kdf.p, b.kdf.salt, b.cipher.name, b.cipher.nonce]);
  return new TextEncoder().encode(canonical);
}

async function deriveKeys(passphrase: string, salt: Uint8Array, k: { N: number; r: number; p: number }): Promise<{ key: Uint8Array; check: Uint8Array }> {
  const out = await scryptAsync(passphrase, salt, { N: k.N, r: k.r, p: k.p, dkLen: 64, maxmem: BACKUP_LIMITS.maxMemBytes + 1024 * 1024 });
  const key = out.slice(0, 32);
  const check = sha256(new Uint8Array([...CHECK_DOMAIN, ...out.subarray(32)])).slice(0, CHECK_BYTES);
  out.fill(0);
  return { key, check };
}

/**
 * Encrypts a wallet secret key under a passphrase into a backup document.
 * @example
 * ```ts
 * const backup = await encryptWalletBackup(secretKey, 'correct horse battery staple', { network: 'main', addressPrefix: 'tab' });
 * download(JSON.stringify(backup, null, 2));
 * ```
 */
export async function encryptWalletBackup(
  secretKey: Uint8Array,
  passphrase: string,
  net: { network: NetworkName; addressPrefix: string },
  opts: EncryptOptions = {},
): Promise<WalletBackup> {
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== KEY_BYTES) throw new ApiError('BAD_INPUT', 'secret key must be 32 bytes');
  const pass = normalisePassphrase(passphrase);
  if ([...pass].length < MIN_PASSPHRASE_CHARS) throw new ApiError('BAD_INPUT', `choose a passphrase of at least ${MIN_PASSPHRASE_CHARS} characters`);
  const costs = opts.kdf ?? DEFAULT_BACKUP_KDF;
  checkCosts(costs, 'BAD_INPUT');
  const salt = randomBytes(SALT_BYTES);
  const nonce = randomBytes(NONCE_BYTES);
  const header: Omit<WalletBackup, 'ciphertext' | 'check'> = {
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    network: net.network,
    address: encodeAddress(publicKeyOf(secretKey), net.addressPrefix),
    createdAt: (opts.now?.() ?? new Date()).toISOString(),
    kdf: { name: 'scrypt', N: costs.N, r: costs.r, p: costs.p, salt: bytesToHex(salt) },
    cipher: { name: 'xchacha20-poly1305', nonce: bytesToHex(nonce) },
  };
  const { key, check } = await deriveKeys(pass, salt, costs);
  const ciphertext = xchacha20poly1305(key, nonce, associatedData(header)).encrypt(secretKey);
  key.fill(0);
  return { ...header, check: bytesToHex(check), ciphertext: bytesToHex(ciphertext) };
}

function hexField(v: unknown, bytes: number, what: string): Uint8Array {
  if (typeof v !== 'string' || v.length !== bytes * 2 || !/^[0-9a-f]*$/.test(v)) throw new ApiError('BAD_BACKUP', `${what} must be ${bytes} bytes of lowercase hex`);
  return hexToBytes(v);
}

/**
 * Parses and shape-checks a backup (a JSON string or an already parsed object) WITHOUT decrypting
 * it: enough to show "this is the wallet tab1… of network main" before asking for the passphrase.
 * Throws ApiError `BAD_BACKUP` for anything that is not a version-1 tabchain wallet backup.
 * @example
 * ```ts
 * const { network, address } = parseWalletBackup(fileText);
 * ```
 */
export function parseWalletBackup(input: string | object): WalletBackup {
  let doc: unknown = input;
  if (typeof input === 'string') {
    if (input.length > MAX_BACKUP_CHARS) throw new ApiError('BAD_BACKUP', 'too long to be a wallet backup');
    try {
      doc = JSON.parse(input);
    } catch {
      throw new ApiError('BAD_BACKUP', 'not JSON');
    }
  }
  const b = doc as Partial<WalletBackup> | null;
  if (typeof b !== 'object' || b === null || b.format !== BACKUP_FORMAT) throw new ApiError('BAD_BACKUP', 'not a tabchain wallet backup');
  if (b.version !== BACKUP_VERSION) throw new ApiError('BAD_BACKUP', `unsupported backup version ${showValue(b.version)} (this tabchain reads version ${BACKUP_VERSION})`);
  if (b.network !== 'main' && b.network !== 'dev' && b.network !== 'test') throw new ApiError('BAD_BACKUP', 'unknown network');
  if (typeof b.address !== 'string' || b.address.length > 100) throw new ApiError('BAD_BACKUP', 'bad address field');
  if (typeof b.createdAt !== 'string' || b.createdAt.length > 40) throw new ApiError('BAD_BACKUP', 'bad createdAt field');
  const kdf = b.kdf;
  if (typeof kdf !== 'object' || kdf === null || kdf.name !== 'scrypt') throw new ApiError('BAD_BACKUP', 'unsupported key derivation');
  checkCosts(kdf, 'BAD_BACKUP');
  hexField(kdf.salt, SALT_BYTES, 'kdf.salt');
  const cipher = b.cipher;
  if (typeof cipher !== 'object' || cipher === null || cipher.name !== 'xchacha20-poly1305') throw new ApiError('BAD_BACKUP', 'unsupported cipher');
  hexField(cipher.nonce, NONCE_BYTES, 'cipher.nonce');
  hexField(b.check, CHECK_BYTES, 'check');
  hexField(b.ciphertext, KEY_BYTES + TAG_BYTES, 'ciphertext');
  return {
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    network: b.network,
    address: b.address,
    createdAt: b.createdAt,
    kdf: { name: 'scrypt', N: kdf.N, r: kdf.r, p: kdf.p, salt: kdf.salt },
    cipher: { name: 'xchacha20-poly1305', nonce: cipher.nonce },
    check: b.check!,
    ciphertext: b.ciphertext!,
  };
}

/**
 * Decrypts a backup. Throws ApiError `BAD_PASSPHRASE` when the passphrase is wrong, `BAD_BACKUP`
 * when the file is malformed, of another version, or was altered (tag or address mismatch).
 * @example
 * ```ts
 * const { secretKey, address } = await decryptWalletBackup(fileText, passphrase, 'tab');
 * ```
 */
export async function decryptWalletBackup(input: string | object, passphrase: string, addressPrefix: string): Promise<DecryptedBackup> {
  const b = parseWalletBackup(input);
  const pass = normalisePassphrase(passphrase);
  const { key, check } = await deriveKeys(pass, hexToBytes(b.kdf.salt), b.kdf);
  try {
    if (!equalBytes(check, hexToBytes(b.check))) throw new ApiError('BAD_PASSPHRASE', 'wrong passphrase for this backup');
    let secretKey: Uint8Array;
    try {
      secretKey = xchacha20poly1305(key, hexToBytes(b.cipher.nonce), associatedData(b)).decrypt(hexToBytes(b.ciphertext));
    } catch {
      throw new ApiError('BAD_BACKUP', 'the backup was altered or damaged (authentication failed)');
    }
    const publicKey = publicKeyOf(secretKey);
    const address = encodeAddress(publicKey, addressPrefix);
    if (address !== b.address) throw new ApiError('BAD_BACKUP', `the key does not belong to the recorded address ${b.address} (or it is of another network)`);
    return { network: b.network, address, secretKey, publicKey };
  } finally {
    key.fill(0);
  }
}
