import { describe, expect, it } from 'vitest';
import { buildBlockTemplate, withExtraNonce, type TemplateInput } from '../../src/chain/template.ts';
import { Mempool } from '../../src/chain/mempool.ts';
import { blockSize, merkleRoot } from '../../src/chain/block.ts';
import { bitsToTarget } from '../../src/chain/pow.ts';
import { itemIdFor, makeCoinbase, txid, txSize } from '../../src/chain/tx.ts';
import { equalBytes } from '../../src/chain/bytes.ts';
import { COIN, type NetworkParams, type Transaction } from '../../src/chain/types.ts';
import { ChainBuilder, mineHeader, wallet, wallets, type Wallet } from './helpers/chain-builder.ts';

const [alice, bob, carol, dave] = wallets(4);
const miner = wallet('template-miner');

function transfer(chain: ChainBuilder, from: Wallet, nonce: number, fee: bigint, amount = COIN): Transaction {
  return chain.sign(from, { kind: 'transfer', to: dave.pub, amount }, { nonce, fee });
}

function poolWith(chain: ChainBuilder, txs: Transaction[]): Mempool {
  const pool = new Mempool();
  for (const tx of txs) pool.add(tx, chain.state, { params: chain.params, height: chain.height, now: 0 });
  return pool;
}

function input(chain: ChainBuilder, mempool: Mempool, over: Partial<TemplateInput> = {}): TemplateInput {
  return {
    params: chain.params,
    state: chain.state,
    prev: chain.tip,
    mempool,
    minerPubKey: miner.pub,
    now: chain.tip.header.time + 2,
    medianTimePast: chain.mtp(),
    block1Time: chain.block1Time,
    extraNonce: 0n,
    ...over,
  };
}

function limited(chain: ChainBuilder, limits: Partial<NetworkParams>): NetworkParams {
  return { ...chain.params, ...limits };
}

describe('buildBlockTemplate', () => {
  it('builds a block on the tip that passes sanity and applies once mined, leaving the state alone', () => {
    const chain = ChainBuilder.funded([alice, bob]);
    const txs = [transfer(chain, alice, 1, 5_000n), transfer(chain, alice, 2, 7_000n), transfer(chain, bob, 1, 6_000n)];
    const pool = poolWith(chain, txs);
    const before = chain.state.entries();
    const now = chain.tip.header.time + 5;
    const t = buildBlockTemplate(input(chain, pool, { now }));
    expect(chain.state.entries()).toEqual(before);
    expect(chain.state.inTransaction).toBe(false);

    const { header, txs: blockTxs } = t.block;
    expect(t.height).toBe(chain.height + 1);
    expect(equalBytes(header.prevHash, chain.tip.hash)).toBe(true);
    expect(header.bits).toBe(chain.nextBits());
    expect(t.target).toBe(bitsToTarget(header.bits));
    expect(header.time).toBe(now);
    expect(header.nonce).toBe(0);
    expect(equalBytes(header.merkleRoot, merkleRoot(blockTxs))).toBe(true);
    expect(blockTxs[0]).toMatchObject({ kind: 'coinbase', height: t.height, extraNonce: 0n });
    expect(new Set(blockTxs.slice(1))).toEqual(new Set(txs));
    expect(t.fees).toBe(18_000n);
    expect(t.size).toBe(blockSize(t.block));
    expect(t.entries.map((e) => e.tx)).toEqual(blockTxs.slice(1));

    const mined = chain.connect({ ...t.block, header: mineHeader(header) }); // checkBlockSanity + applyBlock
    expect(chain.state.account(dave.pub).balance).toBe(3n * COIN);
    expect(chain.state.account(miner.pub).immature).toBe(50n * COIN + 18_000n);
    expect(mined.height).toBe(t.height);
  });

  it('picks the highest fee rate first within the transaction count limit', () => {
    const chain = ChainBuilder.funded([alice, bob, carol]);
    const low = transfer(chain, alice, 1, 3_000n);
    const high = transfer(chain, bob, 1, 9_000n);
    const mid = transfer(chain, carol, 1, 6_000n);
    const pool = poolWith(chain, [low, high, mid]);
    const t = buildBlockTemplate(input(chain, pool, { params: limited(chain, { maxBlockTxs: 3 }) }));
    expect(t.block.txs.slice(1)).toEqual([high, mid]);
    expect(t.fees).toBe(15_000n);
    chain.connect({ ...t.block, header: mineHeader(t.block.header) });
  });

  it('stays within the byte limit', () => {
    const chain = ChainBuilder.funded([alice, bob, carol]);
    const txs = [transfer(chain, alice, 1, 3_000n), transfer(chain, bob, 1, 9_000n), transfer(chain, carol, 1, 6_000n)];
    const pool = poolWith(chain, txs);
    const each = txSize(txs[0]) + 1; // all transfers have one size; + its length prefix
    const coinbase = txSize(makeCoinbase(chain.params, chain.height + 1, miner.pub, 0n)) + 1;
    const maxBlockBytes = 80 + 1 + coinbase + 2 * each;
    const t = buildBlockTemplate(input(chain, pool, { params: limited(chain, { maxBlockBytes }) }));
    expect(t.block.txs.slice(1)).toEqual([txs[1], txs[2]]);
    expect(blockSize(t.block)).toBeLessThanOrEqual(maxBlockBytes);
    const tight = buildBlockTemplate(input(chain, pool, { params: limited(chain, { maxBlockBytes: maxBlockBytes - 1 }) }));
    expect(tight.block.txs.slice(1)).toEqual([txs[1]]);
  });

  it('respects nonce order, letting a high-fee tx pull in its predecessor', () => {
    const chain = ChainBuilder.funded([alice, bob]);
    const a1 = transfer(chain, alice, 1, 2_500n);
    const a2 = transfer(chain, alice, 2, 20_000n);
    const b1 = transfer(chain, bob, 1, 6_000n);
    const pool = poolWith(chain, [a2, a1, b1]);
    // Room for all: alice's pair pays more per byte on average than bob, so it goes first, a1 before a2.
    expect(buildBlockTemplate(input(chain, pool)).block.txs.slice(1)).toEqual([a1, a2, b1]);
    // Room for two: the pair.
    expect(buildBlockTemplate(input(chain, pool, { params: limited(chain, { maxBlockTxs: 3 }) })).block.txs.slice(1)).toEqual([a1, a2]);
    // Room for one: a2 cannot go without a1, and a1 alone pays less than b1.
    expect(buildBlockTemplate(input(chain, pool, { params: limited(chain, { maxBlockTxs: 2 }) })).block.txs.slice(1)).toEqual([b1]);
  });

  it('leaves out txs behind a nonce gap', () => {
    const chain = ChainBuilder.funded([alice, bob]);
    const a2 = transfer(chain, alice, 2, 9_000n);
    const b1 = transfer(chain, bob, 1, 5_000n);
    const pool = poolWith(chain, [a2, b1]);
    expect(pool.size).toBe(2);
    expect(buildBlockTemplate(input(chain, pool)).block.txs.slice(1)).toEqual([b1]);
  });

  it('skips a tx that fails on top of the ones before it, with the rest of its sender’s chain', () => {
    const chain = ChainBuilder.funded([alice, bob, carol]);
    chain.add(alice, { kind: 'item.create', sku: 'LAMP', name: 'Lamp', quantity: 3n });
    chain.mine();
    const offer = chain.add(alice, {
      kind: 'offer.create',
      give: { asset: { type: 'item', itemId: itemIdFor(alice.pub, 'LAMP') }, amount: 1n },
      want: { asset: { type: 'coin' }, amount: COIN },
      lots: 1,
      expiresAtHeight: null,
    });
    chain.mine();
    // Two takers of the only lot: both valid alone, so both are pending.
    const carolTakes = chain.sign(carol, { kind: 'offer.accept', offerId: txid(offer), lots: 1 }, { nonce: 1, fee: 9_000n });
    const bobTakes = chain.sign(bob, { kind: 'offer.accept', offerId: txid(offer), lots: 1 }, { nonce: 1, fee: 8_000n });
    const bobNext = transfer(chain, bob, 2, 3_000n); // valid on its own, but comes after bobTakes
    const other = transfer(chain, alice, 3, 4_000n);
    const pool = poolWith(chain, [bobTakes, carolTakes, bobNext, other]);
    expect(pool.size).toBe(4);
    const before = chain.state.entries();
    const t = buildBlockTemplate(input(chain, pool));
    expect(chain.state.entries()).toEqual(before);
    // carol pays more and takes the lot; bob's accept then fails (OFFER_NOT_FOUND), and his
    // next nonce cannot go without it; alice's tx still goes in.
    expect(t.block.txs.slice(1)).toEqual([carolTakes, other]);
    expect(t.fees).toBe(13_000n);
    chain.connect({ ...t.block, header: mineHeader(t.block.header) });
  });

  it('uses max(now, median time past + 1) as the time', () => {
    const chain = ChainBuilder.funded([alice]);
    const pool = new Mempool();
    const mtp = chain.mtp();
    expect(buildBlockTemplate(input(chain, pool, { now: mtp - 100 })).block.header.time).toBe(mtp + 1);
    expect(buildBlockTemplate(input(chain, pool, { now: mtp + 50 })).block.header.time).toBe(mtp + 50);
  });

  it('an empty mempool gives a coinbase-only block; on genesis the bits are the genesis bits', () => {
    const chain = new ChainBuilder();
    const t = buildBlockTemplate(input(chain, new Mempool(), { block1Time: undefined }));
    expect(t.block.txs).toHaveLength(1);
    expect(t.fees).toBe(0n);
    expect(t.height).toBe(1);
    expect(t.block.header.bits).toBe(chain.params.genesisBits);
    chain.connect({ ...t.block, header: mineHeader(t.block.header) });
    expect(chain.state.account(miner.pub).immature).toBe(50n * COIN);
  });
});

describe('withExtraNonce', () => {
  it('rebuilds the coinbase and merkle root; the block stays valid', () => {
    const chain = ChainBuilder.funded([alice]);
    const tx = transfer(chain, alice, 1, 5_000n);
    const t = buildBlockTemplate(input(chain, poolWith(chain, [tx])));
    const minedNonce = { ...t, block: { ...t.block, header: { ...t.block.header, nonce: 12345 } } };
    const r = withExtraNonce(minedNonce, 7n);
    expect(r.block.txs[0]).toMatchObject({ kind: 'coinbase', extraNonce: 7n, height: t.height });
    expect(r.block.txs.slice(1)).toEqual([tx]);
    expect(equalBytes(r.block.header.merkleRoot, t.block.header.merkleRoot)).toBe(false);
    expect(equalBytes(r.block.header.merkleRoot, merkleRoot(r.block.txs))).toBe(true);
    expect(r.block.header.nonce).toBe(0);
    expect(r.block.header.time).toBe(t.block.header.time);
    expect(r.size).toBe(blockSize(r.block));
    expect(t.block.txs[0]).toMatchObject({ extraNonce: 0n }); // the original is untouched
    expect(() => withExtraNonce(t, -1n)).toThrow(RangeError);
    expect(() => withExtraNonce(t, 1n << 64n)).toThrow(RangeError);
    chain.connect({ ...r.block, header: mineHeader(r.block.header) });
  });
});
