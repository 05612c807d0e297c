/**
 * The headless node's JSON-RPC (suite 'rpc'), over loopback HTTP against an in-process node
 * ('test' network, MemoryStore) with its wallet and API, as `npm run node -- --rpc` builds it:
 * - `status` calls per second, one request at a time (fetch, keep-alive);
 * - `balance` calls per second inside batches of 100;
 * - `decodeTransaction` of a signed transfer per second (hex checks, decode, view);
 * - `npm run cli -- status` wall time, median of 5: mostly starting Node and tsx.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NETWORKS, encodeAddress, publicKeyOf } from '../src/chain/index.ts';
import { createTabchainApi } from '../src/node/api.ts';
import { FullNode } from '../src/node/full-node.ts';
import { Outbox } from '../src/node/outbox.ts';
import { Wallet } from '../src/node/wallet.ts';
import { basicHeader, writeCookie } from '../src/node/rpc/auth.ts';
import { startRpcServer } from '../src/node/rpc/server.ts';
import { MemoryStore } from '../src/storage/memory-store.ts';
import { signedTransfer } from '../test/support/raw-tx.ts';
import type { BenchContext, BenchRow } from './run.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export default async function rpcBench(ctx: BenchContext): Promise<BenchRow[]> {
  const params = NETWORKS.test;
  const store = new MemoryStore({ network: 'test' });
  const node = new FullNode({ params, store, miner: { useWorkers: false } });
  await node.start();
  const outbox = new Outbox({ node, store, rebroadcastIntervalMs: 0 });
  const wallet = await Wallet.open({ store, node, outbox });
  await outbox.start();
  const api = createTabchainApi({ node, wallet, outbox, profile: 'bench' });
  const dir = await mkdtemp(join(tmpdir(), 'tabchain-rpc-bench-'));
  const cookie = await writeCookie(join(dir, '.cookie'));
  const server = await startRpcServer({ host: '127.0.0.1', port: 0, credentials: [cookie], context: { api } });
  const auth = basicHeader(cookie);
  const post = async (body: string) => {
    const res = await fetch(server.url, { method: 'POST', headers: { Authorization: auth }, body });
    await res.text();
  };
  const rows: BenchRow[] = [];
  try {
    const status = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'status' });
    rows.push({ suite: 'rpc', name: 'status calls, one at a time', value: await ctx.rateAsync(() => post(status)), unit: 'calls/s', note: 'loopback HTTP, keep-alive, Basic auth checked each call' });
    const batch = JSON.stringify(Array.from({ length: 100 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'balance' })));
    rows.push({ suite: 'rpc', name: 'balance calls in batches of 100', value: await ctx.rateAsync(() => post(batch), 100), unit: 'calls/s' });
    const priv = new Uint8Array(32).fill(3);
    const raw = signedTransfer(params, priv, encodeAddress(publicKeyOf(new Uint8Array(32).fill(4)), params.addressPrefix), 1000n, 1);
    const decode = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'decodeTransaction', params: [raw.hex] });
    rows.push({ suite: 'rpc', name: 'decodeTransaction calls, one at a time', value: await ctx.rateAsync(() => post(decode)), unit: 'calls/s' });
    const port = new URL(server.url).port;
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const start = performance.now();
      await new Promise<void>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'src/node/rpc/cli.ts', '--data', dir, '--rpc', port, 'status'], { cwd: ROOT, stdio: 'ignore' });
        child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`cli exited ${code}`))));
      });
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    rows.push({ suite: 'rpc', name: 'npm run cli -- status, wall time (median of 5)', value: times[2], unit: 'ms', note: 'a new Node + tsx process each call' });
  } finally {
    await server.close();
    await outbox.stop();
    await node.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return rows;
}
