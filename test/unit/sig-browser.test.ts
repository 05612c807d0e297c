import { beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { ensureChromium } from '../../scripts/chromium.ts';
import { launchSession, pageResult, withBuiltPage } from '../../bench/browser-page.ts';
import { VECTOR_COUNTS } from './helpers/sig-corpus.ts';

// Native-first signatures in a real browser: Chromium's WebCrypto Ed25519 (BoringSSL) is the
// native verifier; the page (built by vite as the app is) checks the construction's identity with
// our verifier on every vector and a corpus (SIG_CORPUS, default 1,000), and runs the SignaturePool
// on Web Workers.

const CORPUS = Number(process.env.SIG_CORPUS ?? 1000);

interface Checked {
  n: number;
  disagreements: string[];
  tally: { nativeAcceptsVRefuses: number; nativeRefusesVAccepts: number; fastPath: number };
}
interface PageResult {
  native: boolean;
  userAgent: string;
  vectors: Checked;
  corpus: Checked;
  pool: { transports: string[]; mismatches: number; stats: { inWorkers: number } };
}

describe('native-first signatures in Chromium', () => {
  beforeAll(() => void ensureChromium(), 600_000);

  it('BoringSSL behind the precheck gives our verdicts on every vector and a corpus; the pool runs on Web Workers', async () => {
    const r = await withBuiltPage({ root: fileURLToPath(new URL('./sig-browser-page/', import.meta.url)), tmpPrefix: 'tabchain-sig-test-' }, async (base) => {
      const chromium = await launchSession();
      try {
        const page = await chromium.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        const result = await pageResult<PageResult>(page, `${base}index.html?corpus=${CORPUS}`, 'sigTest', 50_000 + CORPUS * 20);
        expect(errors).toEqual([]);
        return result;
      } finally {
        await chromium.close();
      }
    });
    expect(r.native).toBe(true);
    expect(r.vectors.n).toBe(VECTOR_COUNTS.wycheproof + VECTOR_COUNTS.speccheck);
    expect(r.vectors.disagreements).toEqual([]);
    expect(r.corpus.n).toBe(CORPUS);
    if (CORPUS > 10_000) console.log(`Chromium (${r.userAgent}): vectors`, r.vectors.tally, `corpus of ${CORPUS}`, r.corpus.tally);
    expect(r.corpus.disagreements).toEqual([]);
    // BoringSSL's rule is not ours: it accepts small-order keys (speccheck 0, 1, 11) and refuses
    // mixed-order signatures (speccheck 4, 5); the construction absorbs both.
    expect(r.vectors.tally.nativeAcceptsVRefuses).toBeGreaterThanOrEqual(3);
    expect(r.vectors.tally.nativeRefusesVAccepts).toBeGreaterThanOrEqual(2);
    expect(r.corpus.tally.fastPath).toBeGreaterThan(0);
    expect(r.pool.transports).toEqual(['web', 'web']);
    expect(r.pool.stats.inWorkers).toBe(300);
    expect(r.pool.mismatches).toBe(0);
  }, 60_000 + CORPUS * 20);
});
