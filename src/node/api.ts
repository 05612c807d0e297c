/**
 * `window.tabchain`: the browser automation API (docs/ARCHITECTURE.md §The window.tabchain API),
 * used by the e2e tests, by demo scripts and from the devtools console.
 *
 * Conventions (every method):
 * - Returns JSON-serialisable values only (strings, numbers, booleans, arrays, plain objects),
 *   except `subscribe`, which resolves to its unsubscribe function.
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
 *
 * This file holds the types and composes the methods, grouped by concern: the node and what the
 * chain holds (api-chain.ts), the wallet's transactions, account and backups (api-wallet.ts), the
 * explorer / UI section (explorer.ts); input checks are in api-input.ts.
 * @module
 */
import { encodeAddress, type Transaction } from '../chain/index.ts';
import type { Discrepancy, StorageUsage, StoreVerification } from '../storage/index.ts';
import type { MinerStatus } from '../miner/index.ts';
import { ApiError, toApiError, type ApiErrorDetails } from './errors.ts';
import type { Outbox, OutboxNode, TxLocation } from './outbox.ts';
import { createExplorerApi, type ApiTxView, type ExplorerApi, type ExplorerNode, type ExplorerProfiles } from './explorer.ts';
import { chainMethods } from './api-chain.ts';
import { rawMethods } from './api-raw.ts';
import { parseAddress } from './api-input.ts';
import { walletMethods } from './api-wallet.ts';
import type { Wallet } from './wallet.ts';

/**
 * The core automation API, in the shape first specified for it (docs/ARCHITECTURE.md §The
 * window.tabchain API); the fields added since are marked.
 */
export interface TabchainApi {
  ready: Promise<void>;                  // storage open, node started
  status(): Promise<{ network: string; profile: string; peerId: string; address: string;
    height: number; tip: string; chainwork: string; synced: boolean; online: boolean;
    mining: boolean; workers: number; hashrate: number; mempool: number;
    peers: { id: string; transport: 'webrtc' | 'relay' | 'websocket' | 'tab'; rttMs?: number;
      score?: number }[];                    // score: an addition to the first shape (PeerScores: 0 clean, below 0 distrusted)
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

/**
 * Methods beyond the specified interface (UI and console conveniences), with the explorer / UI
 * section (explorer.ts: block, tx and address views, the recent header tree, chain numbers, every
 * item, events and the profile list) that the page's explorer, chain view and header bar read.
 */
export interface TabchainApiExtended extends TabchainApi, ExplorerApi {
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
   * Checks this tab's stored chain (Bitcoin Core's `verifychain`): replays the stored active chain
   * from genesis and compares the stored tip, state, undo records and txid index, and the node's
   * tip and state, with the replay. `discrepancies` is empty exactly when all agree. Reads every
   * stored block: seconds for thousands of blocks.
   */
  verifyChain(): Promise<ApiChainVerification>;
  /**
   * The "Isolate this tab" teaching switch: on drops and refuses every peer of this tab (libp2p and
   * same-browser tabs) — an island of one — without touching the real network; off rejoins.
   */
  setIsolated(on: boolean): Promise<void>;
  /** Whether the isolate switch is on. */
  isolated(): Promise<boolean>;
  /**
   * Submits a transaction built and signed elsewhere, as the hex of its encoding (api-raw.ts):
   * checked by every rule, relayed when accepted; resolves to its txid (also when already known).
   */
  sendRawTransaction(hex: string): Promise<string>;
  /** A raw transaction's hex decoded, as the explorer shows a transaction; nothing is submitted. */
  decodeTransaction(hex: string): Promise<ApiTxView>;
}

/** What {@link TabchainApiExtended.verifyChain} found. */
export interface ApiChainVerification {
  /** The stored tip's height and hash (display hex; null when nothing is stored). */
  height: number;
  tip: string | null;
  /** Blocks replayed above genesis. */
  replayed: number;
  /** Each way the store or the node disagrees with the replay (`kind` is stable: verify-store.ts). */
  discrepancies: Discrepancy[];
}

/** What the API needs of the node (FullNode provides it). */
export interface ApiNode extends OutboxNode, ExplorerNode {
  readonly events: OutboxNode['events'];
  findTx(txid: string): Promise<(TxLocation & { tx?: Transaction }) | null>;
  readonly synced: boolean;
  /** The node's miner (NodeMiner provides it). */
  readonly miner: {
    startMining(opts?: { workers?: number }): Promise<void>;
    stopMining(): Promise<void>;
    mineBlocks(n: number): Promise<string[]>;
    minerStatus(): MinerStatus;
  };
  setMinerPubKey(pub: Uint8Array): void;
  verifyStore(): Promise<StoreVerification>;
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

/** What the API's method groups (api-chain.ts, api-wallet.ts) share. */
export interface ApiContext {
  node: ApiNode;
  wallet: Wallet;
  outbox: Outbox;
  deps: TabchainApiDeps;
  params: ApiNode['params'];
  /** The network's address prefix. */
  prefix: string;
  /** A public key's address on this network. */
  addressOf(pub: Uint8Array): string;
  /** The key of `address`, or ours when it is not given (BAD_ADDRESS on a bad one). */
  pubOr(address: string | undefined): Uint8Array;
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
  const prefix = node.params.addressPrefix;
  const ctx: ApiContext = {
    node,
    wallet,
    outbox,
    deps,
    params: node.params,
    prefix,
    addressOf: (pub) => encodeAddress(pub, prefix),
    pubOr: (address) => (address === undefined ? wallet.publicKey : parseAddress(address, prefix)),
  };
  return {
    ...chainMethods(ctx),
    ...walletMethods(ctx),
    ...rawMethods(ctx),
    // The explorer / UI section (explorer.ts).
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
    rebroadcast: true, exportWallet: true, importWallet: true, storage: true, verifyChain: true, setIsolated: true, isolated: true,
    sendRawTransaction: true, decodeTransaction: true,
    // explorer / UI section
    chainInfo: true, block: true, latestBlocks: true, tx: true, addressView: true, headerTree: true, allItems: true,
    offerViews: true, mempoolTxs: true, search: true, searchAll: true, walletTxs: true, subscribe: true, profiles: true, deleteProfile: true, labelProfile: true,
  };
  const names = Object.keys(methods) as Exclude<keyof TabchainApiExtended, 'ready'>[];
  const out: Record<string, unknown> = { ready };
  for (const n of names) out[n] = later(n);
  return out as unknown as TabchainApiExtended;
}
