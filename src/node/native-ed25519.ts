/**
 * The platform's native Ed25519 verifier: WebCrypto (`crypto.subtle`, `{ name: 'Ed25519' }`) —
 * BoringSSL in Chromium, NSS in Firefox ≥ 129, OpenSSL in Node — and, in Node, OpenSSL through
 * node:crypto's synchronous `verify`, the same library without WebCrypto's promise and thread-pool
 * hop per call (15–20 % more verifications per core in worker_threads, measured on this project's
 * 2-core machine). It only ever feeds the native-first construction of src/chain/sig-precheck.ts,
 * where its YES counts and its NO defers to our own verifier; that module's doc says why its
 * different rule (cofactorless, small-order keys accepted) cannot change a verdict, and what it
 * must be trusted for.
 *
 * Public keys are imported once and cached (a block's senders sign many transactions), bounded by
 * count. Before first use a verifier must pass a probe: RFC 8032 §7.1 test 1 verifies, and the
 * same signature with one bit flipped does not. A platform without Ed25519 (older Safari and
 * Firefox) or failing the probe gets `null`: everything then goes through the pure-JS verifier,
 * as before.
 * @module
 */
import { bytesToHex, hexToBytes, type NativeVerify, type SyncNativeVerify } from '../chain/index.ts';
import { isNodeRuntime } from '../miner/worker-transport.ts';

/** Most imported public keys a verifier keeps (a key object is small; a block has ≤ 10,000 senders). */
export const NATIVE_KEY_CACHE_ENTRIES = 4096;

const ALGORITHM = { name: 'Ed25519' } as const;

// RFC 8032 §7.1, TEST 1 (empty message).
const PROBE_PUB = hexToBytes('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
const PROBE_SIG = hexToBytes('e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b');

/** Options of the adapters. */
export interface NativeEd25519Options {
  /** The SubtleCrypto to use (WebCrypto adapter); default `globalThis.crypto.subtle`. */
  subtle?: SubtleCrypto;
  /** Key cache capacity; default {@link NATIVE_KEY_CACHE_ENTRIES}. */
  maxKeys?: number;
}

/** The synchronous forms of the verifiers that have one (nodeCryptoEd25519's), by verifier. */
const syncForms = new WeakMap<NativeVerify, SyncNativeVerify>();

/**
 * The synchronous form of `native`, when it has one: node:crypto's verifier (the same function
 * its promise wraps, so the probe vouched for it too); undefined for WebCrypto and any other.
 * @example const sync = syncNativeOf(native); if (sync) acceptedNativelySync(sig, msg, pub, sync);
 */
export function syncNativeOf(native: NativeVerify): SyncNativeVerify | undefined {
  return syncForms.get(native);
}

/** A bounded cache of imported keys by public key bytes; a failed import is not kept. */
function keyCache<K>(maxKeys: number, load: (pub: Uint8Array) => K): (pub: Uint8Array) => K {
  if (!(Number.isSafeInteger(maxKeys) && maxKeys >= 1)) throw new RangeError('native Ed25519: maxKeys must be a positive integer');
  const keys = new Map<string, K>();
  return (pub) => {
    const id = bytesToHex(pub);
    let key = keys.get(id);
    if (key === undefined) {
      key = load(pub); // may throw: not cached
      keys.set(id, key);
      // A Map iterates in insertion order: the first key is the oldest.
      if (keys.size > maxKeys) keys.delete(keys.keys().next().value!);
      if (key instanceof Promise) key.catch(() => keys.delete(id));
    }
    return key;
  };
}

/** The verifier if it passes the probe, else null. */
async function probed(verify: NativeVerify): Promise<NativeVerify | null> {
  try {
    const flipped = PROBE_SIG.slice();
    flipped[0] ^= 1;
    const [good, bad] = await Promise.all([verify(PROBE_SIG, new Uint8Array(0), PROBE_PUB), verify(flipped, new Uint8Array(0), PROBE_PUB)]);
    return good === true && bad === false ? verify : null;
  } catch {
    return null; // e.g. NotSupportedError: no Ed25519 here
  }
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
export async function webCryptoEd25519(opts: NativeEd25519Options = {}): Promise<NativeVerify | null> {
  const subtle = opts.subtle ?? (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
  if (!subtle) return null;
  // WebCrypto takes views of ArrayBuffers; ours always are (never SharedArrayBuffer views).
  const keyOf = keyCache(opts.maxKeys ?? NATIVE_KEY_CACHE_ENTRIES, (pub) => subtle.importKey('raw', pub as BufferSource, ALGORITHM, false, ['verify']));
  return probed(async (sig, msg, pub) => subtle.verify(ALGORITHM, await keyOf(pub), sig as BufferSource, msg as BufferSource));
}

interface NodeCrypto {
  createPublicKey(opts: { key: Uint8Array; format: 'der'; type: 'spki' }): unknown;
  verify(algorithm: null, data: Uint8Array, key: unknown, signature: Uint8Array): boolean;
}

// SubjectPublicKeyInfo of an Ed25519 key (RFC 8410 §4): this prefix, then the 32 key bytes.
const SPKI_PREFIX = hexToBytes('302a300506032b6570032100');

/**
 * A native verifier over node:crypto (OpenSSL, synchronous), or null outside Node or when it
 * fails the probe. It throws on a key OpenSSL will not import (that counts as a refusal).
 * @example const native = await nodeCryptoEd25519();
 */
export async function nodeCryptoEd25519(opts: Pick<NativeEd25519Options, 'maxKeys'> = {}): Promise<NativeVerify | null> {
  if (!isNodeRuntime()) return null;
  let crypto: NodeCrypto;
  try {
    // A variable specifier keeps bundlers from trying to resolve a Node builtin for the browser.
    const spec = 'node:crypto';
    crypto = (await import(/* @vite-ignore */ spec)) as NodeCrypto;
  } catch {
    return null;
  }
  const keyOf = keyCache(opts.maxKeys ?? NATIVE_KEY_CACHE_ENTRIES, (pub) => {
    const der = new Uint8Array(SPKI_PREFIX.length + pub.length);
    der.set(SPKI_PREFIX);
    der.set(pub, SPKI_PREFIX.length);
    return crypto.createPublicKey({ key: der, format: 'der', type: 'spki' });
  });
  const sync: SyncNativeVerify = (sig, msg, pub) => crypto.verify(null, msg, keyOf(pub), sig);
  const verifier = await probed(async (sig, msg, pub) => sync(sig, msg, pub));
  if (verifier) syncForms.set(verifier, sync);
  return verifier;
}

/**
 * The platform's fastest native verifier: node:crypto in Node, WebCrypto elsewhere (or WebCrypto
 * in Node if node:crypto is unusable); null if none passes the probe.
 * @example const native = await platformEd25519();
 */
export async function platformEd25519(): Promise<NativeVerify | null> {
  return (await nodeCryptoEd25519()) ?? webCryptoEd25519();
}
