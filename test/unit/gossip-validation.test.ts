/**
 * The gossip validators (ChainGossip.checkBlock / checkTx, which gossipsub and the tab mesh call)
 * against hostile senders, without libp2p: a real FullNode behind `chainAccessOf` for the
 * verdicts, a chain access that never answers for the validation queue bound.
 * Issue 11 items 1 and 2 (futures and orphans are not relayed) and 7 (the queue is bounded).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TopicValidatorResult } from '@libp2p/gossipsub';
import { COIN, encodeBlock, encodeTx, hashToHex, NETWORKS, signTx, txid, type Transaction } from '../../src/chain/index.ts';
import { FullNode } from '../../src/node/full-node.ts';
import { chainAccessOf } from '../../src/node/network/attach.ts';
import type { BlockVerdict, ChainAccess, TxVerdict } from '../../src/p2p/chain-access.ts';
import { ChainGossip, MAX_PENDING_BLOCK_VALIDATIONS, MAX_PENDING_TX_VALIDATIONS } from '../../src/p2p/gossip.ts';
import type { TabchainLibp2p } from '../../src/p2p/libp2p-node.ts';
import { PeerGate, type PenaltyEvent } from '../../src/p2p/peer-gate.ts';
import { MemoryStore } from '../../src/storage/memory-store.ts';
import { ChainBuilder, wallet } from './helpers/chain-builder.ts';

const params = NETWORKS.test;
/** libp2p is never touched: the validators are called directly, as the tab mesh does. */
const NO_LIBP2P = {} as TabchainLibp2p;

const nodes: FullNode[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) await n.stop();
});

/** A started node on the test network holding `chain`, and gossip validating against it. */
async function gossipOn(chain: ChainBuilder) {
  const node = new FullNode({ params, store: new MemoryStore({ network: 'test' }), now: () => chain.tip.header.time + 60, miner: { useWorkers: false } });
  await node.start();
  nodes.push(node);
  if (chain.height > 0) await node.processBlocks(chain.blocks.slice(1), 'local');
  const gate = new PeerGate();
  const penalties: PenaltyEvent[] = [];
  gate.onPenalty((p) => penalties.push(p));
  const orphans: [string, string][] = [];
  const gossip = new ChainGossip({ libp2p: NO_LIBP2P, network: 'test', gate, onOrphan: (peer, hash) => orphans.push([peer, hash]) });
  gossip.attach(chainAccessOf(node));
  return { node, gossip, penalties, orphans };
}

describe('gossip verdicts on what cannot be checked yet', () => {
  it('a tx behind a nonce gap is kept by the node but not forwarded (Ignore), without penalty', async () => {
    const alice = wallet('alice');
    const chain = ChainBuilder.funded([alice]);
    const { node, gossip, penalties } = await gossipOn(chain);
    const gapped = signTx({ chainId: params.chainId, kind: 'transfer', from: alice.pub, nonce: 2, fee: 5_000n, to: wallet('bob').pub, amount: COIN }, alice.priv) as Transaction;
    expect(await node.processTx(gapped, 'local')).toEqual({ status: 'accepted', future: true, txid: hashToHex(txid(gapped)) });
    node.mempool.remove(txid(gapped));
    expect(await gossip.checkTx('peer-a', encodeTx(gapped))).toBe(TopicValidatorResult.Ignore);
    expect(node.mempool.has(txid(gapped))).toBe(true);
    // The tx that fills the gap is relayed as usual.
    const next = signTx({ chainId: params.chainId, kind: 'transfer', from: alice.pub, nonce: 1, fee: 5_000n, to: wallet('bob').pub, amount: COIN }, alice.priv) as Transaction;
    expect(await gossip.checkTx('peer-a', encodeTx(next))).toBe(TopicValidatorResult.Accept);
    expect(penalties).toEqual([]);
  });

  it('an orphan block is kept and its parents asked of the sender, but it is not forwarded (Ignore)', async () => {
    const chain = new ChainBuilder();
    const ahead = chain.fork();
    ahead.mine();
    const orphan = ahead.mine().block;
    const { node, gossip, penalties, orphans } = await gossipOn(chain);
    expect(await gossip.checkBlock('peer-a', encodeBlock(orphan))).toBe(TopicValidatorResult.Ignore);
    expect(node.orphanCount).toBe(1);
    expect(orphans).toEqual([['peer-a', hashToHex(ahead.tip.hash)]]);
    expect(penalties).toEqual([]);
  });
});

/** A chain access whose block and tx paths hang until released; counts what reached it. */
function hangingChain() {
  const waiting: (() => void)[] = [];
  const reached = { blocks: 0, txs: 0 };
  const hang = <T>(v: T) => new Promise<T>((resolve) => waiting.push(() => resolve(v)));
  const chain = {
    processBlock: (_bytes: Uint8Array, _from: string) => (reached.blocks++, hang<BlockVerdict>({ status: 'extended', hash: 'ab' })),
    processTx: (_bytes: Uint8Array, _from: string) => (reached.txs++, hang<TxVerdict>({ status: 'accepted', txid: 'cd' })),
  } as unknown as ChainAccess;
  const release = () => {
    for (const w of waiting.splice(0)) w();
  };
  return { chain, reached, release };
}

describe('gossip validation queue bound', () => {
  it('at most MAX_PENDING_BLOCK_VALIDATIONS blocks wait for the node; the excess is ignored at once and counted', async () => {
    const { chain, reached, release } = hangingChain();
    const gossip = new ChainGossip({ libp2p: NO_LIBP2P, network: 'test', gate: new PeerGate() });
    gossip.attach(chain);
    const n = MAX_PENDING_BLOCK_VALIDATIONS + 10;
    const verdicts = Array.from({ length: n }, (_, i) => gossip.checkBlock(`p${i}`, new Uint8Array(200)));
    // The excess answers without waiting for the node.
    const early = await Promise.all(verdicts.slice(MAX_PENDING_BLOCK_VALIDATIONS));
    expect(early).toEqual(Array(10).fill(TopicValidatorResult.Ignore));
    expect(reached.blocks).toBe(MAX_PENDING_BLOCK_VALIDATIONS);
    expect(gossip.stats).toMatchObject({ blocksPending: MAX_PENDING_BLOCK_VALIDATIONS, blockBytesPending: MAX_PENDING_BLOCK_VALIDATIONS * 200, blocksDropped: 10 });
    release();
    expect(await Promise.all(verdicts.slice(0, MAX_PENDING_BLOCK_VALIDATIONS))).toEqual(Array(MAX_PENDING_BLOCK_VALIDATIONS).fill(TopicValidatorResult.Accept));
    expect(gossip.stats).toMatchObject({ blocksPending: 0, blockBytesPending: 0, blocksDropped: 10 });
    // Room again: the next block reaches the node.
    const again = gossip.checkBlock('p', new Uint8Array(200));
    expect(reached.blocks).toBe(MAX_PENDING_BLOCK_VALIDATIONS + 1);
    release();
    expect(await again).toBe(TopicValidatorResult.Accept);
  });

  it('bounds the bytes of the blocks waiting too', async () => {
    const { chain, reached, release } = hangingChain();
    const gossip = new ChainGossip({ libp2p: NO_LIBP2P, network: 'test', gate: new PeerGate(), maxPendingBlockBytes: 1000 });
    gossip.attach(chain);
    const verdicts = [400, 400, 400, 100].map((size, i) => gossip.checkBlock(`p${i}`, new Uint8Array(size)));
    expect(await verdicts[2]).toBe(TopicValidatorResult.Ignore); // 1200 > 1000
    expect(reached.blocks).toBe(3); // the small one still fits
    expect(gossip.stats).toMatchObject({ blocksPending: 3, blockBytesPending: 900, blocksDropped: 1 });
    release();
    await Promise.all(verdicts);
  });

  it('at most MAX_PENDING_TX_VALIDATIONS transactions wait for the node', async () => {
    const { chain, reached, release } = hangingChain();
    const gossip = new ChainGossip({ libp2p: NO_LIBP2P, network: 'test', gate: new PeerGate() });
    gossip.attach(chain);
    const verdicts = Array.from({ length: MAX_PENDING_TX_VALIDATIONS + 5 }, (_, i) => gossip.checkTx(`p${i % 7}`, new Uint8Array(150)));
    expect(await Promise.all(verdicts.slice(MAX_PENDING_TX_VALIDATIONS))).toEqual(Array(5).fill(TopicValidatorResult.Ignore));
    expect(reached.txs).toBe(MAX_PENDING_TX_VALIDATIONS);
    expect(gossip.stats).toMatchObject({ txsPending: MAX_PENDING_TX_VALIDATIONS, txsDropped: 5 });
    release();
    await Promise.all(verdicts);
    expect(gossip.stats).toMatchObject({ txsPending: 0, txsDropped: 5 });
  });
});
