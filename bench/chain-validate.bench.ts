/**
 * Block validation throughput: a full block of signed transfers (as many as fit in
 * maxBlockBytes), validated as a node validates a block from a peer — checkBlockSanity (size,
 * merkle, duplicates, PoW, every signature) then applyBlock — and connect (applyBlock) alone.
 * The state holds the senders' and recipients' accounts; each run connects to a fresh clone.
 */
import type { BenchContext, BenchRow } from './run.ts';
import { applyBlock } from '../src/chain/apply.ts';
import { blockSize, merkleRoot } from '../src/chain/block.ts';
import { sha256 } from '../src/chain/hash.ts';
import { blockHash } from '../src/chain/header.ts';
import { publicKeyOf } from '../src/chain/keys.ts';
import { NETWORKS } from '../src/chain/params.ts';
import { bitsToTarget, hashToBigInt } from '../src/chain/pow.ts';
import { ChainState } from '../src/chain/state.ts';
import { makeCoinbase, signTx, txSize } from '../src/chain/tx.ts';
import { COIN } from '../src/chain/types.ts';
import type { Block, BlockHeader, Transaction } from '../src/chain/types.ts';
import { checkBlockSanity } from '../src/chain/validate.ts';
import { SignatureCache } from '../src/chain/sigcache.ts';

const params = NETWORKS.test;
const SENDERS = 500;
const RECIPIENTS = 2000;

function key(i: number, tag: string) {
  const priv = sha256(new TextEncoder().encode(`bench/${tag}/${i}`));
  return { priv, pub: publicKeyOf(priv) };
}

function mine(h: BlockHeader): BlockHeader {
  const target = bitsToTarget(h.bits);
  for (let nonce = 0; ; nonce++) if (hashToBigInt(blockHash({ ...h, nonce })) <= target) return { ...h, nonce };
}

export default async function bench(ctx: BenchContext): Promise<BenchRow[]> {
  const senders = Array.from({ length: SENDERS }, (_, i) => key(i, 's'));
  const recipients = Array.from({ length: RECIPIENTS }, (_, i) => key(i, 'r').pub);
  const state = new ChainState();
  for (const s of senders) state.setAccount(s.pub, { balance: 100n * COIN, immature: 0n, nonce: 0 });

  const coinbase = makeCoinbase(params, 1, recipients[0], 0n);
  const fee = 2_000n;
  const txs: Transaction[] = [coinbase];
  let bytes = 80 + 3 + txSize(coinbase) + 1;
  const nonces = new Array<number>(SENDERS).fill(0);
  ctx.log('signing a full block of transfers …');
  for (let i = 0; txs.length < params.maxBlockTxs; i++) {
    const s = i % SENDERS;
    const tx = signTx(
      { chainId: params.chainId, kind: 'transfer', from: senders[s].pub, nonce: ++nonces[s], fee, to: recipients[(i * 7919) % RECIPIENTS], amount: 1_000n + BigInt(i) },
      senders[s].priv,
    ) as Transaction;
    const size = txSize(tx) + 2; // + CompactSize length prefix
    if (bytes + size > params.maxBlockBytes) break;
    bytes += size;
    txs.push(tx);
  }
  const header = mine({ version: 1, prevHash: params.genesisHash, merkleRoot: merkleRoot(txs), time: params.genesis.header.time + 2, bits: params.genesisBits, nonce: 0 });
  const block: Block = { header, txs };
  const hash = blockHash(header);
  const n = txs.length - 1;
  const size = blockSize(block);
  ctx.log(`block: ${n} transfers, ${size} bytes`);

  const full = ctx.rate(() => {
    checkBlockSanity(block, params);
    applyBlock(state.clone(), block, { params, height: 1, hash });
  }, n, 3000);
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
  const note = `${n} transfers, ${(size / 1024).toFixed(0)} KiB block`;
  return [
    { suite: 'chain', name: 'block validation (full block of transfers)', value: full, unit: 'txs/s', note: `sanity incl. signatures + connect; ${note}` },
    { suite: 'chain', name: 'block validation, txs seen in mempool', value: warm, unit: 'txs/s', note: `signature cache warm; ${note}` },
    { suite: 'chain', name: 'connect only', value: connectOnly, unit: 'txs/s', note },
  ];
}
