/**
 * The data model of the consensus core. Every module of src/chain speaks these types; the other
 * layers (storage, node, p2p, ui) use them too. Hashes and keys are `Uint8Array` in internal byte
 * order; amounts, quantities and supplies are `bigint` base units (u64 on the wire); heights,
 * times, nonces and lots are `number` (u32 on the wire).
 * @module
 */

/** Bitcoin's 80-byte block header, field for field. */
export interface BlockHeader {
  version: number; // u32
  prevHash: Uint8Array; // 32 bytes, internal order
  merkleRoot: Uint8Array; // 32 bytes, internal order
  time: number; // u32 seconds
  bits: number; // u32 compact target
  nonce: number; // u32
}

/** An asset is the coin or an item (by its 32-byte id). */
export type Asset = { type: 'coin' } | { type: 'item'; itemId: Uint8Array };

/** An amount of an asset: coin in base units, or an item quantity. */
export interface AssetAmount {
  asset: Asset;
  amount: bigint;
}

/** Transaction kinds with their one-byte wire tags (stable: part of the encoding). */
export const TX_KIND_TAGS = {
  coinbase: 0,
  transfer: 1,
  'item.create': 2,
  'item.mint': 3,
  'item.transfer': 4,
  'item.burn': 5,
  'offer.create': 6,
  'offer.accept': 7,
  'offer.cancel': 8,
} as const;

export type TxKind = keyof typeof TX_KIND_TAGS;

/** Fields every transaction carries. For a coinbase: `from` = 32 zero bytes, nonce 0, fee 0,
 * signature = 64 zero bytes. */
export interface TxCommon {
  chainId: number; // u32, params.chainId; signatures commit to it
  from: Uint8Array; // 32-byte ed25519 public key of the sender
  nonce: number; // u32, per-account sequence: must equal the account's nonce + 1
  fee: bigint; // u64 base units, paid to the block's miner
  signature: Uint8Array; // 64-byte ed25519 signature over signingHash(tx)
}

/** The payload of each kind (flattened into the transaction object). */
export type TxPayload =
  | { kind: 'coinbase'; height: number; miner: Uint8Array; extraNonce: bigint }
  | { kind: 'transfer'; to: Uint8Array; amount: bigint }
  | { kind: 'item.create'; sku: string; name: string; quantity: bigint }
  | { kind: 'item.mint'; itemId: Uint8Array; quantity: bigint }
  | { kind: 'item.transfer'; itemId: Uint8Array; to: Uint8Array; quantity: bigint }
  | { kind: 'item.burn'; itemId: Uint8Array; quantity: bigint }
  | {
      kind: 'offer.create';
      give: AssetAmount; // per lot
      want: AssetAmount; // per lot
      lots: number; // u32 ≥ 1
      expiresAtHeight: number | null; // last height at which it can be accepted; null = never
    }
  | { kind: 'offer.accept'; offerId: Uint8Array; lots: number }
  | { kind: 'offer.cancel'; offerId: Uint8Array };

export type Transaction = TxCommon & TxPayload;
export type TxOfKind<K extends TxKind> = TxCommon & Extract<TxPayload, { kind: K }>;
/** A transaction before signing. */
export type UnsignedTransaction = Omit<TxCommon, 'signature'> & TxPayload;

export interface Block {
  header: BlockHeader;
  txs: Transaction[]; // txs[0] is the coinbase
}

// ---------------------------------------------------------------------------------------------
// State. The whole chain state is a key → entry map (see state.ts for the key scheme). Connecting
// a block produces a list of StateChange; the same list, read backwards, disconnects it. Storage
// persists exactly these changes, so memory, IndexedDB and disk agree by construction.

export interface Account {
  balance: bigint; // spendable coin
  immature: bigint; // coinbase rewards not yet spendable (display only; see MaturingReward)
  nonce: number; // nonce of the last transaction sent (0 = none yet)
}

export interface Item {
  itemId: Uint8Array; // itemIdFor(issuer, sku)
  issuer: Uint8Array; // 32-byte pubkey
  sku: string;
  name: string;
  supply: bigint; // total in existence (created + minted − burned)
  createdHeight: number;
}

export interface Offer {
  offerId: Uint8Array; // txid of the offer.create
  maker: Uint8Array;
  give: AssetAmount; // per lot, escrowed × lotsLeft
  want: AssetAmount; // per lot
  lotsLeft: number;
  lotsTotal: number;
  expiresAtHeight: number | null;
  createdHeight: number;
}

/** A coinbase reward of block `height`, credited to `miner`'s balance at height + maturity. */
export interface MaturingReward {
  height: number;
  miner: Uint8Array;
  amount: bigint;
}

export type StateEntry =
  | { type: 'account'; value: Account }
  | { type: 'item'; value: Item }
  | { type: 'holding'; value: bigint } // quantity of an item held by an owner
  | { type: 'offer'; value: Offer }
  | { type: 'maturing'; value: MaturingReward };

/** One write to the state: `before` is what to restore on disconnect (null = absent). */
export interface StateChange {
  key: string;
  before: StateEntry | null;
  after: StateEntry | null;
}

/** Everything needed to disconnect a connected block. */
export interface BlockUndo {
  hash: Uint8Array;
  height: number;
  changes: StateChange[]; // in application order; undo applies `before` in reverse order
}

// ---------------------------------------------------------------------------------------------
// Header index (fork choice).

export type HeaderStatus = 'headers-only' | 'valid' | 'invalid';

export interface HeaderEntry {
  hash: Uint8Array;
  header: BlockHeader;
  height: number;
  chainwork: bigint; // cumulative work up to and including this header
  status: HeaderStatus;
  /** Whether the full block body is stored (it may be 'valid' in header context only). */
  hasBody: boolean;
}

// ---------------------------------------------------------------------------------------------
// Network parameters.

/** 'test' is for unit tests and benches only (regtest difficulty); see params.ts. */
export type NetworkName = 'main' | 'dev' | 'test';

export interface NetworkParams {
  name: NetworkName;
  chainId: number; // u32, committed in every signature
  addressPrefix: string; // bech32m human-readable part: 'tab' | 'tabdev' | 'tabtest'
  targetSpacing: number; // seconds
  asertHalfLife: number; // seconds
  powLimit: bigint; // easiest allowed target
  powLimitBits: number;
  genesisBits: number;
  initialReward: bigint; // base units
  halvingInterval: number; // blocks
  coinbaseMaturity: number; // blocks
  maxFutureSeconds: number; // 120
  medianTimeSpan: number; // 11
  maxBlockBytes: number; // 1 MiB
  maxBlockTxs: number; // 10,000
  maxTxBytes: number; // 8 KiB
  minFeePerByte: bigint; // minimum relay fee rate (base units per encoded byte)
  genesis: Block;
  genesisHash: Uint8Array;
}

/** 1 TAB in base units. */
export const COIN = 100_000_000n;
