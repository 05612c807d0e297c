/**
 * The state transition: contextual transaction rules and connecting/disconnecting a block.
 *
 * The "connect" tier of validation (Bitcoin Core `ConnectBlock` / btcd `connectBlock`): the block
 * has passed sanity (encoding, merkle, PoW, signatures: {@link checkBlockSanity}) and header
 * context; here every transaction is checked against the state and applied, all or nothing, and
 * the writes come back as a {@link BlockUndo} (Core's `CBlockUndo`) that disconnects the block.
 *
 * Coin accounting: an account's `balance` is spendable; `immature` holds coinbase rewards that are
 * not yet (mirrored by one `m:<height>` entry per block). Coins in open offers sit in escrow: they
 * belong to no account and are counted by the offer (`give.amount × lotsLeft`). So at any height
 *   Σ balance + Σ immature + Σ coin escrow = Σ rewards of blocks 1..height (fees only move coins),
 * and for every item
 *   Σ holdings + Σ escrow of that item = supply.
 * @module
 */
import { RuleError, fail } from './errors.ts';
import { blockReward } from './params.ts';
import type { ChainState } from './state.ts';
import { itemIdFor, txid } from './tx.ts';
import type { Asset, Block, BlockUndo, NetworkParams, Offer, Transaction, TxOfKind } from './types.ts';

/** Amounts are u64: every balance, holding, supply and escrow must stay below this. @example if (sum >= MAX_AMOUNT_EXCLUSIVE) fail('BAD_AMOUNT') */
export const MAX_AMOUNT_EXCLUSIVE = 1n << 64n;

/** Context of a transaction: the height of the block that contains it. @example applyTx(state, tx, { params, height: tip.height + 1 }) */
export interface TxContext {
  params: NetworkParams;
  height: number;
}

/** Context of a block: its height and hash (the hash is recorded in the undo). @example applyBlock(state, block, { params, height, hash: blockHash(block.header) }) */
export interface BlockContext {
  params: NetworkParams;
  height: number;
  hash: Uint8Array;
}

// ---------------------------------------------------------------------------------------------
// Coin and item movements. Each checks before it writes; callers run inside a journal savepoint so
// that a failure further on undoes the earlier legs.

/** `a * b` as an amount, BAD_AMOUNT if it does not fit in u64. */
function mulAmount(a: bigint, lots: number, what: string): bigint {
  const p = a * BigInt(lots);
  if (p >= MAX_AMOUNT_EXCLUSIVE) fail('BAD_AMOUNT', `${what} overflows u64`);
  return p;
}

/**
 * Takes `amount` from `pub`'s spendable balance. A shortfall that the account's immature rewards
 * would cover is IMMATURE (the coins exist but are not spendable yet, coinbase maturity); any other
 * shortfall is INSUFFICIENT_FUNDS.
 */
function debitCoin(state: ChainState, pub: Uint8Array, amount: bigint): void {
  if (amount === 0n) return;
  const acc = state.account(pub);
  if (acc.balance < amount) {
    if (acc.balance + acc.immature >= amount) fail('IMMATURE', `needs ${amount}, spendable ${acc.balance}, rest not yet mature`);
    fail('INSUFFICIENT_FUNDS', `needs ${amount}, has ${acc.balance}`);
  }
  acc.balance -= amount;
  state.setAccount(pub, acc);
}

/** Adds `amount` to `pub`'s balance. balance + immature must stay < 2^64 (BAD_AMOUNT), so that maturing never overflows. */
function creditCoin(state: ChainState, pub: Uint8Array, amount: bigint): void {
  if (amount === 0n) return;
  const acc = state.account(pub);
  if (acc.balance + acc.immature + amount >= MAX_AMOUNT_EXCLUSIVE) fail('BAD_AMOUNT', 'balance would overflow u64');
  acc.balance += amount;
  state.setAccount(pub, acc);
}

function debitItem(state: ChainState, itemId: Uint8Array, owner: Uint8Array, quantity: bigint): void {
  const held = state.getHolding(itemId, owner);
  if (held < quantity) fail('INSUFFICIENT_FUNDS', `needs ${quantity} of the item, holds ${held}`);
  state.setHolding(itemId, owner, held - quantity);
}

function creditItem(state: ChainState, itemId: Uint8Array, owner: Uint8Array, quantity: bigint): void {
  const held = state.getHolding(itemId, owner);
  // Holdings never exceed supply, which is itself kept < 2^64; this guards the invariant anyway.
  if (held + quantity >= MAX_AMOUNT_EXCLUSIVE) fail('BAD_AMOUNT', 'holding would overflow u64');
  state.setHolding(itemId, owner, held + quantity);
}

function debitAsset(state: ChainState, asset: Asset, owner: Uint8Array, amount: bigint): void {
  if (asset.type === 'coin') debitCoin(state, owner, amount);
  else debitItem(state, asset.itemId, owner, amount);
}

function creditAsset(state: ChainState, asset: Asset, owner: Uint8Array, amount: bigint): void {
  if (asset.type === 'coin') creditCoin(state, owner, amount);
  else creditItem(state, asset.itemId, owner, amount);
}

function requireItemAsset(state: ChainState, asset: Asset): void {
  if (asset.type === 'item' && !state.getItem(asset.itemId)) fail('UNKNOWN_ITEM', 'offer names an item that does not exist');
}

function bytesEq(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Transactions.

/**
 * Applies one non-coinbase transaction to `state` at block height `ctx.height`, enforcing the
 * contextual rules; atomic (on a RuleError nothing is changed).
 *
 * Context-free rules (size, chainId, field bounds, signature) are {@link checkTxSanity}'s and are
 * assumed checked. In order: the sender's nonce must be its account nonce + 1 (BAD_NONCE); the fee
 * comes out of the spendable balance (INSUFFICIENT_FUNDS, or IMMATURE when only immature rewards
 * would cover it); then the kind's own rules:
 * - transfer: amount from balance to `to` (to self allowed: only the fee is lost).
 * - item.create: id = itemIdFor(from, sku), ITEM_EXISTS if taken; the issuer holds `quantity`.
 * - item.mint: UNKNOWN_ITEM, NOT_ISSUER; supply and the issuer's holding grow.
 * - item.transfer / item.burn: UNKNOWN_ITEM; holding must cover it (INSUFFICIENT_FUNDS).
 * - offer.create: every item asset must exist (UNKNOWN_ITEM); not already expired
 *   (expiresAtHeight < height → OFFER_EXPIRED); give×lots and want×lots must fit in u64
 *   (BAD_AMOUNT); give×lots moves from the maker into escrow; offerId = txid(tx).
 * - offer.accept: OFFER_NOT_FOUND, OFFER_EXPIRED (height > expiresAtHeight), SELF_TRADE,
 *   LOTS_EXCEEDED; the taker pays want×lots to the maker and receives give×lots from escrow —
 *   both legs or neither; the offer is deleted when no lots are left.
 * - offer.cancel: OFFER_NOT_FOUND, NOT_MAKER; the escrow of the lots left returns to the maker and
 *   the offer is deleted. Allowed after expiry: that is how an expired offer's escrow comes back.
 * Finally the account nonce becomes tx.nonce. A credit that would push a sum to 2^64 is BAD_AMOUNT.
 * @example
 * ```ts
 * applyTx(state, signTx({ chainId, kind: 'transfer', from, nonce: 1, fee: 100n, to, amount: 5n }, priv), { params, height })
 * ```
 */
export function applyTx(state: ChainState, tx: Transaction, ctx: TxContext): void {
  if (tx.kind === 'coinbase') fail('BAD_COINBASE', 'coinbase outside the first position');
  state.begin();
  try {
    applyTxInner(state, tx, ctx);
  } catch (e) {
    state.rollback();
    throw e;
  }
  state.commit();
}

function applyTxInner(state: ChainState, tx: Exclude<Transaction, { kind: 'coinbase' }>, ctx: TxContext): void {
  const from = tx.from;
  const sender = state.account(from);
  if (tx.nonce !== sender.nonce + 1) fail('BAD_NONCE', `expected nonce ${sender.nonce + 1}, got ${tx.nonce}`);
  debitCoin(state, from, tx.fee);

  switch (tx.kind) {
    case 'transfer':
      debitCoin(state, from, tx.amount);
      creditCoin(state, tx.to, tx.amount);
      break;
    case 'item.create':
      applyItemCreate(state, tx, ctx.height);
      break;
    case 'item.mint': {
      const item = state.getItem(tx.itemId) ?? fail('UNKNOWN_ITEM');
      if (!bytesEq(item.issuer, from)) fail('NOT_ISSUER', 'only the issuer may mint');
      if (item.supply + tx.quantity >= MAX_AMOUNT_EXCLUSIVE) fail('BAD_AMOUNT', 'supply would overflow u64');
      item.supply += tx.quantity;
      state.setItem(item);
      creditItem(state, tx.itemId, from, tx.quantity);
      break;
    }
    case 'item.transfer':
      if (!state.getItem(tx.itemId)) fail('UNKNOWN_ITEM');
      debitItem(state, tx.itemId, from, tx.quantity);
      creditItem(state, tx.itemId, tx.to, tx.quantity);
      break;
    case 'item.burn': {
      const item = state.getItem(tx.itemId) ?? fail('UNKNOWN_ITEM');
      debitItem(state, tx.itemId, from, tx.quantity);
      item.supply -= tx.quantity; // ≥ 0: the burner's holding is part of the supply
      state.setItem(item);
      break;
    }
    case 'offer.create':
      applyOfferCreate(state, tx, ctx.height);
      break;
    case 'offer.accept':
      applyOfferAccept(state, tx, ctx.height);
      break;
    case 'offer.cancel': {
      const offer = state.getOffer(tx.offerId) ?? fail('OFFER_NOT_FOUND');
      if (!bytesEq(offer.maker, from)) fail('NOT_MAKER', 'only the maker may cancel');
      state.deleteOffer(tx.offerId);
      creditAsset(state, offer.give.asset, offer.maker, offer.give.amount * BigInt(offer.lotsLeft));
      break;
    }
    default: {
      const never: never = tx;
      throw new RuleError('MALFORMED', `unknown transaction kind ${(never as Transaction).kind}`);
    }
  }

  // Re-read: the kind may have changed the sender's balance. The nonce is set last.
  const after = state.account(from);
  after.nonce = tx.nonce;
  state.setAccount(from, after);
}

function applyItemCreate(state: ChainState, tx: TxOfKind<'item.create'>, height: number): void {
  const itemId = itemIdFor(tx.from, tx.sku);
  if (state.getItem(itemId)) fail('ITEM_EXISTS', `item ${tx.sku} already exists for this issuer`);
  if (tx.quantity >= MAX_AMOUNT_EXCLUSIVE) fail('BAD_AMOUNT', 'quantity overflows u64');
  state.setItem({ itemId, issuer: tx.from, sku: tx.sku, name: tx.name, supply: tx.quantity, createdHeight: height });
  creditItem(state, itemId, tx.from, tx.quantity);
}

function applyOfferCreate(state: ChainState, tx: TxOfKind<'offer.create'>, height: number): void {
  requireItemAsset(state, tx.give.asset);
  requireItemAsset(state, tx.want.asset);
  if (tx.expiresAtHeight !== null && tx.expiresAtHeight < height) fail('OFFER_EXPIRED', `expires at ${tx.expiresAtHeight}, now ${height}`);
  // Both totals must be u64 so that any accept (≤ all lots) computes in range.
  const escrow = mulAmount(tx.give.amount, tx.lots, 'give × lots');
  mulAmount(tx.want.amount, tx.lots, 'want × lots');
  debitAsset(state, tx.give.asset, tx.from, escrow);
  const offer: Offer = {
    offerId: txid(tx),
    maker: tx.from,
    give: tx.give,
    want: tx.want,
    lotsLeft: tx.lots,
    lotsTotal: tx.lots,
    expiresAtHeight: tx.expiresAtHeight,
    createdHeight: height,
  };
  // A txid is unique (it commits to (from, nonce)), so an offer id cannot be taken already.
  state.setOffer(offer);
}

function applyOfferAccept(state: ChainState, tx: TxOfKind<'offer.accept'>, height: number): void {
  const offer = state.getOffer(tx.offerId) ?? fail('OFFER_NOT_FOUND');
  if (offer.expiresAtHeight !== null && height > offer.expiresAtHeight) fail('OFFER_EXPIRED', `expired at ${offer.expiresAtHeight}, now ${height}`);
  if (bytesEq(offer.maker, tx.from)) fail('SELF_TRADE', 'the maker cannot take its own offer (cancel it instead)');
  if (tx.lots > offer.lotsLeft) fail('LOTS_EXCEEDED', `wants ${tx.lots} lots, ${offer.lotsLeft} left`);
  const pay = mulAmount(offer.want.amount, tx.lots, 'want × lots');
  const receive = mulAmount(offer.give.amount, tx.lots, 'give × lots');
  // Leg 1: taker → maker (checked before anything moves). Leg 2: escrow → taker. Any failure in
  // either undoes both, because applyTx runs inside a savepoint.
  debitAsset(state, offer.want.asset, tx.from, pay);
  creditAsset(state, offer.want.asset, offer.maker, pay);
  offer.lotsLeft -= tx.lots;
  if (offer.lotsLeft === 0) state.deleteOffer(offer.offerId);
  else state.setOffer(offer);
  creditAsset(state, offer.give.asset, tx.from, receive);
}

// ---------------------------------------------------------------------------------------------
// Blocks.

/**
 * Step (1) of {@link applyBlock}: the coinbase reward of block `height − coinbaseMaturity`
 * matures — its `m:` entry is deleted and its amount moves from the miner's `immature` to
 * `balance`. Exported for callers that check transactions against the next block's state
 * (mempool, template) without a block: run it inside a savepoint, then {@link applyTx}.
 * @example
 * ```ts
 * state.begin(); try { matureRewards(state, params, tip + 1); applyTx(state, tx, { params, height: tip + 1 }) } finally { state.rollback() }
 * ```
 */
export function matureRewards(state: ChainState, params: NetworkParams, height: number): void {
  // Maturity 0 would mature a reward in the block that creates it, before it exists.
  if (!(params.coinbaseMaturity >= 1)) throw new RangeError('coinbaseMaturity must be ≥ 1');
  const maturedHeight = height - params.coinbaseMaturity;
  if (maturedHeight < 1) return;
  const reward = state.getMaturing(maturedHeight);
  if (!reward) return;
  state.deleteMaturing(maturedHeight);
  const acc = state.account(reward.miner);
  acc.immature -= reward.amount;
  acc.balance += reward.amount;
  state.setAccount(reward.miner, acc);
}

/**
 * Connects a block to `state` at `ctx.height` (≥ 1; genesis is never applied, the state at height
 * 0 is empty) and returns its undo record. All or nothing: on any error the state is rolled back
 * and the error rethrown.
 *
 * Order: (1) the reward of block `height − coinbaseMaturity` matures — its `m:` entry is deleted
 * and its amount moves from the miner's `immature` to `balance`, so a reward of block h is
 * spendable by transactions of block h + maturity on; (2) txs[0] must be a coinbase for this very
 * height and no other transaction may be one (BAD_COINBASE); (3) every other transaction applies
 * in order ({@link applyTx}); (4) the reward blockReward(height) + Σ fees is recorded as maturing
 * (`m:<height>`) and added to the miner's `immature` — a reward of 0 (past the last halving, no
 * fees) records nothing, so there is never an `m:` entry of amount 0.
 *
 * May run inside an open savepoint (e.g. to trial-connect a template and roll it back); then the
 * returned changes are the raw write log rather than one change per key — equally valid for
 * undoBlock / applyChanges.
 * @example
 * ```ts
 * const undo = applyBlock(state, block, { params, height: tip.height + 1, hash: blockHash(block.header) });
 * undoBlock(state, undo); // back where it was
 * ```
 */
export function applyBlock(state: ChainState, block: Block, ctx: BlockContext): BlockUndo {
  const { params, height, hash } = ctx;
  if (!Number.isSafeInteger(height) || height < 1) throw new RangeError(`applyBlock: height ${height} (genesis is not applied)`);
  state.begin();
  try {
    // (1) maturity
    matureRewards(state, params, height);

    // (2) coinbase
    const coinbase = block.txs[0];
    if (!coinbase || coinbase.kind !== 'coinbase') fail('BAD_COINBASE', 'first transaction is not a coinbase');
    if (coinbase.height !== height) fail('BAD_COINBASE', `coinbase height ${coinbase.height}, block height ${height}`);

    // (3) transactions
    let fees = 0n;
    const txCtx: TxContext = { params, height };
    for (let i = 1; i < block.txs.length; i++) {
      const tx = block.txs[i];
      applyTx(state, tx, txCtx); // a second coinbase fails there with BAD_COINBASE
      fees += tx.fee;
    }

    // (4) reward
    const amount = blockReward(params, height) + fees;
    if (amount > 0n) {
      const acc = state.account(coinbase.miner);
      if (acc.balance + acc.immature + amount >= MAX_AMOUNT_EXCLUSIVE) fail('BAD_AMOUNT', 'miner balance would overflow u64');
      acc.immature += amount;
      state.setAccount(coinbase.miner, acc);
      state.setMaturing({ height, miner: coinbase.miner, amount });
    }
  } catch (e) {
    state.rollback();
    throw e;
  }
  return { hash: hash.slice(), height, changes: state.commit() };
}

/**
 * Disconnects the block whose undo record this is: restores every `before` in reverse order.
 * Afterwards the state is identical (same keys, same values) to the state before
 * {@link applyBlock}. Throws Error (nothing changed) if `state` is not the state that block left.
 * @example undoBlock(state, undo)
 */
export function undoBlock(state: ChainState, undo: BlockUndo): void {
  state.revertChanges(undo.changes);
}
