/**
 * Fuzz target of native-first signature verification (src/chain/sig-precheck.ts): random keys,
 * messages and signatures and their mutations — bit flips in R, S and A, S + j·L, small-order and
 * mixed-order R and A, non-canonical and x = 0 encodings, random bytes (arbSigCase,
 * test/unit/helpers/sig-corpus.ts).
 *
 * Property: for every input and every sound native verifier — OpenSSL through node:crypto and
 * through WebCrypto (the adapters the node uses), a cofactorless reference with lenient decoding
 * and S mod L, and ZIP-215 (cofactored, lenient, small-order keys accepted) — the precheck
 * refuses only what our verifier refuses (¬P ⇒ ¬V), a YES of precheck + native is a YES of our
 * verifier (P ∧ N ⇒ V), and so the construction's verdict P ∧ (N ∨ V) is V's. `npm test` runs
 * 1,000 inputs; `npm run fuzz` 100,000. The unit test (test/unit/sig-precheck.test.ts) adds the
 * published vectors; test/unit/sig-browser.test.ts the same property with Chromium's BoringSSL.
 */
import { expect } from 'vitest';
import { verifySignature } from '../../src/chain/keys.ts';
import { acceptedNatively, precheckSignature, verifySignatureNativeFirst, type NativeVerify } from '../../src/chain/sig-precheck.ts';
import { nodeCryptoEd25519, webCryptoEd25519 } from '../../src/node/native-ed25519.ts';
import { arbSigCase, lenientCofactorless, zip215 } from '../unit/helpers/sig-corpus.ts';
import { fuzzAsync } from './harness.ts';

const openssl = (await nodeCryptoEd25519())!;
const webcrypto = (await webCryptoEd25519())!;
const NATIVES: Record<string, NativeVerify> = { openssl, webcrypto, lenientCofactorless, zip215 };

fuzzAsync(
  'native-first verdict = pure-JS verdict',
  arbSigCase,
  async (c) => {
    expect(openssl).not.toBeNull();
    expect(webcrypto).not.toBeNull();
    const v = verifySignature(c.sig, c.msg, c.pub);
    const p = precheckSignature(c.sig, c.pub);
    if (!p) expect(v, `¬P ⇒ ¬V: ${c.label}`).toBe(false);
    for (const [name, native] of Object.entries(NATIVES)) {
      if (await acceptedNatively(c.sig, c.msg, c.pub, native)) expect(v, `P ∧ N ⇒ V, ${name}: ${c.label}`).toBe(true);
    }
    // The full construction with the node's own native (it runs V again when N refuses).
    const fast = await acceptedNatively(c.sig, c.msg, c.pub, openssl);
    expect(await verifySignatureNativeFirst(c.sig, c.msg, c.pub, openssl), `verdict: ${c.label}`).toBe(v);
    if (!p) return 'precheck refuses';
    if (fast) return 'native accepts';
    return v ? 'native refuses, V accepts' : 'both refuse';
  },
  import.meta.url,
  { mustSee: ['precheck refuses', 'native accepts', 'native refuses, V accepts', 'both refuse'] },
);
