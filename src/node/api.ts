/**
 * `window.tabchain`: the browser automation API (ARCHITECTURE.md "Browser automation API"), used
 * by the e2e tests, by demo scripts and from the devtools console.
 *
 * Conventions (every method):
 * - Returns JSON-serialisable values only (strings, numbers, booleans, arrays, plain objects).
 * - Rejects with an {@link ApiError}: `code` is the RuleError code when a consensus rule refused
 *   (INSUFFICIENT_FUNDS, LOTS_EXCEEDED, UNKNOWN_ITEM, NOT_ISSUER, OFFER_NOT_FOUND, …), the storage
 *   code when storage failed, or an API code (errors.ts) for bad input; the message starts with it.
 * - Amounts (coins, and item quantities inside offers) are decimal strings of base units: digits
 *   only, no sign, no leading zeros, no exponent, 1 ≤ n < 2^63 — anything else is BAD_AMOUNT.
 *   `quantity` and `lots` are numbers: positive safe integers (lots < 2^32), else BAD_AMOUNT.
 * - Addresses are bech32m with the network's prefix; a bad checksum or prefix is BAD_ADDRESS.
 * - Every 32-byte id — txid, block hash, offerId (= the txid of its offer.create), itemId — is 64
 *   hex characters in Bitcoin's DISPLAY order (byte-reversed, `hashToHex`), the same form as
 *   `status().tip`, so an offerId can be passed to `txStatus` as is. Input is accepted in either
 *   case; output is lowercase. Anything else is BAD_ID. An asset is `'coin'` or an itemId.
 * - `balance()` is the SPENDABLE balance at the current tip: confirmed coins that can be spent in
 *   the next block. Immature coinbase rewards (coinbase maturity) and unconfirmed transactions are
 *   not included (`account()` of the extended API shows immature and pending amounts).
 * - Transactions are built by the wallet (wallet.ts): fee = the minimum relay fee, pre-checked
 *   against the rules so that a call that would fail rejects and adds nothing to the mempool.
 * @module
 */
import {
  bytesToHex,
  decodeAddress,
  encodeAddress,
  equalBytes,
  hashToHex,
  hexToBytes,
  hexToHash,
  isValidItemName,
  isValidSku,
  txSize,
  type Asset,
  type AssetAmount,
  type Offer,
  type Transaction,
  type TxPayload,
} from '../chain/index.ts';
import type { StorageUsage } from '../storage/index.ts';
import type { MinerStatus } from '../miner/index.ts';
import { ApiError, showValue, toApiError, type ApiErrorDetails } from './errors.ts';
import type { Outbox, OutboxNode, TxLocation } from './outbox.ts';
import { createExplorerApi, type ExplorerApi, type ExplorerNode, type ExplorerProfiles } from './explorer.ts';
import { maturingOf, type Wallet } from './wallet.ts';

/** The automation API, exactly as ARCHITECTURE.md specifies it. */
export interface TabchainApi {
  ready: Promise<void>;                  // storage open, node started
  status(): Promise<{ network: string; profile: string; peerId: string; address: string;
    height: number; tip: string; chainwork: string; synced: boolean; online: boolean;
    mining: boolean; workers: number; hashrate: number; mempool: number;
    peers: { id: string; transport: 'webrtc' | 'relay' | 'websocket' | 'tab'; rttMs?: number;
      score?: number }[];                    // score: an addition to ARCHITECTURE's shape (PeerScores: 0 clean, below 0 distrusted)
    connection: ApiConnection }>;            // an addition too: see ApiConnection
  startMining(opts?: { workers?: number }): Promise<void>;
  stopMining(): Promise<void>;
  mineBlocks(n: number): Promise<string[]>;            // hashes of the n blocks it mined
  waitForHeight(height: number, timeoutMs?: number): Promise<void>;
  balance(address?: string): Promise<string>;
  send(to: string, amount: string): Promise<string>;  // txid
  createItem(sku: string, name: string, quantity: number): Promise<{ txid: string; itemId: string }>;
  mintItem(itemId: string, quantity: number): Promise<string>;
  transferItem(itemId: string, to: string, quantity: number): Promise<string>;
  inventory(address?: string): Promise<{ itemId: string; sku: string; name: string;
    issuer: string; quantity: number }[]>;
  createOffer(o: { give: { asset: string; amount: string }; want: { asset: string; amount: string };
    lots: number }): Promise<string>;                   // offerId; asset is 'coin' or an itemId
  offers(): Promise<{ offerId: string; maker: string; give: { asset: string; amount: string };
    want: { asset: string; amount: string }; lotsLeft: number }[]>;
  acceptOffer(offerId: string, lots: number): Promise<string>;
  cancelOffer(offerId: string): Promise<string>;
  txStatus(txid: string): Promise<{ state: 'pending' | 'confirmed' | 'rejected' | 'unknown';
    confirmations: number; error?: string }>;
}

/**
 * What the tab knows of its network, beyond `synced` (which is true for a node alone):
 * - `connecting`: looking for peers, none has answered yet, and it is too early to say none will;
 * - `alone`: no peer is reachable now — the browser is offline, the tab is isolated, no relay
 *   answered, or the relay was reached and no other node turned up (transactions wait in this tab);
 * - `connected`: at least one chain peer has answered (its status is known), so `synced` means
 *   something.
 */
export type ApiConnection = 'connecting' | 'alone' | 'connected';

/** A mining reward not yet spendable, as `account().maturing` lists it. */
export interface ApiMaturing {
  /** Height of the block that paid it. */
  height: number;
  /** Base units. */
  amount: string;
  /** Blocks until a transaction can spend it (≥ 1). */
  blocksLeft: number;
  /** About how long that is: blocksLeft × the network's target block spacing, seconds. */
  seconds: number;
}

/** Something the wallet can do, as {@link TabchainApiExtended.previewTx} takes it: the name and arguments of the API method. */
export type ApiTxIntent =
  | { kind: 'send'; to: string; amount: string }
  | { kind: 'createItem'; sku: string; name: string; quantity: number }
  | { kind: 'mintItem'; itemId: string; quantity: number }
  | { kind: 'transferItem'; itemId: string; to: string; quantity: number }
  | { kind: 'burnItem'; itemId: string; quantity: number }
  | { kind: 'createOffer'; give: { asset: string; amount: string }; want: { asset: string; amount: string }; lots: number; expiresAtHeight?: number | null }
  | { kind: 'acceptOffer'; offerId: string; lots: number }
  | { kind: 'cancelOffer'; offerId: string };

/** What {@link TabchainApiExtended.previewTx} answers. */
export interface ApiTxPreview {
  /** The fee the transaction would pay, base units. */
  fee: string;
  /** Its encoded size, bytes. */
  size: number;
  /** The refusal the call would meet now (code, message, and the numbers behind it), or null. */
  error: { code: string; message: string; details?: ApiErrorDetails } | null;
}

/** One peer as `status().peers` lists it. */
export type ApiPeer = Awaited<ReturnType<TabchainApi['status']>>['peers'][number];

/** An outbox record as the extended API lists it. */
export interface ApiOutboxEntry {
  txid: string;
  kind: Transaction['kind'];
  nonce: number;
  fee: string;
  state: 'pending' | 'confirmed' | 'rejected';
  confirmations: number;
  error?: string;
  blockHash?: string;
  createdAt: number;
}

/** Methods beyond the specified interface (UI and console conveniences). */
export interface TabchainApiExtended extends TabchainApi {
  /** This profile's address. */
  address(): Promise<string>;
  /**
   * Spendable, immature (coinbase maturity) and nonce of an account; `pendingOut` = coins our
   * pending txs spend (own address only); `available` = coins a transaction sent now can spend
   * (the next block's maturing reward included, our pending transactions' spending taken off —
   * for another address: its spendable balance at the next block); `maturing` = its rewards not
   * spendable yet, soonest first; `incoming` = coins pending transfers in the mempool pay it.
   */
  account(address?: string): Promise<{ address: string; balance: string; immature: string; nonce: number; pendingOut: string;
    available: string; maturing: ApiMaturing[]; incoming: string }>;
  /**
   * A wallet call tried without sending anything: the fee it would pay and, if it would be
   * refused now, why (the same code and message as the call, with `details` when numbers help).
   * Malformed arguments reject as the call would (BAD_AMOUNT, BAD_ADDRESS, BAD_ID, BAD_INPUT).
   */
  previewTx(intent: ApiTxIntent): Promise<ApiTxPreview>;
  /** The minimum fee of each wallet call at its smallest size, base units (createItem grows with SKU and name). */
  fees(): Promise<Record<ApiTxIntent['kind'], string>>;
  /** Consumes goods we hold. */
  burnItem(itemId: string, quantity: number): Promise<string>;
  /** createOffer with an optional last height at which it can be accepted. */
  createOfferUntil(o: { give: { asset: string; amount: string }; want: { asset: string; amount: string }; lots: number; expiresAtHeight?: number | null }): Promise<string>;
  /** Our own transactions and their state, oldest first. */
  outbox(): Promise<ApiOutboxEntry[]>;
  /** Resubmits/rebroadcasts our pending transactions now; resolves to how many went to the network. */
  rebroadcast(): Promise<number>;
  /** The wallet key as a passphrase-encrypted JSON backup (text). */
  exportWallet(passphrase: string): Promise<string>;
  /** Replaces this profile's key by a backup's; needs `{ confirm: true }` (CONFIRM_REQUIRED otherwise). */
  importWallet(backup: string, passphrase: string, opts: { confirm: boolean }): Promise<{ address: string; previous: string }>;
  /** Storage bytes used and quota, or null when unknown. */
  storage(): Promise<StorageUsage | null>;
  /**
   * The "Isolate this tab" teaching switch: on drops and refuses every peer of this tab (libp2p and
   * same-browser tabs) — an island of one — without touching the real network; off rejoins.
   */
  setIsolated(on: boolean): Promise<void>;
  /** Whether the isolate switch is on. */
  isolated(): Promise<boolean>;
}

// ---------------------------------------------------------------------------------------------
// Explorer / UI section (additive): block, tx and address views, the recent header tree, chain
// numbers, every item, events and the profile list — see explorer.ts. The page's explorer, chain
// view and header bar read these; they are usable from the console like the rest.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface TabchainApiExtended extends ExplorerApi {}

/** What the API needs of the node (FullNode provides it). */
export interface ApiNode extends OutboxNode, ExplorerNode {
  readonly events: OutboxNode['events'];
  findTx(txid: string): Promise<(TxLocation & { tx?: Transaction }) | null>;
  readonly synced: boolean;
  startMining(opts?: { workers?: number }): Promise<void>;
  stopMining(): Promise<void>;
  mineBlocks(n: number): Promise<string[]>;
  minerStatus(): MinerStatus;
  setMinerPubKey(pub: Uint8Array): void;
}

/** Everything {@link createTabchainApi} wires together. */
export interface TabchainApiDeps {
  node: ApiNode;
  wallet: Wallet;
  outbox: Outbox;
  profile: string;
  /** libp2p peer id; '' until p2p exists. */
  peerId?: () => string;
  peers?: () => ApiPeer[];
  /** Whether the browser thinks it is online; navigator.onLine by default (true without navigator). */
  online?: () => boolean;
  /** What the tab knows of its network (`status().connection`); 'alone' when not given (no network). */
  connection?: () => ApiConnection;
  storage?: () => Promise<StorageUsage | null>;
  /** Default waitForHeight timeout, ms (60,000). */
  defaultTimeoutMs?: number;
  /** scrypt costs of exported backups (tests use cheap ones); backup.ts's default otherwise. */
  backupKdf?: { N: number; r: number; p: number };
  /** The browser's profile list (ProfileManager) for profiles()/deleteProfile()/labelProfile(). */
  profiles?: ExplorerProfiles;
  /** The isolate switch (the tab's network); without it setIsolated only remembers the wish. */
  isolation?: { set(on: boolean): void; get(): boolean };
}

// ---------------------------------------------------------------------------------------------
// Input parsing (strict: a typo must fail loudly, never move a different amount).

const MAX_AMOUNT = (1n << 63n) - 1n;
const U32_MAX = 0xffffffff;
const HEX_ID = /^[0-9a-fA-F]{64}$/;

/**
 * A decimal string of base units → bigint: digits only, no sign, no leading zero, 1 ≤ n < 2^63.
 * @example parseAmount('150000000') // 150000000n
 */
export function parseAmount(s: unknown, what = 'amount'): bigint {
  if (typeof s !== 'string' || !/^[1-9][0-9]{0,18}$/.test(s)) {
    throw new ApiError('BAD_AMOUNT', `${what} must be a decimal string of base units (digits only, 1 to 2^63-1), got ${showValue(s)}`);
  }
  const n = BigInt(s);
  if (n > MAX_AMOUNT) throw new ApiError('BAD_AMOUNT', `${what} ${s} is not below 2^63`);
  return n;
}

/**
 * A quantity (item count) → bigint: a positive safe integer number.
 * @example parseQuantity(10) // 10n
 */
export function parseQuantity(n: unknown, what = 'quantity'): bigint {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) throw new ApiError('BAD_AMOUNT', `${what} must be a positive integer, got ${showValue(n)}`);
  return BigInt(n);
}

/** lots → number in 1..2^32−1. @example parseLots(3) // 3 */
export function parseLots(n: unknown): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > U32_MAX) throw new ApiError('BAD_AMOUNT', `lots must be an integer in 1..${U32_MAX}, got ${showValue(n)}`);
  return n;
}

/**
 * A 64-hex-character id in display order → internal bytes.
 * @example parseId(offerIdHex, 'offerId')
 */
export function parseId(s: unknown, what: string): Uint8Array {
  if (typeof s !== 'string' || !HEX_ID.test(s)) throw new ApiError('BAD_ID', `${what} must be 64 hex characters, got ${showValue(s)}`);
  return hexToHash(s.toLowerCase());
}

/** An address of this network → 32-byte public key (BAD_ADDRESS). @example parseAddress(addr, 'tab') */
export function parseAddress(s: unknown, prefix: string): Uint8Array {
  try {
    return decodeAddress(s as string, prefix);
  } catch (e) {
    throw toApiError(e);
  }
}

/** 'coin' or an itemId → Asset. @example parseAsset('coin') // { type: 'coin' } */
export function parseAsset(s: unknown, what: string): Asset {
  if (s === 'coin') return { type: 'coin' };
  return { type: 'item', itemId: parseId(s, `${what} asset (an itemId or 'coin')`) };
}

/** Asset → 'coin' or display-hex itemId. @example formatAsset({ type: 'coin' }) // 'coin' */
export function formatAsset(a: Asset): string {
  return a.type === 'coin' ? 'coin' : hashToHex(a.itemId);
}

function formatAssetAmount(a: AssetAmount): { asset: string; amount: string } {
  return { asset: formatAsset(a.asset), amount: a.amount.toString() };
}

function parseAssetAmount(o: unknown, what: string): AssetAmount {
  if (typeof o !== 'object' || o === null) throw new ApiError('BAD_INPUT', `${what} must be { asset, amount }`);
  const { asset, amount } = o as { asset?: unknown; amount?: unknown };
  return { asset: parseAsset(asset, what), amount: parseAmount(amount, `${what} amount`) };
}

/** A bigint that fits a JS number exactly, as a number (quantities in inventory()). */
function toNumber(n: bigint): number {
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : Number.MAX_SAFE_INTEGER;
}

// ---------------------------------------------------------------------------------------------

/**
 * Builds the API over a started node, its wallet and outbox.
 * @example
 * ```ts
 * const api = createTabchainApi({ node, wallet, outbox, profile: profile.id });
 * await api.mineBlocks(3);
 * ```
 */
export function createTabchainApi(deps: TabchainApiDeps): TabchainApiExtended {
  const { node, wallet, outbox } = deps;
  const params = node.params;
  const prefix = params.addressPrefix;
  const addressOf = (pub: Uint8Array) => encodeAddress(pub, prefix);
  /** The isolate switch's state while no network is wired (set before it starts). */
  let isolatedWish = false;
  const pubOr = (address: string | undefined) => (address === undefined ? wallet.publicKey : parseAddress(address, prefix));

  /** Wraps a method so every failure is an ApiError. */
  const api = <A extends unknown[], R>(fn: (...args: A) => R | Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await fn(...args);
      } catch (e) {
        throw toApiError(e);
      }
    };

  const isOpen = (o: Offer) => o.lotsLeft > 0 && (o.expiresAtHeight === null || o.expiresAtHeight >= node.height + 1);

  /** createOffer's argument → its payload (BAD_* on bad input). */
  const offerPayload = (o: { give: unknown; want: unknown; lots: unknown; expiresAtHeight?: unknown }): Extract<TxPayload, { kind: 'offer.create' }> => {
    if (typeof o !== 'object' || o === null) throw new ApiError('BAD_INPUT', 'createOffer takes { give, want, lots }');
    const give = parseAssetAmount(o.give, 'give');
    const want = parseAssetAmount(o.want, 'want');
    const lots = parseLots(o.lots);
    let expires: number | null = null;
    if (o.expiresAtHeight !== undefined && o.expiresAtHeight !== null) {
      if (typeof o.expiresAtHeight !== 'number' || !Number.isInteger(o.expiresAtHeight) || o.expiresAtHeight < 0 || o.expiresAtHeight > U32_MAX) {
        throw new ApiError('BAD_INPUT', 'expiresAtHeight must be a height (integer ≥ 0) or null');
      }
      expires = o.expiresAtHeight;
    }
    if (give.asset.type === 'coin' && want.asset.type === 'coin') throw new ApiError('BAD_INPUT', 'an offer swaps two different assets');
    if (give.asset.type === 'item' && want.asset.type === 'item' && bytesToHex(give.asset.itemId) === bytesToHex(want.asset.itemId)) {
      throw new ApiError('BAD_INPUT', 'an offer swaps two different assets');
    }
    return { kind: 'offer.create', give, want, lots, expiresAtHeight: expires };
  };

  const createOfferUntil = api(async (o: { give: unknown; want: unknown; lots: unknown; expiresAtHeight?: unknown }) => {
    const p = offerPayload(o);
    const { txid } = await wallet.createOffer(p.give, p.want, p.lots, p.expiresAtHeight);
    return txid;
  });

  /** An intent of previewTx → the payload its API method would submit, checked as that method checks it. */
  const intentPayload = (i: ApiTxIntent): TxPayload => {
    if (typeof i !== 'object' || i === null) throw new ApiError('BAD_INPUT', 'previewTx takes { kind, …the arguments of that call }');
    switch (i.kind) {
      case 'send':
        return { kind: 'transfer', to: parseAddress(i.to, prefix), amount: parseAmount(i.amount) };
      case 'createItem':
        if (!isValidSku(i.sku)) throw new ApiError('BAD_INPUT', 'sku must be 1..32 printable ASCII characters');
        if (typeof i.name !== 'string' || !isValidItemName(i.name)) throw new ApiError('BAD_INPUT', 'name must be text of at most 64 UTF-8 bytes');
        return { kind: 'item.create', sku: i.sku, name: i.name, quantity: parseQuantity(i.quantity) };
      case 'mintItem':
        return { kind: 'item.mint', itemId: parseId(i.itemId, 'itemId'), quantity: parseQuantity(i.quantity) };
      case 'transferItem':
        return { kind: 'item.transfer', itemId: parseId(i.itemId, 'itemId'), to: parseAddress(i.to, prefix), quantity: parseQuantity(i.quantity) };
      case 'burnItem':
        return { kind: 'item.burn', itemId: parseId(i.itemId, 'itemId'), quantity: parseQuantity(i.quantity) };
      case 'createOffer':
        return offerPayload(i);
      case 'acceptOffer':
        return { kind: 'offer.accept', offerId: parseId(i.offerId, 'offerId'), lots: parseLots(i.lots) };
      case 'cancelOffer':
        return { kind: 'offer.cancel', offerId: parseId(i.offerId, 'offerId') };
      default:
        throw new ApiError('BAD_INPUT', `previewTx: unknown kind ${showValue((i as { kind?: unknown }).kind)}`);
    }
  };

  return {
    ready: Promise.resolve(),

    status: api(async () => {
      const miner = node.minerStatus();
      const nav = globalThis.navigator as Navigator | undefined;
      return {
        network: params.name,
        profile: deps.profile,
        peerId: deps.peerId?.() ?? '',
        address: wallet.address,
        height: node.height,
        tip: hashToHex(node.tip.hash),
        // As Bitcoin Core's getblockchaininfo: 64 hex digits, big-endian.
        chainwork: node.tip.chainwork.toString(16).padStart(64, '0'),
        synced: node.synced,
        online: deps.online ? deps.online() : (nav?.onLine ?? true),
        mining: miner.started || miner.mining,
        workers: miner.workers,
        hashrate: miner.hashrate,
        mempool: node.mempool.size,
        peers: deps.peers?.() ?? [],
        connection: deps.connection?.() ?? 'alone',
      };
    }),

    startMining: api(async (opts?: { workers?: number }) => {
      const workers = opts?.workers;
      if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1 && workers <= 256)) {
        throw new ApiError('BAD_INPUT', 'workers must be an integer in 1..256');
      }
      node.setMinerPubKey(wallet.publicKey);
      await node.startMining(workers === undefined ? undefined : { workers });
    }),

    stopMining: api(() => node.stopMining()),

    mineBlocks: api(async (n: number) => {
      if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new ApiError('BAD_INPUT', 'n must be an integer in 1..10000');
      node.setMinerPubKey(wallet.publicKey);
      return await node.mineBlocks(n);
    }),

    waitForHeight: api((height: number, timeoutMs?: number) => {
      if (!Number.isSafeInteger(height) || height < 0) throw new ApiError('BAD_INPUT', 'height must be a non-negative integer');
      const ms = timeoutMs ?? deps.defaultTimeoutMs ?? 60_000;
      if (typeof ms !== 'number' || !(ms >= 0)) throw new ApiError('BAD_INPUT', 'timeoutMs must be a non-negative number');
      if (node.height >= height) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          off();
          reject(new ApiError('TIMEOUT', `height ${height} not reached within ${ms} ms (at ${node.height})`));
        }, ms);
        const off = node.events.on('tip', (e) => {
          if (e.height >= height || node.height >= height) {
            clearTimeout(timer);
            off();
            resolve();
          }
        });
      });
    }),

    balance: api(async (address?: string) => node.state.account(pubOr(address)).balance.toString()),

    send: api(async (to: string, amount: string) => {
      const toPub = parseAddress(to, prefix);
      const value = parseAmount(amount);
      return (await wallet.transfer(toPub, value)).txid;
    }),

    createItem: api(async (sku: string, name: string, quantity: number) => {
      if (!isValidSku(sku)) throw new ApiError('BAD_INPUT', 'sku must be 1..32 printable ASCII characters');
      if (typeof name !== 'string' || !isValidItemName(name)) throw new ApiError('BAD_INPUT', 'name must be text of at most 64 UTF-8 bytes, without control or bidirectional-formatting characters');
      const q = parseQuantity(quantity);
      const { txid, itemId } = await wallet.createItem(sku, name, q);
      return { txid, itemId: hashToHex(itemId) };
    }),

    mintItem: api(async (itemId: string, quantity: number) => {
      const id = parseId(itemId, 'itemId');
      const q = parseQuantity(quantity);
      return (await wallet.mintItem(id, q)).txid;
    }),

    transferItem: api(async (itemId: string, to: string, quantity: number) => {
      const id = parseId(itemId, 'itemId');
      const toPub = parseAddress(to, prefix);
      const q = parseQuantity(quantity);
      return (await wallet.transferItem(id, toPub, q)).txid;
    }),

    inventory: api(async (address?: string) => {
      const owner = pubOr(address);
      const out: { itemId: string; sku: string; name: string; issuer: string; quantity: number }[] = [];
      for (const h of node.state.holdingsOf(owner)) {
        const idBytes = hexToBytes(h.itemId); // state keys hold internal order
        const item = node.state.getItem(idBytes);
        if (!item) continue; // a holding always has its item; guard anyway
        out.push({ itemId: hashToHex(idBytes), sku: item.sku, name: item.name, issuer: addressOf(item.issuer), quantity: toNumber(h.quantity) });
      }
      return out.sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : a.itemId < b.itemId ? -1 : 1));
    }),

    createOffer: (o) => createOfferUntil({ ...o, expiresAtHeight: null }),
    createOfferUntil,

    offers: api(async () =>
      node.state
        .offers()
        .filter(isOpen)
        .sort((a, b) => a.createdHeight - b.createdHeight || (hashToHex(a.offerId) < hashToHex(b.offerId) ? -1 : 1))
        .map((o) => ({
          offerId: hashToHex(o.offerId),
          maker: addressOf(o.maker),
          give: formatAssetAmount(o.give),
          want: formatAssetAmount(o.want),
          lotsLeft: o.lotsLeft,
        })),
    ),

    acceptOffer: api(async (offerId: string, lots: number) => {
      const id = parseId(offerId, 'offerId');
      const n = parseLots(lots);
      return (await wallet.acceptOffer(id, n)).txid;
    }),

    cancelOffer: api(async (offerId: string) => (await wallet.cancelOffer(parseId(offerId, 'offerId'))).txid),

    txStatus: api(async (txid: string) => {
      const id = hashToHex(parseId(txid, 'txid'));
      const where = await node.findTx(id);
      if (where?.state === 'confirmed') {
        const height = where.height ?? (where.blockHash ? node.headers.get(where.blockHash)?.height : undefined);
        const confirmations = height === undefined ? (where.confirmations ?? 1) : Math.max(1, node.height - height + 1);
        return { state: 'confirmed' as const, confirmations };
      }
      if (where?.state === 'pending') return { state: 'pending' as const, confirmations: 0 };
      const mine = outbox.get(id);
      if (mine?.state === 'rejected') return { state: 'rejected' as const, confirmations: 0, error: mine.error ?? 'INVALID' };
      // Ours and not settled (e.g. waiting to be resubmitted after a reorg).
      if (mine) return { state: 'pending' as const, confirmations: 0 };
      return { state: 'unknown' as const, confirmations: 0 };
    }),

    // --- extended ---------------------------------------------------------------------------------

    address: api(async () => wallet.address),

    account: api(async (address?: string) => {
      const pub = pubOr(address);
      const own = bytesToHex(pub) === bytesToHex(wallet.publicKey);
      const acc = node.state.account(pub);
      let pendingOut = 0n;
      if (own) {
        for (const tx of wallet.pendingChain()) {
          pendingOut += tx.fee;
          if (tx.kind === 'transfer') pendingOut += tx.amount;
          if (tx.kind === 'offer.create' && tx.give.asset.type === 'coin') pendingOut += tx.give.amount * BigInt(tx.lots);
          if (tx.kind === 'offer.accept') {
            const offer = node.state.getOffer(tx.offerId);
            if (offer?.want.asset.type === 'coin') pendingOut += offer.want.amount * BigInt(tx.lots);
          }
        }
      }
      const maturing = maturingOf(node.state, params, node.height, pub);
      // Another address: its balance plus the reward the next block releases to it (ours is wallet.available()).
      const releasedNext = acc.immature - maturing.reduce((sum, r) => sum + r.amount, 0n);
      const available = own ? wallet.available() : acc.balance + releasedNext;
      let incoming = 0n;
      for (const m of node.mempool.all()) {
        if (m.tx.kind === 'transfer' && !equalBytes(m.tx.from, pub) && equalBytes(m.tx.to, pub)) incoming += m.tx.amount;
      }
      return {
        address: addressOf(pub),
        balance: acc.balance.toString(),
        immature: acc.immature.toString(),
        nonce: acc.nonce,
        pendingOut: pendingOut.toString(),
        available: available.toString(),
        maturing: maturing.map((r) => ({ height: r.height, amount: r.amount.toString(), blocksLeft: r.blocksLeft, seconds: r.blocksLeft * params.targetSpacing })),
        incoming: incoming.toString(),
      };
    }),

    previewTx: api(async (intent: ApiTxIntent) => {
      const { tx, error } = await wallet.dryRun(intentPayload(intent));
      return {
        fee: tx.fee.toString(),
        size: txSize(tx),
        error: error ? { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) } : null,
      };
    }),

    fees: api(async () => {
      // The smallest encoding of each call: a fee is minFeePerByte × size, and only createItem's
      // size depends on what is typed (SKU and name; one character each here).
      const me = wallet.publicKey;
      const id = new Uint8Array(32);
      const fee = (p: TxPayload) => wallet.build(p, { nonce: 1 }).fee.toString();
      return {
        send: fee({ kind: 'transfer', to: me, amount: 1n }),
        createItem: fee({ kind: 'item.create', sku: 'A', name: 'A', quantity: 1n }),
        mintItem: fee({ kind: 'item.mint', itemId: id, quantity: 1n }),
        transferItem: fee({ kind: 'item.transfer', itemId: id, to: me, quantity: 1n }),
        burnItem: fee({ kind: 'item.burn', itemId: id, quantity: 1n }),
        createOffer: fee({ kind: 'offer.create', give: { asset: { type: 'item', itemId: id }, amount: 1n }, want: { asset: { type: 'coin' }, amount: 1n }, lots: 1, expiresAtHeight: null }),
        acceptOffer: fee({ kind: 'offer.accept', offerId: id, lots: 1 }),
        cancelOffer: fee({ kind: 'offer.cancel', offerId: id }),
      };
    }),

    burnItem: api(async (itemId: string, quantity: number) => (await wallet.burnItem(parseId(itemId, 'itemId'), parseQuantity(quantity))).txid),

    outbox: api(async () =>
      outbox.list().map((e) => {
        const row: ApiOutboxEntry = {
          txid: e.txid,
          kind: e.decoded.kind,
          nonce: e.decoded.nonce,
          fee: e.decoded.fee.toString(),
          state: e.state,
          confirmations: e.confirmations,
          createdAt: e.createdAt,
        };
        if (e.error !== undefined) row.error = e.error;
        if (e.blockHash !== undefined) row.blockHash = e.blockHash;
        return row;
      }),
    ),

    rebroadcast: api(() => outbox.rebroadcastPending()),

    exportWallet: api(async (passphrase: string) => JSON.stringify(await wallet.exportBackup(passphrase, deps.backupKdf && { kdf: deps.backupKdf }), null, 2)),

    importWallet: api(async (backup: string, passphrase: string, opts: { confirm: boolean }) => {
      const result = await wallet.importBackup(backup, passphrase, { confirm: opts?.confirm === true });
      node.setMinerPubKey(wallet.publicKey);
      return result;
    }),

    storage: api(async () => (deps.storage ? await deps.storage() : null)),

    setIsolated: api(async (on: boolean) => {
      if (typeof on !== 'boolean') throw new ApiError('BAD_INPUT', 'setIsolated: on must be a boolean');
      if (deps.isolation) deps.isolation.set(on);
      else isolatedWish = on;
    }),

    isolated: api(async () => (deps.isolation ? deps.isolation.get() : isolatedWish)),

    // --- explorer / UI section (explorer.ts) --------------------------------------------------
    ...createExplorerApi({ node, outbox, wallet, profiles: deps.profiles }),
  };
}

/**
 * An API whose `ready` settles when `started` does and whose methods wait for it: what `main.ts`
 * installs as `window.tabchain` at once, before storage is open. If start fails, `ready` rejects
 * with that error and every method rejects with it too.
 * @example
 * ```ts
 * window.tabchain = deferTabchainApi(startNode().then((deps) => createTabchainApi(deps)));
 * await window.tabchain.ready;
 * ```
 */
export function deferTabchainApi(started: Promise<TabchainApiExtended>): TabchainApiExtended {
  const ready = started.then(
    () => undefined,
    (e: unknown) => {
      throw toApiError(e);
    },
  );
  ready.catch(() => undefined); // the page reports it; do not also raise an unhandled rejection
  const later =
    <K extends Exclude<keyof TabchainApiExtended, 'ready'>>(name: K) =>
    async (...args: unknown[]): Promise<unknown> => {
      let api: TabchainApiExtended;
      try {
        api = await started;
      } catch (e) {
        throw new ApiError('NOT_READY', `the node did not start: ${toApiError(e).message}`);
      }
      return (api[name] as (...a: unknown[]) => Promise<unknown>)(...args);
    };
  // A record (not a list) so that the compiler names any method added to the interface but not here.
  const methods: Record<Exclude<keyof TabchainApiExtended, 'ready'>, true> = {
    status: true, startMining: true, stopMining: true, mineBlocks: true, waitForHeight: true, balance: true, send: true,
    createItem: true, mintItem: true, transferItem: true, inventory: true, createOffer: true, offers: true, acceptOffer: true,
    cancelOffer: true, txStatus: true, address: true, account: true, previewTx: true, fees: true, burnItem: true, createOfferUntil: true, outbox: true,
    rebroadcast: true, exportWallet: true, importWallet: true, storage: true, setIsolated: true, isolated: true,
    // explorer / UI section
    chainInfo: true, block: true, latestBlocks: true, tx: true, addressView: true, headerTree: true, allItems: true,
    offerViews: true, mempoolTxs: true, search: true, searchAll: true, walletTxs: true, subscribe: true, profiles: true, deleteProfile: true, labelProfile: true,
  };
  const names = Object.keys(methods) as Exclude<keyof TabchainApiExtended, 'ready'>[];
  const out: Record<string, unknown> = { ready };
  for (const n of names) out[n] = later(n);
  return out as unknown as TabchainApiExtended;
}
