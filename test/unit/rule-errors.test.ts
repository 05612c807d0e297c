/**
 * One row per RuleError code: a valid block, transaction or header broken in exactly one way, the
 * exact code it must raise, and the state left untouched. A last test checks that every code in
 * RULE_CODES has a row, so a new code cannot be added without a test.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ruleCodeOf as codeOf } from '../support/codes.ts';
import { decodeBlock, encodeBlock } from '../../src/chain/block.ts';
import { RULE_CODES } from '../../src/chain/errors.ts';
import type { RuleCode } from '../../src/chain/errors.ts';
import { decodeAddress, encodeAddress } from '../../src/chain/keys.ts';
import { NETWORKS, blockReward } from '../../src/chain/params.ts';
import { MAX_AMOUNT, checkTxSanity, decodeTx, encodeTx, itemIdFor, makeCoinbase, txid } from '../../src/chain/tx.ts';
import { COIN } from '../../src/chain/types.ts';
import type { Block, BlockHeader, Transaction } from '../../src/chain/types.ts';
import { checkHeaderContext, connectBlock, isMutationError, isTooNew } from '../../src/chain/validate.ts';
import { ChainBuilder, unmineHeader, wallet, wallets } from './helpers/chain-builder.ts';
import type { Payload } from './helpers/chain-builder.ts';

const params = NETWORKS.test;
const REWARD = blockReward(params, 1);
const [alice, bob, carol, dave] = wallets(4);
const young = wallet('young-miner');
const ZERO32 = new Uint8Array(32);

let base: ChainBuilder;
let itemId: Uint8Array;
let offerId: Uint8Array; // alice: 10 × SKU-1 per lot for 1 TAB, 5 lots, no expiry
let expiredOfferId: Uint8Array;

beforeAll(() => {
  base = ChainBuilder.funded([alice, bob, carol]);
  base.add(alice, { kind: 'item.create', sku: 'SKU-1', name: 'Widget', quantity: 100n });
  base.mine();
  itemId = itemIdFor(alice.pub, 'SKU-1');
  const item = { type: 'item' as const, itemId };
  const o1 = base.add(alice, { kind: 'offer.create', give: { asset: item, amount: 10n }, want: { asset: { type: 'coin' }, amount: COIN }, lots: 5, expiresAtHeight: null });
  const o2 = base.add(alice, { kind: 'offer.create', give: { asset: item, amount: 1n }, want: { asset: { type: 'coin' }, amount: COIN }, lots: 1, expiresAtHeight: base.height + 1 });
  base.mine();
  offerId = txid(o1);
  expiredOfferId = txid(o2);
  base.mine({ miner: young.pub }); // young's only coins: an immature reward
});

// --- ways to submit a broken thing -------------------------------------------------------------

/** Connects `block` as the next block (sanity + apply). */
function connect(c: ChainBuilder, block: Block): void {
  connectBlock(c.state, block, { params, height: c.height + 1 });
}

/** Connects a block holding a valid transfer (carol → dave) and then `tx`: the transfer must be rolled back too. */
function connectTx(c: ChainBuilder, tx: Transaction): void {
  const good = c.sign(carol, { kind: 'transfer', to: dave.pub, amount: COIN });
  connect(c, c.build([good, tx]));
}

/** Signs `payload` from `w` (next nonce) and connects it after a valid transfer. */
function connectPayload(c: ChainBuilder, w = alice, payload: Payload, opts: Parameters<ChainBuilder['sign']>[2] = {}): void {
  connectTx(c, c.sign(w, payload, opts));
}

/** Header context of `header` on the tip. */
function checkContext(c: ChainBuilder, header: BlockHeader, opts: { now?: number; prevInvalid?: boolean } = {}): void {
  const prev = opts.prevInvalid ? { ...c.tip, status: 'invalid' as const } : c.tip;
  checkHeaderContext(header, prev, { params, medianTimePast: c.mtp(), now: opts.now ?? c.tip.header.time + 10, block1Time: c.block1Time });
}

const coin = { type: 'coin' as const };

interface Case {
  code: RuleCode;
  name: string;
  /** Runs before the state snapshot (for cases that need extra state). */
  setup?: (c: ChainBuilder) => void;
  run: (c: ChainBuilder) => void;
}

const CASES: Case[] = [
  // header and block sanity
  { code: 'BAD_POW', name: 'hash above its own target', run: (c) => {
    const b = c.build([]);
    connect(c, { ...b, header: unmineHeader(b.header) });
  } },
  { code: 'BAD_BITS', name: 'bits easier than powLimit (sanity)', run: (c) => connect(c, c.build([], { bits: 0x2100ffff })) },
  { code: 'BAD_BITS', name: 'bits are not the ASERT value (context)', run: (c) => checkContext(c, { ...c.build([]).header, bits: 0x1f7fffff }) },
  { code: 'BAD_VERSION', name: 'header version 0', run: (c) => connect(c, c.build([], { version: 0 })) },
  { code: 'BAD_PREV', name: 'parent is invalid', run: (c) => checkContext(c, c.build([]).header, { prevInvalid: true }) },
  { code: 'BAD_PREV', name: 'prevHash is not the parent', run: (c) => checkContext(c, { ...c.build([]).header, prevHash: new Uint8Array(32).fill(1) }) },
  { code: 'TIME_TOO_OLD', name: 'time equal to the median time past', run: (c) => checkContext(c, { ...c.build([]).header, time: c.mtp() }) },
  { code: 'TIME_TOO_NEW', name: 'time more than 120 s ahead of now', run: (c) => {
    const now = c.tip.header.time + 5;
    checkContext(c, { ...c.build([]).header, time: now + params.maxFutureSeconds + 1 }, { now });
  } },
  { code: 'BAD_MERKLE', name: 'merkle root does not match', run: (c) => {
    const b = c.build([c.sign(alice, { kind: 'transfer', to: bob.pub, amount: 1n })]);
    connect(c, { ...b, txs: [b.txs[0], c.sign(alice, { kind: 'transfer', to: bob.pub, amount: 2n })] });
  } },
  { code: 'DUPLICATE_TX', name: 'the same transaction twice', run: (c) => {
    const t = c.sign(alice, { kind: 'transfer', to: bob.pub, amount: 1n });
    connect(c, c.build([t, t]));
  } },
  { code: 'DUPLICATE_TX', name: 'CVE-2012-2459: [cb, a, b, b] under the root of [cb, a, b]', run: (c) => {
    const a = c.sign(alice, { kind: 'transfer', to: bob.pub, amount: 1n });
    const b = c.sign(bob, { kind: 'transfer', to: alice.pub, amount: 1n });
    const valid = c.build([a, b]);
    connect(c, { header: valid.header, txs: [...valid.txs, b] });
  } },
  { code: 'BAD_COINBASE', name: 'no transactions at all', run: (c) => connect(c, c.build([], { coinbase: null })) },
  { code: 'BAD_COINBASE', name: 'first transaction is not a coinbase', run: (c) => connect(c, c.build([c.sign(alice, { kind: 'transfer', to: bob.pub, amount: 1n })], { coinbase: null })) },
  { code: 'BAD_COINBASE', name: 'a second coinbase', run: (c) => connect(c, c.build([makeCoinbase(params, c.height + 1, bob.pub, 1n)])) },
  { code: 'BAD_COINBASE', name: 'coinbase for another height', run: (c) => connect(c, c.build([], { coinbaseHeight: c.height + 2 })) },
  { code: 'BAD_COINBASE', name: 'coinbase with a fee', run: (c) => connect(c, c.build([], { coinbase: { ...makeCoinbase(params, c.height + 1, bob.pub), fee: 1n } })) },
  { code: 'BLOCK_TOO_LARGE', name: 'more than maxBlockTxs transactions', run: (c) => {
    const t = c.sign(alice, { kind: 'transfer', to: bob.pub, amount: 1n });
    connect(c, c.build(new Array(params.maxBlockTxs).fill(t), { merkleRoot: ZERO32 }));
  } },
  { code: 'BLOCK_TOO_LARGE', name: 'more than maxBlockBytes', run: (c) => {
    const t = c.sign(alice, { kind: 'transfer', to: bob.pub, amount: 1n });
    const count = Math.ceil(params.maxBlockBytes / encodeTx(t).length);
    expect(count).toBeLessThan(params.maxBlockTxs);
    connect(c, c.build(new Array(count).fill(t), { merkleRoot: ZERO32 }));
  } },
  { code: 'MALFORMED', name: 'truncated block bytes', run: (c) => {
    const bytes = encodeBlock(c.build([c.sign(alice, { kind: 'transfer', to: bob.pub, amount: 1n })]));
    connect(c, decodeBlock(bytes.subarray(0, bytes.length - 1)));
  } },
  // Display spoofing in every tab (issue 11): a right-to-left override turns "Blue mug" + "gpj.exe"
  // into text that reads otherwise; a newline or NUL breaks lists.
  { code: 'MALFORMED', name: 'item name with a bidirectional override (U+202E)', run: (c) =>
    connectPayload(c, alice, { kind: 'item.create', sku: 'MUG-2', name: 'Blue mug \u202egpj.exe', quantity: 1n }) },
  { code: 'MALFORMED', name: 'item name with a bidirectional isolate (U+2067)', run: (c) =>
    connectPayload(c, alice, { kind: 'item.create', sku: 'MUG-3', name: 'mug\u2067x\u2069', quantity: 1n }) },
  { code: 'MALFORMED', name: 'item name with a control character (newline)', run: (c) =>
    connectPayload(c, alice, { kind: 'item.create', sku: 'MUG-4', name: 'Blue\nmug', quantity: 1n }) },
  { code: 'MALFORMED', name: 'item name with a C1 control character (U+0085)', run: (c) =>
    connectPayload(c, alice, { kind: 'item.create', sku: 'MUG-5', name: 'Blue\u0085mug', quantity: 1n }) },
  { code: 'MALFORMED', name: 'offer swapping an asset for itself', run: (c) =>
    connectPayload(c, alice, { kind: 'offer.create', give: { asset: coin, amount: 1n }, want: { asset: coin, amount: 2n }, lots: 1, expiresAtHeight: null }) },

  // transaction sanity
  { code: 'TX_TOO_LARGE', name: 'transaction bytes over maxTxBytes', run: (c) => {
    const bytes = encodeTx(c.sign(alice, { kind: 'transfer', to: bob.pub, amount: 1n }));
    const padded = new Uint8Array(params.maxTxBytes + 1);
    padded.set(bytes);
    decodeTx(padded, params.maxTxBytes);
  } },
  { code: 'TX_TOO_LARGE', name: 'encoding over a smaller maxTxBytes', run: (c) =>
    checkTxSanity(c.sign(alice, { kind: 'transfer', to: bob.pub, amount: 1n }), { ...params, maxTxBytes: 100 }) },
  { code: 'WRONG_CHAIN', name: 'signed for another network', run: (c) =>
    connectPayload(c, alice, { kind: 'transfer', to: bob.pub, amount: 1n }, { chainId: NETWORKS.dev.chainId }) },
  { code: 'BAD_SIGNATURE', name: 'one signature bit flipped', run: (c) => {
    const t = c.sign(alice, { kind: 'transfer', to: bob.pub, amount: 1n });
    const signature = t.signature.slice();
    signature[10] ^= 1;
    connectTx(c, { ...t, signature });
  } },
  { code: 'BAD_SIGNATURE', name: 'valid signature of another transaction', run: (c) => {
    const t = c.sign(alice, { kind: 'transfer', to: bob.pub, amount: 1n });
    connectTx(c, { ...t, amount: 2n } as Transaction);
  } },
  { code: 'BAD_AMOUNT', name: 'zero amount', run: (c) => connectPayload(c, alice, { kind: 'transfer', to: bob.pub, amount: 0n }) },
  { code: 'BAD_AMOUNT', name: 'mint past u64 supply', setup: (c) => {
    c.add(bob, { kind: 'item.create', sku: 'BIG', name: 'big', quantity: MAX_AMOUNT });
    c.add(bob, { kind: 'item.mint', itemId: itemIdFor(bob.pub, 'BIG'), quantity: MAX_AMOUNT }); // supply 2^64 − 2
    c.mine();
  }, run: (c) => connectPayload(c, bob, { kind: 'item.mint', itemId: itemIdFor(bob.pub, 'BIG'), quantity: 2n }) },
  { code: 'BAD_FEE', name: 'fee of 2^63', run: (c) => connectPayload(c, alice, { kind: 'transfer', to: bob.pub, amount: 1n }, { fee: 1n << 63n }) },
  { code: 'BAD_NONCE', name: 'nonce 0 (sanity)', run: (c) => connectPayload(c, alice, { kind: 'transfer', to: bob.pub, amount: 1n }, { nonce: 0 }) },

  // contextual (apply)
  { code: 'BAD_NONCE', name: 'nonce skips one', run: (c) =>
    connectPayload(c, alice, { kind: 'transfer', to: bob.pub, amount: 1n }, { nonce: c.state.account(alice.pub).nonce + 2 }) },
  { code: 'BAD_NONCE', name: 'nonce replayed', run: (c) =>
    connectPayload(c, alice, { kind: 'transfer', to: bob.pub, amount: 1n }, { nonce: c.state.account(alice.pub).nonce }) },
  { code: 'INSUFFICIENT_FUNDS', name: 'transfer above the balance', run: (c) => connectPayload(c, bob, { kind: 'transfer', to: alice.pub, amount: REWARD }) },
  { code: 'INSUFFICIENT_FUNDS', name: 'fee above the balance', run: (c) => connectPayload(c, bob, { kind: 'transfer', to: alice.pub, amount: 1n }, { fee: REWARD + 1n }) },
  { code: 'INSUFFICIENT_FUNDS', name: 'item.transfer above the holding', run: (c) =>
    connectPayload(c, alice, { kind: 'item.transfer', itemId, to: bob.pub, quantity: 51n }) },
  { code: 'INSUFFICIENT_FUNDS', name: 'offer escrow above the holding', run: (c) =>
    connectPayload(c, alice, { kind: 'offer.create', give: { asset: { type: 'item', itemId }, amount: 26n }, want: { asset: coin, amount: 1n }, lots: 2, expiresAtHeight: null }) },
  { code: 'INSUFFICIENT_FUNDS', name: 'accept without the coins to pay', run: (c) => connectPayload(c, bob, { kind: 'offer.accept', offerId, lots: 5 }, { fee: REWARD - 4n * COIN - 1n }) },
  { code: 'IMMATURE', name: 'spending a reward before maturity', run: (c) => connectPayload(c, young, { kind: 'transfer', to: alice.pub, amount: 1n }) },
  { code: 'UNKNOWN_ITEM', name: 'mint of an unknown item', run: (c) => connectPayload(c, alice, { kind: 'item.mint', itemId: new Uint8Array(32).fill(3), quantity: 1n }) },
  { code: 'UNKNOWN_ITEM', name: 'offer wanting an unknown item', run: (c) =>
    connectPayload(c, bob, { kind: 'offer.create', give: { asset: coin, amount: 1n }, want: { asset: { type: 'item', itemId: new Uint8Array(32).fill(3) }, amount: 1n }, lots: 1, expiresAtHeight: null }) },
  { code: 'NOT_ISSUER', name: 'mint by someone else', run: (c) => connectPayload(c, bob, { kind: 'item.mint', itemId, quantity: 1n }) },
  { code: 'ITEM_EXISTS', name: 'same issuer and sku again', run: (c) => connectPayload(c, alice, { kind: 'item.create', sku: 'SKU-1', name: 'again', quantity: 1n }) },
  { code: 'OFFER_NOT_FOUND', name: 'accept of an unknown offer', run: (c) => connectPayload(c, bob, { kind: 'offer.accept', offerId: new Uint8Array(32).fill(4), lots: 1 }) },
  { code: 'OFFER_NOT_FOUND', name: 'cancel of an unknown offer', run: (c) => connectPayload(c, alice, { kind: 'offer.cancel', offerId: new Uint8Array(32).fill(4) }) },
  { code: 'OFFER_EXPIRED', name: 'accept after expiresAtHeight', run: (c) => connectPayload(c, bob, { kind: 'offer.accept', offerId: expiredOfferId, lots: 1 }) },
  { code: 'OFFER_EXPIRED', name: 'create already expired', run: (c) =>
    connectPayload(c, alice, { kind: 'offer.create', give: { asset: coin, amount: 1n }, want: { asset: { type: 'item', itemId }, amount: 1n }, lots: 1, expiresAtHeight: c.height }) },
  { code: 'LOTS_EXCEEDED', name: 'more lots than left', run: (c) => connectPayload(c, bob, { kind: 'offer.accept', offerId, lots: 6 }) },
  { code: 'NOT_MAKER', name: 'cancel by someone else', run: (c) => connectPayload(c, bob, { kind: 'offer.cancel', offerId }) },
  { code: 'SELF_TRADE', name: 'maker accepts its own offer', run: (c) => connectPayload(c, alice, { kind: 'offer.accept', offerId, lots: 1 }) },

  // addresses (keys.ts)
  { code: 'BAD_ADDRESS', name: 'one character of an address changed', run: () => {
    const addr = encodeAddress(alice.pub, params.addressPrefix);
    const i = addr.length - 3;
    const typo = addr.slice(0, i) + (addr[i] === 'q' ? 'p' : 'q') + addr.slice(i + 1);
    decodeAddress(typo, params.addressPrefix);
  } },
  { code: 'BAD_ADDRESS', name: 'address of another network', run: () => decodeAddress(encodeAddress(alice.pub, 'tabdev'), params.addressPrefix) },
];


describe('every rule raises its code and leaves the state unchanged', () => {
  it('the unbroken versions are valid', () => {
    const c = base.fork();
    const header = c.build([]).header;
    expect(() => checkContext(c, header)).not.toThrow();
    const t = c.sign(bob, { kind: 'offer.accept', offerId, lots: 5 });
    expect(() => connectTx(c, t)).not.toThrow();
  });

  it.each(CASES.map((c) => [c.code, c.name, c] as const))('%s: %s', (_code, _name, tc) => {
    const c = base.fork();
    tc.setup?.(c);
    const before = c.state.entries();
    expect(codeOf(() => tc.run(c))).toBe(tc.code);
    expect(c.state.entries()).toEqual(before);
    expect(c.state.inTransaction).toBe(false);
  });

  it('covers every code in RULE_CODES', () => {
    const covered = new Set(CASES.map((c) => c.code));
    expect(RULE_CODES.filter((code) => !covered.has(code))).toEqual([]);
  });

  it('classifies body mismatches and future blocks as not ban-worthy', () => {
    const c = base.fork();
    const a = c.sign(alice, { kind: 'transfer', to: bob.pub, amount: 1n });
    const valid = c.build([a]);
    const mutated = { header: valid.header, txs: [...valid.txs, a] };
    let err: unknown;
    try {
      connect(c, mutated);
    } catch (e) {
      err = e;
    }
    expect(isMutationError(err)).toBe(true);
    // the same header with the right body connects
    expect(() => connect(c, valid)).not.toThrow();
    try {
      checkContext(c, { ...c.build([]).header, time: c.tip.header.time + 1000 }, { now: c.tip.header.time });
    } catch (e) {
      err = e;
    }
    expect(isTooNew(err)).toBe(true);
  });
});
