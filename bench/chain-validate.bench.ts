/**
 * Block validation throughput: a full block of signed transfers (as many as fit in
 * maxBlockBytes; bench/sig-measure.ts), validated as a node validates a block from a peer —
 * checkBlockSanity (size, merkle, duplicates, PoW, every signature) then applyBlock — cold (no
 * signature seen before: a newcomer syncing, or a block of transactions the node never saw) by the
 * pure-JS path and by the native path (signatures preverified on a SignaturePool of worker_threads,
 * then the same sanity and connect), warm (signatures in the cache from the mempool), and connect
 * (applyBlock) alone; and the CPU time (all threads) of one cold validation, pure JS and native,
 * which does not depend on the machine's load. The state holds the senders' accounts; each run
 * connects to a fresh clone.
 * The Chromium rows are in bench/chain-browser.bench.ts.
 */
import { loadavg } from 'node:os';
import type { BenchContext, BenchRow } from './run.ts';
import { applyBlock } from '../src/chain/apply.ts';
import { SignatureCache } from '../src/chain/sigcache.ts';
import { checkBlockSanity } from '../src/chain/validate.ts';
import { SignaturePool } from '../src/node/sig-pool.ts';
import { SignaturePreverifier } from '../src/node/sig-preverify.ts';
import { coldValidation, fullTransferBlock, params, type FullBlock } from './sig-measure.ts';

const WORKERS = 2;
const CPU_RUNS = 5;

/**
 * CPU time (every thread of the process: process.cpuUsage counts worker_threads too) per cold
 * validation of the block, pure JS and native: what the work costs whatever the machine's load,
 * where the txs/s rows depend on how much of the 2 shared cores this process gets.
 */
async function cpuPerBlock(fb: FullBlock): Promise<{ pureJs: number; native: number }> {
  const { block, state, hash } = fb;
  const cpuMs = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  let t = cpuMs();
  for (let i = 0; i < CPU_RUNS; i++) {
    checkBlockSanity(block, params);
    applyBlock(state.clone(), block, { params, height: 1, hash });
  }
  const pureJs = (cpuMs() - t) / CPU_RUNS;
  const pool = new SignaturePool({ workers: WORKERS });
  try {
    await new SignaturePreverifier({ params, sigCache: new SignatureCache(), pool }).block(block, 'warm-up'); // workers started
    t = cpuMs();
    for (let i = 0; i < CPU_RUNS; i++) {
      const sigCache = new SignatureCache();
      await new SignaturePreverifier({ params, sigCache, pool }).block(block, `cpu-${i}`);
      checkBlockSanity(block, params, { sigCache });
      applyBlock(state.clone(), block, { params, height: 1, hash });
    }
    return { pureJs, native: (cpuMs() - t) / CPU_RUNS };
  } finally {
    pool.close();
  }
}

export default async function bench(ctx: BenchContext): Promise<BenchRow[]> {
  ctx.log('signing a full block of transfers …');
  const fb = fullTransferBlock();
  const { block, state, hash, transfers: n, bytes: size } = fb;
  ctx.log(`block: ${n} transfers, ${size} bytes`);
  const loadBefore = loadavg()[0];
  const cold = await coldValidation(fb, WORKERS, 3000);
  const cpu = await cpuPerBlock(fb);
  // As a node sees a block whose transactions it already had in its mempool: signatures cached.
  const sigCache = new SignatureCache();
  checkBlockSanity(block, params, { sigCache });
  const warm = ctx.rate(() => {
    checkBlockSanity(block, params, { sigCache });
    applyBlock(state.clone(), block, { params, height: 1, hash });
  }, n, 2000);
  const connectOnly = ctx.rate(() => {
    applyBlock(state.clone(), block, { params, height: 1, hash });
  }, n, 2000);
  const load = `load ${loadBefore.toFixed(2)} → ${loadavg()[0].toFixed(2)} (1-min avg, 2 cores shared)`;
  ctx.log(`cold: pure JS ${cold.pureJs.toFixed(0)} txs/s, native ${cold.native.toFixed(0)} txs/s (${cold.transports.join('+')}); ${load}`);
  const note = `${n} transfers, ${(size / 1024).toFixed(0)} KiB block`;
  return [
    { suite: 'chain', name: 'block validation (full block of transfers)', value: cold.pureJs, unit: 'txs/s', note: `pure JS: sanity incl. signatures + connect; ${note}` },
    { suite: 'chain', name: 'block validation cold, native pool (Node)', value: cold.native, unit: 'txs/s', target: '>= 10000', note: `preverify on ${cold.transports.join('+')} + sanity + connect; ${load}` },
    { suite: 'chain', name: 'cold validation native / pure JS (Node)', value: cold.native / cold.pureJs, unit: '×', target: '>= 15' },
    { suite: 'chain', name: 'block validation cold, native pool, pipelined (Node)', value: cold.nativePipelined, unit: 'txs/s', target: '>= 10000', note: 'blocks back to back, next one preverified meanwhile (sync)' },
    { suite: 'chain', name: 'cold validation CPU per block, pure JS (Node)', value: cpu.pureJs, unit: 'ms', note: 'all threads (process.cpuUsage); independent of load' },
    { suite: 'chain', name: 'cold validation CPU per block, native pool (Node)', value: cpu.native, unit: 'ms', note: `all threads; ${n} txs / (CPU ÷ 2 cores) = ${((n * 2000) / cpu.native).toFixed(0)} txs/s if both cores were free` },
    { suite: 'chain', name: 'block validation, txs seen in mempool', value: warm, unit: 'txs/s', note: `signature cache warm; ${note}` },
    { suite: 'chain', name: 'connect only', value: connectOnly, unit: 'txs/s', note },
  ];
}
