/**
 * Page for test/unit/sig-browser.test.ts: the native-first construction with Chromium's own
 * WebCrypto Ed25519 (BoringSSL) on every vector and on a seeded corpus, and the SignaturePool on
 * real Web Workers (the worker bundled by vite exactly as in the app). Results in `window.sigTest`.
 */
import fc from 'fast-check';
import { ed25519 } from '@noble/curves/ed25519.js';
import { acceptedNatively, precheckSignature, verifySignature, verifySignatureNativeFirst, type NativeVerify } from '../../../src/chain/index.ts';
import { SignaturePool, type SignatureItem } from '../../../src/node/sig-pool.ts';
import { webCryptoEd25519 } from '../../../src/node/native-ed25519.ts';
import { arbSigCase, vectorCases, type SigCase } from '../helpers/sig-corpus.ts';

const q = new URLSearchParams(location.search);
const CORPUS = Number(q.get('corpus') ?? 1000);

async function checkAll(cases: SigCase[], native: NativeVerify, full: boolean) {
  const disagreements: string[] = [];
  const tally = { nativeAcceptsVRefuses: 0, nativeRefusesVAccepts: 0, fastPath: 0 };
  for (const c of cases) {
    const v = verifySignature(c.sig, c.msg, c.pub);
    const p = precheckSignature(c.sig, c.pub);
    let says = false;
    try {
      says = (await native(c.sig, c.msg, c.pub)) === true;
    } catch {
      says = false;
    }
    const fast = await acceptedNatively(c.sig, c.msg, c.pub, native);
    if (!p && v) disagreements.push(`¬P but V: ${c.label}`);
    if (fast !== (p && says)) disagreements.push(`P ∧ N wrong: ${c.label}`);
    if (fast && !v) disagreements.push(`P ∧ N but ¬V: ${c.label}`);
    if (full && (await verifySignatureNativeFirst(c.sig, c.msg, c.pub, native)) !== v) disagreements.push(`verdict ≠ V: ${c.label}`);
    if (says && !v) tally.nativeAcceptsVRefuses++;
    if (!says && v) tally.nativeRefusesVAccepts++;
    if (fast) tally.fastPath++;
  }
  return { n: cases.length, disagreements, tally };
}

async function run() {
  const native = await webCryptoEd25519();
  if (!native) return { native: false, userAgent: navigator.userAgent };
  const vectors = await checkAll(vectorCases(), native, true);
  // In slices, yielding between them, so the page stays responsive on a large corpus.
  const corpus = { n: 0, disagreements: [] as string[], tally: { nativeAcceptsVRefuses: 0, nativeRefusesVAccepts: 0, fastPath: 0 } };
  for (let done = 0, slice = 0; done < CORPUS; slice++) {
    const part = await checkAll(fc.sample(arbSigCase, { numRuns: Math.min(1000, CORPUS - done), seed: 20240601 + slice }), native, false);
    done += part.n;
    corpus.n += part.n;
    corpus.disagreements.push(...part.disagreements);
    for (const k of Object.keys(corpus.tally) as (keyof typeof corpus.tally)[]) corpus.tally[k] += part.tally[k];
    await new Promise((r) => setTimeout(r, 0));
  }

  // The pool on real Web Workers: 300 signatures, every 5th with a flipped bit.
  const items: SignatureItem[] = Array.from({ length: 300 }, (_, i) => {
    const seed = new Uint8Array(32).fill((i % 9) + 1);
    const msg = new Uint8Array(32).fill(i & 0xff);
    msg[1] = i >> 8;
    const sig = ed25519.sign(msg, seed);
    if (i % 5 === 2) sig[3] ^= 0x10;
    return { sig, msg, pub: ed25519.getPublicKey(seed) };
  });
  const pool = new SignaturePool({ workers: 2 });
  const yes = await pool.acceptedNatively(items);
  const mismatches = items.filter((it, i) => (yes[i] === 1) !== verifySignature(it.sig, it.msg, it.pub)).length;
  const result = { native: true, userAgent: navigator.userAgent, vectors, corpus, pool: { transports: pool.transports, mismatches, stats: pool.stats } };
  pool.close();
  return result;
}

const w = window as unknown as { sigTest?: unknown; sigTestError?: string };
// After the load event, so the Node side's page.goto() returns before the work starts.
const start = () => run().then(
  (r) => (w.sigTest = r),
  (err) => (w.sigTestError = String(err instanceof Error ? (err.stack ?? err.message) : err)),
);
if (document.readyState === 'complete') void start();
else addEventListener('load', () => void start(), { once: true });
