/**
 * The wallet of one profile: its ed25519 key, and the builders that turn a user's intent into a
 * signed, checked, submitted transaction of any kind.
 *
 * - Key: one per profile, made with the platform CSPRNG ({@link generatePrivateKey}) on first start
 *   and kept in the profile's ChainStore (`putKey`/`getKeys`, record id {@link PRIMARY_KEY_ID}) —
 *   never in localStorage, which every script of the origin can read synchronously and which is
 *   shared by all profiles. Replacing the key (importing a backup) first stores the old key under a
 *   `retired-…` id, so a mistaken import never destroys coins.
 * - Nonce: max(confirmed account nonce, highest nonce of our pending transactions — in the mempool
 *   or in the outbox) + 1, so several transactions can be sent before a block confirms any.
 * - Fee: params.minFeePerByte × encoded size (the minimum relay fee, as Bitcoin Core's
 *   `-minrelaytxfee`); the size is measured with a zero signature, which has the same length as a
 *   real one, and does not depend on the fee's value (u64, fixed width).
 * - Pre-check: before submission the transaction runs through the same rules a block would apply
 *   — inside a savepoint of the node's state that is always rolled back: the coinbase reward that
 *   matures at the next height, then our pending chain, then the new transaction ({@link applyTx})
 *   — so a call that would fail rejects with the rule's code (INSUFFICIENT_FUNDS, LOTS_EXCEEDED,
 *   UNKNOWN_ITEM, NOT_ISSUER, OFFER_NOT_FOUND, …) and adds NOTHING to the mempool. Only then is it
 *   handed to `node.processTx(tx, 'local')`, the one path every transaction takes.
 * - Submissions are serialised: two concurrent calls never pick the same nonce.
 * @module
 */
import {
  applyTx,
  bytesToHex,
  checkTxSanity,
  encodeAddress,
  equalBytes,
  generatePrivateKey,
  hashToHex,
  hexToBytes,
  itemIdFor,
  matureRewards,
  publicKeyOf,
  RuleError,
  SIGNATURE_BYTES,
  signTx,
  txid as txidOf,
  txSize,
  type Asset,
  type AssetAmount,
  type ChainState,
  type Mempool,
  type NetworkParams,
  type Offer,
  type Transaction,
  type TxPayload,
  type UnsignedTransaction,
} from '../chain/index.ts';
import type { ChainStore, KeyRecord } from '../storage/index.ts';
import { decryptWalletBackup, encryptWalletBackup, type EncryptOptions, type WalletBackup } from './backup.ts';
import { ApiError, toApiError, type ApiErrorDetails, type ShortfallDetails } from './errors.ts';

/** Store id of the profile's active key. */
export const PRIMARY_KEY_ID = 'primary';

/** What the wallet needs of the node (FullNode provides it). */
export interface WalletNode {
  readonly params: NetworkParams;
  /** State after the current tip; only read (savepoints are always rolled back). */
  readonly state: ChainState;
  readonly height: number;
  readonly mempool: Mempool;
  processTx(tx: Transaction | Uint8Array, source: 'local'): Promise<{ status: 'accepted' | 'duplicate' | 'invalid'; code?: string; txid: string }>;
}

/** What the wallet needs of the outbox: our pending transactions, and a place to record new ones. */
export interface WalletOutbox {
  /** Our transactions not confirmed yet (not rejected). */
  pendingTxs(): Transaction[];
  /** Records a transaction the node accepted. */
  add(tx: Transaction): Promise<unknown>;
}

/** A transaction the node accepted. */
export interface SubmittedTx {
  tx: Transaction;
  /** Display hex. */
  txid: string;
}

/** Options of a single submission. */
export interface SubmitOptions {
  /** Fee in base units; at least the minimum relay fee (default: exactly that minimum). */
  fee?: bigint;
}

/** A mining reward of ours not yet spendable by a transaction sent now. */
export interface MaturingCoins {
  /** Height of the block that paid it. */
  height: number;
  amount: bigint;
  /** Blocks to wait until a transaction can spend it (≥ 1). */
  blocksLeft: number;
}

/**
 * The mining rewards of `pub` that a transaction sent now (into block `tipHeight + 1`) cannot
 * spend yet, soonest first: a reward of block h is spendable in block h + coinbaseMaturity.
 * @example maturingOf(node.state, node.params, node.height, pub)[0]?.blocksLeft // 1
 */
export function maturingOf(state: ChainState, params: NetworkParams, tipHeight: number, pub: Uint8Array): MaturingCoins[] {
  const out: MaturingCoins[] = [];
  for (const r of state.maturing()) {
    const blocksLeft = r.height + params.coinbaseMaturity - (tipHeight + 1);
    if (blocksLeft >= 1 && equalBytes(r.miner, pub)) out.push({ height: r.height, amount: r.amount, blocksLeft });
  }
  return out.sort((a, b) => a.height - b.height);
}

/** Key of an asset in {@link txNeeds}: 'coin' or the itemId in internal-order hex. */
function assetKey(a: Asset): string {
  return a.type === 'coin' ? 'coin' : bytesToHex(a.itemId);
}

/**
 * What a transaction takes from its sender, per asset ('coin' first, then itemIds in internal hex):
 * the fee and the coins or items it moves, escrows or pays. `offerOf` finds the offer an
 * offer.accept takes from (its `want` is what the taker pays). For wording refusals and for the
 * coins our pending transactions hold back; the rules themselves are applyTx's.
 * @example txNeeds(tx, (id) => state.getOffer(id)).get('coin') // fee + amount of a transfer
 */
export function txNeeds(tx: Transaction, offerOf: (offerId: Uint8Array) => Offer | undefined): Map<string, bigint> {
  const needs = new Map<string, bigint>([['coin', 0n]]);
  const add = (key: string, n: bigint) => needs.set(key, (needs.get(key) ?? 0n) + n);
  if (tx.kind === 'coinbase') return needs;
  add('coin', tx.fee);
  switch (tx.kind) {
    case 'transfer':
      add('coin', tx.amount);
      break;
    case 'item.transfer':
    case 'item.burn':
      add(bytesToHex(tx.itemId), tx.quantity);
      break;
    case 'offer.create':
      add(assetKey(tx.give.asset), tx.give.amount * BigInt(tx.lots));
      break;
    case 'offer.accept': {
      const offer = offerOf(tx.offerId);
      if (offer) add(assetKey(offer.want.asset), offer.want.amount * BigInt(tx.lots));
      break;
    }
    default:
      break;
  }
  return needs;
}

function minimumFee(params: NetworkParams, unsigned: UnsignedTransaction): bigint {
  const sized = { ...unsigned, fee: 0n, signature: new Uint8Array(SIGNATURE_BYTES) } as Transaction;
  return params.minFeePerByte * BigInt(txSize(sized));
}

/**
 * One profile's key and transaction builders.
 * @example
 * ```ts
 * const wallet = await Wallet.open({ store, node, outbox });
 * const { txid } = await wallet.transfer(decodeAddress(to, node.params.addressPrefix), 5n * COIN);
 * ```
 */
export class Wallet {
  readonly node: WalletNode;
  readonly params: NetworkParams;
  private readonly store: ChainStore;
  private outbox: WalletOutbox | undefined;
  private readonly now: () => number;
  private record: KeyRecord;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(opts: { store: ChainStore; node: WalletNode; outbox?: WalletOutbox; now: () => number }, record: KeyRecord) {
    this.store = opts.store;
    this.node = opts.node;
    this.params = opts.node.params;
    this.outbox = opts.outbox;
    this.now = opts.now;
    this.record = record;
  }

  /**
   * Loads the profile's key from the store, or makes one on first start and stores it.
   * @example
   * ```ts
   * const wallet = await Wallet.open({ store, node });
   * wallet.address // 'tab1…'
   * ```
   */
  static async open(opts: { store: ChainStore; node: WalletNode; outbox?: WalletOutbox; now?: () => number }): Promise<Wallet> {
    const now = opts.now ?? Date.now;
    const keys = await opts.store.getKeys();
    let record = keys.find((k) => k.id === PRIMARY_KEY_ID);
    if (!record) {
      const privateKey = generatePrivateKey();
      record = { id: PRIMARY_KEY_ID, privateKey, publicKey: publicKeyOf(privateKey), createdAt: now() };
      await opts.store.putKey(record);
    }
    return new Wallet({ ...opts, now }, record);
  }

  /** Connects the outbox (when it is made after the wallet). @example wallet.setOutbox(outbox) */
  setOutbox(outbox: WalletOutbox): void {
    this.outbox = outbox;
  }

  /** The 32-byte public key. @example wallet.publicKey */
  get publicKey(): Uint8Array {
    return this.record.publicKey.slice();
  }

  /** The bech32m address on this network. @example wallet.address // 'tab1…' */
  get address(): string {
    return encodeAddress(this.record.publicKey, this.params.addressPrefix);
  }

  // --- key management ----------------------------------------------------------------------------

  /**
   * The key as a passphrase-encrypted backup document (see backup.ts).
   * @example
   * ```ts
   * const json = JSON.stringify(await wallet.exportBackup('my long passphrase'));
   * ```
   */
  exportBackup(passphrase: string, opts?: EncryptOptions): Promise<WalletBackup> {
    return encryptWalletBackup(this.record.privateKey, passphrase, { network: this.params.name, addressPrefix: this.params.addressPrefix }, opts);
  }

  /**
   * Replaces the profile's key by the one in a backup. Refused without `confirm: true`
   * (CONFIRM_REQUIRED): the old address stops being this profile's. The old key is kept in the
   * store under a `retired-…` id. Throws BAD_PASSPHRASE / BAD_BACKUP from decryption, and BAD_BACKUP
   * for a backup of another network.
   * @example
   * ```ts
   * const { address } = await wallet.importBackup(fileText, passphrase, { confirm: true });
   * ```
   */
  async importBackup(backup: string | object, passphrase: string, opts: { confirm?: boolean } = {}): Promise<{ address: string; previous: string }> {
    const decrypted = await decryptWalletBackup(backup, passphrase, this.params.addressPrefix);
    if (decrypted.network !== this.params.name) throw new ApiError('BAD_BACKUP', `backup of network ${decrypted.network}, this node runs ${this.params.name}`);
    const previous = this.address;
    if (opts.confirm !== true) {
      throw new ApiError('CONFIRM_REQUIRED', `importing replaces this profile's key ${previous} by ${decrypted.address}; pass confirm: true`);
    }
    await this.replaceKey(decrypted.secretKey);
    return { address: this.address, previous };
  }

  /**
   * Makes `secretKey` the profile's key, keeping the old one under a `retired-…` id first (a
   * crash between the two writes leaves the old key active, never no key).
   * @example await wallet.replaceKey(secret)
   */
  async replaceKey(secretKey: Uint8Array): Promise<void> {
    const publicKey = publicKeyOf(secretKey);
    if (equalBytes(publicKey, this.record.publicKey)) return;
    await this.exclusive(async () => {
      const old = this.record;
      const at = this.now();
      await this.store.putKey({ ...old, id: `retired-${this.address}-${at}`, label: `replaced at ${new Date(at).toISOString()}` });
      const record: KeyRecord = { id: PRIMARY_KEY_ID, privateKey: secretKey.slice(), publicKey, createdAt: at };
      await this.store.putKey(record);
      this.record = record;
    });
  }

  // --- building ----------------------------------------------------------------------------------

  /** Our pending transactions (mempool and outbox) with a nonce above the confirmed one, in nonce order. */
  pendingChain(): Transaction[] {
    const pub = this.record.publicKey;
    const confirmed = this.node.state.account(pub).nonce;
    const byNonce = new Map<number, Transaction>();
    for (const tx of this.outbox?.pendingTxs() ?? []) if (equalBytes(tx.from, pub) && tx.nonce > confirmed) byNonce.set(tx.nonce, tx);
    // The mempool's copy wins: it is the one the block template will use.
    for (const e of this.node.mempool.pendingFor(pub)) if (e.nonce > confirmed) byNonce.set(e.nonce, e.tx);
    return [...byNonce.values()].sort((a, b) => a.nonce - b.nonce);
  }

  /**
   * The nonce the next transaction gets: max(confirmed nonce, highest pending nonce) + 1.
   * @example wallet.nextNonce() // 1 for a fresh key
   */
  nextNonce(): number {
    const confirmed = this.node.state.account(this.record.publicKey).nonce;
    const chain = this.pendingChain();
    return Math.max(confirmed, chain.length ? chain[chain.length - 1].nonce : 0) + 1;
  }

  /**
   * Builds and signs a transaction of any kind from our key, with the next nonce and the minimum
   * fee (or `opts.fee`, which must not be lower). Does not check rules or submit.
   * @example
   * ```ts
   * const tx = wallet.build({ kind: 'transfer', to, amount: 5n });
   * ```
   */
  build(payload: TxPayload, opts: SubmitOptions & { nonce?: number } = {}): Transaction {
    if (payload.kind === 'coinbase') throw new ApiError('BAD_INPUT', 'a wallet does not build coinbases');
    const unsigned = { ...payload, chainId: this.params.chainId, from: this.record.publicKey, nonce: opts.nonce ?? this.nextNonce(), fee: 0n } as UnsignedTransaction;
    let min: bigint;
    try {
      min = minimumFee(this.params, unsigned);
    } catch (e) {
      // A value with no encoding (bad sku, name too long, out-of-range number).
      throw new ApiError('BAD_INPUT', (e as Error).message, { cause: e });
    }
    if (opts.fee !== undefined && opts.fee < min) throw new ApiError('BAD_FEE', `fee ${opts.fee} is below the minimum ${min}`);
    unsigned.fee = opts.fee ?? min;
    return signTx(unsigned, this.record.privateKey) as Transaction;
  }

  /**
   * Runs `fn` on the state as a transaction sent now sees it — the next block's maturing reward
   * released, then our pending chain (up to nonce `before`, all of it by default) applied —
   * inside a savepoint that is always rolled back.
   */
  private afterPending<T>(fn: (state: ChainState, height: number) => T, before = Infinity): T {
    const { params, state } = this.node;
    const height = this.node.height + 1;
    const ctx = { params, height };
    state.begin();
    try {
      matureRewards(state, params, height);
      for (const p of this.pendingChain()) {
        if (p.nonce >= before) break;
        try {
          applyTx(state, p, ctx);
        } catch {
          break; // a broken pending chain: a new tx then fails on its nonce, which is the truth
        }
      }
      return fn(state, height);
    } finally {
      state.rollback();
    }
  }

  /**
   * Coins a transaction sent now can spend: the spendable balance at the next block (a reward
   * maturing there included) minus what our pending transactions spend.
   * @example wallet.available() // 5000000000n
   */
  available(): bigint {
    return this.afterPending((state) => state.account(this.record.publicKey).balance);
  }

  /**
   * Our mining rewards that a transaction sent now cannot spend yet, soonest first, with the
   * blocks left until it can (a reward of block h is spendable in block h + coinbaseMaturity).
   * @example wallet.maturing() // [{ height: 11, amount: 5000000000n, blocksLeft: 1 }, …]
   */
  maturing(): MaturingCoins[] {
    return maturingOf(this.node.state, this.params, this.node.height, this.record.publicKey);
  }

  /**
   * The facts behind a refusal of `tx` by `e` (state: as `tx` saw it, after our pending chain):
   * which asset ran short, how much it needs and how much there is, when maturing rewards cover
   * it; or the lots an offer has left. Undefined for other refusals.
   */
  private explain(e: unknown, tx: Transaction, state: ChainState, height: number): ApiErrorDetails | undefined {
    if (!(e instanceof RuleError) || tx.kind === 'coinbase') return undefined;
    if (e.code === 'LOTS_EXCEEDED' && tx.kind === 'offer.accept') {
      const offer = state.getOffer(tx.offerId);
      return offer ? { type: 'lots', asked: tx.lots, left: offer.lotsLeft } : undefined;
    }
    if (e.code !== 'INSUFFICIENT_FUNDS' && e.code !== 'IMMATURE') return undefined;
    const me = tx.from;
    for (const [key, need] of txNeeds(tx, (id) => state.getOffer(id))) {
      const have = key === 'coin' ? state.account(me).balance : state.getHolding(hexToBytes(key), me);
      if (have >= need) continue;
      const asset = key === 'coin' ? 'coin' : hashToHex(hexToBytes(key));
      const details: ShortfallDetails = { type: 'shortfall', asset, need: need.toString(), have: have.toString(), fee: tx.fee.toString(), maturing: '0' };
      if (key === 'coin') {
        // Rewards the next block does not release yet (that one is already in `have`), soonest first.
        const ours = state.maturing().filter((r) => equalBytes(r.miner, me)).sort((a, b) => a.height - b.height);
        let sum = have;
        let total = 0n;
        for (const r of ours) {
          total += r.amount;
          sum += r.amount;
          if (sum >= need && !details.enoughIn) {
            const blocks = r.height + this.params.coinbaseMaturity - height;
            details.enoughIn = { blocks, seconds: blocks * this.params.targetSpacing };
          }
        }
        details.maturing = total.toString();
      }
      return details;
    }
    return undefined;
  }

  /**
   * Checks `tx` against the rules a block at the next height would apply, after our own pending
   * chain, without changing anything. Throws the RuleError of the first rule it breaks — as an
   * ApiError with {@link ApiError.details} when the numbers behind it help (a shortfall, lots).
   * @example
   * ```ts
   * wallet.precheck(tx); // throws RuleError('INSUFFICIENT_FUNDS') on an overspend
   * ```
   */
  precheck(tx: Transaction): void {
    const { params } = this.node;
    checkTxSanity(tx, params);
    const size = txSize(tx);
    if (tx.fee < params.minFeePerByte * BigInt(size)) throw new RuleError('BAD_FEE', `fee ${tx.fee} below the minimum relay fee`);
    this.afterPending((state, height) => {
      try {
        applyTx(state, tx, { params, height });
      } catch (e) {
        const details = this.explain(e, tx, state, height);
        if (details && e instanceof RuleError) throw new ApiError(e.code, e.message, { cause: e, details });
        throw e;
      }
    }, tx.nonce);
  }

  /**
   * Builds and pre-checks a transaction exactly as {@link submit} would, without submitting it:
   * the fee it would pay, and the error it would be refused with (undefined when it would go
   * through). Bad input (no encoding) throws, as in submit.
   * @example
   * ```ts
   * const { tx, error } = await wallet.dryRun({ kind: 'transfer', to, amount: 5n });
   * tx.fee // the fee a send would pay now
   * ```
   */
  dryRun(payload: TxPayload, opts: SubmitOptions = {}): Promise<{ tx: Transaction; error?: ApiError }> {
    return this.exclusive(async () => {
      const tx = this.build(payload, opts);
      try {
        this.precheck(tx);
        return { tx };
      } catch (e) {
        return { tx, error: toApiError(e) };
      }
    });
  }

  /**
   * Builds, signs, pre-checks and submits a transaction; records it in the outbox when the node
   * accepts it. Rejects with an ApiError carrying the rule's code; on rejection nothing was added
   * to the mempool or the outbox.
   * @example
   * ```ts
   * const { txid } = await wallet.submit({ kind: 'item.burn', itemId, quantity: 1n });
   * ```
   */
  submit(payload: TxPayload, opts: SubmitOptions = {}): Promise<SubmittedTx> {
    return this.exclusive(async () => {
      const tx = this.build(payload, opts);
      try {
        this.precheck(tx);
      } catch (e) {
        throw toApiError(e);
      }
      const result = await this.node.processTx(tx, 'local');
      if (result.status === 'invalid') throw new ApiError((result.code ?? 'INTERNAL') as ApiError['code'], `the node refused the transaction (${result.code ?? 'no code'})`);
      const id = hashToHex(txidOf(tx));
      await this.outbox?.add(tx);
      return { tx, txid: id };
    });
  }

  /** Runs `fn` after every earlier submission finished (one nonce at a time). */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  // --- one builder per kind ----------------------------------------------------------------------

  /** Sends coins. @example await wallet.transfer(toPub, 5n * COIN) */
  transfer(to: Uint8Array, amount: bigint, opts?: SubmitOptions): Promise<SubmittedTx> {
    return this.submit({ kind: 'transfer', to, amount }, opts);
  }

  /** Registers an item (id = itemIdFor(our key, sku)); we hold `quantity`. @example await wallet.createItem('TSHIRT-M', 'T-shirt M', 10n) */
  async createItem(sku: string, name: string, quantity: bigint, opts?: SubmitOptions): Promise<SubmittedTx & { itemId: Uint8Array }> {
    const sent = await this.submit({ kind: 'item.create', sku, name, quantity }, opts);
    return { ...sent, itemId: itemIdFor(this.record.publicKey, sku) };
  }

  /** Restocks an item we issued. @example await wallet.mintItem(itemId, 5n) */
  mintItem(itemId: Uint8Array, quantity: bigint, opts?: SubmitOptions): Promise<SubmittedTx> {
    return this.submit({ kind: 'item.mint', itemId, quantity }, opts);
  }

  /** Ships goods to someone. @example await wallet.transferItem(itemId, toPub, 2n) */
  transferItem(itemId: Uint8Array, to: Uint8Array, quantity: bigint, opts?: SubmitOptions): Promise<SubmittedTx> {
    return this.submit({ kind: 'item.transfer', itemId, to, quantity }, opts);
  }

  /** Consumes goods. @example await wallet.burnItem(itemId, 1n) */
  burnItem(itemId: Uint8Array, quantity: bigint, opts?: SubmitOptions): Promise<SubmittedTx> {
    return this.submit({ kind: 'item.burn', itemId, quantity }, opts);
  }

  /**
   * Opens an offer: `give` per lot for `want` per lot, `lots` times; give × lots goes into escrow.
   * The offer id is the txid.
   * @example
   * ```ts
   * const { txid: offerId } = await wallet.createOffer({ asset: { type: 'item', itemId }, amount: 1n }, { asset: { type: 'coin' }, amount: COIN }, 5);
   * ```
   */
  createOffer(give: AssetAmount, want: AssetAmount, lots: number, expiresAtHeight: number | null = null, opts?: SubmitOptions): Promise<SubmittedTx> {
    return this.submit({ kind: 'offer.create', give, want, lots, expiresAtHeight }, opts);
  }

  /** Takes `lots` lots of an offer. @example await wallet.acceptOffer(offerId, 2) */
  acceptOffer(offerId: Uint8Array, lots: number, opts?: SubmitOptions): Promise<SubmittedTx> {
    return this.submit({ kind: 'offer.accept', offerId, lots }, opts);
  }

  /** Cancels our offer; the remaining escrow comes back. @example await wallet.cancelOffer(offerId) */
  cancelOffer(offerId: Uint8Array, opts?: SubmitOptions): Promise<SubmittedTx> {
    return this.submit({ kind: 'offer.cancel', offerId }, opts);
  }
}
