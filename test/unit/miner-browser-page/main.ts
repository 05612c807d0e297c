/**
 * Page for test/unit/miner-browser.test.ts: runs the miner in Chromium — every kernel on the main
 * thread and the MinerPool on Web Workers — and leaves the results in `window.minerTest`.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bitsToTarget } from '../../../src/chain/pow.ts';
import { createScanner, MinerPool, SCANNER_KINDS, type FoundNonce } from '../../../src/miner/index.ts';
import { scan, scanKind } from '../../../src/miner/default-scan.ts';
import fixtures from '../../fixtures/bitcoin-headers.json';

const hex = (s: string) => Uint8Array.from(s.match(/../g)!.map((b) => parseInt(b, 16)));
const leValue = (d: Uint8Array) => d.reduceRight((v, b) => (v << 8n) | BigInt(b), 0n);

async function run() {
  const kernels: Record<string, (number | null)[]> = {};
  for (const kind of SCANNER_KINDS) {
    const s = await createScanner(kind);
    kernels[kind] = fixtures.headers.map((h) => s.scan(hex(h.headerHex), Math.max(0, h.nonce - 3000), 6001, bitsToTarget(h.bits)));
  }
  const g = fixtures.headers[0];
  const moduleScan = scan(hex(g.headerHex), g.nonce - 100, 200, bitsToTarget(g.bits));

  // The pool on real Web Workers, with an extraNonce roll on a tiny nonce space.
  const base = sha256(new TextEncoder().encode('browser'));
  const headerFor = (en: bigint) => {
    const h = new Uint8Array(80);
    h.set(base, 4);
    h.set(sha256(new TextEncoder().encode(`coinbase ${en}`)), 36);
    return h;
  };
  const target = (1n << 256n) >> 11n; // about one nonce in 2048 wins; the nonce space is 512
  const found = await new Promise<FoundNonce>((resolve, reject) => {
    MinerPool.create({ workers: 2, nonceSpace: 512, chunkSize: 64, onFound: resolve, onError: reject }).then((pool) => {
      (window as unknown as { pool: MinerPool }).pool = pool;
      pool.mine({ target, headerFor });
    }, reject);
  });
  const pool = (window as unknown as { pool: MinerPool }).pool;
  const header = headerFor(found.extraNonce);
  new DataView(header.buffer).setUint32(76, found.nonce, true);
  const valid = found.header80.every((b, i) => b === header[i]) && leValue(sha256(sha256(header))) <= target && found.nonce < 512;
  const result = { kernels, moduleScan, scanKind: scanKind(), transports: pool.transports, rolls: pool.stats.extraNonceRolls, extraNonce: Number(found.extraNonce), valid, expected: fixtures.headers.map((h) => h.nonce) };
  pool.close();
  return result;
}

const w = window as unknown as { minerTest?: unknown; minerTestError?: string };
run().then(
  (r) => (w.minerTest = r),
  (err) => (w.minerTestError = String(err instanceof Error ? (err.stack ?? err.message) : err)),
);
