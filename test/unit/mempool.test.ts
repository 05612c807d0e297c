import { describe, expect, it } from 'vitest';
import { ruleCodeOf as codeOf } from '../support/codes.ts';
import fc from 'fast-check';
import { Mempool, type MempoolAddContext } from '../../src/chain/mempool.ts';
import { RuleError, type RuleCode } from '../../src/chain/errors.ts';
import { hashToHex } from '../../src/chain/hash.ts';
import { itemIdFor, makeCoinbase, txid, txSize } from '../../src/chain/tx.ts';
import { bytesToHex } from '../../src/chain/bytes.ts';
import { COIN, type Transaction } from '../../src/chain/types.ts';
import { ChainBuilder, wallets, type Wallet } from './helpers/chain-builder.ts';

const [alice, bob, carol, dave] = wallets(4);
const NOW = 1_000_000;

function ctxOf(chain: ChainBuilder, now = NOW): MempoolAddContext {
  return { params: chain.params, height: chain.height, now };
}

function transfer(chain: ChainBuilder, from: Wallet, nonce: number, amount: bigint, fee: bigint, to: Wallet = dave): Transaction {
  return chain.sign(from, { kind: 'transfer', to: to.pub, amount }, { nonce, fee });
}


/** Funded chain: alice, bob, carol each hold 50 TAB spendable. */
function setup() {
  const chain = ChainBuilder.funded([alice, bob, carol]);
  return { chain, pool: new Mempool() };
}

/** alice sells 1 WIDGET for 1 TAB, one lot, confirmed on chain. */
function withOffer() {
  const { chain, pool } = setup();
  chain.add(alice, { kind: 'item.create', sku: 'WIDGET', name: 'Widget', quantity: 10n });
  chain.mine();
  const itemId = itemIdFor(alice.pub, 'WIDGET');
  const offerTx = chain.add(alice, {
    kind: 'offer.create',
    give: { asset: { type: 'item', itemId }, amount: 1n },
    want: { asset: { type: 'coin' }, amount: COIN },
    lots: 1,
    expiresAtHeight: null,
  });
  chain.mine();
  return { chain, pool, offerId: txid(offerTx), itemId };
}

describe('Mempool.add', () => {
  it('accepts a valid transaction without touching the state', () => {
    const { chain, pool } = setup();
    const before = chain.state.entries();
    const tx = transfer(chain, alice, 1, COIN, 5_000n);
    const r = pool.add(tx, chain.state, ctxOf(chain));
    expect(r.added).toBe(true);
    expect(r.future).toBe(false);
    expect(pool.size).toBe(1);
    expect(pool.bytes).toBe(txSize(tx));
    expect(pool.has(txid(tx))).toBe(true);
    expect(pool.get(hashToHex(txid(tx)))?.tx).toBe(tx);
    expect(pool.pendingFor(alice.pub).map((e) => e.tx)).toEqual([tx]);
    expect(pool.pendingFor(bob.pub)).toEqual([]);
    expect(chain.state.entries()).toEqual(before);
    expect(chain.state.inTransaction).toBe(false);
    // The same tx again changes nothing.
    const again = pool.add(tx, chain.state, ctxOf(chain));
    expect(again.added).toBe(false);
    expect(again.entry).toBe(r.entry);
    expect(pool.size).toBe(1);
  });

  it('orders entries by fee per byte', () => {
    const { chain, pool } = setup();
    const low = transfer(chain, alice, 1, 1n, 3_000n);
    const high = transfer(chain, bob, 1, 1n, 9_000n);
    const mid = transfer(chain, carol, 1, 1n, 6_000n);
    for (const tx of [low, high, mid]) pool.add(tx, chain.state, ctxOf(chain));
    expect(pool.all().map((e) => e.tx)).toEqual([high, mid, low]);
    // Same fee, bigger transaction → lower rate.
    const item = chain.sign(alice, { kind: 'item.create', sku: 'S', name: 'x'.repeat(64), quantity: 1n }, { nonce: 2, fee: 6_000n });
    expect(txSize(item)).toBeGreaterThan(txSize(mid));
    pool.add(item, chain.state, ctxOf(chain));
    expect(pool.all().map((e) => e.tx)).toEqual([high, mid, item, low]);
  });

  it('rejects a fee below the minimum rate with BAD_FEE and accepts exactly the minimum', () => {
    const { chain, pool } = setup();
    const probe = transfer(chain, alice, 1, COIN, 0n);
    const min = chain.params.minFeePerByte * BigInt(txSize(probe));
    expect(codeOf(() => pool.add(transfer(chain, alice, 1, COIN, min - 1n), chain.state, ctxOf(chain)))).toBe('BAD_FEE');
    expect(codeOf(() => pool.add(transfer(chain, alice, 1, COIN, 0n), chain.state, ctxOf(chain)))).toBe('BAD_FEE');
    expect(pool.size).toBe(0);
    pool.add(transfer(chain, alice, 1, COIN, min), chain.state, ctxOf(chain));
    expect(pool.size).toBe(1);
  });

  it('rejects stale nonces and nonces too far ahead with BAD_NONCE', () => {
    const { chain } = setup();
    chain.add(alice, { kind: 'transfer', to: bob.pub, amount: 1n });
    chain.mine(); // alice's nonce is now 1
    const pool = new Mempool({ maxPerSender: 5 });
    expect(codeOf(() => pool.add(transfer(chain, alice, 1, 1n, 5_000n), chain.state, ctxOf(chain)))).toBe('BAD_NONCE');
    expect(codeOf(() => pool.add(transfer(chain, alice, 7, 1n, 5_000n), chain.state, ctxOf(chain)))).toBe('BAD_NONCE');
    expect(pool.add(transfer(chain, alice, 6, 1n, 5_000n), chain.state, ctxOf(chain)).future).toBe(true);
    expect(pool.add(transfer(chain, alice, 2, 1n, 5_000n), chain.state, ctxOf(chain)).future).toBe(false);
  });

  it('runs the sanity rules: coinbase, bad signature, wrong chain', () => {
    const { chain, pool } = setup();
    const cb = makeCoinbase(chain.params, chain.height + 1, alice.pub, 0n);
    expect(codeOf(() => pool.add(cb, chain.state, ctxOf(chain)))).toBe('BAD_COINBASE');
    const tx = transfer(chain, alice, 1, COIN, 5_000n);
    const forged = { ...tx, amount: 2n * COIN } as Transaction;
    expect(codeOf(() => pool.add(forged, chain.state, ctxOf(chain)))).toBe('BAD_SIGNATURE');
    const other = chain.sign(alice, { kind: 'transfer', to: bob.pub, amount: 1n }, { nonce: 1, chainId: chain.params.chainId + 1 });
    expect(codeOf(() => pool.add(other, chain.state, ctxOf(chain)))).toBe('WRONG_CHAIN');
    expect(pool.size).toBe(0);
  });

  it('validates through the sender’s pending chain: INSUFFICIENT_FUNDS on the second spend', () => {
    const { chain, pool } = setup();
    pool.add(transfer(chain, alice, 1, 30n * COIN, 5_000n), chain.state, ctxOf(chain));
    // 30 TAB + 30 TAB > 50 TAB, though each alone would pass.
    expect(codeOf(() => pool.add(transfer(chain, alice, 2, 30n * COIN, 5_000n), chain.state, ctxOf(chain)))).toBe('INSUFFICIENT_FUNDS');
    pool.add(transfer(chain, alice, 2, 19n * COIN, 5_000n), chain.state, ctxOf(chain));
    expect(pool.pendingFor(alice.pub).map((e) => e.nonce)).toEqual([1, 2]);
  });

  it('validates against the confirmed state, not other senders’ pending txs', () => {
    const { chain, pool } = setup();
    // dave has nothing confirmed; a pending transfer to him does not let him spend.
    pool.add(transfer(chain, alice, 1, 10n * COIN, 5_000n, dave), chain.state, ctxOf(chain));
    expect(codeOf(() => pool.add(transfer(chain, dave, 1, COIN, 5_000n, bob), chain.state, ctxOf(chain)))).toBe('INSUFFICIENT_FUNDS');
    // An offer still pending cannot be accepted yet.
    const itemTx = chain.sign(bob, { kind: 'item.create', sku: 'BOLT', name: 'Bolt', quantity: 5n }, { nonce: 1 });
    const offerTx = chain.sign(
      bob,
      { kind: 'offer.create', give: { asset: { type: 'item', itemId: itemIdFor(bob.pub, 'BOLT') }, amount: 1n }, want: { asset: { type: 'coin' }, amount: 1n }, lots: 1, expiresAtHeight: null },
      { nonce: 2 },
    );
    pool.add(itemTx, chain.state, ctxOf(chain));
    pool.add(offerTx, chain.state, ctxOf(chain)); // bob's own chain: the item exists after nonce 1
    const accept = chain.sign(carol, { kind: 'offer.accept', offerId: txid(offerTx), lots: 1 }, { nonce: 1 });
    expect(codeOf(() => pool.add(accept, chain.state, ctxOf(chain)))).toBe('OFFER_NOT_FOUND');
  });

  it('credits the reward maturing in the next block (IMMATURE one block earlier)', () => {
    const chain = new ChainBuilder();
    chain.mine({ miner: alice.pub }); // block 1 pays alice; spendable from height 1 + maturity
    const pool = new Mempool();
    const maturity = chain.params.coinbaseMaturity;
    while (chain.height < maturity - 1) chain.mine();
    // The next block's height is maturity < 1 + maturity: still immature.
    expect(codeOf(() => pool.add(transfer(chain, alice, 1, COIN, 5_000n), chain.state, ctxOf(chain)))).toBe('IMMATURE');
    chain.mine();
    // Next block is 1 + maturity: the reward matures in it before its transactions.
    expect(chain.state.account(alice.pub).balance).toBe(0n);
    const tx = transfer(chain, alice, 1, COIN, 5_000n);
    pool.add(tx, chain.state, ctxOf(chain));
    expect(chain.state.account(alice.pub).balance).toBe(0n);
    chain.mine({}, [tx]); // and the block really accepts it
    expect(chain.state.account(dave.pub).balance).toBe(COIN);
  });
});

describe('nonce chains, gaps and replacement', () => {
  it('keeps a tx behind a nonce gap as future until the gap fills', () => {
    const { chain, pool } = setup();
    const n2 = transfer(chain, alice, 2, COIN, 5_000n);
    const n3 = transfer(chain, alice, 3, COIN, 5_000n);
    expect(pool.add(n3, chain.state, ctxOf(chain)).future).toBe(true);
    expect(pool.add(n2, chain.state, ctxOf(chain)).future).toBe(true);
    const n1 = transfer(chain, alice, 1, COIN, 5_000n);
    const r = pool.add(n1, chain.state, ctxOf(chain));
    expect(r.future).toBe(false);
    expect(r.invalidated).toEqual([]);
    expect(pool.pendingFor(alice.pub).map((e) => e.nonce)).toEqual([1, 2, 3]);
    expect(pool.revalidate(chain.state, ctxOf(chain))).toEqual([]);
  });

  it('drops the waiting txs that fail once the gap fills', () => {
    const { chain, pool } = setup();
    const n2 = transfer(chain, alice, 2, 45n * COIN, 5_000n);
    const n3 = transfer(chain, alice, 3, COIN, 5_000n);
    pool.add(n2, chain.state, ctxOf(chain));
    pool.add(n3, chain.state, ctxOf(chain));
    const r = pool.add(transfer(chain, alice, 1, 10n * COIN, 5_000n), chain.state, ctxOf(chain));
    expect(r.invalidated.map((x) => [x.entry.tx, x.code])).toEqual([
      [n2, 'INSUFFICIENT_FUNDS'],
      [n3, 'BAD_NONCE'],
    ]);
    expect(pool.pendingFor(alice.pub).map((e) => e.nonce)).toEqual([1]);
  });

  it('replaces a pending (from, nonce) only with a higher fee and fee rate', () => {
    const { chain, pool } = setup();
    const first = transfer(chain, alice, 1, COIN, 5_000n);
    pool.add(first, chain.state, ctxOf(chain));
    expect(codeOf(() => pool.add(transfer(chain, alice, 1, 2n * COIN, 5_000n), chain.state, ctxOf(chain)))).toBe('BAD_FEE');
    expect(codeOf(() => pool.add(transfer(chain, alice, 1, 2n * COIN, 4_000n), chain.state, ctxOf(chain)))).toBe('BAD_FEE');
    // Higher fee but a bigger tx with a lower rate.
    const bigger = chain.sign(alice, { kind: 'item.create', sku: 'BIG', name: 'x'.repeat(64), quantity: 1n }, { nonce: 1, fee: 5_001n });
    expect(txSize(bigger)).toBeGreaterThan(txSize(first));
    expect(codeOf(() => pool.add(bigger, chain.state, ctxOf(chain)))).toBe('BAD_FEE');
    expect(pool.all().map((e) => e.tx)).toEqual([first]);
    const better = transfer(chain, alice, 1, 2n * COIN, 5_001n);
    const r = pool.add(better, chain.state, ctxOf(chain));
    expect(r.replaced?.tx).toBe(first);
    expect(pool.has(txid(first))).toBe(false);
    expect(pool.all().map((e) => e.tx)).toEqual([better]);
    expect(pool.bytes).toBe(txSize(better));
  });

  it('a replacement that spends more removes the later txs it invalidates', () => {
    const { chain, pool } = setup();
    pool.add(transfer(chain, alice, 1, 10n * COIN, 5_000n), chain.state, ctxOf(chain));
    const n2 = transfer(chain, alice, 2, 35n * COIN, 5_000n);
    pool.add(n2, chain.state, ctxOf(chain));
    const r = pool.add(transfer(chain, alice, 1, 20n * COIN, 6_000n), chain.state, ctxOf(chain));
    expect(r.invalidated.map((x) => [x.entry.tx, x.code])).toEqual([[n2, 'INSUFFICIENT_FUNDS']]);
    expect(pool.pendingFor(alice.pub).map((e) => e.fee)).toEqual([6_000n]);
  });
});

describe('size cap and expiry', () => {
  it('evicts the lowest fee rate when full, and refuses a tx that would be the lowest', () => {
    const { chain } = setup();
    const pool = new Mempool({ maxCount: 3 });
    const a = transfer(chain, alice, 1, 1n, 3_000n);
    const b = transfer(chain, bob, 1, 1n, 5_000n);
    const c = transfer(chain, carol, 1, 1n, 7_000n);
    for (const tx of [a, b, c]) pool.add(tx, chain.state, ctxOf(chain));
    const b2 = transfer(chain, bob, 2, 1n, 9_000n);
    const r = pool.add(b2, chain.state, ctxOf(chain));
    expect(r.evicted.map((e) => e.tx)).toEqual([a]);
    expect(pool.all().map((e) => e.tx)).toEqual([b2, c, b]);
    const cheap = transfer(chain, carol, 2, 1n, 2_500n);
    expect(codeOf(() => pool.add(cheap, chain.state, ctxOf(chain)))).toBe('BAD_FEE');
    expect(pool.all().map((e) => e.tx)).toEqual([b2, c, b]);
  });

  it('never evicts a tx that a later tx of its sender needs: the tail goes first', () => {
    const { chain } = setup();
    const pool = new Mempool({ maxCount: 3 });
    const a1 = transfer(chain, alice, 1, 1n, 2_000n); // lowest rate, but a2 needs it
    const a2 = transfer(chain, alice, 2, 1n, 9_000n);
    const b1 = transfer(chain, bob, 1, 1n, 4_000n);
    for (const tx of [a1, a2, b1]) pool.add(tx, chain.state, ctxOf(chain));
    const c1 = transfer(chain, carol, 1, 1n, 5_000n);
    // Tails: a2 (9000), b1 (4000), c1 (5000) → b1 goes, a1 stays.
    expect(pool.add(c1, chain.state, ctxOf(chain)).evicted.map((e) => e.tx)).toEqual([b1]);
    expect(new Set(pool.all().map((e) => e.tx))).toEqual(new Set([a1, a2, c1]));
    // Once a2 is the cheapest tail it goes before a1, the cheapest tx overall.
    const c2 = transfer(chain, carol, 2, 1n, 9_500n);
    expect(pool.add(c2, chain.state, ctxOf(chain)).evicted.map((e) => e.tx)).toEqual([a2]);
    expect(new Set(pool.all().map((e) => e.tx))).toEqual(new Set([a1, c1, c2]));
  });

  it('evicts by bytes too', () => {
    const { chain } = setup();
    const a = transfer(chain, alice, 1, 1n, 3_000n);
    const size = txSize(a);
    const pool = new Mempool({ maxBytes: 2 * size });
    pool.add(a, chain.state, ctxOf(chain));
    pool.add(transfer(chain, bob, 1, 1n, 4_000n), chain.state, ctxOf(chain));
    const r = pool.add(transfer(chain, carol, 1, 1n, 5_000n), chain.state, ctxOf(chain));
    expect(r.evicted.map((e) => e.tx)).toEqual([a]);
    expect(pool.bytes).toBeLessThanOrEqual(2 * size);
    expect(pool.size).toBe(2);
  });

  it('expires old txs with the later txs of the same sender', () => {
    const { chain, pool } = setup();
    pool.add(transfer(chain, alice, 1, 1n, 5_000n), chain.state, ctxOf(chain, 100));
    pool.add(transfer(chain, alice, 2, 1n, 5_000n), chain.state, ctxOf(chain, 900)); // young, but needs nonce 1
    const b = transfer(chain, bob, 1, 1n, 5_000n);
    pool.add(b, chain.state, ctxOf(chain, 500));
    const removed = pool.expire(1000, 600);
    expect(removed.map((e) => [e.sender, e.nonce])).toEqual([
      [bytesToHex(alice.pub), 1],
      [bytesToHex(alice.pub), 2],
    ]);
    expect(pool.all().map((e) => e.tx)).toEqual([b]);
    expect(pool.expire(1100, 600)).toEqual([]); // exactly 600 s old stays
    expect(pool.expire(1101, 600).map((e) => e.tx)).toEqual([b]);
  });
});

describe('chain updates', () => {
  it('removes confirmed txs and those a block made invalid, with their codes', () => {
    const { chain, pool, offerId } = withOffer();
    const bobTakes = chain.sign(bob, { kind: 'offer.accept', offerId, lots: 1 }, { nonce: 1, fee: 6_000n });
    const carolTakes = chain.sign(carol, { kind: 'offer.accept', offerId, lots: 1 }, { nonce: 1, fee: 5_000n });
    const carolNext = transfer(chain, carol, 2, 1n, 5_000n);
    const bobNext = transfer(chain, bob, 2, 1n, 5_000n);
    const aliceA = transfer(chain, alice, 3, COIN, 5_000n);
    const aliceB = transfer(chain, alice, 3, 2n * COIN, 5_000n); // same nonce, mined instead of aliceA
    for (const tx of [bobTakes, carolTakes, carolNext, bobNext, aliceA]) pool.add(tx, chain.state, ctxOf(chain));
    expect(pool.size).toBe(5);
    const { block } = chain.mine({}, [bobTakes, aliceB]);
    const before = chain.state.entries();
    const r = pool.removeForBlock(block, chain.state, ctxOf(chain));
    expect(chain.state.entries()).toEqual(before);
    expect(r.confirmed.map((e) => e.tx)).toEqual([bobTakes]);
    const invalid = new Map(r.invalid.map((x) => [x.entry.tx, x.code]));
    expect(invalid).toEqual(
      new Map<Transaction, RuleCode>([
        [carolTakes, 'OFFER_NOT_FOUND'], // the only lot is gone
        [carolNext, 'BAD_NONCE'], // needs carolTakes
        [aliceA, 'BAD_NONCE'], // nonce used by aliceB
      ]),
    );
    expect(pool.all().map((e) => e.tx)).toEqual([bobNext]);
  });

  it('re-admits the txs of disconnected blocks after a reorg', () => {
    const { chain } = setup();
    const base = chain.fork();
    const pool = new Mempool();
    const t1 = transfer(chain, alice, 1, COIN, 5_000n);
    const t2 = transfer(chain, alice, 2, COIN, 5_000n);
    const shared = transfer(chain, bob, 1, COIN, 5_000n);
    const carolOld = transfer(chain, carol, 1, COIN, 5_000n);
    const old1 = chain.mine({}, [t1, shared]).block;
    const old2 = chain.mine({}, [t2, carolOld]).block;
    // The other branch: shared is mined there too; carol's nonce 1 goes to another tx.
    const carolNew = transfer(base, carol, 1, 3n * COIN, 5_000n);
    const new1 = base.mine({ time: base.tip.header.time + 1 }, [shared, carolNew]).block;
    const new2 = base.mine().block;
    const new3 = base.mine().block;
    const pending = transfer(base, bob, 2, COIN, 5_000n); // already in the pool on the new branch
    pool.add(pending, base.state, ctxOf(base));

    const before = base.state.entries();
    // Disconnected blocks given tip first: afterReorg orders them by height.
    const r = pool.afterReorg([old2, old1], [new1, new2, new3], base.state, ctxOf(base));
    expect(base.state.entries()).toEqual(before);
    expect(r.readmitted.map((e) => e.tx)).toEqual([t1, t2]);
    expect(r.rejected.map((x) => [x.tx, x.error.code])).toEqual([[carolOld, 'BAD_NONCE']]);
    expect(pool.pendingFor(alice.pub).map((e) => e.tx)).toEqual([t1, t2]);
    expect(pool.has(txid(shared))).toBe(false);
    expect(pool.has(txid(pending))).toBe(true);
    // The readmitted chain is really minable on the new branch.
    base.mine({}, pool.pendingFor(alice.pub).map((e) => e.tx));
  });

  it('readmit accepts txs in any order (gaps wait) and skips coinbases', () => {
    const { chain, pool } = setup();
    const txs = [1, 2, 3].map((n) => transfer(chain, alice, n, COIN, 5_000n));
    const cb = makeCoinbase(chain.params, 99, alice.pub, 0n);
    const r = pool.readmit([cb, txs[2], txs[1], txs[0]], chain.state, ctxOf(chain));
    expect(r.rejected).toEqual([]);
    expect(new Set(r.readmitted.map((e) => e.tx))).toEqual(new Set(txs));
    expect(pool.pendingFor(alice.pub).map((e) => e.tx)).toEqual(txs);
  });

  it('random add sequences keep the pool within bounds and consistent with the state', () => {
    const { chain } = setup();
    const senders = [alice, bob, carol];
    // Pre-signed: each sender, nonces 1..5, three fee levels, two amounts (one too large in a chain).
    const txs: Transaction[] = [];
    for (const w of senders) {
      for (let n = 1; n <= 5; n++) {
        for (const fee of [2_500n, 5_000n, 9_000n]) for (const amount of [COIN, 20n * COIN]) txs.push(transfer(chain, w, n, amount, fee));
      }
    }
    fc.assert(
      fc.property(fc.array(fc.nat(txs.length - 1), { minLength: 1, maxLength: 25 }), fc.integer({ min: 2, max: 8 }), (picks, maxCount) => {
        const pool = new Mempool({ maxCount });
        for (const i of picks) {
          try {
            pool.add(txs[i], chain.state, ctxOf(chain));
          } catch (e) {
            if (!(e instanceof RuleError)) throw e;
          }
          expect(pool.size).toBeLessThanOrEqual(maxCount);
          expect(pool.bytes).toBe(pool.all().reduce((n, e) => n + e.size, 0));
          for (const w of senders) {
            const nonces = pool.pendingFor(w.pub).map((e) => e.nonce);
            expect(new Set(nonces).size).toBe(nonces.length);
          }
        }
        // Everything held is valid (or waits behind a gap) against the state it was checked with.
        expect(pool.revalidate(chain.state, ctxOf(chain))).toEqual([]);
        const all = pool.all();
        for (let i = 1; i < all.length; i++) expect(all[i - 1].fee * BigInt(all[i].size)).toBeGreaterThanOrEqual(all[i].fee * BigInt(all[i - 1].size));
      }),
      { numRuns: 60 },
    );
  });
});
