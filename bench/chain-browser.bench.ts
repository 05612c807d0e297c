/**
 * Signatures and cold block validation in headless Chromium (`npm run bench chain-browser`, suite
 * 'chain-browser'): the workloads of bench/sig-measure.ts on the page bench/chain-page/ (built with
 * vite, served on 127.0.0.1: bench/browser-page.ts) — ed25519 verifications per second by the
 * pure-JS verifier and native first (WebCrypto Ed25519, BoringSSL) on the page's thread and on a
 * SignaturePool of Web Workers, and cold validation of the full 1 MiB block of transfers by the
 * pure-JS path and the native path. The Node rows are in chain-sig and chain-validate.
 *
 * Env: CHAIN_BENCH_MS (measure window per row, default 3000), CHAIN_BENCH_WORKERS (default 2).
 */
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchContext, BenchRow } from './run.ts';
import { launchSession, pageResult, withBuiltPage } from './browser-page.ts';
import type { ColdValidation, SignatureRates } from './sig-measure.ts';

const here = dirname(fileURLToPath(import.meta.url));
const MS = Number(process.env.CHAIN_BENCH_MS ?? 3000);
const WORKERS = Number(process.env.CHAIN_BENCH_WORKERS ?? 2);

interface PageResult {
  userAgent: string;
  cores: number;
  transfers: number;
  bytes: number;
  rates: SignatureRates;
  cold: ColdValidation;
}

export default async function chainBrowser(ctx: BenchContext): Promise<BenchRow[]> {
  const before = loadavg()[0];
  const r = await withBuiltPage({ root: join(here, 'chain-page'), tmpPrefix: 'tabchain-chain-bench-' }, async (base) => {
    const chromium = await launchSession();
    try {
      const page = await chromium.newPage();
      page.on('pageerror', (err) => ctx.log(`chromium page error: ${err.message}`));
      return await pageResult<PageResult>(page, `${base}index.html?ms=${MS}&workers=${WORKERS}`, 'chainBench', 600_000);
    } finally {
      await chromium.close();
    }
  });
  const version = /Chrome\/([\d.]+)/.exec(r.userAgent)?.[1] ?? '?';
  const load = `load ${before.toFixed(2)} → ${loadavg()[0].toFixed(2)} (1-min avg, 2 cores shared)`;
  ctx.log(`chromium ${version}, ${r.cores} cores; pool ${r.rates.transports.join('+')}; ${load}`);
  const row = (name: string, value: number, unit: string, note?: string, target?: string): BenchRow => ({ suite: 'chain-browser', name, value, unit, note, target });
  const block = `${r.transfers} transfers, ${(r.bytes / 1024).toFixed(0)} KiB block`;
  return [
    row('ed25519 verify/s, pure JS (Chromium)', r.rates.noble, 'ops/s', `@noble/curves strict; Chromium ${version}`),
    row('ed25519 verify/s, native first, page thread (Chromium)', r.rates.nativeCallingThread, 'ops/s', 'precheck + WebCrypto (BoringSSL), 2,000 in flight'),
    row(`ed25519 verify/s, native first, pool of ${WORKERS} (Chromium)`, r.rates.nativePool, 'ops/s', `SignaturePool, ${r.rates.transports.join('+')}; ${load}`),
    row('native pool / pure JS (Chromium)', r.rates.nativePool / r.rates.noble, '×'),
    row('block validation cold, pure JS (Chromium)', r.cold.pureJs, 'txs/s', `sanity incl. signatures + connect; ${block}`),
    row('block validation cold, native pool (Chromium)', r.cold.native, 'txs/s', `preverify on ${r.cold.transports.join('+')} + sanity + connect; ${load}`, '>= 10000'),
    row('cold validation native / pure JS (Chromium)', r.cold.native / r.cold.pureJs, '×', 'the pure-JS verifier is ~5× faster in Chromium than in Node'),
    row('block validation cold, native pool, pipelined (Chromium)', r.cold.nativePipelined, 'txs/s', 'blocks back to back, next one preverified meanwhile (sync)', '>= 10000'),
  ];
}
