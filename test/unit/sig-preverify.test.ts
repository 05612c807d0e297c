/**
 * Signature preverification on the node's paths: SignaturePreverifier (a block's and a
 * transaction's signatures verified natively, YESes into the signature cache under consensus
 * code's key) and its steps in FullNode (early, before the queue, behind the read-only cheap
 * checks; step 4 of the block path; processTx). Verdicts never change: consensus code verifies
 * whatever got no YES.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  NETWORKS,
  RuleError,
  SignatureCache,
  checkBlockSanity,
  encodeBlock,
  encodeTx,
  hashToHex,
  signingHash,
  verifySignature,
  type Block,
  type Transaction,
  type UnsignedTransaction,
} from '../../src/chain/index.ts';
import { MemoryStore } from '../../src/storage/memory-store.ts';
import { FullNode } from '../../src/node/full-node.ts';
import { inlineSigWorker, SignaturePool } from '../../src/node/sig-pool.ts';
import { SignaturePreverifier } from '../../src/node/sig-preverify.ts';
import { webCryptoEd25519 } from '../../src/node/native-ed25519.ts';
import { waitUntil } from '../support/wait.ts';
import { ChainBuilder, mineHeader, wallet } from './helpers/chain-builder.ts';
import { countingNative, mixedOrderSig } from './helpers/sig-corpus.ts';

const params = NETWORKS.test;
const G = params.genesis.header.time;
const alice = wallet('alice');
const bob = wallet('bob');
const TXS = 100; // above the pool's worker threshold (64)

/**
 * Signs with R = r·B + T (T of order 8): valid by our cofactored rule, refused by the
 * platforms' cofactorless one — a signature only the pure-JS verifier can accept.
 */
function signWithTorsion<T extends UnsignedTransaction>(unsigned: T, priv: Uint8Array): T & { signature: Uint8Array } {
  return { ...unsigned, signature: mixedOrderSig(priv, 123456789n, signingHash(unsigned), 3, 0).sig };
}

/** The funded chain (alice holds a mature reward) and `TXS` transfers from alice to bob. */
function fixture(): { chain: ChainBuilder; txs: Transaction[] } {
  const chain = ChainBuilder.funded([alice]);
  const txs = Array.from({ length: TXS }, () => chain.add(alice, { kind: 'transfer', to: bob.pub, amount: 1_000n }));
  chain.queue = [];
  return { chain, txs };
}

const keyOf = (tx: Transaction) => SignatureCache.keyOf(encodeTx(tx));

const closers: { close(): void }[] = [];
const nodes: FullNode[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) c.close();
  for (const n of nodes.splice(0)) await n.stop();
});

async function preverifier() {
  const c = await countingNative();
  const sigCache = new SignatureCache();
  const pre = new SignaturePreverifier({ params, sigCache, pool: new SignaturePool({ workers: 2, native: c.native, spawn: () => inlineSigWorker(c.native) }) });
  closers.push(pre);
  return { pre, sigCache, calls: c.calls };
}

describe('SignaturePreverifier', () => {
  it("puts every valid signature of a block in the cache under consensus code's key", async () => {
    const { chain, txs } = fixture();
    const block = chain.build(txs);
    const { pre, sigCache, calls } = await preverifier();
    expect(await pre.block(block, 'b')).toEqual({ signatures: TXS, cached: 0, accepted: TXS });
    expect(calls()).toBe(TXS);
    for (const tx of txs) expect(sigCache.has(keyOf(tx))).toBe(true);
    expect(pre.pool.stats.inWorkers).toBe(TXS);
    checkBlockSanity(block, params, { sigCache });
    // Asked again (recently done, or all cached): nothing more is verified.
    await pre.block(block, 'b');
    expect((await pre.block(block, 'b-again'))?.cached).toBe(TXS);
    expect(calls()).toBe(TXS);
  });

  it('verifies no signature of a body that does not match its header', async () => {
    const { chain, txs } = fixture();
    const block = chain.build(txs);
    const { pre, calls } = await preverifier();
    // A body forged under a real header: transactions dropped, reordered, or duplicated (CVE-2012-2459).
    const forged: Block[] = [
      { header: block.header, txs: block.txs.slice(0, -1) },
      { header: block.header, txs: [block.txs[0], ...block.txs.slice(1).reverse()] },
      { header: block.header, txs: [...block.txs, block.txs[block.txs.length - 1]] },
    ];
    for (const [i, f] of forged.entries()) expect(await pre.block(f, `forged-${i}`)).toBeNull();
    expect(calls()).toBe(0);
    expect(pre.pool.stats.requested).toBe(0);
  });

  it('a forged body sent first does not stand in for the real body under the same hash', async () => {
    const { chain, txs } = fixture();
    const block = chain.build(txs);
    const { pre, sigCache } = await preverifier();
    const forged = { header: block.header, txs: block.txs.slice(0, -1) };
    const [f, real] = await Promise.all([pre.block(forged, 'h'), pre.block(block, 'h')]);
    expect(f).toBeNull();
    expect(real).toEqual({ signatures: TXS, cached: 0, accepted: TXS });
    expect(await pre.block(forged, 'h')).toBeNull();
    for (const tx of txs) expect(sigCache.has(keyOf(tx))).toBe(true);
  });

  it('an invalid signature gets no verdict, and sanity still rejects the block', async () => {
    const { chain, txs } = fixture();
    const bad = { ...txs[50], signature: txs[50].signature.slice() };
    bad.signature[10] ^= 1;
    const block = chain.build([...txs.slice(0, 50), bad, ...txs.slice(51)]);
    const { pre, sigCache } = await preverifier();
    expect(await pre.block(block, 'b')).toEqual({ signatures: TXS, cached: 0, accepted: TXS - 1 });
    expect(sigCache.has(keyOf(bad))).toBe(false);
    expect(() => checkBlockSanity(block, params, { sigCache })).toThrow(RuleError);
  });

  it('a signature only the cofactored rule accepts: refused natively, accepted by sanity', async () => {
    const { chain, txs } = fixture();
    const odd = signWithTorsion(txs[20], alice.priv) as Transaction;
    expect(verifySignature(odd.signature, signingHash(odd), odd.from)).toBe(true);
    expect(await (await webCryptoEd25519())!(odd.signature, signingHash(odd), odd.from)).toBe(false);
    const block = chain.build([...txs.slice(0, 20), odd, ...txs.slice(21)]);
    const { pre, sigCache } = await preverifier();
    expect(await pre.block(block, 'b')).toEqual({ signatures: TXS, cached: 0, accepted: TXS - 1 });
    expect(sigCache.has(keyOf(odd))).toBe(false);
    checkBlockSanity(block, params, { sigCache }); // verifies `odd` with the pure-JS rule: valid
    expect(sigCache.has(keyOf(odd))).toBe(true);
  });

  it('blocks(): small blocks preverified together reach the workers, each then joined by its hash', async () => {
    const { chain, txs } = fixture();
    // Three blocks of 30: each below the worker batch (64), 90 together.
    const blocks = [0, 1, 2].map((i) => chain.connect(chain.build(txs.slice(30 * i, 30 * i + 30))).block);
    const { pre, sigCache, calls } = await preverifier();
    pre.blocks(blocks.map((block, i) => ({ block, hex: `b${i}` })));
    const counts = await Promise.all(blocks.map((block, i) => pre.block(block, `b${i}`)));
    expect(counts).toEqual(blocks.map(() => ({ signatures: 30, cached: 0, accepted: 30 })));
    expect(calls()).toBe(90); // each verified once
    expect(pre.pool.stats.onCallingThread).toBe(0);
    for (const tx of txs.slice(0, 90)) expect(sigCache.has(keyOf(tx))).toBe(true);
  });

  it('joins a preverification under way instead of starting a second', async () => {
    const { chain, txs } = fixture();
    const block = chain.build(txs);
    const { pre, calls } = await preverifier();
    const [a, b] = await Promise.all([pre.block(block, 'b'), pre.block(block, 'b')]);
    expect(a).toBe(b);
    expect(calls()).toBe(TXS);
  });

  it('preverifies one transaction on the calling thread', async () => {
    const { txs } = fixture();
    const { pre, sigCache } = await preverifier();
    expect(await pre.tx(txs[0])).toEqual({ signatures: 1, cached: 0, accepted: 1 });
    expect(sigCache.has(keyOf(txs[0]))).toBe(true);
    expect(pre.pool.stats.onCallingThread).toBe(1);
  });
});

describe('FullNode with signature preverification', () => {
  async function startNode(signatures: ConstructorParameters<typeof FullNode>[0]['signatures']): Promise<FullNode> {
    const node: FullNode = new FullNode({ params, store: new MemoryStore({ network: 'test' }), now: () => G + params.targetSpacing * (node.height + 1), miner: { useWorkers: false }, signatures });
    nodes.push(node);
    await node.start();
    return node;
  }

  /** A node that counts native verifications (workers: inline, same native). */
  async function countingNode(): Promise<{ node: FullNode; calls: () => number }> {
    const c = await countingNative();
    return { node: await startNode({ workers: 2, native: c.native, spawn: () => inlineSigWorker(c.native) }), calls: c.calls };
  }

  async function feed(node: FullNode, chain: ChainBuilder): Promise<void> {
    for (const b of chain.blocks.slice(1)) expect((await node.processBlock(encodeBlock(b), 'peer')).status).toBe('extended');
  }

  it('connects a block whose signatures it never saw, verified natively before sanity', async () => {
    const { chain, txs } = fixture();
    const { node, calls } = await countingNode();
    await feed(node, chain);
    const block = chain.build(txs);
    expect((await node.processBlock(encodeBlock(block), 'peer', { unrequested: true })).status).toBe('extended');
    expect(calls()).toBe(TXS);
    expect(node.state.account(bob.pub).balance).toBe(BigInt(TXS) * 1_000n);
  });

  it('gives the verdicts it gave without preverification', async () => {
    const { chain, txs } = fixture();
    const bad = { ...txs[7], signature: txs[7].signature.slice() };
    bad.signature[40] ^= 2;
    const odd = signWithTorsion(txs[9], alice.priv) as Transaction;
    const variants = [chain.build([...txs.slice(0, 7), bad, ...txs.slice(8)]), chain.build([...txs.slice(0, 9), odd, ...txs.slice(10)]), chain.build(txs, { extraNonce: 1n })];
    const verdicts: string[][] = [];
    for (const signatures of [false, undefined] as const) {
      const node = await startNode(signatures === false ? false : { workers: 2 });
      await feed(node, chain);
      const out: string[] = [];
      for (const v of variants) {
        const r = await node.processBlock(encodeBlock(v), 'peer');
        out.push(`${r.status} ${r.code ?? ''}`);
      }
      verdicts.push(out);
    }
    expect(verdicts[0]).toEqual(['invalid BAD_SIGNATURE', 'extended ', 'side ']);
    expect(verdicts[1]).toEqual(verdicts[0]);
  });

  it('verifies no signature of a block that fails the cheap checks first', async () => {
    const { chain, txs } = fixture();
    const { node, calls } = await countingNode();
    await feed(node, chain);
    const good = chain.build(txs);
    const badPow = { header: { ...good.header, nonce: good.header.nonce + 1 }, txs: good.txs };
    while (true) {
      try {
        checkBlockSanity({ header: badPow.header, txs: [] }, params);
      } catch (e) {
        if ((e as RuleError).code === 'BAD_POW') break;
      }
      badPow.header = { ...badPow.header, nonce: badPow.header.nonce + 1 };
    }
    const orphan = { header: mineHeader({ ...good.header, prevHash: new Uint8Array(32).fill(7) }), txs: good.txs };
    const tooOld = chain.build(txs, { time: chain.mtp() });
    const forgedBody = { header: good.header, txs: [good.txs[0], ...good.txs.slice(1).reverse()] };
    const results = [];
    for (const b of [badPow, orphan, tooOld, forgedBody]) results.push(await node.processBlock(encodeBlock(b), 'peer', { unrequested: true }));
    expect(results.map((r) => `${r.status} ${r.code ?? ''}`)).toEqual(['invalid BAD_POW', 'orphan ', 'invalid TIME_TOO_OLD', 'invalid BAD_MERKLE']);
    // The good block's preverification queues behind any started for those: once it connected,
    // every native call there was to make has been made.
    expect((await node.processBlock(encodeBlock(good), 'peer', { unrequested: true })).status).toBe('extended');
    expect(calls()).toBe(TXS);
  });

  it('keeps call order: a parent and its child sent back to back both connect', async () => {
    const { chain, txs } = fixture();
    const { node } = await countingNode();
    await feed(node, chain);
    const parent = chain.connect(chain.build(txs.slice(0, 80))).block;
    const child = chain.build(txs.slice(80));
    const [a, b] = await Promise.all([node.processBlock(encodeBlock(parent), 'peer'), node.processBlock(encodeBlock(child), 'peer')]);
    expect([a.status, b.status]).toEqual(['extended', 'extended']);
  });

  it('preverifies a run of blocks ahead (processBlocks) and connects them all', async () => {
    const { chain, txs } = fixture();
    const { node, calls } = await countingNode();
    await feed(node, chain);
    const runs = [txs.slice(0, 70), txs.slice(70)].map((t) => chain.connect(chain.build(t)).block);
    const results = await node.processBlocks(runs.map(encodeBlock), 'peer');
    expect(results.map((r) => r.status)).toEqual(['extended', 'extended']);
    expect(calls()).toBe(TXS);
  });

  it('a run of small blocks whose headers are known: the signatures of several blocks ahead are under way while the first waits for its own', async () => {
    const { chain, txs } = fixture();
    const funded = chain.blocks.slice(1);
    // Blocks of 5 transfers: below the pool's worker batch, so verified on the calling thread.
    const blocks = Array.from({ length: 6 }, (_, i) => chain.connect(chain.build(txs.slice(5 * i, 5 * i + 5))).block);
    const blockOf = new Map(blocks.flatMap((b, i) => b.txs.slice(1).map((tx) => [hashToHex(signingHash(tx as UnsignedTransaction)), i] as const)));
    const real = (await webCryptoEd25519())!;
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const begun = new Set<number>();
    // The native verifier holds our transactions' signatures until the test opens the gate.
    const native = async (sig: Uint8Array, msg: Uint8Array, pub: Uint8Array): Promise<boolean> => {
      const i = blockOf.get(hashToHex(msg));
      if (i !== undefined) {
        begun.add(i);
        await gate;
      }
      return real(sig, msg, pub);
    };
    const node = await startNode({ workers: 0, native: Promise.resolve(native) });
    for (const b of funded) expect((await node.processBlock(encodeBlock(b), 'peer')).status).toBe('extended');
    await node.processHeaders(blocks.map((b) => b.header)); // headers-first, as sync does
    const results = node.processBlocks(blocks.map(encodeBlock), 'peer');
    try {
      await waitUntil(() => begun.size >= 4, () => `blocks with signatures under way: ${[...begun].join(', ')}`, 10_000);
      expect(node.height).toBe(funded.length); // the first block still waits for its signatures
    } finally {
      open();
    }
    expect((await results).map((r) => r.status)).toEqual(blocks.map(() => 'extended'));
  });

  it('processTx: the signature is verified natively before its turn; a bad one is still refused', async () => {
    const { chain, txs } = fixture();
    const { node, calls } = await countingNode();
    await feed(node, chain);
    expect((await node.processTx(encodeTx(txs[0]), 'peer')).status).toBe('accepted');
    expect(calls()).toBe(1);
    const bad = { ...txs[1], signature: txs[1].signature.slice() };
    bad.signature[33] ^= 1;
    expect(await node.processTx(bad, 'peer')).toMatchObject({ status: 'invalid', code: 'BAD_SIGNATURE' });
    // The block carrying the accepted transaction finds its signature cached.
    const before = calls();
    expect((await node.processBlock(encodeBlock(chain.build([txs[0]])), 'peer')).status).toBe('extended');
    expect(calls()).toBe(before);
  });
});
