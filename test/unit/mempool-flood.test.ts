/**
 * Issue 11 item 1, "mempool filled for free": transactions behind a nonce gap ("future") used to
 * be kept with no balance check, their declared fees never paid, and they could push paying
 * transactions out. The reviewer filled 20,000 slots with 79 unfunded keys × 255 gapped txs; with
 * a 2,000 cap an honest tx at 65× the minimum fee was refused and an honest pending one evicted.
 * Here at a tenth of that scale (pool of 200, so a future quota of 20; signing is the slow part):
 * unfunded keys park nothing, funded ones at most the future quota, and a future tx never takes
 * the place of a ready one.
 */
import { describe, expect, it } from 'vitest';
import { ruleCodeOf as codeOf } from '../support/codes.ts';
import fc from 'fast-check';
import { DEFAULT_MEMPOOL_MAX_FUTURE_PER_SENDER, Mempool, type MempoolAddContext } from '../../src/chain/mempool.ts';
import { RuleError, type RuleCode } from '../../src/chain/errors.ts';
import { SignatureCache } from '../../src/chain/sigcache.ts';
import { buildBlockTemplate } from '../../src/chain/template.ts';
import { txid, txSize } from '../../src/chain/tx.ts';
import { bytesToHex } from '../../src/chain/bytes.ts';
import { COIN, type Transaction } from '../../src/chain/types.ts';
import { ChainBuilder, wallet, wallets, type Wallet } from './helpers/chain-builder.ts';

const [alice, bob, carol, dave] = wallets(4);
const attackers = Array.from({ length: 8 }, (_, i) => wallet(`attacker-${i}`));
const miner = wallet('flood-miner');

function ctxOf(chain: ChainBuilder): MempoolAddContext {
  return { params: chain.params, height: chain.height, now: 1_000 };
}

function transfer(chain: ChainBuilder, from: Wallet, nonce: number, fee: bigint, amount = 1n): Transaction {
  return chain.sign(from, { kind: 'transfer', to: dave.pub, amount }, { nonce, fee });
}

/** The fee of a transfer paying `times` the minimum fee rate. */
function feeAt(chain: ChainBuilder, times: bigint): bigint {
  return times * chain.params.minFeePerByte * BigInt(txSize(transfer(chain, alice, 1, 1n)));
}


/** Adds every tx, returning the codes ('OK' when added). */
function addAll(pool: Mempool, chain: ChainBuilder, txs: Transaction[]): (RuleCode | 'OK')[] {
  return txs.map((tx) => codeOf(() => pool.add(tx, chain.state, ctxOf(chain))));
}

function templateOf(chain: ChainBuilder, pool: Mempool) {
  return buildBlockTemplate({
    params: chain.params,
    state: chain.state,
    prev: chain.tip,
    mempool: pool,
    minerPubKey: miner.pub,
    now: chain.tip.header.time + 2,
    medianTimePast: chain.mtp(),
    block1Time: chain.block1Time,
  });
}

describe('mempool flood with transactions behind a nonce gap', () => {
  it('unfunded fresh keys park nothing: their gapped txs are INSUFFICIENT_FUNDS', () => {
    const chain = ChainBuilder.funded([alice]);
    const pool = new Mempool({ maxCount: 200 });
    const fresh = Array.from({ length: 4 }, (_, i) => wallet(`fresh-${i}`));
    const txs = fresh.flatMap((w) => Array.from({ length: 10 }, (_, n) => transfer(chain, w, n + 2, feeAt(chain, 100n))));
    const codes = addAll(pool, chain, txs);
    expect(new Set(codes)).toEqual(new Set(['INSUFFICIENT_FUNDS']));
    expect(pool.size).toBe(0);
  });

  it("funded attackers' gapped txs stay within the future quota; honest txs are kept, accepted and mined", () => {
    const chain = ChainBuilder.funded([alice, bob, carol, ...attackers]);
    const pool = new Mempool({ maxCount: 200 });
    expect(pool.maxFutureCount).toBe(20);
    // Honest pending txs at ~3× the minimum fee rate.
    const honest = [1, 2, 3].flatMap((n) => [alice, bob].map((w) => transfer(chain, w, n, feeAt(chain, 3n))));
    expect(new Set(addAll(pool, chain, honest))).toEqual(new Set(['OK']));
    // The attack: 8 keys × 25 txs behind a gap (nonce 1 never sent), declaring 100× the minimum.
    const attack = attackers.flatMap((w) => Array.from({ length: 25 }, (_, n) => transfer(chain, w, n + 2, feeAt(chain, 100n))));
    const codes = addAll(pool, chain, attack);
    const parked = codes.filter((c) => c === 'OK').length;
    expect(parked).toBeGreaterThan(0);
    expect(parked).toBeLessThanOrEqual(pool.maxFutureCount);
    expect(pool.futureCount).toBe(pool.size - honest.length);
    for (const w of attackers) expect(pool.pendingFor(w.pub).length).toBeLessThanOrEqual(DEFAULT_MEMPOOL_MAX_FUTURE_PER_SENDER);
    // No honest tx was pushed out.
    for (const tx of honest) expect(pool.has(txid(tx))).toBe(true);
    // A new honest tx at 65× the minimum is accepted and evicts no ready tx.
    const big = transfer(chain, carol, 1, feeAt(chain, 65n));
    const r = pool.add(big, chain.state, ctxOf(chain));
    expect(r.added).toBe(true);
    expect(r.future).toBe(false);
    expect(r.evicted.filter((e) => !attackers.some((w) => bytesToHex(w.pub) === e.sender))).toEqual([]);
    // The block template takes every honest tx and none of the attackers' (they cannot run).
    const t = templateOf(chain, pool);
    expect(new Set(t.entries.map((e) => e.tx))).toEqual(new Set([...honest, big]));
  });

  it('a future tx never evicts a ready one, whatever fee it declares; a ready tx evicts futures first', () => {
    const chain = ChainBuilder.funded([alice, bob, carol, ...attackers.slice(0, 2)]);
    const pool = new Mempool({ maxCount: 4, maxFutureCount: 2 });
    const ready = [alice, bob].flatMap((w) => [1, 2].map((n) => transfer(chain, w, n, feeAt(chain, 1n))));
    addAll(pool, chain, ready);
    expect(pool.size).toBe(4);
    const gapped = transfer(chain, attackers[0], 2, feeAt(chain, 1000n));
    expect(codeOf(() => pool.add(gapped, chain.state, ctxOf(chain)))).toBe('BAD_FEE');
    expect(new Set(pool.all().map((e) => e.tx))).toEqual(new Set(ready));
    // With room, the future is kept; then a ready tx paying less than it evicts it first.
    const roomy = new Mempool({ maxCount: 5, maxFutureCount: 2 });
    addAll(roomy, chain, ready);
    expect(roomy.add(gapped, chain.state, ctxOf(chain)).future).toBe(true);
    expect(roomy.futureCount).toBe(1);
    const cheap = transfer(chain, carol, 1, feeAt(chain, 2n));
    expect(roomy.add(cheap, chain.state, ctxOf(chain)).evicted.map((e) => e.tx)).toEqual([gapped]);
    expect(roomy.futureCount).toBe(0);
    // Over the future quota, the future with the lowest fee rate goes (even to make room for a future).
    const f1 = transfer(chain, attackers[0], 3, feeAt(chain, 5n));
    const f2 = transfer(chain, attackers[1], 3, feeAt(chain, 7n));
    const f3 = transfer(chain, attackers[1], 4, feeAt(chain, 6n));
    const quota = new Mempool({ maxFutureCount: 2 });
    addAll(quota, chain, [f1, f2]);
    expect(quota.add(f3, chain.state, ctxOf(chain)).evicted.map((e) => e.tx)).toEqual([f1]);
    expect(codeOf(() => quota.add(transfer(chain, attackers[0], 5, feeAt(chain, 1n)), chain.state, ctxOf(chain)))).toBe('BAD_FEE');
  });

  it('caps the futures of one sender', () => {
    const chain = ChainBuilder.funded([alice]);
    const pool = new Mempool({ maxFuturePerSender: 3 });
    const txs = [2, 3, 4, 5].map((n) => transfer(chain, alice, n, feeAt(chain, 1n)));
    expect(addAll(pool, chain, txs)).toEqual(['OK', 'OK', 'OK', 'BAD_NONCE']);
    // Filling the gap makes them ready: the cap no longer applies to them.
    expect(pool.add(transfer(chain, alice, 1, feeAt(chain, 1n)), chain.state, ctxOf(chain)).future).toBe(false);
    expect(pool.futureCount).toBe(0);
    expect(addAll(pool, chain, [txs[3]])).toEqual(['OK']);
  });

  it("the sender's spendable balance must cover the fees of its pending chain behind the gap", () => {
    const chain = ChainBuilder.funded([alice, bob]);
    // bob keeps 3.5 fees after sending almost everything to carol.
    const fee = feeAt(chain, 1n);
    chain.add(bob, { kind: 'transfer', to: carol.pub, amount: 50n * COIN - fee - (7n * fee) / 2n }, { fee });
    chain.mine();
    const pool = new Mempool();
    // Nonces 2 and 3 missing: 4… wait behind the gap.
    const gapped = [4, 5, 6, 7].map((n) => transfer(chain, bob, n, fee));
    expect(addAll(pool, chain, gapped)).toEqual(['OK', 'OK', 'OK', 'INSUFFICIENT_FUNDS']);
    // A ready tx that spends from the balance leaves 1.5 fees: the futures it no longer covers go.
    const spend = transfer(chain, bob, 2, fee, fee);
    const r = pool.add(spend, chain.state, ctxOf(chain));
    expect(r.future).toBe(false);
    expect(r.invalidated.map((x) => [x.entry.nonce, x.code])).toEqual([
      [5, 'INSUFFICIENT_FUNDS'],
      [6, 'INSUFFICIENT_FUNDS'],
    ]);
    expect(pool.pendingFor(bob.pub).map((e) => e.nonce)).toEqual([2, 4]);
    // A block that spends the balance elsewhere (alice's future waits for nonce 2): revalidate drops it.
    const aliceFuture = transfer(chain, alice, 3, fee);
    pool.add(aliceFuture, chain.state, ctxOf(chain));
    const { block } = chain.mine({}, [transfer(chain, alice, 1, fee, 50n * COIN - fee)]);
    const { invalid } = pool.removeForBlock(block, chain.state, ctxOf(chain));
    expect(invalid.map((x) => [x.entry.tx, x.code])).toEqual([[aliceFuture, 'INSUFFICIENT_FUNDS']]);
  });

  it('whatever sequence of txs is added, a future one never evicts a ready one and the quotas hold', () => {
    const chain = ChainBuilder.funded([alice, bob, carol, ...attackers.slice(0, 2)]);
    const senders = [alice, bob, carol, ...attackers.slice(0, 2), wallet('penniless')];
    const txs: Transaction[] = [];
    for (const w of senders) for (let n = 1; n <= 6; n++) for (const times of [1n, 4n, 50n]) txs.push(transfer(chain, w, n, feeAt(chain, times)));
    const sigCache = new SignatureCache();
    fc.assert(
      fc.property(
        fc.array(fc.nat(txs.length - 1), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 2, max: 8 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        (picks, maxCount, maxFutureCount, maxFuturePerSender) => {
          const pool = new Mempool({ maxCount, maxFutureCount, maxFuturePerSender, sigCache });
          for (const i of picks) {
            const readyBefore = pool.all().filter((e) => !pool.isFuture(e.id));
            let future = true;
            try {
              future = pool.add(txs[i], chain.state, ctxOf(chain)).future;
            } catch (e) {
              if (!(e instanceof RuleError)) throw e;
            }
            if (future) for (const e of readyBefore) expect(pool.get(e.id)).toBe(e);
            expect(pool.size).toBeLessThanOrEqual(maxCount);
            expect(pool.futureCount).toBeLessThanOrEqual(maxFutureCount);
            expect(pool.futureCount).toBe(pool.all().filter((e) => pool.isFuture(e.id)).length);
            expect(pool.futureBytes).toBe(pool.all().reduce((n, e) => n + (pool.isFuture(e.id) ? e.size : 0), 0));
            for (const w of senders) {
              const mine = pool.pendingFor(w.pub);
              expect(mine.filter((e) => pool.isFuture(e.id)).length).toBeLessThanOrEqual(maxFuturePerSender);
            }
          }
          expect(pool.revalidate(chain.state, ctxOf(chain))).toEqual([]);
          expect(pool.size).toBeLessThanOrEqual(maxCount);
        },
      ),
      { numRuns: 80 },
    );
  });
});
