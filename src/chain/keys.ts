/**
 * Keys, signatures and addresses.
 *
 * - Keys are ed25519 (RFC 8032) via @noble/curves: a 32-byte secret seed and a 32-byte public key.
 * - Verification is strict RFC 8032 (`zip215: false`): the public key and R must be canonical
 *   point encodings, S < L, and small-order public keys are refused. A small-order key would
 *   let anyone forge a signature that verifies for it, and a non-canonical encoding would give one
 *   key two account ids; neither may enter a consensus rule. The cofactored equation is checked.
 * - An address is the bech32m string (BIP 350) of the 32-byte public key with the network's
 *   human-readable prefix (`tab` main, `tabdev` dev), so a typo or a pasted address of another
 *   network is caught before money moves.
 * @module
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { bech32m } from '@scure/base';
import { RuleError } from './errors.ts';

/** Length of a public key and of a secret key. */
export const KEY_BYTES = 32;
/** Length of a signature. */
export const SIGNATURE_BYTES = 64;

// A bech32m address of a 32-byte key: prefix + '1' + 52 data chars + 6 checksum chars. BIP 173's
// 90-character limit is enough for prefixes up to 31 characters.
const ADDRESS_MAX_LENGTH = 90;

function checkBytes(name: string, b: Uint8Array, length: number): void {
  if (!(b instanceof Uint8Array) || b.length !== length) throw new TypeError(`${name}: expected ${length} bytes`);
}

/**
 * A new random secret key from the platform CSPRNG (crypto.getRandomValues through noble).
 * @example
 * ```ts
 * const priv = generatePrivateKey();
 * ```
 */
export function generatePrivateKey(): Uint8Array {
  return ed25519.utils.randomSecretKey();
}

/**
 * The 32-byte public key of a secret key.
 * @example
 * ```ts
 * const pub = publicKeyOf(priv);
 * ```
 */
export function publicKeyOf(priv: Uint8Array): Uint8Array {
  checkBytes('secret key', priv, KEY_BYTES);
  return ed25519.getPublicKey(priv);
}

/**
 * An ed25519 signature (64 bytes, deterministic per RFC 8032) of `msg`.
 * @example
 * ```ts
 * const sig = signMessage(signingHash(tx), priv);
 * ```
 */
export function signMessage(msg: Uint8Array, priv: Uint8Array): Uint8Array {
  checkBytes('secret key', priv, KEY_BYTES);
  if (!(msg instanceof Uint8Array)) throw new TypeError('message: expected a Uint8Array');
  return ed25519.sign(msg, priv);
}

/**
 * Whether `sig` is a valid strict-RFC-8032 signature of `msg` by `pub`. Never throws: malformed
 * input (wrong lengths, non-canonical or small-order points) is simply invalid.
 * @example
 * ```ts
 * verifySignature(tx.signature, signingHash(tx), tx.from) // true
 * ```
 */
export function verifySignature(sig: Uint8Array, msg: Uint8Array, pub: Uint8Array): boolean {
  if (!(sig instanceof Uint8Array) || sig.length !== SIGNATURE_BYTES) return false;
  if (!(pub instanceof Uint8Array) || pub.length !== KEY_BYTES) return false;
  if (!(msg instanceof Uint8Array)) return false;
  try {
    return ed25519.verify(sig, msg, pub, { zip215: false });
  } catch {
    return false;
  }
}

/**
 * The bech32m address of a 32-byte public key with a human-readable prefix.
 * @example
 * ```ts
 * encodeAddress(pub, 'tab') // 'tab1…'
 * ```
 */
export function encodeAddress(pub: Uint8Array, prefix: string): string {
  checkBytes('public key', pub, KEY_BYTES);
  if (typeof prefix !== 'string' || !/^[a-z]{1,31}$/.test(prefix)) throw new TypeError(`bad address prefix '${prefix}'`);
  return bech32m.encode(prefix, bech32m.toWords(pub), ADDRESS_MAX_LENGTH);
}

/**
 * The address of a public key on a network (`params.addressPrefix`).
 * @example
 * ```ts
 * addressOf(pub, getParams('dev')) // 'tabdev1…'
 * ```
 */
export function addressOf(pub: Uint8Array, params: { addressPrefix: string }): string {
  return encodeAddress(pub, params.addressPrefix);
}

/**
 * The 32-byte public key in a bech32m address. Throws RuleError `BAD_ADDRESS` on a bad checksum,
 * a bech32 (not bech32m) checksum, another prefix, mixed case, a wrong data length or non-zero
 * padding bits. Upper-case addresses are accepted (BIP 173 allows all-upper for QR codes).
 * @example
 * ```ts
 * const pub = decodeAddress('tab1…', 'tab');
 * ```
 */
export function decodeAddress(addr: string, prefix: string): Uint8Array {
  if (typeof addr !== 'string') throw new RuleError('BAD_ADDRESS', 'not a string');
  let decoded: { prefix: string; words: number[] };
  try {
    // @scure/base checks the checksum (bech32m constant), the character set, mixed case and length.
    decoded = bech32m.decode(addr as `${string}1${string}`, ADDRESS_MAX_LENGTH);
  } catch (e) {
    throw new RuleError('BAD_ADDRESS', (e as Error).message);
  }
  if (decoded.prefix !== prefix) throw new RuleError('BAD_ADDRESS', `expected prefix '${prefix}', got '${decoded.prefix}'`);
  let pub: Uint8Array;
  try {
    // fromWords rejects non-zero padding bits, so each key has exactly one address.
    pub = bech32m.fromWords(decoded.words);
  } catch (e) {
    throw new RuleError('BAD_ADDRESS', (e as Error).message);
  }
  if (pub.length !== KEY_BYTES) throw new RuleError('BAD_ADDRESS', `expected a ${KEY_BYTES}-byte key, got ${pub.length} bytes`);
  return pub;
}

/**
 * Whether `addr` is a well-formed address with this prefix.
 * @example
 * ```ts
 * isAddress(input, params.addressPrefix)
 * ```
 */
export function isAddress(addr: string, prefix: string): boolean {
  try {
    decodeAddress(addr, prefix);
    return true;
  } catch {
    return false;
  }
}
