/**
 * Signature cases for the identity tests of native-first verification (src/chain/sig-precheck.ts):
 * the published vectors (Wycheproof, ed25519-speccheck) and a fast-check corpus of random and
 * mutated signatures, plus two reference "native" verifiers written with noble that follow the
 * platforms' looser rules. Platform-neutral (no node: imports): the Chromium test page uses it too.
 * @module
 */
import fc from 'fast-check';
import { ed25519, ED25519_TORSION_SUBGROUP } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, hexToBytes } from '../../../src/chain/bytes.ts';
import type { NativeVerify } from '../../../src/chain/sig-precheck.ts';
import { webCryptoEd25519 } from '../../../src/node/native-ed25519.ts';
import wycheproof from '../../fixtures/wycheproof/ed25519_test.json';
import speccheck from '../../fixtures/ed25519-speccheck/cases.json';

/** One (signature, message, public key) to verify; `label` says where it came from. */
export interface SigCase {
  sig: Uint8Array;
  msg: Uint8Array;
  pub: Uint8Array;
  label: string;
}

const Point = ed25519.Point;
export const P = 2n ** 255n - 19n;
export const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const mod = (a: bigint, m: bigint) => ((a % m) + m) % m;
const le = (b: Uint8Array) => b.reduceRight((v, x) => (v << 8n) | BigInt(x), 0n);
const toLE = (n: bigint, len = 32) => Uint8Array.from({ length: len }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));
const TORSION = ED25519_TORSION_SUBGROUP.map(hexToBytes);

/** Every Wycheproof ed25519 test (151; some signatures are not 64 bytes) and the 12 speccheck cases. */
export function vectorCases(): SigCase[] {
  const out: SigCase[] = [];
  for (const g of wycheproof.testGroups) {
    const pub = hexToBytes(g.publicKey.pk);
    for (const t of g.tests) out.push({ sig: hexToBytes(t.sig), msg: hexToBytes(t.msg), pub, label: `wycheproof tc ${t.tcId} (${t.result}) ${t.comment}` });
  }
  speccheck.forEach((c, i) => out.push({ sig: hexToBytes(c.signature), msg: hexToBytes(c.message), pub: hexToBytes(c.pub_key), label: `speccheck case ${i}` }));
  return out;
}

/** Counts of {@link vectorCases}, for the report. */
export const VECTOR_COUNTS = { wycheproof: wycheproof.testGroups.reduce((n, g) => n + g.tests.length, 0), speccheck: speccheck.length };

/**
 * A signature by the key of `seed` whose R and A carry the torsion components
 * ED25519_TORSION_SUBGROUP[tR] and [tA] (index 0 is the identity: none), with nonce scalar `r`.
 */
export function mixedOrderSig(seed: Uint8Array, r: bigint, msg: Uint8Array, tR: number, tA: number): { sig: Uint8Array; pub: Uint8Array } {
  const { scalar: a, point } = ed25519.utils.getExtendedPublicKey(seed);
  const R = Point.BASE.multiply(r).add(Point.fromBytes(TORSION[tR]));
  const A = point.add(Point.fromBytes(TORSION[tA]));
  const rb = R.toBytes();
  const ab = A.toBytes();
  const k = mod(le(sha512(concatBytes(rb, ab, msg))), L);
  return { sig: concatBytes(rb, toLE(mod(r + k * a, L))), pub: ab };
}

/** The encoding of y (< 2^255) with sign bit `sign`, y ≥ p allowed (non-canonical). */
function encodingOf(y: bigint, sign: boolean): Uint8Array {
  const b = toLE(y);
  if (sign) b[31] |= 0x80;
  return b;
}

/**
 * The non-canonical encodings of small-order points that a lenient decoder reads: x = 0 with the
 * sign bit (y = 1, y = p − 1), and y ≥ p (p + 1 ≡ 1, p + 0 ≡ 0 — the order-4 points — either sign).
 */
const LENIENT_SMALL: readonly Uint8Array[] = [
  encodingOf(1n, true),
  encodingOf(P - 1n, true),
  encodingOf(P + 1n, false),
  encodingOf(P + 1n, true),
  encodingOf(P, false),
  encodingOf(P, true),
];

/** A signature with R_bytes = `rb` read as a small-order point R: S = k·a, so S·B − k·A = O and [8]R = O (cofactored-valid). */
function smallRSig(seed: Uint8Array, msg: Uint8Array, rb: Uint8Array): { sig: Uint8Array; pub: Uint8Array } {
  const { scalar: a, pointBytes: ab } = ed25519.utils.getExtendedPublicKey(seed);
  const k = mod(le(sha512(concatBytes(rb, ab, msg))), L);
  return { sig: concatBytes(rb, toLE(mod(k * a, L))), pub: ab };
}

type Mutation =
  | { m: 'none' }
  | { m: 'flipSig'; bit: number }
  | { m: 'flipPub'; bit: number }
  | { m: 'sPlusL'; times: number }
  | { m: 'smallR'; t: number; zeroS: boolean }
  | { m: 'smallA'; t: number }
  | { m: 'forgery'; tA: number; tR: number }
  | { m: 'nonCanonicalR'; y: number; sign: boolean }
  | { m: 'nonCanonicalA'; y: number; sign: boolean }
  | { m: 'xZeroSign'; which: 'R' | 'A'; y: 'one' | 'minusOne' }
  | { m: 'mixed'; tR: number; tA: number }
  | { m: 'lenientSmallR'; e: number }
  | { m: 'lenientSmallA'; e: number; tR: number }
  | { m: 'random'; sig: Uint8Array; pub: Uint8Array };

const arbT = fc.integer({ min: 0, max: 7 });
const arbMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant<Mutation>({ m: 'none' }),
  fc.integer({ min: 0, max: 511 }).map<Mutation>((bit) => ({ m: 'flipSig', bit })),
  fc.integer({ min: 0, max: 255 }).map<Mutation>((bit) => ({ m: 'flipPub', bit })),
  fc.integer({ min: 1, max: 15 }).map<Mutation>((times) => ({ m: 'sPlusL', times })),
  fc.record({ t: arbT, zeroS: fc.boolean() }).map<Mutation>((x) => ({ m: 'smallR', ...x })),
  arbT.map<Mutation>((t) => ({ m: 'smallA', t })),
  fc.record({ tA: arbT, tR: arbT }).map<Mutation>((x) => ({ m: 'forgery', ...x })),
  fc.record({ y: fc.integer({ min: 0, max: 18 }), sign: fc.boolean() }).map<Mutation>((x) => ({ m: 'nonCanonicalR', ...x })),
  fc.record({ y: fc.integer({ min: 0, max: 18 }), sign: fc.boolean() }).map<Mutation>((x) => ({ m: 'nonCanonicalA', ...x })),
  fc.record({ which: fc.constantFrom<'R' | 'A'>('R', 'A'), y: fc.constantFrom<'one' | 'minusOne'>('one', 'minusOne') }).map<Mutation>((x) => ({ m: 'xZeroSign', ...x })),
  fc.record({ tR: arbT, tA: arbT }).map<Mutation>((x) => ({ m: 'mixed', ...x })),
  fc.integer({ min: 0, max: LENIENT_SMALL.length - 1 }).map<Mutation>((e) => ({ m: 'lenientSmallR', e })),
  fc.record({ e: fc.integer({ min: 0, max: LENIENT_SMALL.length - 1 }), tR: arbT }).map<Mutation>((x) => ({ m: 'lenientSmallA', ...x })),
  fc.record({ sig: fc.uint8Array({ minLength: 64, maxLength: 64 }), pub: fc.uint8Array({ minLength: 32, maxLength: 32 }) }).map<Mutation>((x) => ({ m: 'random', ...x })),
);

/**
 * A random key and message, signed, then one mutation: bit flips in R, S or A; S + j·L; R or A
 * replaced by a small-order point; the small-order forgery (A, R small order, S = 0, which the
 * permissive rule accepts for any message); non-canonical encodings (y ≥ p, x = 0 with the sign
 * bit); R and A with torsion components, correctly signed (cofactored-valid, often
 * cofactorless-invalid); small-order R or A under non-canonical encodings, signed so that a
 * lenient cofactored verifier accepts; random bytes.
 */
export const arbSigCase: fc.Arbitrary<SigCase> = fc
  .record({ seed: fc.uint8Array({ minLength: 32, maxLength: 32 }), msg: fc.uint8Array({ maxLength: 64 }), r: fc.bigInt({ min: 1n, max: L - 1n }), mutation: arbMutation })
  .map(({ seed, msg, r, mutation }) => {
    let pub: Uint8Array = ed25519.getPublicKey(seed);
    let sig: Uint8Array = ed25519.sign(msg, seed);
    const mu = mutation;
    switch (mu.m) {
      case 'none':
        break;
      case 'flipSig':
        sig = sig.slice();
        sig[mu.bit >> 3] ^= 1 << (mu.bit & 7);
        break;
      case 'flipPub':
        pub = pub.slice();
        pub[mu.bit >> 3] ^= 1 << (mu.bit & 7);
        break;
      case 'sPlusL': {
        const s = le(sig.subarray(32)) + BigInt(mu.times) * L;
        if (s < 2n ** 256n) sig = concatBytes(sig.subarray(0, 32), toLE(s));
        break;
      }
      case 'smallR':
        sig = concatBytes(TORSION[mu.t], mu.zeroS ? new Uint8Array(32) : sig.subarray(32));
        break;
      case 'smallA':
        pub = TORSION[mu.t];
        break;
      case 'forgery':
        pub = TORSION[mu.tA];
        sig = concatBytes(TORSION[mu.tR], new Uint8Array(32));
        break;
      case 'nonCanonicalR':
        sig = concatBytes(encodingOf(P + BigInt(mu.y), mu.sign), sig.subarray(32));
        break;
      case 'nonCanonicalA':
        pub = encodingOf(P + BigInt(mu.y), mu.sign);
        break;
      case 'xZeroSign': {
        const enc = encodingOf(mu.y === 'one' ? 1n : P - 1n, true);
        if (mu.which === 'A') pub = enc;
        else sig = concatBytes(enc, sig.subarray(32));
        break;
      }
      case 'mixed':
        ({ sig, pub } = mixedOrderSig(seed, r, msg, mu.tR, mu.tA));
        break;
      case 'lenientSmallR':
        ({ sig, pub } = smallRSig(seed, msg, LENIENT_SMALL[mu.e]));
        break;
      case 'lenientSmallA':
        pub = LENIENT_SMALL[mu.e];
        sig = concatBytes(TORSION[mu.tR], new Uint8Array(32));
        break;
      case 'random':
        ({ sig, pub } = mu);
        break;
    }
    return { sig, msg, pub, label: `${mu.m} ${JSON.stringify(mu, (_, v) => (v instanceof Uint8Array ? bytesToHex(v) : v))}` };
  });

/**
 * A reference of BoringSSL's and OpenSSL's rule, looser still: A decoded leniently (ZIP-215: y
 * reduced mod p, x = 0 with either sign bit), S reduced mod L instead of refused, accept iff
 * encode(S·B − k·A) = R_bytes (cofactorless). Sound in the sense of sig-precheck.ts.
 */
export const lenientCofactorless: NativeVerify = async (sig, msg, pub) => {
  if (sig.length !== 64 || pub.length !== 32) return false;
  let A;
  try {
    A = Point.fromBytes(pub, true);
  } catch {
    return false;
  }
  const rb = sig.subarray(0, 32);
  const k = mod(le(sha512(concatBytes(rb, pub, msg))), L);
  const Q = Point.BASE.multiplyUnsafe(mod(le(sig.subarray(32)), L)).subtract(A.multiplyUnsafe(k));
  return bytesToHex(Q.toBytes()) === bytesToHex(rb);
};

/** ZIP-215 (noble `zip215: true`): cofactored, lenient encodings, small-order keys accepted. Sound. */
export const zip215: NativeVerify = async (sig, msg, pub) => ed25519.verify(sig, msg, pub, { zip215: true });

/** A counting wrapper of the platform's native verifier. */
export async function countingNative(): Promise<{ native: Promise<NativeVerify | null>; calls: () => number }> {
  const real = (await webCryptoEd25519())!;
  let calls = 0;
  const native: NativeVerify = (s, m, p) => {
    calls++;
    return real(s, m, p);
  };
  return { native: Promise.resolve(native), calls: () => calls };
}
