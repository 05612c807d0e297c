/**
 * The chains both storage benches connect (bench/node.bench.ts in Node, bench/storage-page/main.ts
 * in Chromium), so the two suites measure the same workloads: 'test' network, a clock that follows
 * the node's height (blocks on schedule), blocks mined and signed by a MemoryStore node and then
 * fed to the node under test. Platform-neutral: no Node-only imports, so the page can bundle it.
 * @module
 */
import {
  ChainState,
  applyBlock,
  blockHash,
  bitsToTarget,
  encodeBlock,
  hashToBigInt,
  makeCoinbase,
  merkleRoot,
  nextBits,
  publicKeyOf,
  sha256,
  signTx,
  txid,
  workForBits,
  NETWORKS,
  type Block,
  type BlockHeader,
  type HeaderEntry,
  type Transaction,
} from '../src/chain/index.ts';
import type { ChainStore } from '../src/storage/chain-store.ts';
import { MemoryStore } from '../src/storage/memory-store.ts';
import { FullNode } from '../src/node/full-node.ts';

export const params = NETWORKS.test;
const G = params.genesis.header.time;
export const benchKey = (name: string) => sha256(new TextEncoder().encode('node-bench/' + name));
const richPriv = benchKey('rich');
const richPub = publicKeyOf(richPriv);

/** A node whose clock follows its own height (blocks on schedule); mines in this thread. */
export function nodeOn(store: ChainStore, miner = richPub): FullNode {
  const now = () => G + params.targetSpacing * (node.height + 1);
  const node: FullNode = new FullNode({ params, store, now, minerPubKey: miner, miner: { useWorkers: false } });
  return node;
}

async function activeBlocks(node: FullNode, from: number): Promise<Block[]> {
  const out: Block[] = [];
  for (let h = from; h <= node.height; h++) out.push((await node.getBlockAtHeight(h))!);
  return out;
}

/** Blocks 1..n of a chain where block 3+ carry `txsPerBlock` transfers from `rich` (blocks 1–2 mature its reward). */
export async function sourceChain(n: number, txsPerBlock: number): Promise<Block[]> {
  const node = nodeOn(new MemoryStore({ network: 'test' }));
  await node.start();
  await node.miner.mineBlocks(2);
  let nonce = 0;
  while (node.height < n) {
    for (let i = 0; i < txsPerBlock; i++) {
      const to = sha256(Uint8Array.of(i, nonce & 0xff, nonce >> 8));
      const tx = signTx({ chainId: params.chainId, kind: 'transfer', from: richPub, nonce: ++nonce, fee: 5_000n, to, amount: 1_000n }, richPriv) as Transaction;
      const r = await node.processTx(tx, 'local');
      if (r.status !== 'accepted') throw new Error(`bench setup: tx ${r.status} ${r.code}`);
    }
    await node.miner.mineBlocks(1);
  }
  const blocks = await activeBlocks(node, 1);
  await node.stop();
  return blocks;
}

/** A branch: `base` fed to a fresh node, then `more` coinbase-only blocks mined by `miner`. */
export async function branch(base: Block[], more: number, miner: Uint8Array): Promise<Block[]> {
  const node = nodeOn(new MemoryStore({ network: 'test' }), miner);
  await node.start();
  for (const b of base) await node.processBlock(b, 'peer');
  await node.miner.mineBlocks(more);
  const blocks = await activeBlocks(node, base.length + 1);
  await node.stop();
  return blocks;
}

function mine(header: BlockHeader): BlockHeader {
  const target = bitsToTarget(header.bits);
  const h = { ...header };
  for (h.nonce = 0; hashToBigInt(blockHash(h)) > target; h.nonce++);
  return h;
}

/**
 * Writes a chain of `n` coinbase-only blocks (1,000 distinct miners) straight into `store` with
 * real undo records from applyBlock, as the node would have — the fast way to get a long chain
 * to reopen. Opens and closes the store. `onProgress` is called every 1,000 blocks.
 */
export async function writeLongChain(store: ChainStore, n: number, onProgress?: (height: number) => void): Promise<void> {
  await store.open();
  const state = new ChainState();
  const g = params.genesis;
  let prev: HeaderEntry = { hash: params.genesisHash, header: g.header, height: 0, chainwork: workForBits(g.header.bits), status: 'valid', hasBody: true };
  await store.connectBlock({ hash: prev.hash, height: 0, body: encodeBlock(g), undo: { hash: prev.hash, height: 0, changes: [] }, headers: [prev], txids: g.txs.map(txid) });
  let block1Time: number | undefined;
  for (let h = 1; h <= n; h++) {
    const miner = sha256(Uint8Array.of(h % 1000 & 0xff, (h % 1000) >> 8));
    const txs = [makeCoinbase(params, h, miner, 0n)];
    const header = mine({
      version: 1,
      prevHash: prev.hash,
      merkleRoot: merkleRoot(txs),
      time: G + params.targetSpacing * h,
      bits: nextBits(params, { height: prev.height, time: prev.header.time }, block1Time),
      nonce: 0,
    });
    block1Time ??= header.time;
    const block: Block = { header, txs };
    const hash = blockHash(header);
    const undo = applyBlock(state, block, { params, height: h, hash });
    const entry: HeaderEntry = { hash, header, height: h, chainwork: prev.chainwork + workForBits(header.bits), status: 'valid', hasBody: true };
    await store.connectBlock({ hash, height: h, body: encodeBlock(block), undo, headers: [entry], txids: txs.map(txid) });
    prev = entry;
    if (h % 1000 === 0) onProgress?.(h);
  }
  await store.close();
}

/**
 * Starts a node on `store`, hands it `blocks` one processBlock at a time and stops it. Returns the
 * ms spent on `blocks.slice(warm)` (the first `warm` are connected untimed, e.g. to fund
 * senders); throws unless every block connected.
 * @example const ms = await timeConnects(store, chain)
 */
export async function timeConnects(store: ChainStore, blocks: Block[], warm = 0): Promise<number> {
  const node = nodeOn(store);
  await node.start();
  for (const b of blocks.slice(0, warm)) await node.processBlock(b, 'peer');
  const t0 = performance.now();
  for (const b of blocks.slice(warm)) await node.processBlock(b, 'peer');
  const ms = performance.now() - t0;
  const height = node.height;
  await node.stop();
  if (height !== blocks.length) throw new Error(`bench: ${height} of ${blocks.length} blocks connected`);
  return ms;
}

/**
 * Starts a node on `store` with `mainChain`, feeds it all of `side` but its last block, and
 * times that last block: the reorg it triggers. Returns ms.
 * @example const ms = await timeReorg(store, mainChain, side)
 */
export async function timeReorg(store: ChainStore, mainChain: Block[], side: Block[]): Promise<number> {
  const node = nodeOn(store);
  await node.start();
  for (const b of mainChain) await node.processBlock(b, 'peer');
  for (const b of side.slice(0, -1)) await node.processBlock(b, 'peer');
  const t0 = performance.now();
  const r = await node.processBlock(side[side.length - 1], 'peer');
  const ms = performance.now() - t0;
  await node.stop();
  if (r.status !== 'reorged') throw new Error(`bench: reorg gave ${r.status}`);
  return ms;
}
