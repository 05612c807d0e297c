/**
 * The signature and cold-validation workloads both platforms measure (bench/chain-sig.bench.ts and
 * bench/chain-validate.bench.ts in Node, bench/chain-page/main.ts in Chromium), so the rows are
 * the same work: a full 1 MiB block of signed transfers (500 senders, 2,000 recipients, as many
 * transfers as fit in maxBlockBytes) validated cold — no signature seen before — by the pure-JS
 * path (checkBlockSanity + applyBlock, as before) and by the native path (SignaturePreverifier on a
 * SignaturePool, then the same checkBlockSanity + applyBlock). Platform-neutral: no Node imports.
 * @module
 */
import { applyBlock } from '../src/chain/apply.ts';
import { blockSize, merkleRoot } from '../src/chain/block.ts';
import { sha256 } from '../src/chain/hash.ts';
import { blockHash } from '../src/chain/header.ts';
import { publicKeyOf, signMessage, verifySignature } from '../src/chain/keys.ts';
import { NETWORKS } from '../src/chain/params.ts';
import { bitsToTarget, hashToBigInt } from '../src/chain/pow.ts';
import { acceptedNatively } from '../src/chain/sig-precheck.ts';
import { SignatureCache } from '../src/chain/sigcache.ts';
import { ChainState } from '../src/chain/state.ts';
import { makeCoinbase, signTx, signingHash, txSize } from '../src/chain/tx.ts';
import { COIN } from '../src/chain/types.ts';
import type { Block, BlockHeader, Transaction } from '../src/chain/types.ts';
import { checkBlockSanity } from '../src/chain/validate.ts';
import { SignaturePool, type SignatureItem } from '../src/node/sig-pool.ts';
import { SignaturePreverifier } from '../src/node/sig-preverify.ts';
import { platformEd25519 } from '../src/node/native-ed25519.ts';

export const params = NETWORKS.test;
const SENDERS = 500;
const RECIPIENTS = 2000;

function key(i: number, tag: string) {
  const priv = sha256(new TextEncoder().encode(`bench/${tag}/${i}`));
  return { priv, pub: publicKeyOf(priv) };
}

function mine(h: BlockHeader): BlockHeader {
  for (let nonce = 0; ; nonce++) if (hashToBigInt(blockHash({ ...h, nonce })) <= bitsToTarget(h.bits)) return { ...h, nonce };
}

/** The full block of transfers and a state holding its senders. */
export interface FullBlock {
  block: Block;
  hash: Uint8Array;
  state: ChainState;
  /** Transfers (the coinbase excluded). */
  transfers: number;
  bytes: number;
}

/** A full block of signed transfers on the 'test' network (signing takes a few seconds). */
export function fullTransferBlock(): FullBlock {
  const senders = Array.from({ length: SENDERS }, (_, i) => key(i, 's'));
  const recipients = Array.from({ length: RECIPIENTS }, (_, i) => key(i, 'r').pub);
  const state = new ChainState();
  for (const s of senders) state.setAccount(s.pub, { balance: 100n * COIN, immature: 0n, nonce: 0 });
  const coinbase = makeCoinbase(params, 1, recipients[0], 0n);
  const txs: Transaction[] = [coinbase];
  let bytes = 80 + 3 + txSize(coinbase) + 1;
  const nonces = new Array<number>(SENDERS).fill(0);
  for (let i = 0; txs.length < params.maxBlockTxs; i++) {
    const s = i % SENDERS;
    const tx = signTx(
      { chainId: params.chainId, kind: 'transfer', from: senders[s].pub, nonce: ++nonces[s], fee: 2_000n, to: recipients[(i * 7919) % RECIPIENTS], amount: 1_000n + BigInt(i) },
      senders[s].priv,
    ) as Transaction;
    const size = txSize(tx) + 2; // + CompactSize length prefix
    if (bytes + size > params.maxBlockBytes) break;
    bytes += size;
    txs.push(tx);
  }
  const header = mine({ version: 1, prevHash: params.genesisHash, merkleRoot: merkleRoot(txs), time: params.genesis.header.time + 2, bits: params.genesisBits, nonce: 0 });
  const block: Block = { header, txs };
  return { block, hash: blockHash(header), state, transfers: txs.length - 1, bytes: blockSize(block) };
}

/** The block's signatures as the pool takes them (signing hash, key, signature). */
export function signatureItems(fb: FullBlock): SignatureItem[] {
  return fb.block.txs.slice(1).map((tx) => ({ sig: tx.signature, msg: signingHash(tx), pub: tx.from }));
}

/** Repeats `fn` (sync or async) until `minMs` passed, after one warm-up call; operations per second. */
export async function rate(fn: () => unknown, opsPerCall = 1, minMs = 1000): Promise<number> {
  await fn();
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    await fn();
    calls++;
    elapsed = performance.now() - start;
  } while (elapsed < minMs);
  return (calls * opsPerCall) / (elapsed / 1000);
}

/** Verifications per second: pure JS, native on the calling thread, native on the pool. */
export interface SignatureRates {
  noble: number;
  nativeCallingThread: number;
  nativePool: number;
  workers: number;
  transports: string[];
}

/** `n` transaction-like signatures (32-byte messages) by 500 keys, as in a real block. */
export function sampleItems(n: number): SignatureItem[] {
  const keys = Array.from({ length: SENDERS }, (_, i) => key(i, 's'));
  return Array.from({ length: n }, (_, i) => {
    const k = keys[i % SENDERS];
    const msg = sha256(new TextEncoder().encode(`bench/msg/${i}`));
    return { sig: signMessage(msg, k.priv), msg, pub: k.pub };
  });
}

/**
 * Signature verification rates over `items` (use many keys, as a real block has). `workers`: the
 * pool's size.
 */
export async function signatureRates(items: SignatureItem[], workers: number, minMs: number): Promise<SignatureRates> {
  const native = await platformEd25519();
  if (!native) throw new Error('no native Ed25519 on this platform');
  let i = 0;
  const noble = await rate(() => {
    const it = items[i++ % items.length];
    if (!verifySignature(it.sig, it.msg, it.pub)) throw new Error('bench: invalid signature');
  }, 1, minMs);
  const batch = items.slice(0, 2000);
  const nativeCallingThread = await rate(async () => {
    const ok = await Promise.all(batch.map((it) => acceptedNatively(it.sig, it.msg, it.pub, native)));
    if (!ok.every(Boolean)) throw new Error('bench: native refused a valid signature');
  }, batch.length, minMs);
  const pool = new SignaturePool({ workers });
  try {
    const nativePool = await rate(async () => {
      const yes = await pool.acceptedNatively(items);
      if (yes.some((v) => v !== 1)) throw new Error('bench: pool refused a valid signature');
    }, items.length, minMs);
    return { noble, nativeCallingThread, nativePool, workers, transports: pool.transports };
  } finally {
    pool.close();
  }
}

/** Cold validation of the full block, txs/s: pure JS (before) and native pool first (after). */
export interface ColdValidation {
  pureJs: number;
  /** One block at a time: preverify, then sanity and connect (a block from gossip). */
  native: number;
  /** Blocks back to back, the next one's preverification running while this one is checked and connected (sync, as FullNode.processBlocks). */
  nativePipelined: number;
  workers: number;
  transports: string[];
}

/**
 * Cold validation of the full block, as a node validates a block of transactions it never saw:
 * pure JS — checkBlockSanity (every signature by noble) + applyBlock; native — a fresh signature
 * cache, SignaturePreverifier.block on a SignaturePool of `workers` (already started), then the
 * same checkBlockSanity + applyBlock, which find the signatures cached; and pipelined, blocks back
 * to back with the next block's preverification under way while this one is checked and
 * connected, as FullNode.processBlocks does during sync.
 */
export async function coldValidation(fb: FullBlock, workers: number, minMs: number): Promise<ColdValidation> {
  const { block, state, hash, transfers } = fb;
  const pureJs = await rate(() => {
    checkBlockSanity(block, params);
    applyBlock(state.clone(), block, { params, height: 1, hash });
  }, transfers, minMs);
  const pool = new SignaturePool({ workers });
  try {
    let run = 0;
    const native = await rate(async () => {
      const sigCache = new SignatureCache();
      const pre = new SignaturePreverifier({ params, sigCache, pool });
      const counts = await pre.block(block, `run-${run++}`);
      if (counts?.accepted !== transfers) throw new Error(`bench: preverified ${counts?.accepted} of ${transfers}`);
      checkBlockSanity(block, params, { sigCache });
      applyBlock(state.clone(), block, { params, height: 1, hash });
    }, transfers, minMs);
    const start = () => {
      const sigCache = new SignatureCache();
      const pre = new SignaturePreverifier({ params, sigCache, pool });
      return { sigCache, done: pre.block(block, `pipelined-${run++}`) };
    };
    let next = start();
    const nativePipelined = await rate(async () => {
      const cur = next;
      next = start();
      const counts = await cur.done;
      if (counts?.accepted !== transfers) throw new Error(`bench: preverified ${counts?.accepted} of ${transfers}`);
      checkBlockSanity(block, params, { sigCache: cur.sigCache });
      applyBlock(state.clone(), block, { params, height: 1, hash });
    }, transfers, minMs);
    await next.done;
    return { pureJs, native, nativePipelined, workers, transports: pool.transports };
  } finally {
    pool.close();
  }
}
