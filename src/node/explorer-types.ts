/**
 * The result types of the read-only explorer API (explorer.ts): blocks, transactions, addresses,
 * items, offers, the header tree, chain info, search hits, events and profiles, as
 * `window.tabchain` returns them (JSON-serialisable; ids in display hex, u64 values as decimal
 * strings — docs/ARCHITECTURE.md §The window.tabchain API). explorer.ts re-exports them.
 * @module
 */
import type { HeaderEntry, Transaction } from '../chain/index.ts';
import type { NodeEvents } from './events.ts';
import type { OutboxEntry } from './outbox.ts';

/** An asset amount as the API prints it: asset 'coin' or an itemId; amount in base units. */
export interface ApiAssetAmount {
  asset: string;
  amount: string;
}

/**
 * One transaction, flattened for display. Fields present depend on `kind`; addresses are
 * bech32m, amounts and quantities decimal strings.
 */
export interface ApiTxView {
  txid: string;
  kind: Transaction['kind'];
  /** Sender address; null for a coinbase. */
  from: string | null;
  nonce: number;
  fee: string;
  /** Encoded bytes. */
  size: number;
  /** transfer / item.transfer recipient, coinbase miner. */
  to?: string;
  /** Coins moved by a transfer, or the coinbase's total (reward + fees). */
  amount?: string;
  itemId?: string;
  sku?: string;
  name?: string;
  quantity?: string;
  give?: ApiAssetAmount;
  want?: ApiAssetAmount;
  lots?: number;
  expiresAtHeight?: number | null;
  /** offer.accept / offer.cancel: the offer; offer.create: its own id (= txid). */
  offerId?: string;
  /**
   * offer.accept, where the explorer, wallet or address view could find the offer: its maker (the
   * taker's counterparty). `give` and `want` are then the offer's terms per lot, as for
   * offer.create, so a sentence can say what was bought.
   */
  maker?: string;
  /** Coinbase: the height it commits to. */
  height?: number;
}

/** The 80-byte header's fields, hashes in display hex, bits as 8 hex digits. */
export interface ApiHeaderFields {
  version: number;
  prevHash: string;
  merkleRoot: string;
  time: number;
  bits: string;
  nonce: number;
}

/** A block as the explorer shows it. */
export interface ApiBlockView {
  hash: string;
  height: number;
  /** On the active chain (false: a side branch). */
  active: boolean;
  /** tip height − height + 1 on the active chain, 0 off it. */
  confirmations: number;
  status: HeaderEntry['status'];
  header: ApiHeaderFields;
  /** Cumulative work, 64 hex digits (as Bitcoin Core's getblock). */
  chainwork: string;
  /** powLimit / target: how many times harder than the easiest block. */
  difficulty: number;
  size: number;
  txCount: number;
  /** Who the coinbase pays. */
  miner: string | null;
  txs: ApiTxView[];
  /** Next block on the active chain, if any. */
  next: string | null;
}

/** A line of the latest-blocks list. */
export interface ApiBlockSummary {
  hash: string;
  height: number;
  time: number;
  txCount: number;
  size: number;
  miner: string | null;
}

/** A transaction with where it is. */
export interface ApiTxDetail extends ApiTxView {
  state: 'pending' | 'confirmed';
  blockHash: string | null;
  blockHeight: number | null;
  confirmations: number;
}

/** An item (SKU) registered on the chain. */
export interface ApiItem {
  itemId: string;
  sku: string;
  name: string;
  issuer: string;
  supply: string;
  createdHeight: number;
  /** Number of addresses holding some. */
  holders: number;
}

/** An offer with its totals (the API's offers() shape plus the rest of the record). */
export interface ApiOfferView {
  offerId: string;
  maker: string;
  give: ApiAssetAmount;
  want: ApiAssetAmount;
  lotsLeft: number;
  lotsTotal: number;
  expiresAtHeight: number | null;
  createdHeight: number;
}

/** What an address holds and did recently. */
export interface ApiAddressView {
  address: string;
  balance: string;
  immature: string;
  nonce: number;
  holdings: { itemId: string; sku: string; name: string; issuer: string; quantity: string }[];
  offers: ApiOfferView[];
  /** Transactions touching the address: pending ones first, then the last `blocks` blocks, newest first. */
  txs: (ApiTxView & { blockHeight: number | null })[];
  /** Lowest height searched for `txs` (the view has no full address index). */
  scannedFromHeight: number;
}

/** One header of the recent tree. */
export interface ApiTreeEntry {
  hash: string;
  prevHash: string;
  height: number;
  time: number;
  status: HeaderEntry['status'];
  hasBody: boolean;
  /** On the active chain. */
  active: boolean;
}

/** The header tree of the last `depth` heights: active chain and every side branch. */
export interface ApiHeaderTree {
  tip: string;
  height: number;
  fromHeight: number;
  entries: ApiTreeEntry[];
}

/** The chain's numbers for the header bar and miner panel. */
export interface ApiChainInfo {
  network: string;
  height: number;
  tip: string;
  /** Highest header known (sync target; = height when nothing is left to fetch). */
  bestHeaderHeight: number;
  /** Compact target of the NEXT block, 8 hex digits. */
  nextBits: string;
  /** Difficulty of the next block: powLimit / target. */
  difficulty: number;
  /** Expected hashes to find the next block (2^256 / (target + 1)), decimal. */
  expectedHashes: string;
  /** Target seconds between blocks. */
  targetSpacing: number;
  /** Blocks a coinbase waits before it can be spent. */
  coinbaseMaturity: number;
  /** Reward of the next block in base units. */
  nextReward: string;
  /** Time of the tip block (unix seconds). */
  tipTime: number;
  mempoolBytes: number;
  orphans: number;
  held: number;
  addressPrefix: string;
}

/** A row of the browser's profile list. */
export interface ApiProfile {
  id: string;
  label: string | null;
  createdAt: number;
  lastUsed: number;
  /** Open in some tab (this one included). */
  locked: boolean;
  /** This tab's profile. */
  current: boolean;
}

/** What {@link ExplorerApi.search} found. */
export type ApiSearchHit =
  | { type: 'block'; hash: string; height: number }
  | { type: 'tx'; txid: string }
  | { type: 'address'; address: string }
  | { type: 'item'; itemId: string }
  | { type: 'offer'; offerId: string };

/** A line of this wallet's history: our own transactions (with their outbox state) and what others sent us. */
export interface ApiWalletTx extends ApiTxView {
  /** Sent by us, or received (a transfer or shipment to us, someone taking our offer). */
  direction: 'out' | 'in';
  state: 'pending' | 'confirmed' | 'rejected';
  /** Rule code of a rejected transaction. */
  error?: string;
  confirmations: number;
  blockHash: string | null;
  blockHeight: number | null;
  /** When we sent it (ms since epoch); null for received ones. */
  createdAt: number | null;
  /** Our mining rewards (walletTxs `{ rewards: true }`): blocks until a transaction can spend it, 0 once it can. */
  maturesIn?: number;
}

/** What {@link ExplorerApi.searchAll} found: every match, best first. */
export interface ApiSearchResult {
  hits: ApiSearchHit[];
  /** Transactions and addresses by a short id were looked for from this height up (the view has no full index). */
  scannedFromHeight: number;
}

/** Node events and outbox changes, as {@link ExplorerApi.subscribe} delivers them. */
export type ApiEvent =
  | { [K in keyof NodeEvents]: { type: K; payload: NodeEvents[K] } }[keyof NodeEvents]
  | { type: 'outbox'; payload: { txid: string; state: OutboxEntry['state']; error?: string } };

/** The explorer methods (added to TabchainApiExtended). */
export interface ExplorerApi {
  /** Difficulty, next reward, sync target and other chain numbers. */
  chainInfo(): Promise<ApiChainInfo>;
  /** A block by display hash or by height on the active chain; null if unknown or body missing. */
  block(hashOrHeight: string | number): Promise<ApiBlockView | null>;
  /** The last `count` blocks of the active chain (≤ 100), newest first. */
  latestBlocks(count?: number): Promise<ApiBlockSummary[]>;
  /** A transaction the node knows (mempool or active chain), or null. */
  tx(txid: string): Promise<ApiTxDetail | null>;
  /** Balance, holdings, open offers and recent transactions of an address (scans the last `blocks` ≤ 1000 blocks, default 200). */
  addressView(address: string, opts?: { blocks?: number }): Promise<ApiAddressView>;
  /** Headers of the last `depth` heights (≤ 200, default 24) with side branches. */
  headerTree(depth?: number): Promise<ApiHeaderTree>;
  /** Every item registered on the chain, by SKU. */
  allItems(): Promise<ApiItem[]>;
  /** Every open offer with totals and expiry (offers() plus fields). */
  offerViews(): Promise<ApiOfferView[]>;
  /** Pending transactions in the mempool, highest fee rate first (≤ `limit`, default 50). */
  mempoolTxs(limit?: number): Promise<ApiTxView[]>;
  /** Finds a block (hash or height), transaction, address, item or offer; null if nothing matches. The first of {@link searchAll}'s hits. */
  search(query: string): Promise<ApiSearchHit | null>;
  /**
   * Everything a query may mean, best first (at most 20): a height; a full block hash, txid,
   * offer or item id; an address; a short id as the page shows them ("00000a1b…9f2c", or any
   * prefix of at least 6 hex digits) of a block, item, offer or transaction, or of an address
   * ("tabdev1qy3…x7ke"); an item's SKU (exact, any case) or part of its name. Transactions and
   * addresses by short id are looked for in the mempool, this wallet's outbox and the last 500 blocks.
   */
  searchAll(query: string): Promise<ApiSearchResult>;
  /**
   * This profile's transactions (outbox) and received ones from the mempool and the last `blocks`
   * (≤ 1000, default 200) blocks, newest first; coinbases left out, unless `rewards` asks for ours
   * (with their amount, reward plus fees, and `maturesIn`).
   */
  walletTxs(opts?: { blocks?: number; rewards?: boolean }): Promise<ApiWalletTx[]>;
  /** Calls `listener` with every node event and outbox change; resolves to an unsubscribe function. */
  subscribe(listener: (e: ApiEvent) => void): Promise<() => void>;
  /** Profiles of this network in this browser (most recently used first). */
  profiles(): Promise<ApiProfile[]>;
  /** Deletes a profile that no tab has open (LOCKED otherwise). */
  deleteProfile(id: string): Promise<void>;
  /** Names a profile. */
  labelProfile(id: string, label: string): Promise<void>;
}
