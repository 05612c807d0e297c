import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ed25519, ED25519_TORSION_SUBGROUP } from '@noble/curves/ed25519.js';
import { verifySignature } from '../../src/chain/keys.ts';
import { acceptedNatively, acceptedNativelySync, precheckSignature, verifySignatureNativeFirst, type NativeVerify } from '../../src/chain/sig-precheck.ts';
import { nodeCryptoEd25519, syncNativeOf, webCryptoEd25519 } from '../../src/node/native-ed25519.ts';
import { arbSigCase, lenientCofactorless, vectorCases, VECTOR_COUNTS, zip215, type SigCase } from './helpers/sig-corpus.ts';

// The construction of src/chain/sig-precheck.ts: verdict = P ∧ (N ∨ V) must equal V — our
// consensus verifier, noble with zip215: false — for every native verifier N that is sound, on
// every input. The natives: the platform's own (OpenSSL through node:crypto and through WebCrypto,
// the adapters the node uses), two references with looser rules (cofactorless with lenient
// decoding and S mod L; ZIP-215, which accepts small-order keys), and natives that refuse or
// throw. The corpus here is 2,000 cases; the same property at 100,000 inputs is the fuzz target
// test/fuzz/sig.fuzz.test.ts (`npm run fuzz`).

const CORPUS = 2000;

const openssl = (await nodeCryptoEd25519())!;
const webcrypto = (await webCryptoEd25519())!;
const refuseAll: NativeVerify = async () => false;
const throwAll: NativeVerify = async () => {
  throw new Error('native failure');
};

const NATIVES: Record<string, NativeVerify> = { openssl, webcrypto, lenientCofactorless, zip215, refuseAll, throwAll };

const memo = (answer: boolean | 'threw'): NativeVerify => async () => {
  if (answer === 'threw') throw new Error('native failure');
  return answer;
};

/**
 * The identity P ∧ (N ∨ V) = V is (¬P ⇒ ¬V) ∧ (P ∧ N ⇒ V): checked for every native with one V
 * and one native call each. `full`: also run verifySignatureNativeFirst itself (it calls V again
 * whenever the native refuses) — for every native on the vectors, for WebCrypto on the corpus.
 */
async function check(c: SigCase, tally: Map<string, number>, full: (name: string) => boolean): Promise<void> {
  const count = (k: string) => tally.set(k, (tally.get(k) ?? 0) + 1);
  const v = verifySignature(c.sig, c.msg, c.pub);
  const p = precheckSignature(c.sig, c.pub);
  if (!p) expect(v, `¬P ⇒ ¬V: ${c.label}`).toBe(false);
  for (const [name, native] of Object.entries(NATIVES)) {
    let says: boolean | 'threw';
    try {
      says = (await native(c.sig, c.msg, c.pub)) === true;
    } catch {
      says = 'threw';
    }
    const fast = await acceptedNatively(c.sig, c.msg, c.pub, memo(says));
    expect(fast, `P ∧ N: ${name}: ${c.label}`).toBe(p && says === true);
    if (fast) expect(v, `P ∧ N ⇒ V, ${name}: ${c.label}`).toBe(true);
    if (full(name)) expect(await verifySignatureNativeFirst(c.sig, c.msg, c.pub, native), `verdict, ${name}: ${c.label}`).toBe(v);
    // The disagreements the construction absorbs: native yes / V no (P refuses), native no / V yes (V decides).
    if (says === true && !v) count(`${name} accepts, V refuses`);
    if (says !== true && v) count(`${name} refuses, V accepts`);
    if (fast) count(`${name} fast path`);
  }
}

describe('native-first ed25519 verification: identical verdicts', () => {
  it('the platform natives are available here (OpenSSL via node:crypto and WebCrypto)', async () => {
    expect(openssl).not.toBeNull();
    expect(webcrypto).not.toBeNull();
    const seed = new Uint8Array(32).fill(7);
    const msg = new Uint8Array([1, 2, 3]);
    const sig = ed25519.sign(msg, seed);
    expect(await openssl(sig, msg, ed25519.getPublicKey(seed))).toBe(true);
    expect(await webcrypto(sig, msg, ed25519.getPublicKey(seed))).toBe(true);
  });

  it("noble's torsion list is exactly the 8 small-order points, canonically encoded", () => {
    const points = ED25519_TORSION_SUBGROUP.map((h) => ed25519.Point.fromHex(h, false));
    expect(new Set(ED25519_TORSION_SUBGROUP).size).toBe(8);
    for (const [i, pt] of points.entries()) {
      expect(pt.isSmallOrder()).toBe(true);
      expect(pt.toHex()).toBe(ED25519_TORSION_SUBGROUP[i]);
    }
    // A subgroup of order 8: closed under addition (and the group E[8] has exactly 8 points).
    for (const a of points) for (const b of points) expect(ED25519_TORSION_SUBGROUP).toContain(a.add(b).toHex());
  });

  it(`agrees with our verifier on every Wycheproof (${VECTOR_COUNTS.wycheproof}) and ed25519-speccheck (${VECTOR_COUNTS.speccheck}) vector, for every native`, async () => {
    const cases = vectorCases();
    expect(cases.length).toBe(VECTOR_COUNTS.wycheproof + VECTOR_COUNTS.speccheck);
    const tally = new Map<string, number>();
    for (const c of cases) await check(c, tally, () => true);
    // The vectors do exercise the construction: the platforms accept what we refuse (small-order
    // and x = 0 keys: speccheck 0, 1, 11) and refuse what we accept (mixed-order: speccheck 4, 5).
    expect(tally.get('openssl accepts, V refuses')).toBeGreaterThanOrEqual(3);
    expect(tally.get('webcrypto accepts, V refuses')).toBeGreaterThanOrEqual(3);
    expect(tally.get('openssl refuses, V accepts')).toBeGreaterThanOrEqual(2);
    expect(tally.get('zip215 accepts, V refuses')).toBeGreaterThanOrEqual(3);
  });

  it('our verifier keeps its verdicts on the vectors (the consensus rule did not move)', () => {
    const cases = vectorCases();
    // Wycheproof's expected result, for all 151.
    for (const c of cases.filter((x) => x.label.startsWith('wycheproof'))) expect(verifySignature(c.sig, c.msg, c.pub), c.label).toBe(c.label.includes('(valid)'));
    // speccheck: cofactored, strict encodings, small-order keys refused.
    const spec = cases.filter((x) => x.label.startsWith('speccheck')).map((c) => verifySignature(c.sig, c.msg, c.pub));
    expect(spec).toEqual([false, false, true, true, true, true, false, false, false, false, false, false]);
  });

  it(`agrees with our verifier on ${CORPUS} random and mutated signatures, for every native`, async () => {
    const tally = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(arbSigCase, (c) => check(c, tally, (name) => name === 'webcrypto')),
      { numRuns: CORPUS },
    );
    // The corpus is not vacuous: it reaches both kinds of disagreement and the fast path.
    expect(tally.get('zip215 accepts, V refuses')).toBeGreaterThan(0);
    expect(tally.get('lenientCofactorless accepts, V refuses')).toBeGreaterThan(0);
    expect(tally.get('openssl refuses, V accepts')).toBeGreaterThan(0);
    expect(tally.get('webcrypto fast path')).toBeGreaterThan(0);
  });

  it('the precheck refuses each strictness violation on its own', () => {
    const seed = new Uint8Array(32).fill(9);
    const pub = ed25519.getPublicKey(seed);
    const sig = ed25519.sign(new Uint8Array(0), seed);
    expect(precheckSignature(sig, pub)).toBe(true);
    const L = 2n ** 252n + 27742317777372353535851937790883648493n;
    const withS = (s: bigint) => Uint8Array.from([...sig.subarray(0, 32), ...Array.from({ length: 32 }, (_, i) => Number((s >> BigInt(8 * i)) & 0xffn))]);
    expect(precheckSignature(withS(L - 1n), pub)).toBe(true);
    expect(precheckSignature(withS(L), pub)).toBe(false);
    const enc = (y: bigint, sign: boolean) => Uint8Array.from({ length: 32 }, (_, i) => Number((y >> BigInt(8 * i)) & 0xffn) | (i === 31 && sign ? 0x80 : 0));
    const p = 2n ** 255n - 19n;
    for (const [y, sign, ok] of [[p - 1n, false, true], [p, false, false], [p + 18n, true, false], [1n, true, false], [p - 1n, true, false], [2n, true, true]] as const) {
      expect(precheckSignature(Uint8Array.from([...enc(y, sign), ...sig.subarray(32)]), pub), `R y=${y} sign=${sign}`).toBe(ok);
    }
    for (const t of ED25519_TORSION_SUBGROUP) expect(precheckSignature(sig, ed25519.Point.fromHex(t).toBytes())).toBe(false);
    expect(precheckSignature(sig.subarray(1), pub)).toBe(false);
    expect(precheckSignature(sig, pub.subarray(1))).toBe(false);
  });
});

describe('WebCrypto Ed25519 adapter', () => {
  const seed = new Uint8Array(32).fill(3);
  const pub = ed25519.getPublicKey(seed);
  const msg = new Uint8Array([9]);
  const sig = ed25519.sign(msg, seed);

  it('is null without Ed25519 in WebCrypto, or when the platform fails the probe', async () => {
    const noEd25519 = { importKey: () => Promise.reject(new DOMException('Unrecognized name', 'NotSupportedError')) } as unknown as SubtleCrypto;
    expect(await webCryptoEd25519({ subtle: noEd25519 })).toBeNull();
    const real = globalThis.crypto.subtle;
    const acceptsAll = { importKey: real.importKey.bind(real), verify: async () => true } as unknown as SubtleCrypto;
    expect(await webCryptoEd25519({ subtle: acceptsAll })).toBeNull();
    const refusesAll = { importKey: real.importKey.bind(real), verify: async () => false } as unknown as SubtleCrypto;
    expect(await webCryptoEd25519({ subtle: refusesAll })).toBeNull();
  });

  it('imports each key once, keeping at most maxKeys', async () => {
    const real = globalThis.crypto.subtle;
    let imports = 0;
    const counting = {
      importKey: (...a: Parameters<SubtleCrypto['importKey']>) => {
        imports++;
        return real.importKey(...a);
      },
      verify: real.verify.bind(real),
    } as unknown as SubtleCrypto;
    const native = (await webCryptoEd25519({ subtle: counting, maxKeys: 2 }))!;
    const base = imports; // the probe's key
    for (let i = 0; i < 5; i++) expect(await native(sig, msg, pub)).toBe(true);
    expect(imports - base).toBe(1);
    const others = [4, 5].map((b) => ed25519.getPublicKey(new Uint8Array(32).fill(b)));
    for (const o of others) await native(sig, msg, o);
    expect(imports - base).toBe(3);
    await native(sig, msg, pub); // evicted by the two others: imported again
    expect(imports - base).toBe(4);
  });

  it('a key WebCrypto will not import is a refusal, not an error of the construction', async () => {
    const native = (await webCryptoEd25519())!;
    const bad = new Uint8Array(32).fill(0xff); // y ≥ p
    expect(await verifySignatureNativeFirst(sig, msg, bad, native)).toBe(false);
    expect(await acceptedNatively(sig, msg, pub, native)).toBe(true);
  });
});

describe('the synchronous form (node:crypto, the worker fast path)', () => {
  it('only node:crypto has one, and it says what its promise says', async () => {
    expect(syncNativeOf(openssl)).toBeTypeOf('function');
    expect(syncNativeOf(webcrypto)).toBeUndefined();
    expect(syncNativeOf(zip215)).toBeUndefined();
  });

  it(`acceptedNativelySync is acceptedNatively on every vector and on ${CORPUS} random and mutated signatures`, async () => {
    const sync = syncNativeOf(openssl)!;
    const throws = () => {
      throw new Error('native failure');
    };
    let fast = 0;
    const same = async (c: SigCase) => {
      const yes = acceptedNativelySync(c.sig, c.msg, c.pub, sync);
      expect(yes, c.label).toBe(await acceptedNatively(c.sig, c.msg, c.pub, openssl));
      if (yes) expect(verifySignature(c.sig, c.msg, c.pub), `P ∧ N ⇒ V: ${c.label}`).toBe(true);
      // A throw is a refusal; a non-boolean is not a YES.
      expect(acceptedNativelySync(c.sig, c.msg, c.pub, throws)).toBe(false);
      expect(acceptedNativelySync(c.sig, c.msg, c.pub, () => 1 as unknown as boolean)).toBe(false);
      if (yes) fast++;
    };
    for (const c of vectorCases()) await same(c);
    await fc.assert(fc.asyncProperty(arbSigCase, same), { numRuns: CORPUS });
    expect(fast).toBeGreaterThan(0);
  });
});
