/**
 * Header index, mempool and block template throughput (suite 'chain').
 */
import type { BenchContext, BenchRow } from './run.ts';
import { HeaderIndex } from '../src/chain/header-index.ts';
import { Mempool } from '../src/chain/mempool.ts';
import { buildBlockTemplate } from '../src/chain/template.ts';
import { NETWORKS } from '../src/chain/params.ts';
import { ChainState } from '../src/chain/state.ts';
import { sha256 } from '../src/chain/hash.ts';
import { publicKeyOf } from '../src/chain/keys.ts';
import { signTx } from '../src/chain/tx.ts';
import { COIN, type BlockHeader, type HeaderEntry, type Transaction } from '../src/chain/types.ts';

export default async function (ctx: BenchContext): Promise<BenchRow[]> {
  const params = NETWORKS.test;
  const rows: BenchRow[] = [];

  // Header index: a 100,000-header chain.
  const N = 100_000;
  const index = new HeaderIndex(params.genesis.header);
  const t0 = performance.now();
  let tip: HeaderEntry = index.genesis;
  for (let i = 0; i < N; i++) {
    const h: BlockHeader = { version: 1, prevHash: tip.hash, merkleRoot: new Uint8Array(32), time: params.genesis.header.time + i, bits: params.genesisBits, nonce: 0 };
    tip = index.add(h, { status: 'headers-only', hasBody: false });
  }
  const addMs = performance.now() - t0;
  rows.push({ suite: 'chain', name: 'HeaderIndex.add (100k chain)', value: N / (addMs / 1000), unit: 'headers/s' });
  let k = 0;
  rows.push({ suite: 'chain', name: 'HeaderIndex.ancestorAt (100k chain)', value: ctx.rate(() => void index.ancestorAt(tip, (k = (k * 7919 + 1) % N)), 1, 500), unit: 'ops/s' });
  rows.push({ suite: 'chain', name: 'HeaderIndex.locator (100k chain)', value: ctx.rate(() => void index.locator(tip), 1, 500), unit: 'ops/s' });

  // Mempool and template: 50 funded senders × 20 chained transfers = 1,000 txs.
  const state = new ChainState();
  const senders = Array.from({ length: 50 }, (_, i) => {
    const priv = sha256(new TextEncoder().encode(`bench/${i}`));
    const pub = publicKeyOf(priv);
    state.setAccount(pub, { balance: 1_000n * COIN, immature: 0n, nonce: 0 });
    return { priv, pub };
  });
  const to = senders[0].pub;
  const txs: Transaction[] = [];
  for (let n = 1; n <= 20; n++) {
    for (const [i, s] of senders.entries()) {
      txs.push(signTx({ chainId: params.chainId, kind: 'transfer', from: s.pub, nonce: n, fee: 3_000n + BigInt((i * 37 + n * 11) % 500), to, amount: COIN }, s.priv) as Transaction);
    }
  }
  const mctx = { params, height: 0, now: 0 };
  const t1 = performance.now();
  const pool = new Mempool();
  for (const tx of txs) pool.add(tx, state, mctx);
  const poolMs = performance.now() - t1;
  rows.push({ suite: 'chain', name: 'Mempool.add (1,000 transfers, incl. signature check)', value: txs.length / (poolMs / 1000), unit: 'tx/s' });
  const t2 = performance.now();
  const revalidations = 5;
  for (let i = 0; i < revalidations; i++) pool.revalidate(state, mctx);
  rows.push({ suite: 'chain', name: 'Mempool.revalidate (1,000 pending)', value: (performance.now() - t2) / revalidations, unit: 'ms' });
  const tpl = () => buildBlockTemplate({ params, state, prev: index.genesis, mempool: pool, minerPubKey: to, now: params.genesis.header.time + 2, medianTimePast: params.genesis.header.time });
  const included = tpl().entries.length;
  rows.push({ suite: 'chain', name: `buildBlockTemplate (${included} of 1,000 txs)`, value: 1000 / ctx.rate(tpl, 1, 1000), unit: 'ms' });
  return rows;
}
