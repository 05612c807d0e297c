import { describe, expect, it } from 'vitest';
import { ruleCodeOf as codeOf } from '../support/codes.ts';
import { applyBlock, applyTx, undoBlock } from '../../src/chain/apply.ts';
import { hexToBytes } from '../../src/chain/bytes.ts';
import { blockHash } from '../../src/chain/header.ts';
import { NETWORKS, blockReward } from '../../src/chain/params.ts';
import { ChainState, accountKey, holdingKey, itemKey, maturingKey, offerKey } from '../../src/chain/state.ts';
import { itemIdFor, txid } from '../../src/chain/tx.ts';
import { COIN } from '../../src/chain/types.ts';
import type { Offer, StateEntry } from '../../src/chain/types.ts';
import { connectBlock } from '../../src/chain/validate.ts';
import { ChainBuilder, DEFAULT_FEE, wallet, wallets } from './helpers/chain-builder.ts';

const params = NETWORKS.test;
const REWARD = blockReward(params, 1);
const [alice, bob, carol] = wallets(3);


const acct = (balance: bigint, nonce = 0, immature = 0n): StateEntry => ({ type: 'account', value: { balance, immature, nonce } });

describe('ChainState', () => {
  it('uses the documented key scheme', () => {
    const pub = new Uint8Array(32).fill(0xab);
    const id = new Uint8Array(32).fill(0x01);
    expect(accountKey(pub)).toBe('a:' + 'ab'.repeat(32));
    expect(itemKey(id)).toBe('i:' + '01'.repeat(32));
    expect(holdingKey(id, pub)).toBe('h:' + '01'.repeat(32) + ':' + 'ab'.repeat(32));
    expect(offerKey(id)).toBe('o:' + '01'.repeat(32));
    expect(maturingKey(12)).toBe('m:12');
  });

  it('never aliases stored values: getters and setters copy', () => {
    const s = new ChainState();
    const miner = new Uint8Array(32).fill(7);
    const r = { height: 3, miner, amount: 10n };
    s.setMaturing(r);
    miner[0] = 99; // caller mutates its own object after the write
    r.amount = 1n;
    const got = s.getMaturing(3)!;
    expect(got.miner[0]).toBe(7);
    expect(got.amount).toBe(10n);
    got.miner[1] = 42; // caller mutates what it read
    expect(s.getMaturing(3)!.miner[1]).toBe(7);
  });

  it('keeps undo records immutable after later writes', () => {
    const s = new ChainState();
    const pub = alice.pub;
    s.begin();
    s.setAccount(pub, { balance: 5n, immature: 0n, nonce: 1 });
    const changes = s.commit();
    s.begin();
    s.setAccount(pub, { balance: 9n, immature: 0n, nonce: 2 });
    s.commit();
    expect(changes).toEqual([{ key: accountKey(pub), before: null, after: acct(5n, 1) }]);
    // and mutating a record does not reach into the state
    (changes[0].after!.value as { balance: bigint }).balance = 1000n;
    expect(s.account(pub).balance).toBe(9n);
  });

  it('stores a normal form: zero holdings and empty accounts are absent', () => {
    const s = new ChainState();
    const id = new Uint8Array(32).fill(1);
    s.setHolding(id, alice.pub, 3n);
    s.setAccount(alice.pub, { balance: 1n, immature: 0n, nonce: 0 });
    expect(s.size).toBe(2);
    s.setHolding(id, alice.pub, 0n);
    s.setAccount(alice.pub, { balance: 0n, immature: 0n, nonce: 0 });
    expect(s.size).toBe(0);
    expect(s.getHolding(id, alice.pub)).toBe(0n);
    expect(s.account(alice.pub)).toEqual({ balance: 0n, immature: 0n, nonce: 0 });
    expect(s.getAccount(alice.pub)).toBeUndefined();
  });

  it('reverts and re-applies committed changes exactly', () => {
    const s = new ChainState();
    s.setAccount(alice.pub, { balance: 10n, immature: 0n, nonce: 0 });
    const before = s.entries();
    s.begin();
    s.setAccount(alice.pub, { balance: 4n, immature: 0n, nonce: 1 });
    s.setAccount(bob.pub, { balance: 6n, immature: 0n, nonce: 0 });
    s.setAccount(alice.pub, { balance: 3n, immature: 0n, nonce: 2 });
    const changes = s.commit();
    const after = s.entries();
    // compacted: one change per key, first before, last after
    expect(changes).toHaveLength(2);
    expect(changes[0]).toEqual({ key: accountKey(alice.pub), before: acct(10n), after: acct(3n, 2) });
    s.revertChanges(changes);
    expect(s.entries()).toEqual(before);
    s.applyChanges(changes);
    expect(s.entries()).toEqual(after);
  });

  it('drops keys whose value ends where it started (created and removed in one journal)', () => {
    const s = new ChainState();
    const offer: Offer = {
      offerId: new Uint8Array(32).fill(5),
      maker: alice.pub,
      give: { asset: { type: 'coin' }, amount: 1n },
      want: { asset: { type: 'item', itemId: new Uint8Array(32).fill(6) }, amount: 2n },
      lotsLeft: 1,
      lotsTotal: 1,
      expiresAtHeight: null,
      createdHeight: 1,
    };
    s.begin();
    s.setOffer(offer);
    s.deleteOffer(offer.offerId);
    expect(s.commit()).toEqual([]);
  });

  it('refuses to revert changes that do not match the state, changing nothing', () => {
    const s = new ChainState();
    s.begin();
    s.setAccount(alice.pub, { balance: 5n, immature: 0n, nonce: 0 });
    s.setAccount(bob.pub, { balance: 5n, immature: 0n, nonce: 0 });
    const changes = s.commit();
    s.setAccount(bob.pub, { balance: 6n, immature: 0n, nonce: 0 }); // state moved on
    const snapshot = s.entries();
    expect(() => s.revertChanges(changes)).toThrow(/does not match/);
    expect(s.entries()).toEqual(snapshot);
    expect(() => s.applyChanges(changes)).toThrow(/does not match/);
    expect(s.entries()).toEqual(snapshot);
  });

  it('rolls back nested savepoints independently', () => {
    const s = new ChainState();
    s.begin();
    s.setAccount(alice.pub, { balance: 1n, immature: 0n, nonce: 0 });
    s.begin();
    s.setAccount(bob.pub, { balance: 2n, immature: 0n, nonce: 0 });
    s.setAccount(alice.pub, { balance: 7n, immature: 0n, nonce: 0 });
    s.rollback();
    expect(s.getAccount(bob.pub)).toBeUndefined();
    expect(s.account(alice.pub).balance).toBe(1n);
    const changes = s.commit();
    expect(changes.map((c) => c.key)).toEqual([accountKey(alice.pub)]);
    s.begin();
    s.setAccount(carol.pub, { balance: 1n, immature: 0n, nonce: 0 });
    s.rollback();
    expect(s.entries().map(([k]) => k)).toEqual([accountKey(alice.pub)]);
  });

  it('clones independently', () => {
    const s = new ChainState();
    s.setAccount(alice.pub, { balance: 1n, immature: 0n, nonce: 0 });
    const c = s.clone();
    c.setAccount(alice.pub, { balance: 2n, immature: 0n, nonce: 0 });
    c.setAccount(bob.pub, { balance: 3n, immature: 0n, nonce: 0 });
    expect(s.account(alice.pub).balance).toBe(1n);
    expect(s.size).toBe(1);
  });

  it('rejects an entry of the wrong type for its key', () => {
    const s = new ChainState();
    expect(() => s.set(accountKey(alice.pub), { type: 'holding', value: 1n })).toThrow(TypeError);
  });
});

describe('applyTx and applyBlock: each kind', () => {
  it('transfer: moves coins, bumps the nonce, pays the fee to the miner as immature', () => {
    const c = ChainBuilder.funded([alice, bob]);
    const miner = wallet('fee-miner');
    c.add(alice, { kind: 'transfer', to: bob.pub, amount: 7n * COIN });
    const h = c.mine({ miner: miner.pub }).height;
    expect(c.state.account(alice.pub)).toEqual({ balance: REWARD - 7n * COIN - DEFAULT_FEE, immature: 0n, nonce: 1 });
    expect(c.state.account(bob.pub)).toEqual({ balance: REWARD + 7n * COIN, immature: 0n, nonce: 0 });
    expect(c.state.account(miner.pub)).toEqual({ balance: 0n, immature: REWARD + DEFAULT_FEE, nonce: 0 });
    expect(c.state.getMaturing(h)).toEqual({ height: h, miner: miner.pub, amount: REWARD + DEFAULT_FEE });
  });

  it('transfer to oneself only costs the fee', () => {
    const c = ChainBuilder.funded([alice]);
    c.add(alice, { kind: 'transfer', to: alice.pub, amount: 3n * COIN });
    c.mine();
    expect(c.state.account(alice.pub)).toEqual({ balance: REWARD - DEFAULT_FEE, immature: 0n, nonce: 1 });
  });

  it('item.create, mint, transfer and burn keep supply = Σ holdings', () => {
    const c = ChainBuilder.funded([alice, bob]);
    const id = itemIdFor(alice.pub, 'TSHIRT-M');
    c.add(alice, { kind: 'item.create', sku: 'TSHIRT-M', name: 'T-shirt, medium', quantity: 100n });
    const created = c.mine().height;
    expect(c.state.getItem(id)).toEqual({ itemId: id, issuer: alice.pub, sku: 'TSHIRT-M', name: 'T-shirt, medium', supply: 100n, createdHeight: created });
    expect(c.state.getHolding(id, alice.pub)).toBe(100n);

    c.add(alice, { kind: 'item.mint', itemId: id, quantity: 20n });
    c.add(alice, { kind: 'item.transfer', itemId: id, to: bob.pub, quantity: 30n });
    c.mine();
    c.add(bob, { kind: 'item.burn', itemId: id, quantity: 30n });
    c.add(alice, { kind: 'item.burn', itemId: id, quantity: 5n });
    c.mine();
    expect(c.state.getItem(id)!.supply).toBe(85n);
    expect(c.state.getHolding(id, alice.pub)).toBe(85n);
    expect(c.state.getHolding(id, bob.pub)).toBe(0n);
    expect(c.state.has(holdingKey(id, bob.pub))).toBe(false); // zero holdings are not stored
    expect(c.state.holdingsOf(alice.pub)).toEqual([{ itemId: itemKey(id).slice(2), quantity: 85n }]);
    expect(c.state.account(alice.pub).nonce).toBe(4);
  });

  it('offer.create escrows, offer.accept swaps both legs, partial lots stay open', () => {
    const c = ChainBuilder.funded([alice, bob]);
    const id = itemIdFor(alice.pub, 'MUG');
    c.add(alice, { kind: 'item.create', sku: 'MUG', name: 'Mug', quantity: 50n });
    c.mine();
    // alice sells 4 lots of 5 mugs for 2 TAB per lot
    const offerTx = c.add(alice, {
      kind: 'offer.create',
      give: { asset: { type: 'item', itemId: id }, amount: 5n },
      want: { asset: { type: 'coin' }, amount: 2n * COIN },
      lots: 4,
      expiresAtHeight: null,
    });
    const h = c.mine().height;
    const offerId = txid(offerTx);
    expect(c.state.getHolding(id, alice.pub)).toBe(30n);
    expect(c.state.getOffer(offerId)).toMatchObject({ maker: alice.pub, lotsLeft: 4, lotsTotal: 4, createdHeight: h, expiresAtHeight: null });

    const aliceBefore = c.state.account(alice.pub).balance;
    const bobBefore = c.state.account(bob.pub).balance;
    c.add(bob, { kind: 'offer.accept', offerId, lots: 3 });
    c.mine();
    expect(c.state.getHolding(id, bob.pub)).toBe(15n);
    expect(c.state.account(bob.pub).balance).toBe(bobBefore - 6n * COIN - DEFAULT_FEE);
    expect(c.state.account(alice.pub).balance).toBe(aliceBefore + 6n * COIN);
    expect(c.state.getOffer(offerId)!.lotsLeft).toBe(1);

    c.add(bob, { kind: 'offer.accept', offerId, lots: 1 });
    c.mine();
    expect(c.state.getOffer(offerId)).toBeUndefined(); // fully taken: deleted
    expect(c.state.getHolding(id, bob.pub)).toBe(20n);
    expect(c.state.getItem(id)!.supply).toBe(50n);
  });

  it('offer.cancel returns the escrow of the lots left, also after expiry', () => {
    const c = ChainBuilder.funded([alice, bob]);
    const id = itemIdFor(bob.pub, 'PEN');
    c.add(bob, { kind: 'item.create', sku: 'PEN', name: 'Pen', quantity: 10n });
    c.mine();
    // alice offers coins for pens; expires at the next height
    const offerTx = c.add(alice, {
      kind: 'offer.create',
      give: { asset: { type: 'coin' }, amount: COIN },
      want: { asset: { type: 'item', itemId: id }, amount: 1n },
      lots: 3,
      expiresAtHeight: c.height + 2,
    });
    c.mine();
    const offerId = txid(offerTx);
    expect(c.state.account(alice.pub).balance).toBe(REWARD - 3n * COIN - DEFAULT_FEE);
    c.add(bob, { kind: 'offer.accept', offerId, lots: 1 }); // at expiresAtHeight: still allowed
    c.mine();
    expect(c.state.getHolding(id, alice.pub)).toBe(1n);
    c.mine(); // now expired
    c.add(alice, { kind: 'offer.cancel', offerId });
    c.mine();
    expect(c.state.getOffer(offerId)).toBeUndefined();
    // 1 TAB went to bob, 2 TAB came back, 2 fees paid
    expect(c.state.account(alice.pub).balance).toBe(REWARD - COIN - 2n * DEFAULT_FEE);
    expect(c.state.account(bob.pub).balance).toBe(REWARD + COIN - 2n * DEFAULT_FEE);
  });

  it('offer.accept moves both legs or neither', () => {
    const c = ChainBuilder.funded([alice, bob]);
    const id = itemIdFor(alice.pub, 'BIKE');
    c.add(alice, { kind: 'item.create', sku: 'BIKE', name: 'Bike', quantity: 1n });
    c.mine();
    const offerTx = c.add(alice, {
      kind: 'offer.create',
      give: { asset: { type: 'item', itemId: id }, amount: 1n },
      want: { asset: { type: 'coin' }, amount: REWARD }, // more than bob can pay with the fee
      lots: 1,
      expiresAtHeight: null,
    });
    c.mine();
    const before = c.state.entries();
    const accept = c.sign(bob, { kind: 'offer.accept', offerId: txid(offerTx), lots: 1 });
    expect(codeOf(() => applyTx(c.state, accept, { params, height: c.height + 1 }))).toBe('INSUFFICIENT_FUNDS');
    expect(c.state.entries()).toEqual(before);
  });
});

describe('coinbase maturity', () => {
  it('a reward of block h is spendable from block h + maturity on, not before', () => {
    expect(params.coinbaseMaturity).toBe(2);
    const c = ChainBuilder.funded([alice]);
    const fresh = wallet('fresh-miner');
    const h = c.mine({ miner: fresh.pub }).height;
    expect(c.state.account(fresh.pub)).toEqual({ balance: 0n, immature: REWARD, nonce: 0 });

    // block h + maturity − 1: not yet spendable
    const spend = c.sign(fresh, { kind: 'transfer', to: alice.pub, amount: COIN });
    const early = c.build([spend]);
    const snapshot = c.state.entries();
    expect(codeOf(() => connectBlock(c.state, early, { params, height: h + 1 }))).toBe('IMMATURE');
    expect(c.state.entries()).toEqual(snapshot);
    c.mine();
    expect(c.height).toBe(h + params.coinbaseMaturity - 1);
    expect(c.state.account(fresh.pub).balance).toBe(0n);

    // block h + maturity: matured at the start of the block, spendable by its transactions
    c.queue.push(spend);
    c.mine();
    expect(c.height).toBe(h + params.coinbaseMaturity);
    expect(c.state.getMaturing(h)).toBeUndefined();
    expect(c.state.account(fresh.pub)).toEqual({ balance: REWARD - COIN - DEFAULT_FEE, immature: 0n, nonce: 1 });
  });

  it('a block without reward and fees records no maturing entry', () => {
    const noReward = { ...params, initialReward: 0n };
    const c = new ChainBuilder(noReward);
    const { height } = c.mine();
    expect(c.state.size).toBe(0);
    expect(c.state.getMaturing(height)).toBeUndefined();
  });
});

describe('applyBlock atomicity and undo', () => {
  it('a failing transaction leaves the state exactly as it was', () => {
    const c = ChainBuilder.funded([alice, bob]);
    const before = c.state.entries();
    const good = c.sign(alice, { kind: 'transfer', to: bob.pub, amount: COIN });
    const bad = c.sign(bob, { kind: 'item.mint', itemId: new Uint8Array(32).fill(9), quantity: 1n });
    const block = c.build([good, bad]);
    expect(codeOf(() => applyBlock(c.state, block, { params, height: c.height + 1, hash: blockHash(block.header) }))).toBe('UNKNOWN_ITEM');
    expect(c.state.entries()).toEqual(before);
    expect(c.state.inTransaction).toBe(false);
  });

  it('undoBlock restores the identical state, block after block', () => {
    const c = ChainBuilder.funded([alice, bob]);
    const snapshots = [c.state.entries()];
    const undos = [];
    c.add(alice, { kind: 'item.create', sku: 'A', name: 'a', quantity: 3n });
    c.add(bob, { kind: 'transfer', to: carol.pub, amount: 1n });
    undos.push(c.mine().undo);
    snapshots.push(c.state.entries());
    const id = itemIdFor(alice.pub, 'A');
    c.add(alice, { kind: 'offer.create', give: { asset: { type: 'item', itemId: id }, amount: 1n }, want: { asset: { type: 'coin' }, amount: 5n }, lots: 3, expiresAtHeight: null });
    undos.push(c.mine().undo);
    for (let i = undos.length - 1; i >= 0; i--) {
      undoBlock(c.state, undos[i]);
      expect(c.state.entries()).toEqual(snapshots[i]);
    }
  });

  it('records the block hash and height in the undo record and refuses height 0', () => {
    const c = new ChainBuilder();
    const block = c.build([]);
    const hash = blockHash(block.header);
    const undo = applyBlock(c.state, block, { params, height: 1, hash });
    expect(undo.hash).toEqual(hash);
    expect(undo.height).toBe(1);
    expect(undo.changes.map((ch) => ch.key).sort()).toEqual([accountKey(c.miner), maturingKey(1)].sort());
    expect(() => applyBlock(new ChainState(), params.genesis, { params, height: 0, hash: params.genesisHash })).toThrow(RangeError);
  });

  it('can trial-connect a block inside a savepoint and roll it back', () => {
    const c = ChainBuilder.funded([alice, bob]);
    const before = c.state.entries();
    const block = c.build([c.sign(alice, { kind: 'transfer', to: bob.pub, amount: COIN })]);
    c.state.begin();
    const undo = applyBlock(c.state, block, { params, height: c.height + 1, hash: blockHash(block.header) });
    const after = c.state.entries();
    c.state.rollback();
    expect(c.state.entries()).toEqual(before);
    // the raw change list of a nested connect is still a valid undo record
    c.state.applyChanges(undo.changes);
    expect(c.state.entries()).toEqual(after);
    undoBlock(c.state, undo);
    expect(c.state.entries()).toEqual(before);
  });

  it('state listings reflect items and offers', () => {
    const c = ChainBuilder.funded([alice]);
    c.add(alice, { kind: 'item.create', sku: 'X', name: 'x', quantity: 2n });
    c.mine();
    const id = itemIdFor(alice.pub, 'X');
    c.add(alice, { kind: 'offer.create', give: { asset: { type: 'item', itemId: id }, amount: 1n }, want: { asset: { type: 'coin' }, amount: 5n }, lots: 1, expiresAtHeight: null });
    c.mine();
    expect(c.state.items().map((i) => i.sku)).toEqual(['X']);
    expect(c.state.offers()).toHaveLength(1);
    expect(c.state.holdersOf(id)).toEqual([{ owner: accountKey(alice.pub).slice(2), quantity: 1n }]);
    expect(hexToBytes(c.state.holdingsOf(alice.pub)[0].itemId)).toEqual(id);
  });
});
