/**
 * The platform's native Ed25519 verifier over WebCrypto (`crypto.subtle`, `{ name: 'Ed25519' }`):
 * BoringSSL in Chromium, OpenSSL in Node ≥ 20, NSS in Firefox ≥ 129 — one implementation for
 * the page, its Web Workers and Node's worker_threads. It only ever feeds the native-first
 * construction of src/chain/sig-precheck.ts, where its YES counts and its NO defers to our own
 * verifier; that module's doc says why its different rule (cofactorless, small-order keys
 * accepted) cannot change a verdict, and what it must be trusted for.
 *
 * Imported public keys are cached (a block's senders sign many transactions), bounded by count.
 * Before the first use the verifier must pass a probe: RFC 8032 §7.1 test 1 verifies, and the
 * same signature with one bit flipped does not. A platform without Ed25519 in WebCrypto (older
 * Safari and Firefox) or failing the probe gets `null`: everything then goes through the
 * pure-JS verifier, as before.
 * @module
 */
import { bytesToHex, hexToBytes, type NativeVerify } from '../chain/index.ts';

/** Most imported public keys a verifier keeps (a CryptoKey is small; a block has ≤ 10,000 senders). */
export const NATIVE_KEY_CACHE_ENTRIES = 4096;

const ALGORITHM = { name: 'Ed25519' } as const;

// RFC 8032 §7.1, TEST 1 (empty message).
const PROBE_PUB = hexToBytes('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
const PROBE_SIG = hexToBytes('e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b');

/** Options of {@link webCryptoEd25519}. */
export interface WebCryptoEd25519Options {
  /** The SubtleCrypto to use; default `globalThis.crypto.subtle`. */
  subtle?: SubtleCrypto;
  /** Key cache capacity; default {@link NATIVE_KEY_CACHE_ENTRIES}. */
  maxKeys?: number;
}

/**
 * A native verifier over WebCrypto, or null when the platform has none that passes the probe.
 * The verifier rejects on a key WebCrypto will not import (that counts as a refusal).
 * @example
 * ```ts
 * const native = await webCryptoEd25519();
 * if (native && (await acceptedNatively(sig, msg, pub, native))) sigCache.add(key);
 * ```
 */
export async function webCryptoEd25519(opts: WebCryptoEd25519Options = {}): Promise<NativeVerify | null> {
  const subtle = opts.subtle ?? (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
  if (!subtle) return null;
  const maxKeys = opts.maxKeys ?? NATIVE_KEY_CACHE_ENTRIES;
  if (!(Number.isSafeInteger(maxKeys) && maxKeys >= 1)) throw new RangeError('webCryptoEd25519: maxKeys must be a positive integer');
  const keys = new Map<string, Promise<CryptoKey>>();
  const keyOf = (pub: Uint8Array): Promise<CryptoKey> => {
    const id = bytesToHex(pub);
    let key = keys.get(id);
    if (key === undefined) {
      key = subtle.importKey('raw', pub as BufferSource, ALGORITHM, false, ['verify']);
      keys.set(id, key);
      // A Map iterates in insertion order: the first key is the oldest.
      if (keys.size > maxKeys) keys.delete(keys.keys().next().value!);
      key.catch(() => keys.delete(id));
    }
    return key;
  };
  // WebCrypto takes views of ArrayBuffers; ours always are (never SharedArrayBuffer views).
  const verify: NativeVerify = async (sig, msg, pub) => subtle.verify(ALGORITHM, await keyOf(pub), sig as BufferSource, msg as BufferSource);
  try {
    const flipped = PROBE_SIG.slice();
    flipped[0] ^= 1;
    const [good, bad] = await Promise.all([verify(PROBE_SIG, new Uint8Array(0), PROBE_PUB), verify(flipped, new Uint8Array(0), PROBE_PUB)]);
    if (good !== true || bad !== false) return null;
  } catch {
    return null; // NotSupportedError: no Ed25519 in this WebCrypto
  }
  return verify;
}
