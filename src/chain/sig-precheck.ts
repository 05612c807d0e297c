/**
 * Native-first signature verification with verdicts identical to {@link verifySignature}.
 *
 * Browsers and Node ship Ed25519 in WebCrypto (BoringSSL, OpenSSL), several times faster than
 * the pure-JS verifier, but their rule is not ours: they check the cofactorless equation
 * `S·B = R + k·A` (BoringSSL and OpenSSL compare `encode(S·B − k·A)` with R's bytes) and accept
 * small-order keys, while our rule (keys.ts, noble's `zip215: false`) is cofactored and refuses
 * them (ed25519-speccheck cases 4 and 5 pass with us and fail with them; a small-order key fails
 * with us and may pass with them). The construction here lets the native verifier only ever say
 * YES, never NO:
 *
 *   verdict = P(sig, pub) ∧ (N(sig, msg, pub) ∨ V(sig, msg, pub))
 *
 * with V = {@link verifySignature}, N = the injected native verifier, and P = {@link precheckSignature}.
 *
 * **Our rule V** accepts (A_bytes, R_bytes ‖ S_bytes, M) iff
 *   1. A_bytes and R_bytes decode strictly (RFC 8032 §5.1.3: y < p; x = 0 only with sign bit 0)
 *      to curve points A and R;
 *   2. S < L (the group order);
 *   3. A is not of small order ([8]A ≠ O);
 *   4. [8](S·B − R − k·A) = O, with k = SHA-512(R_bytes ‖ A_bytes ‖ M) mod L over the bytes as
 *      received.
 *
 * **The precheck P** is byte comparisons only, no curve arithmetic: R_bytes and A_bytes are
 * canonical (y < p, and not one of the two encodings of a point with x = 0 carrying sign bit 1:
 * y = 1 or y = p − 1 — the only y with x = 0), S < L, and A_bytes is none of the 8 canonical
 * encodings of the small-order points (noble's `ED25519_TORSION_SUBGROUP`). P does not check that
 * A or R lie on the curve.
 *
 * **Claim 1: ¬P ⇒ ¬V.** Each condition of P is one V refuses: a non-canonical encoding fails 1,
 * S ≥ L fails 2, and an A_bytes among the torsion encodings decodes to a small-order point (3).
 *
 * **Claim 2: P ∧ N ⇒ V**, for any native verifier that is *sound*: it accepts only if A_bytes
 * decodes — however leniently (y reduced mod p, x = 0 with either sign bit) — to a curve point A′
 * and, with k′ = SHA-512(R_bytes ‖ A_bytes ‖ M) mod L (RFC 8032 §5.1.7 hashes the encodings as
 * received) and S the integer of S_bytes, either
 *   (a) `encode(S·B − k′·A′) = R_bytes` (BoringSSL, OpenSSL), or
 *   (b) R_bytes decodes (however leniently) to R′ with `S·B = R′ + k′·A′` (cofactorless) or
 *       `[8]S·B = [8]R′ + [8]k′·A′` (cofactored).
 * Proof. Under P, A_bytes is canonical, and a canonical encoding names at most one point, so the
 * lenient decoding A′ is the strict decoding A: condition 1 holds for A. The strict decoding is
 * injective on canonical encodings and P excluded the encodings of the 8 small-order points, so
 * A is not of small order (3). S < L by P (2). k′ = k: same bytes, same hash. In case (a)
 * R_bytes = encode(Q) with Q = S·B − k·A; `encode` only produces canonical encodings of curve
 * points, so R_bytes decodes strictly to R = Q (1), and S·B − R − k·A = O, so (4). In case (b)
 * R_bytes is canonical by P, so R′ = R as for A (1); the cofactorless equation times 8 is the
 * cofactored one, which is (4). ∎
 *
 * **Identical verdicts.** If ¬P, both are false (Claim 1). If P ∧ N, V is true (Claim 2), and so
 * is the verdict. If P ∧ ¬N (refused, missing, or it threw), the verdict IS V. So the verdict
 * equals V for every input, whatever the native verifier does, provided it is sound — the one
 * trust assumption: a native implementation that accepts a signature its own equation rejects
 * (a broken or malicious platform crypto) would make us accept what V refuses. We already trust
 * the platform's crypto for TLS, WebRTC's DTLS and the CSPRNG that makes our keys; the native
 * adapter (src/node/native-ed25519.ts) also refuses a platform that fails RFC 8032 test 1 or
 * accepts a bit-flipped signature of it.
 *
 * **Cost.** A signature only V accepts (a torsion component in R or A: cofactored-valid,
 * cofactorless-invalid) costs one native attempt plus today's V; an attacker crafting such
 * signatures makes us pay what we pay today, not more. The node layer uses only the first half
 * ({@link acceptedNatively}): a YES fills the signature cache (sigcache.ts), anything else is
 * left to consensus code, which runs V where it always did.
 *
 * The identity is checked on Wycheproof's and ed25519-speccheck's vectors and on a random and
 * mutated corpus (test/unit/sig-precheck.test.ts).
 * @module
 */
import { ED25519_TORSION_SUBGROUP } from '@noble/curves/ed25519.js';
import { hexToBytes } from './bytes.ts';
import { KEY_BYTES, SIGNATURE_BYTES, verifySignature } from './keys.ts';

/**
 * A native ed25519 verifier (WebCrypto, node:crypto): whether `sig` verifies for `msg` under
 * `pub` by the platform's rule. May reject (that counts as a refusal). It must be sound (module doc).
 */
export type NativeVerify = (sig: Uint8Array, msg: Uint8Array, pub: Uint8Array) => Promise<boolean>;

/**
 * A synchronous native verifier (node:crypto's `verify`): the same contract as {@link NativeVerify}
 * (may throw: a refusal; must be sound), answered without a promise.
 */
export type SyncNativeVerify = (sig: Uint8Array, msg: Uint8Array, pub: Uint8Array) => boolean;

// Little-endian 32-byte constants. p = 2^255 − 19, L = 2^252 + 27742317777372353535851937790883648493.
const P_LE = hexToBytes('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f');
const P_MINUS_1_LE = hexToBytes('ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f');
const L_LE = hexToBytes('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010');
/** The canonical encodings of the 8 points of order dividing 8 (noble's list, checked in tests). */
const SMALL_ORDER_ENCODINGS: readonly Uint8Array[] = ED25519_TORSION_SUBGROUP.map(hexToBytes);

/** Whether the 32-byte little-endian number at `b[off..off+32)`, top bit masked if `mask`, is < `limit`. */
function lessThanLE(b: Uint8Array, off: number, limit: Uint8Array, mask: boolean): boolean {
  for (let i = 31; i >= 0; i--) {
    const x = i === 31 && mask ? b[off + i] & 0x7f : b[off + i];
    if (x !== limit[i]) return x < limit[i];
  }
  return false;
}

/** Whether the y field (top bit masked) at `b[off..off+32)` equals `v`. */
function yEquals(b: Uint8Array, off: number, v: Uint8Array): boolean {
  if ((b[off + 31] & 0x7f) !== v[31]) return false;
  for (let i = 0; i < 31; i++) if (b[off + i] !== v[i]) return false;
  return true;
}

const ONE_LE = (() => {
  const one = new Uint8Array(32);
  one[0] = 1;
  return one;
})();

/**
 * Whether the point encoding at `b[off..off+32)` is canonical: y < p, and the sign bit is clear
 * when x = 0 (y = 1 or y = p − 1). Says nothing about whether it is on the curve.
 */
function isCanonicalEncoding(b: Uint8Array, off: number): boolean {
  if (!lessThanLE(b, off, P_LE, true)) return false;
  if (b[off + 31] & 0x80 && (yEquals(b, off, ONE_LE) || yEquals(b, off, P_MINUS_1_LE))) return false;
  return true;
}

function isSmallOrderEncoding(pub: Uint8Array): boolean {
  outer: for (const e of SMALL_ORDER_ENCODINGS) {
    for (let i = 0; i < 32; i++) if (pub[i] !== e[i]) continue outer;
    return true;
  }
  return false;
}

/**
 * The precheck P of the module doc: right lengths, R and A canonical encodings, S < L, A none of
 * the small-order encodings. Byte comparisons only. False ⇒ {@link verifySignature} is false.
 * @example
 * ```ts
 * if (!precheckSignature(tx.signature, tx.from)) throw new RuleError('BAD_SIGNATURE');
 * ```
 */
export function precheckSignature(sig: Uint8Array, pub: Uint8Array): boolean {
  if (!(sig instanceof Uint8Array) || sig.length !== SIGNATURE_BYTES) return false;
  if (!(pub instanceof Uint8Array) || pub.length !== KEY_BYTES) return false;
  return lessThanLE(sig, 32, L_LE, false) && isCanonicalEncoding(sig, 0) && isCanonicalEncoding(pub, 0) && !isSmallOrderEncoding(pub);
}

/**
 * P ∧ N of the module doc: whether the precheck passes and the native verifier accepts. A TRUE
 * here is a TRUE of {@link verifySignature} (Claim 2); a false says nothing (V decides). Never
 * rejects: a native verifier that throws or rejects has refused.
 * @example
 * ```ts
 * if (await acceptedNatively(sig, msg, pub, native)) sigCache.add(key);
 * ```
 */
export async function acceptedNatively(sig: Uint8Array, msg: Uint8Array, pub: Uint8Array, native: NativeVerify): Promise<boolean> {
  if (!(msg instanceof Uint8Array) || !precheckSignature(sig, pub)) return false;
  try {
    return (await native(sig, msg, pub)) === true;
  } catch {
    return false;
  }
}

/**
 * {@link acceptedNatively} with a synchronous native verifier: the same P ∧ N, the same answer for
 * the same native verdict (a throw is a refusal), without a promise per signature (a worker
 * verifying thousands in a row). Never throws.
 * @example if (acceptedNativelySync(sig, msg, pub, syncNative)) sigCache.add(key);
 */
export function acceptedNativelySync(sig: Uint8Array, msg: Uint8Array, pub: Uint8Array, native: SyncNativeVerify): boolean {
  if (!(msg instanceof Uint8Array) || !precheckSignature(sig, pub)) return false;
  try {
    return native(sig, msg, pub) === true;
  } catch {
    return false;
  }
}

/**
 * The verdict of {@link verifySignature}, native first: P ∧ (N ∨ V). Identical to
 * verifySignature on every input for a sound native verifier (module doc); the fast path when
 * the native verifier accepts, today's cost (plus one native attempt) when it refuses.
 * @example
 * ```ts
 * const ok = await verifySignatureNativeFirst(tx.signature, signingHash(tx), tx.from, native);
 * ```
 */
export async function verifySignatureNativeFirst(sig: Uint8Array, msg: Uint8Array, pub: Uint8Array, native: NativeVerify): Promise<boolean> {
  if (!precheckSignature(sig, pub)) return false;
  if (await acceptedNatively(sig, msg, pub, native)) return true;
  return verifySignature(sig, msg, pub);
}
