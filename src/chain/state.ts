/**
 * The chain state: one key → entry map holding every account, item, holding, open offer and
 * maturing coinbase reward, with a change journal so that connecting a block yields the exact list
 * of writes ({@link StateChange}) that storage persists and that, read backwards, disconnects it
 * (the role of Bitcoin Core's CCoinsViewCache + CBlockUndo, for an account model).
 *
 * Key scheme (stable: storage persists these strings):
 * - `a:<hex pubkey>` — {@link Account}
 * - `i:<hex itemId>` — {@link Item}
 * - `h:<hex itemId>:<hex owner>` — holding (bigint quantity of an item held by an owner)
 * - `o:<hex offerId>` — open {@link Offer}
 * - `m:<height>` (decimal) — {@link MaturingReward} of the coinbase of block `height`
 *
 * Normal form (so that two histories that reach the same balances reach the same map, and
 * apply-then-undo restores the very same keys): a holding of 0 is never stored (deleted), and an
 * account with balance 0, immature 0 and nonce 0 is never stored. Items are kept even at supply 0
 * (the id stays taken; the issuer may mint again).
 *
 * Aliasing: every entry handed in is copied on the way in, every entry handed out is copied on the
 * way out, and a stored entry object is never mutated (writes replace it). So an undo record or a
 * value returned by a getter cannot be changed behind the state's back, and {@link ChainState.clone}
 * may share the stored objects.
 * @module
 */
import { bytesToHex } from './bytes.ts';
import type { Account, AssetAmount, Item, MaturingReward, Offer, StateChange, StateEntry } from './types.ts';

/** `a:` + hex(pubkey). @example accountKey(pub) // 'a:3b6a…' */
export function accountKey(pub: Uint8Array): string {
  return 'a:' + bytesToHex(pub);
}

/** `i:` + hex(itemId). @example itemKey(itemId) */
export function itemKey(itemId: Uint8Array): string {
  return 'i:' + bytesToHex(itemId);
}

/** `h:` + hex(itemId) + `:` + hex(owner). @example holdingKey(itemId, owner) */
export function holdingKey(itemId: Uint8Array, owner: Uint8Array): string {
  return 'h:' + bytesToHex(itemId) + ':' + bytesToHex(owner);
}

/** `o:` + hex(offerId). @example offerKey(txid(offerTx)) */
export function offerKey(offerId: Uint8Array): string {
  return 'o:' + bytesToHex(offerId);
}

/** `m:` + decimal height of the block whose coinbase reward is maturing. @example maturingKey(12) // 'm:12' */
export function maturingKey(height: number): string {
  if (!Number.isSafeInteger(height) || height < 0) throw new RangeError(`bad height ${height}`);
  return 'm:' + height;
}

/** An account that was never touched: what a missing `a:` key means. @example state.getAccount(pub) ?? EMPTY_ACCOUNT */
export const EMPTY_ACCOUNT: Readonly<Account> = Object.freeze({ balance: 0n, immature: 0n, nonce: 0 });

// ---------------------------------------------------------------------------------------------
// Copies and equality of entries.

function copyAssetAmount(a: AssetAmount): AssetAmount {
  return {
    asset: a.asset.type === 'coin' ? { type: 'coin' } : { type: 'item', itemId: a.asset.itemId.slice() },
    amount: a.amount,
  };
}

/**
 * A deep copy of an entry (fresh objects and fresh byte arrays).
 * @example const mine = copyEntry(state.get(key)!)
 */
export function copyEntry(e: StateEntry): StateEntry {
  switch (e.type) {
    case 'account':
      return { type: 'account', value: { balance: e.value.balance, immature: e.value.immature, nonce: e.value.nonce } };
    case 'holding':
      return { type: 'holding', value: e.value };
    case 'item': {
      const v = e.value;
      return {
        type: 'item',
        value: { itemId: v.itemId.slice(), issuer: v.issuer.slice(), sku: v.sku, name: v.name, supply: v.supply, createdHeight: v.createdHeight },
      };
    }
    case 'offer': {
      const v = e.value;
      return {
        type: 'offer',
        value: {
          offerId: v.offerId.slice(),
          maker: v.maker.slice(),
          give: copyAssetAmount(v.give),
          want: copyAssetAmount(v.want),
          lotsLeft: v.lotsLeft,
          lotsTotal: v.lotsTotal,
          expiresAtHeight: v.expiresAtHeight,
          createdHeight: v.createdHeight,
        },
      };
    }
    case 'maturing':
      return { type: 'maturing', value: { height: e.value.height, miner: e.value.miner.slice(), amount: e.value.amount } };
  }
}

function bytesEq(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function assetAmountEq(a: AssetAmount, b: AssetAmount): boolean {
  if (a.amount !== b.amount || a.asset.type !== b.asset.type) return false;
  return a.asset.type === 'coin' || bytesEq(a.asset.itemId, (b.asset as { itemId: Uint8Array }).itemId);
}

/**
 * Deep equality of two entries (null = absent).
 * @example entryEquals(state.get(k) ?? null, change.after) // true right after the change
 */
export function entryEquals(a: StateEntry | null, b: StateEntry | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.type !== b.type) return false;
  switch (a.type) {
    case 'account': {
      const x = a.value;
      const y = (b as typeof a).value;
      return x.balance === y.balance && x.immature === y.immature && x.nonce === y.nonce;
    }
    case 'holding':
      return a.value === (b as typeof a).value;
    case 'item': {
      const x = a.value;
      const y = (b as typeof a).value;
      return (
        bytesEq(x.itemId, y.itemId) && bytesEq(x.issuer, y.issuer) && x.sku === y.sku && x.name === y.name &&
        x.supply === y.supply && x.createdHeight === y.createdHeight
      );
    }
    case 'offer': {
      const x = a.value;
      const y = (b as typeof a).value;
      return (
        bytesEq(x.offerId, y.offerId) && bytesEq(x.maker, y.maker) && assetAmountEq(x.give, y.give) &&
        assetAmountEq(x.want, y.want) && x.lotsLeft === y.lotsLeft && x.lotsTotal === y.lotsTotal &&
        x.expiresAtHeight === y.expiresAtHeight && x.createdHeight === y.createdHeight
      );
    }
    case 'maturing': {
      const x = a.value;
      const y = (b as typeof a).value;
      return x.height === y.height && bytesEq(x.miner, y.miner) && x.amount === y.amount;
    }
  }
}

/** The entry type a key prefix implies; a write of another type under that key is a bug. */
const PREFIX_TYPE: Record<string, StateEntry['type']> = { a: 'account', i: 'item', h: 'holding', o: 'offer', m: 'maturing' };

function checkKeyType(key: string, entry: StateEntry): void {
  if (PREFIX_TYPE[key.slice(0, key.indexOf(':'))] !== entry.type) throw new TypeError(`entry of type ${entry.type} under key ${key}`);
}

/**
 * Compacts a raw write log to one change per key (first `before`, last `after`, in order of first
 * touch) and drops keys whose final value equals the original (e.g. an offer created and fully
 * taken in one block). Applying the result forwards, or its `before`s backwards, has exactly the
 * effect of the raw log, and the undo record stays proportional to the keys touched, not the writes.
 */
function compact(log: StateChange[]): StateChange[] {
  const byKey = new Map<string, StateChange>();
  for (const c of log) {
    const seen = byKey.get(c.key);
    if (seen) seen.after = c.after;
    else byKey.set(c.key, { key: c.key, before: c.before, after: c.after });
  }
  const out: StateChange[] = [];
  for (const c of byKey.values()) {
    // `before` may be an object a clone() still shares: hand out a copy. `after` is already private.
    if (!entryEquals(c.before, c.after)) out.push({ key: c.key, before: c.before && copyEntry(c.before), after: c.after });
  }
  return out;
}

function copyChange(c: StateChange): StateChange {
  return { key: c.key, before: c.before && copyEntry(c.before), after: c.after && copyEntry(c.after) };
}

/**
 * The whole chain state in memory, with typed accessors and a nestable change journal.
 *
 * Journal: {@link begin} opens a savepoint; every write from then on is logged. {@link commit}
 * closes the innermost savepoint and returns the writes made since it opened (compacted to one
 * change per key when it closes the outermost one; an inner commit keeps its writes in the outer
 * log); {@link rollback} closes it and restores everything written since it opened.
 * @example
 * ```ts
 * const state = new ChainState();
 * state.begin();
 * state.setAccount(pub, { balance: 5n, immature: 0n, nonce: 0 });
 * const changes = state.commit(); // [{ key: 'a:…', before: null, after: { type: 'account', … } }]
 * state.revertChanges(changes);   // back to empty
 * ```
 */
export class ChainState {
  private readonly map: Map<string, StateEntry>;
  private log: StateChange[] = [];
  private readonly marks: number[] = [];

  constructor(entries?: Iterable<readonly [string, StateEntry]>) {
    this.map = new Map();
    if (entries) for (const [k, e] of entries) {
      checkKeyType(k, e);
      this.map.set(k, copyEntry(e));
    }
  }

  // --- raw access ------------------------------------------------------------------------------

  /** Number of stored entries. @example state.size */
  get size(): number {
    return this.map.size;
  }

  /** Whether a key is present. @example state.has(accountKey(pub)) */
  has(key: string): boolean {
    return this.map.has(key);
  }

  /** A copy of the entry under `key`, or undefined. @example state.get('m:12') */
  get(key: string): StateEntry | undefined {
    const e = this.map.get(key);
    return e && copyEntry(e);
  }

  /** Writes a copy of `entry` under `key` (logged if a journal is open). @example state.set(k, e) */
  set(key: string, entry: StateEntry): void {
    checkKeyType(key, entry);
    const stored = copyEntry(entry);
    if (this.marks.length) this.log.push({ key, before: this.map.get(key) ?? null, after: copyEntry(stored) });
    this.map.set(key, stored);
  }

  /** Removes `key` (logged if a journal is open; a no-op if absent). @example state.delete(k) */
  delete(key: string): void {
    const before = this.map.get(key);
    if (before === undefined) return;
    if (this.marks.length) this.log.push({ key, before, after: null });
    this.map.delete(key);
  }

  /** Writes `entry`, or deletes the key when `entry` is null. */
  private put(key: string, entry: StateEntry | null): void {
    if (entry === null) this.delete(key);
    else this.set(key, entry);
  }

  /**
   * All entries as copies, sorted by key: a canonical snapshot (two states are identical iff
   * their `entries()` are deeply equal), independent of the map's insertion order.
   * @example expect(after.entries()).toEqual(before.entries())
   */
  entries(): [string, StateEntry][] {
    const keys = [...this.map.keys()].sort();
    return keys.map((k) => [k, copyEntry(this.map.get(k)!)]);
  }

  /** An independent copy (no journal). Cheap: stored entries are never mutated, so they are shared. @example const trial = state.clone() */
  clone(): ChainState {
    const c = new ChainState();
    for (const [k, e] of this.map) c.map.set(k, e);
    return c;
  }

  // --- journal ---------------------------------------------------------------------------------

  /** Opens a savepoint. @example state.begin(); try { …; state.commit() } catch (e) { state.rollback(); throw e } */
  begin(): void {
    this.marks.push(this.log.length);
  }

  /** Whether a savepoint is open. */
  get inTransaction(): boolean {
    return this.marks.length > 0;
  }

  /**
   * Closes the innermost savepoint and returns the writes made since it opened. On the outermost
   * savepoint the log is compacted (see module doc) and cleared.
   * @example const changes = state.commit()
   */
  commit(): StateChange[] {
    const mark = this.marks.pop();
    if (mark === undefined) throw new Error('commit without begin');
    if (this.marks.length) return this.log.slice(mark).map(copyChange); // the outer log keeps its own
    const out = compact(this.log);
    this.log = [];
    return out;
  }

  /** Closes the innermost savepoint and restores every entry written since it opened. @example state.rollback() */
  rollback(): void {
    const mark = this.marks.pop();
    if (mark === undefined) throw new Error('rollback without begin');
    for (let i = this.log.length - 1; i >= mark; i--) {
      const c = this.log[i];
      if (c.before === null) this.map.delete(c.key);
      else this.map.set(c.key, c.before); // the logged `before` is the very object once stored, never handed out
    }
    this.log.length = mark;
  }

  /**
   * Re-applies changes recorded by a commit (connecting a block from storage): sets every `after`
   * in order. Each key must currently hold the change's `before` — otherwise the changes belong to
   * another state and nothing is changed (throws Error: a storage/caller bug, not a rule violation).
   * @example state.applyChanges(undo.changes)
   */
  applyChanges(changes: readonly StateChange[]): void {
    this.replay(changes, false);
  }

  /**
   * Undoes changes recorded by a commit (disconnecting a block): restores every `before` in reverse
   * order. Each key must currently hold the change's `after`, else nothing is changed (Error).
   * @example state.revertChanges(undo.changes)
   */
  revertChanges(changes: readonly StateChange[]): void {
    this.replay(changes, true);
  }

  private replay(changes: readonly StateChange[], backwards: boolean): void {
    this.begin();
    try {
      const n = changes.length;
      for (let j = 0; j < n; j++) {
        const c = changes[backwards ? n - 1 - j : j];
        const expected = backwards ? c.after : c.before;
        if (!entryEquals(this.map.get(c.key) ?? null, expected)) {
          throw new Error(`state does not match the change record at ${c.key} (${backwards ? 'revert' : 'apply'})`);
        }
        this.put(c.key, backwards ? c.before : c.after);
      }
    } catch (e) {
      this.rollback();
      throw e;
    }
    this.commit();
  }

  // --- typed accessors -------------------------------------------------------------------------

  /** The account of `pub`, or undefined if it was never touched. @example state.getAccount(pub)?.balance */
  getAccount(pub: Uint8Array): Account | undefined {
    const e = this.map.get(accountKey(pub));
    return e && (copyEntry(e).value as Account);
  }

  /** The account of `pub`, an empty one if absent. @example state.account(pub).nonce + 1 */
  account(pub: Uint8Array): Account {
    return this.getAccount(pub) ?? { ...EMPTY_ACCOUNT };
  }

  /** Stores an account; an all-zero account is deleted (normal form). @example state.setAccount(pub, acc) */
  setAccount(pub: Uint8Array, acc: Account): void {
    const key = accountKey(pub);
    if (acc.balance === 0n && acc.immature === 0n && acc.nonce === 0) this.delete(key);
    else this.set(key, { type: 'account', value: acc });
  }

  /** The item with this id, or undefined. @example state.getItem(itemIdFor(issuer, 'SKU-1')) */
  getItem(itemId: Uint8Array): Item | undefined {
    const e = this.map.get(itemKey(itemId));
    return e && (copyEntry(e).value as Item);
  }

  /** Stores an item under its own itemId. @example state.setItem(item) */
  setItem(item: Item): void {
    this.set(itemKey(item.itemId), { type: 'item', value: item });
  }

  /** Quantity of `itemId` held by `owner` (0 if none). @example state.getHolding(itemId, pub) */
  getHolding(itemId: Uint8Array, owner: Uint8Array): bigint {
    const e = this.map.get(holdingKey(itemId, owner));
    return e ? (e.value as bigint) : 0n;
  }

  /** Stores a holding; 0 deletes it (normal form). @example state.setHolding(itemId, pub, 5n) */
  setHolding(itemId: Uint8Array, owner: Uint8Array, quantity: bigint): void {
    if (quantity < 0n) throw new RangeError('negative holding');
    const key = holdingKey(itemId, owner);
    if (quantity === 0n) this.delete(key);
    else this.set(key, { type: 'holding', value: quantity });
  }

  /** The open offer with this id, or undefined. @example state.getOffer(txid(offerTx)) */
  getOffer(offerId: Uint8Array): Offer | undefined {
    const e = this.map.get(offerKey(offerId));
    return e && (copyEntry(e).value as Offer);
  }

  /** Stores an offer under its own offerId. @example state.setOffer(offer) */
  setOffer(offer: Offer): void {
    this.set(offerKey(offer.offerId), { type: 'offer', value: offer });
  }

  /** Removes an offer (taken or cancelled). @example state.deleteOffer(offerId) */
  deleteOffer(offerId: Uint8Array): void {
    this.delete(offerKey(offerId));
  }

  /** The reward of block `height` still maturing, or undefined. @example state.getMaturing(h) */
  getMaturing(height: number): MaturingReward | undefined {
    const e = this.map.get(maturingKey(height));
    return e && (copyEntry(e).value as MaturingReward);
  }

  /** Stores a maturing reward under its height. @example state.setMaturing({ height, miner, amount }) */
  setMaturing(r: MaturingReward): void {
    this.set(maturingKey(r.height), { type: 'maturing', value: r });
  }

  /** Removes the maturing reward of `height`. @example state.deleteMaturing(h) */
  deleteMaturing(height: number): void {
    this.delete(maturingKey(height));
  }

  // --- listings (full scans; the state is small enough, and callers are UI/tests) -------------

  private ofType<V>(prefix: string): [string, V][] {
    const out: [string, V][] = [];
    for (const [k, e] of this.map) if (k.startsWith(prefix)) out.push([k, copyEntry(e).value as V]);
    return out;
  }

  /** Every account with its pubkey hex, sorted by key. @example for (const [pubHex, acc] of state.accounts()) … */
  accounts(): [string, Account][] {
    return this.ofType<Account>('a:').sort(byKey).map(([k, v]) => [k.slice(2), v]);
  }

  /** Every item, sorted by key. @example state.items().map((i) => i.sku) */
  items(): Item[] {
    return this.ofType<Item>('i:').sort(byKey).map(([, v]) => v);
  }

  /** Every open offer, sorted by key. @example state.offers().filter((o) => o.lotsLeft > 0) */
  offers(): Offer[] {
    return this.ofType<Offer>('o:').sort(byKey).map(([, v]) => v);
  }

  /** Every maturing reward, by height. @example state.maturing() */
  maturing(): MaturingReward[] {
    return this.ofType<MaturingReward>('m:').map(([, v]) => v).sort((a, b) => a.height - b.height);
  }

  /** Every non-zero holding of `owner`, sorted by item key. @example state.holdingsOf(pub) // [{ itemId, quantity }] */
  holdingsOf(owner: Uint8Array): { itemId: string; quantity: bigint }[] {
    const suffix = ':' + bytesToHex(owner);
    const out: { itemId: string; quantity: bigint }[] = [];
    for (const [k, e] of this.map) {
      if (k.startsWith('h:') && k.endsWith(suffix)) out.push({ itemId: k.slice(2, k.length - suffix.length), quantity: e.value as bigint });
    }
    return out.sort((a, b) => (a.itemId < b.itemId ? -1 : a.itemId > b.itemId ? 1 : 0));
  }

  /** Every holder of `itemId` with quantity (owner as hex). @example state.holdersOf(itemId) */
  holdersOf(itemId: Uint8Array): { owner: string; quantity: bigint }[] {
    const prefix = 'h:' + bytesToHex(itemId) + ':';
    const out: { owner: string; quantity: bigint }[] = [];
    for (const [k, e] of this.map) if (k.startsWith(prefix)) out.push({ owner: k.slice(prefix.length), quantity: e.value as bigint });
    return out.sort((a, b) => (a.owner < b.owner ? -1 : a.owner > b.owner ? 1 : 0));
  }
}

function byKey(a: [string, unknown], b: [string, unknown]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}
