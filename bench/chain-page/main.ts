/**
 * The Chromium signature bench page: the workloads of bench/sig-measure.ts — verification rates
 * (pure JS, native first on the page's thread, native first on a SignaturePool of Web Workers) and
 * cold validation of the full 1 MiB block of transfers (pure JS, native pool) — in the browser.
 * Results land in `window.chainBench` for bench/chain-browser.bench.ts.
 */
import { coldValidation, fullTransferBlock, signatureItems, signatureRates } from '../sig-measure.ts';

const q = new URLSearchParams(location.search);
const MS = Number(q.get('ms') ?? 3000);
const WORKERS = Number(q.get('workers') ?? 2);

async function run() {
  const fb = fullTransferBlock();
  const rates = await signatureRates(signatureItems(fb), WORKERS, MS);
  const cold = await coldValidation(fb, WORKERS, MS);
  return { userAgent: navigator.userAgent, cores: navigator.hardwareConcurrency, transfers: fb.transfers, bytes: fb.bytes, rates, cold };
}

const w = window as unknown as { chainBench?: unknown; chainBenchError?: string };
run().then(
  (r) => (w.chainBench = r),
  (err) => (w.chainBenchError = String(err instanceof Error ? (err.stack ?? err.message) : err)),
);
