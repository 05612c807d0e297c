/**
 * The mempool: valid transactions waiting for a block, as a policy layer over the consensus
 * rules (Bitcoin Core `CTxMemPool` + `MemPoolAccept`, adapted to an account model with per-account
 * nonces, like Ethereum's txpool).
 *
 * Policy, in the order {@link Mempool.add} applies it:
 * 1. no coinbase (BAD_COINBASE); a txid already held is a no-op (`added: false`, checked first:
 *    txid commits to every field but the signature, so a copy with another signature is also
 *    answered as known, never added);
 * 2. {@link checkTxSanity} (chain id, field bounds, size, signature);
 * 3. fee ≥ params.minFeePerByte × encoded size (BAD_FEE);
 * 4. nonce: ≤ the sender's confirmed nonce is stale (BAD_NONCE); more than `maxPerSender` ahead of
 *    it is refused (BAD_NONCE) — that bounds what one key can park here;
 * 5. replacement: a tx with the same (from, nonce) as a pending one replaces it only with a
 *    strictly higher fee AND a strictly higher fee rate (BAD_FEE otherwise), as BIP125 rules 3/6;
 * 6. contextual validity: inside a state savepoint that is always rolled back (the real state is
 *    never changed) the rewards maturing at the next height are credited (as applyBlock does
 *    first), then the sender's pending chain from its confirmed nonce + 1, then this tx, are run
 *    through {@link applyTx} at height tip + 1. Its RuleError (INSUFFICIENT_FUNDS, IMMATURE,
 *    OFFER_NOT_FOUND, …) rejects the tx.
 *    Decision: a tx is validated against the CONFIRMED state plus its OWN sender's pending chain,
 *    not other senders' pending transactions. Only the sender can spend its own coins, so the
 *    sender's chain is what decides whether it can pay; depending on other senders' unconfirmed
 *    txs (accepting an offer that is itself still in the mempool, spending coins received in a
 *    pending transfer) would make a tx's validity hinge on others' txs being mined first and make
 *    removal cascade across accounts. Such a tx is rejected (OFFER_NOT_FOUND, INSUFFICIENT_FUNDS)
 *    and can be sent again once the other tx is confirmed. Txs of different senders that conflict
 *    (two takers of the last lot of one offer) may both be pending; the block template applies
 *    them in order and skips the one that fails, and {@link Mempool.removeForBlock} drops it.
 *    A tx whose nonce leaves a gap (n + 2 while n + 1 is missing) cannot be run yet: it is kept as
 *    "future" and validated when the gap fills (then, or on any later re-check, it is dropped if
 *    it fails). Futures are second class, because nothing they declare has been shown to be paid
 *    (issue 11: unfunded keys once filled the pool with gapped txs declaring high fees):
 *    - funding: after the sender's ready chain has run in the savepoint, its spendable balance
 *      must cover the fees of its futures, lowest nonce first (INSUFFICIENT_FUNDS for the first
 *      that it does not cover, and for the later ones) — an unfunded key parks nothing;
 *    - at most `maxFuturePerSender` futures per sender (BAD_NONCE beyond);
 * 7. size cap (count and bytes) and future quota (`maxFutureCount`, `maxFutureBytes`): while over
 *    a bound, the victim is chosen among the LAST txs of each sender's chain (a tx that a later tx
 *    of the same sender depends on is never evicted before it): first the futures among them,
 *    lowest fee rate first (newest first among equals), and only when no future is left the ready
 *    ones, the same way. A future tx therefore never evicts a ready one: it is itself the victim
 *    before any ready tx. If the victim would be the new tx itself, it is refused (BAD_FEE,
 *    "mempool full") and nothing changes.
 *
 * The caller learns from {@link MempoolAddResult.future} that a tx was kept only as future: the
 * node does not relay those (peers could not check them either). Re-checks after a block
 * ({@link Mempool.revalidate}) apply the funding rule again but not the quotas, so a reorg that
 * turns ready txs into futures for a moment never evicts them; the next add restores the quotas.
 *
 * Pure: time is passed in (seconds); no events — the caller announces changes.
 *
 * Size (~710 lines, ~60 of them this note): one unit on purpose. The seven policy steps above,
 * the sender-chain check, the future bookkeeping and the eviction plan all read and change the
 * same indexes (by txid, by sender, the future set and its byte/count totals) and must keep them
 * consistent within one add; the largest separable piece, the eviction plan (~70 lines), walks
 * those indexes directly, so moving it out would only hand the pool's private state across files.
 * @module
 */
import { applyTx, matureRewards } from './apply.ts';
import { bytesToHex } from './bytes.ts';
import { RuleError, fail, type RuleCode } from './errors.ts';
import { hashToHex } from './hash.ts';
import type { ChainState } from './state.ts';
import { checkTxSanity, txSize, txid as txidOf } from './tx.ts';
import type { SignatureCache } from './sigcache.ts';
import type { Block, NetworkParams, Transaction } from './types.ts';

/** A pending transaction with its bookkeeping. */
export interface MempoolEntry {
  tx: Transaction;
  /** sha256d of the unsigned encoding (internal order). */
  txid: Uint8Array;
  /** txid in display hex (the map key). */
  id: string;
  /** Sender public key as hex. */
  sender: string;
  nonce: number;
  /** Encoded size in bytes. */
  size: number;
  fee: bigint;
  /** fee / size, for display; comparisons use exact integer cross-multiplication. */
  feeRate: number;
  /** Arrival time, seconds. */
  addedAt: number;
  /** Arrival order (ties). */
  seq: number;
}

/** A pending tx that was removed because it is no longer valid, with the rule it broke. */
export interface MempoolRejection {
  entry: MempoolEntry;
  code: RuleCode;
  error: RuleError;
}

/**
 * The chain position a transaction is checked at: `state` must be the state after the block at
 * `height` (the current tip), and transactions are validated for inclusion in block `height + 1`.
 */
export interface MempoolContext {
  params: NetworkParams;
  /** Height of the tip whose state is passed in (NOT the next block's height). */
  height: number;
}

/** {@link MempoolContext} plus the current time (seconds), for calls that add transactions. */
export interface MempoolAddContext extends MempoolContext {
  now: number;
}

/** What {@link Mempool.add} did. */
export interface MempoolAddResult {
  /** False when this txid was already pending (nothing changed). */
  added: boolean;
  entry: MempoolEntry;
  /** Whether it waits behind a nonce gap (validated once the gap fills). */
  future: boolean;
  /** The pending tx with the same (from, nonce) that it replaced. */
  replaced?: MempoolEntry;
  /** Later txs of the same sender that the new tx made invalid, now removed. */
  invalidated: MempoolRejection[];
  /** Txs evicted to stay within the size cap. */
  evicted: MempoolEntry[];
}

/** Size bounds of a {@link Mempool}. */
export interface MempoolOptions {
  /** Most transactions held (default 20,000). */
  maxCount?: number;
  /** Most encoded bytes held (default 8 MiB). */
  maxBytes?: number;
  /** Most pending transactions per sender, and how far ahead of its confirmed nonce (default 256). */
  maxPerSender?: number;
  /** Most transactions of one sender behind a nonce gap (default 16, at most `maxPerSender`). */
  maxFuturePerSender?: number;
  /** Most transactions behind a nonce gap in all (default a tenth of `maxCount`). 0: none. */
  maxFutureCount?: number;
  /** Most encoded bytes behind a nonce gap in all (default a tenth of `maxBytes`). 0: none. */
  maxFutureBytes?: number;
  /** Shared with block validation so a block's transactions seen here are not verified twice. */
  sigCache?: SignatureCache;
}

export const DEFAULT_MEMPOOL_MAX_COUNT = 20_000;
export const DEFAULT_MEMPOOL_MAX_BYTES = 8 * 1024 * 1024;
export const DEFAULT_MEMPOOL_MAX_PER_SENDER = 256;
/**
 * Futures per sender: a wallet that sends faster than its txs propagate may briefly leave a gap
 * of a few nonces; 16 covers that, and keeps one key from taking much of the future quota.
 */
export const DEFAULT_MEMPOOL_MAX_FUTURE_PER_SENDER = 16;
/** The default future quota is this fraction (1/n) of the count and byte bounds. */
export const MEMPOOL_FUTURE_SHARE = 10;

/**
 * Compares fee rates exactly (fee/size as fractions): > 0 if `a` pays more per byte than `b`.
 * @example entries.sort((a, b) => compareFeeRate(b, a)) // best first
 */
export function compareFeeRate(a: { fee: bigint; size: number }, b: { fee: bigint; size: number }): number {
  const l = a.fee * BigInt(b.size);
  const r = b.fee * BigInt(a.size);
  return l > r ? 1 : l < r ? -1 : 0;
}


interface SenderCheck {
  /** nonce ≤ confirmed: already used on chain. */
  stale: MempoolEntry[];
  /** contiguous from confirmed + 1 and valid in order. */
  valid: MempoolEntry[];
  /** the first one that failed, with its error. */
  failed?: { entry: MempoolEntry; error: RuleError };
  /** after a failed one: they need it. */
  dependents: MempoolEntry[];
  /** behind a nonce gap, their fees covered by the balance left after `valid`: not run. */
  future: MempoolEntry[];
  /** behind a nonce gap, from the first whose fee the balance no longer covers. */
  unfunded: MempoolEntry[];
}

function byNonce(a: MempoolEntry, b: MempoolEntry): number {
  return a.nonce - b.nonce;
}

/**
 * Pending transactions, ordered by fee rate, in per-account nonce chains.
 * @example
 * ```ts
 * const pool = new Mempool();
 * try {
 *   pool.add(tx, state, { params, height: tip.height, now });
 * } catch (e) {
 *   if (e instanceof RuleError) reject(e.code);
 * }
 * // after connecting a block:
 * const { invalid } = pool.removeForBlock(block, state, { params, height: tip.height });
 * ```
 */
export class Mempool {
  readonly maxCount: number;
  readonly maxBytes: number;
  readonly maxPerSender: number;
  readonly maxFuturePerSender: number;
  readonly maxFutureCount: number;
  readonly maxFutureBytes: number;
  private readonly byId = new Map<string, MempoolEntry>();
  /** Per sender: its entries sorted by nonce (unique nonces). */
  private readonly bySender = new Map<string, MempoolEntry[]>();
  private totalBytes = 0;
  private nextSeq = 0;
  /** The entries that wait behind a nonce gap, as the last check of their sender found them. */
  private readonly futures = new Set<MempoolEntry>();
  private futureTotalBytes = 0;

  readonly #sigCache: SignatureCache | undefined;

  constructor(opts: MempoolOptions = {}) {
    this.maxCount = opts.maxCount ?? DEFAULT_MEMPOOL_MAX_COUNT;
    this.maxBytes = opts.maxBytes ?? DEFAULT_MEMPOOL_MAX_BYTES;
    this.maxPerSender = opts.maxPerSender ?? DEFAULT_MEMPOOL_MAX_PER_SENDER;
    this.maxFuturePerSender = opts.maxFuturePerSender ?? Math.min(DEFAULT_MEMPOOL_MAX_FUTURE_PER_SENDER, this.maxPerSender);
    this.maxFutureCount = opts.maxFutureCount ?? Math.max(1, Math.floor(this.maxCount / MEMPOOL_FUTURE_SHARE));
    this.maxFutureBytes = opts.maxFutureBytes ?? Math.max(1, Math.floor(this.maxBytes / MEMPOOL_FUTURE_SHARE));
    this.#sigCache = opts.sigCache;
    for (const [k, v] of Object.entries({ maxCount: this.maxCount, maxBytes: this.maxBytes, maxPerSender: this.maxPerSender })) {
      if (!(Number.isSafeInteger(v) && v >= 1)) throw new RangeError(`Mempool: ${k} must be a positive integer`);
    }
    for (const [k, v] of Object.entries({ maxFuturePerSender: this.maxFuturePerSender, maxFutureCount: this.maxFutureCount, maxFutureBytes: this.maxFutureBytes })) {
      if (!(Number.isSafeInteger(v) && v >= 0)) throw new RangeError(`Mempool: ${k} must be a non-negative integer`);
    }
  }

  /** Number of pending transactions. @example pool.size */
  get size(): number {
    return this.byId.size;
  }

  /** Total encoded bytes pending. @example pool.bytes */
  get bytes(): number {
    return this.totalBytes;
  }

  /** Number of pending transactions behind a nonce gap. @example pool.futureCount <= pool.maxFutureCount */
  get futureCount(): number {
    return this.futures.size;
  }

  /** Encoded bytes of the pending transactions behind a nonce gap. @example pool.futureBytes */
  get futureBytes(): number {
    return this.futureTotalBytes;
  }

  /**
   * Whether a pending tx (txid bytes or display hex) waits behind a nonce gap of its sender.
   * @example if (pool.isFuture(id)) return 'not relayed'
   */
  isFuture(txid: Uint8Array | string): boolean {
    const e = this.get(txid);
    return e !== undefined && this.futures.has(e);
  }

  /** The entry of a txid (bytes, internal order, or display hex). @example pool.get(txidHex)?.fee */
  get(txid: Uint8Array | string): MempoolEntry | undefined {
    return this.byId.get(typeof txid === 'string' ? txid.toLowerCase() : hashToHex(txid));
  }

  /** Whether a txid is pending. @example if (!pool.has(id)) relay(tx) */
  has(txid: Uint8Array | string): boolean {
    return this.get(txid) !== undefined;
  }

  /**
   * Every pending entry, highest fee rate first (ties: earliest first).
   * @example pool.all().map((e) => e.id)
   */
  all(): MempoolEntry[] {
    return [...this.byId.values()].sort((a, b) => compareFeeRate(b, a) || a.seq - b.seq);
  }

  /**
   * The pending entries of one sender (32-byte public key), in nonce order.
   * @example pool.pendingFor(myPub).length
   */
  pendingFor(sender: Uint8Array): MempoolEntry[] {
    return [...(this.bySender.get(bytesToHex(sender)) ?? [])];
  }

  /**
   * Every sender's pending chain in nonce order (what the block template walks).
   * @example for (const chain of pool.senderChains()) console.log(chain[0].sender, chain.length)
   */
  senderChains(): MempoolEntry[][] {
    return [...this.bySender.values()].map((c) => [...c]);
  }

  // --- add ---------------------------------------------------------------------------------------

  /**
   * Validates and adds a transaction (see the module doc for the policy). Throws the RuleError of
   * the first rule it breaks; on a throw nothing has changed. `state` is only read (a savepoint is
   * opened and rolled back).
   * @example
   * ```ts
   * const { entry, evicted } = pool.add(tx, state, { params, height: tip.height, now: nowSeconds });
   * ```
   */
  add(tx: Transaction, state: ChainState, ctx: MempoolAddContext): MempoolAddResult {
    const { params, now } = ctx;
    if (tx?.kind === 'coinbase') fail('BAD_COINBASE', 'a coinbase is never relayed');
    // A known txid is answered before the signature check (the costly part of sanity). Only an
    // encodable tx has a txid; anything else is left for checkTxSanity to name.
    let txid: Uint8Array | undefined;
    try {
      txid = txidOf(tx);
    } catch {
      txid = undefined;
    }
    const known = txid && this.byId.get(hashToHex(txid));
    if (known) return { added: false, entry: known, future: false, invalidated: [], evicted: [] };
    checkTxSanity(tx, params, this.#sigCache);
    txid ??= txidOf(tx);
    const id = hashToHex(txid);

    const size = txSize(tx);
    if (tx.fee < params.minFeePerByte * BigInt(size)) {
      fail('BAD_FEE', `fee ${tx.fee} below ${params.minFeePerByte}/byte × ${size} bytes`);
    }
    const confirmed = state.account(tx.from).nonce;
    if (tx.nonce <= confirmed) fail('BAD_NONCE', `nonce ${tx.nonce} already used (account nonce ${confirmed})`);
    if (tx.nonce > confirmed + this.maxPerSender) {
      fail('BAD_NONCE', `nonce ${tx.nonce} too far ahead of the account nonce ${confirmed} (at most ${this.maxPerSender} pending)`);
    }

    const sender = bytesToHex(tx.from);
    const chain = this.bySender.get(sender) ?? [];
    const existing = chain.find((e) => e.nonce === tx.nonce);
    const entry: MempoolEntry = {
      tx,
      txid,
      id,
      sender,
      nonce: tx.nonce,
      size,
      fee: tx.fee,
      feeRate: Number(tx.fee) / size,
      addedAt: now,
      seq: this.nextSeq,
    };
    if (existing && !(tx.fee > existing.fee && compareFeeRate(entry, existing) > 0)) {
      fail('BAD_FEE', `replacing pending nonce ${tx.nonce} needs a higher fee and fee rate than ${existing.fee}`);
    }

    const candidate = chain.filter((e) => e !== existing);
    candidate.push(entry);
    candidate.sort(byNonce);
    const check = this.checkSender(state, ctx, candidate);
    if (check.failed?.entry === entry) throw check.failed.error;
    if (check.dependents.includes(entry)) {
      const f = check.failed!;
      fail('BAD_NONCE', `pending nonce ${f.entry.nonce} of this sender is no longer valid (${f.error.code})`);
    }
    if (check.unfunded.includes(entry)) {
      fail('INSUFFICIENT_FUNDS', `the balance does not cover the fees of this sender's transactions behind the nonce gap`);
    }
    const future = check.future.includes(entry);
    if (future && check.future.length > this.maxFuturePerSender) {
      fail('BAD_NONCE', `at most ${this.maxFuturePerSender} transactions of one sender wait behind a nonce gap`);
    }

    const remove = new Set<MempoolEntry>([...check.stale, ...check.dependents, ...check.unfunded]);
    if (existing) remove.add(existing);
    if (check.failed) remove.add(check.failed.entry);
    const evicted = this.planEviction(entry, remove, check.future);
    if (evicted.includes(entry)) {
      fail('BAD_FEE', future ? 'mempool full: no room for a transaction behind a nonce gap' : 'mempool full: fee rate too low');
    }

    // Commit.
    this.nextSeq++;
    const invalidated = this.rejections(check);
    for (const e of remove) this.removeEntry(e);
    this.insertEntry(entry);
    this.markFutures(sender, check.future);
    for (const e of evicted) this.removeEntry(e);
    return { added: true, entry, future, replaced: existing, invalidated, evicted };
  }

  // --- chain updates -------------------------------------------------------------------------

  /**
   * After a block connected (`state` is the state after it): removes its transactions as
   * confirmed, then re-checks every pending chain against the new state and removes what is no
   * longer valid — stale nonces (another tx with that nonce was confirmed), txs that now fail a
   * rule (e.g. both takers of one offer were pending), and what depends on them.
   * @example
   * ```ts
   * const { confirmed, invalid } = pool.removeForBlock(block, state, { params, height });
   * for (const r of invalid) wallet.markRejected(r.entry.id, r.code);
   * ```
   */
  removeForBlock(block: Block, state: ChainState, ctx: MempoolContext): { confirmed: MempoolEntry[]; invalid: MempoolRejection[] } {
    return this.removeForBlocks([block], state, ctx);
  }

  /**
   * {@link removeForBlock} for several connected blocks at once (after a reorg, `state` being the
   * state after the last of them): all their transactions count as confirmed before the re-check.
   * @example pool.removeForBlocks(path.connect.map(blockOf), state, ctx)
   */
  removeForBlocks(blocks: readonly Block[], state: ChainState, ctx: MempoolContext): { confirmed: MempoolEntry[]; invalid: MempoolRejection[] } {
    const confirmed: MempoolEntry[] = [];
    for (const b of blocks) {
      for (const tx of b.txs) {
        if (tx.kind === 'coinbase') continue;
        const e = this.byId.get(hashToHex(txidOf(tx)));
        if (e) {
          this.removeEntry(e);
          confirmed.push(e);
        }
      }
    }
    return { confirmed, invalid: this.revalidate(state, ctx) };
  }

  /**
   * Re-checks every pending chain against `state` (see {@link removeForBlock}) and removes the
   * invalid entries, returned with their codes. Dependents of a failed tx are reported BAD_NONCE.
   * @example const invalid = pool.revalidate(state, ctx)
   */
  revalidate(state: ChainState, ctx: MempoolContext): MempoolRejection[] {
    const out: MempoolRejection[] = [];
    for (const [sender, chain] of [...this.bySender]) {
      const check = this.checkSender(state, ctx, [...chain]);
      const rejected = this.rejections(check);
      for (const r of rejected) this.removeEntry(r.entry);
      this.markFutures(sender, check.future);
      out.push(...rejected);
    }
    return out;
  }

  /**
   * Re-admits the transactions of blocks disconnected by a reorg (`state` = state after the
   * reorg): first re-checks the pool against `state`, then adds each tx (coinbases skipped) through
   * the normal policy. Pass them oldest block first; other orders work too (a nonce gap waits as
   * "future" until filled). Txs that no longer fit (their nonce was used on the new chain, …) come
   * back in `rejected`.
   * @example
   * ```ts
   * pool.readmit(path.disconnect.reverse().flatMap((e) => blockOf(e).txs), state, { params, height, now });
   * ```
   */
  readmit(
    txs: readonly Transaction[],
    state: ChainState,
    ctx: MempoolAddContext,
  ): { readmitted: MempoolEntry[]; rejected: { tx: Transaction; error: RuleError }[]; invalid: MempoolRejection[] } {
    const invalid = this.revalidate(state, ctx);
    const readmitted: MempoolEntry[] = [];
    const rejected: { tx: Transaction; error: RuleError }[] = [];
    for (const tx of txs) {
      if (tx.kind === 'coinbase') continue;
      try {
        const r = this.add(tx, state, ctx);
        if (r.added) readmitted.push(r.entry);
        invalid.push(...r.invalidated);
      } catch (e) {
        if (!(e instanceof RuleError)) throw e;
        rejected.push({ tx, error: e });
      }
    }
    // An entry readmitted early may have been dropped again by a later add.
    return { readmitted: readmitted.filter((e) => this.byId.get(e.id) === e), rejected, invalid };
  }

  /**
   * The whole mempool update after a reorg, in the order that classifies each tx right: the
   * transactions of `connected` blocks count as confirmed (removed, and not readmitted), then the
   * other transactions of `disconnected` blocks are readmitted against `state` (the state after
   * the reorg) and every chain is re-checked.
   * @example
   * ```ts
   * const r = pool.afterReorg(oldBlocks, newBlocks, state, { params, height: newTip.height, now });
   * ```
   */
  afterReorg(
    disconnected: readonly Block[],
    connected: readonly Block[],
    state: ChainState,
    ctx: MempoolAddContext,
  ): { confirmed: MempoolEntry[]; readmitted: MempoolEntry[]; rejected: { tx: Transaction; error: RuleError }[]; invalid: MempoolRejection[] } {
    const confirmedIds = new Set<string>();
    for (const b of connected) for (const tx of b.txs) if (tx.kind !== 'coinbase') confirmedIds.add(hashToHex(txidOf(tx)));
    const confirmed: MempoolEntry[] = [];
    for (const id of confirmedIds) {
      const e = this.byId.get(id);
      if (e) {
        this.removeEntry(e);
        confirmed.push(e);
      }
    }
    const oldTxs = [...disconnected]
      .sort((a, b) => firstHeight(a) - firstHeight(b))
      .flatMap((b) => b.txs)
      .filter((tx) => tx.kind !== 'coinbase' && !confirmedIds.has(hashToHex(txidOf(tx))));
    return { confirmed, ...this.readmit(oldTxs, state, ctx) };
  }

  /**
   * Removes transactions that have waited more than `maxAgeSeconds` (added before
   * `now − maxAgeSeconds`), with the later txs of the same sender, which depend on them.
   * @example pool.expire(now, 14 * 24 * 3600)
   */
  expire(now: number, maxAgeSeconds: number): MempoolEntry[] {
    const removed: MempoolEntry[] = [];
    for (const chain of [...this.bySender.values()]) {
      const i = chain.findIndex((e) => now - e.addedAt > maxAgeSeconds);
      if (i < 0) continue;
      for (const e of chain.slice(i)) {
        this.removeEntry(e);
        removed.push(e);
      }
    }
    return removed;
  }

  /** Removes one tx (and its sender's later txs, which need it). @example pool.remove(txid) */
  remove(txid: Uint8Array | string): MempoolEntry[] {
    const e = this.get(txid);
    if (!e) return [];
    const chain = this.bySender.get(e.sender)!;
    const gone = chain.slice(chain.indexOf(e));
    for (const g of gone) this.removeEntry(g);
    return gone;
  }

  // --- internals -----------------------------------------------------------------------------

  /** Runs a sender's chain (sorted by nonce) in a rolled-back savepoint. */
  private checkSender(state: ChainState, ctx: MempoolContext, chain: MempoolEntry[]): SenderCheck {
    const res: SenderCheck = { stale: [], valid: [], dependents: [], future: [], unfunded: [] };
    if (chain.length === 0) return res;
    const confirmed = state.account(chain[0].tx.from).nonce;
    const height = ctx.height + 1;
    let i = 0;
    for (; i < chain.length && chain[i].nonce <= confirmed; i++) res.stale.push(chain[i]);
    state.begin();
    try {
      matureRewards(state, ctx.params, height);
      let expected = confirmed + 1;
      for (; i < chain.length; i++) {
        const e = chain[i];
        if (e.nonce !== expected) break;
        try {
          applyTx(state, e.tx, { params: ctx.params, height });
        } catch (err) {
          if (!(err instanceof RuleError)) throw err;
          res.failed = { entry: e, error: err };
          res.dependents = chain.slice(i + 1);
          return res;
        }
        res.valid.push(e);
        expected++;
      }
      // What the ready chain leaves must pay the fees the futures declare, lowest nonce first.
      let balance = state.account(chain[0].tx.from).balance;
      for (; i < chain.length && chain[i].fee <= balance; i++) {
        balance -= chain[i].fee;
        res.future.push(chain[i]);
      }
      res.unfunded = chain.slice(i);
      return res;
    } finally {
      state.rollback();
    }
  }

  private rejections(check: SenderCheck): MempoolRejection[] {
    const out: MempoolRejection[] = [];
    for (const e of check.stale) {
      out.push(rejection(e, new RuleError('BAD_NONCE', `nonce ${e.nonce} was used by a confirmed transaction`)));
    }
    if (check.failed) out.push(rejection(check.failed.entry, check.failed.error));
    for (const e of check.dependents) {
      out.push(rejection(e, new RuleError('BAD_NONCE', `depends on nonce ${check.failed!.entry.nonce}, which is invalid`)));
    }
    for (const e of check.unfunded) {
      out.push(rejection(e, new RuleError('INSUFFICIENT_FUNDS', `the balance no longer covers the fee of nonce ${e.nonce}, behind a nonce gap`)));
    }
    return out;
  }

  /**
   * Which entries to evict so that the pool, after adding `added` (its sender's futures then
   * being `senderFutures`) and removing `removed` (entries of the same sender), is within its
   * bounds and its future quota: repeatedly the lowest-fee-rate tail (last nonce) of any sender's
   * chain, the newest first among equals — a future tail while there is one, a ready tail only
   * when no future is left. Nothing is changed here.
   */
  private planEviction(added: MempoolEntry, removed: Set<MempoolEntry>, senderFutures: readonly MempoolEntry[]): MempoolEntry[] {
    const isFuture = new Set(this.futures);
    let count = this.byId.size + 1;
    let bytes = this.totalBytes + added.size;
    let futureCount = this.futures.size;
    let futureBytes = this.futureTotalBytes;
    for (const e of this.bySender.get(added.sender) ?? []) {
      if (!isFuture.delete(e)) continue;
      futureCount--;
      futureBytes -= e.size;
    }
    for (const e of senderFutures) {
      isFuture.add(e);
      futureCount++;
      futureBytes += e.size;
    }
    for (const e of removed) {
      count--;
      bytes -= e.size;
    }
    const futuresOver = () => futureCount > this.maxFutureCount || futureBytes > this.maxFutureBytes;
    const poolOver = () => count > this.maxCount || bytes > this.maxBytes;
    if (!poolOver() && !futuresOver()) return [];
    const chains: MempoolEntry[][] = [];
    for (const [sender, chain] of this.bySender) {
      const c = chain.filter((e) => !removed.has(e));
      if (sender === added.sender) {
        c.push(added);
        c.sort(byNonce);
      }
      if (c.length) chains.push(c);
    }
    if (!this.bySender.has(added.sender)) chains.push([added]);
    /** Index of the chain whose tail is the cheapest among the tails that pass `eligible`, or -1. */
    const cheapestTail = (eligible: (e: MempoolEntry) => boolean): number => {
      let worst = -1;
      for (let i = 0; i < chains.length; i++) {
        const c = chains[i];
        if (c.length === 0 || !eligible(c[c.length - 1])) continue;
        if (worst < 0) {
          worst = i;
          continue;
        }
        const t = c[c.length - 1];
        const w = chains[worst][chains[worst].length - 1];
        const cmp = compareFeeRate(t, w);
        if (cmp < 0 || (cmp === 0 && t.seq > w.seq)) worst = i;
      }
      return worst;
    };
    const victims: MempoolEntry[] = [];
    while (poolOver() || futuresOver()) {
      let worst = cheapestTail((e) => isFuture.has(e));
      // No future left (so `added` is ready): only the pool bounds can still be over.
      if (worst < 0) worst = cheapestTail(() => true);
      if (worst < 0) break; // nothing left to evict (cannot happen: `added` is always a tail candidate)
      const victim = chains[worst].pop()!;
      victims.push(victim);
      count--;
      bytes -= victim.size;
      if (isFuture.has(victim)) {
        futureCount--;
        futureBytes -= victim.size;
      }
      if (victim === added) break; // the caller refuses the tx; no need to go on
    }
    return victims;
  }

  /** Records which entries of `sender`'s chain wait behind its nonce gap (after a check of it). */
  private markFutures(sender: string, futures: readonly MempoolEntry[]): void {
    const now = new Set(futures);
    for (const e of this.bySender.get(sender) ?? []) {
      if (now.has(e) === this.futures.has(e)) continue;
      if (now.has(e)) {
        this.futures.add(e);
        this.futureTotalBytes += e.size;
      } else {
        this.futures.delete(e);
        this.futureTotalBytes -= e.size;
      }
    }
  }

  private insertEntry(e: MempoolEntry): void {
    this.byId.set(e.id, e);
    let chain = this.bySender.get(e.sender);
    if (!chain) this.bySender.set(e.sender, (chain = []));
    chain.push(e);
    chain.sort(byNonce);
    this.totalBytes += e.size;
  }

  private removeEntry(e: MempoolEntry): void {
    if (this.byId.get(e.id) !== e) return;
    this.byId.delete(e.id);
    this.totalBytes -= e.size;
    if (this.futures.delete(e)) this.futureTotalBytes -= e.size;
    const chain = this.bySender.get(e.sender)!;
    chain.splice(chain.indexOf(e), 1);
    if (chain.length === 0) this.bySender.delete(e.sender);
  }
}

function rejection(entry: MempoolEntry, error: RuleError): MempoolRejection {
  return { entry, code: error.code, error };
}

function firstHeight(b: Block): number {
  const cb = b.txs[0];
  return cb?.kind === 'coinbase' ? cb.height : 0;
}
