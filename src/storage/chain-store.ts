/**
 * The `ChainStore` interface: everything a full node keeps on disk, platform-neutral.
 *
 * Three implementations share one engine-neutral core (engine-chain-store.ts) and one compliance suite:
 * {@link MemoryStore} (tests, ephemeral nodes), `IdbStore` (browser tab, IndexedDB via `idb`) and
 * `LevelStore` (headless Node node, `--data DIR`, LevelDB via classic-level; import it from
 * `src/storage/level-store.ts` directly — it is Node-only and not re-exported by the index).
 *
 * Durability model (docs/ARCHITECTURE.md §Storage): connecting or disconnecting a block — body, undo
 * record, state changes and tip — is ONE atomic write (several blocks may share one write:
 * {@link ChainStore.connectBlocks}), so a tab killed at any moment reopens with a tip and a state
 * from the same transaction. Opening reads the tip, the header index and the
 * state; it never replays blocks. Like Bitcoin Core's chainstate (CCoinsViewDB::BatchWrite writes
 * the coins and the best-block marker in one LevelDB batch), tip and state can never disagree.
 *
 * Hashes are `Uint8Array` in internal byte order (as in src/chain); stores key them by lowercase
 * hex of those bytes.
 * @module
 */
import type { BlockUndo, HeaderEntry, HeaderStatus, NetworkName, StateEntry } from '../chain/types.ts';

/** What a store records about the chain itself. */
export interface ChainMeta {
  /** Layout version of this store (IndexedDB database version for IdbStore). */
  schemaVersion: number;
  network: NetworkName;
  /** Hash of the last connected block, or null when no block (not even genesis) is connected. */
  tipHash: Uint8Array | null;
  /** Height of `tipHash`; -1 when `tipHash` is null. */
  tipHeight: number;
}

/** Everything {@link ChainStore.open} hands the node so it can start without replaying blocks. */
export interface OpenedChain {
  meta: ChainMeta;
  /** The whole header index (every header ever stored, on every branch), in no particular order. */
  headers: HeaderEntry[];
  /** The whole chain state at `meta.tipHash`, as (state key, entry) pairs. */
  state: Array<[string, StateEntry]>;
}

/** Arguments of {@link ChainStore.connectBlock}. */
export interface ConnectBlockArgs {
  hash: Uint8Array;
  height: number;
  /** The encoded block, if not stored yet by {@link ChainStore.putBlock}. */
  body?: Uint8Array;
  /** The undo record returned by applyBlock: its `after` values are written to the state. */
  undo: BlockUndo;
  /** Header entries to write in the same transaction (e.g. this block's entry, now 'valid'). */
  headers?: HeaderEntry[];
  /**
   * The ids (internal order, 32 bytes each) of the block's transactions, coinbase included. They
   * enter the txid index ({@link ChainStore.getTxLocation}) in the same transaction, and leave it
   * when the block is disconnected. Omitted: the block's transactions are not indexed.
   */
  txids?: Uint8Array[];
}

/** Where a confirmed transaction is: the connected block that holds it. */
export interface TxLocation {
  /** Hash of the block (internal order). */
  blockHash: Uint8Array;
  height: number;
}

/** Arguments of {@link ChainStore.disconnectBlock}. */
export interface DisconnectBlockArgs {
  /** Must be the stored tip. */
  hash: Uint8Array;
  /** The block's undo record; if omitted, the stored one (see {@link ChainStore.getUndo}) is used. */
  undo?: BlockUndo;
  /** The block's parent: the tip after the disconnect (null and -1 when disconnecting genesis). */
  newTipHash: Uint8Array | null;
  newTipHeight: number;
}

/** A wallet key. `id` is chosen by the wallet (e.g. the address). */
export interface KeyRecord {
  id: string;
  privateKey: Uint8Array;
  publicKey: Uint8Array;
  createdAt: number; // ms since epoch
  label?: string;
}

/** One of our own transactions, kept until it is confirmed deep enough or given up. */
export interface OutboxRecord {
  txid: string; // display hex
  tx: Uint8Array; // encodeTx bytes
  state: 'pending' | 'confirmed' | 'rejected';
  error?: string; // why it was rejected (a RuleCode or a message)
  createdAt: number; // ms since epoch
  blockHash?: string; // display hex of the block that confirmed it
}

/** An entry of the peer address book. */
export interface PeerRecord {
  peerId: string;
  multiaddrs: string[];
  lastSeen: number; // ms since epoch
  score?: number;
}

/** Values {@link ChainStore.setMeta} accepts: what both structured clone and our Level codec keep exactly. */
export type StoredValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | StoredValue[]
  | { [key: string]: StoredValue | undefined };

/** Storage usage in bytes; `quota` is what this origin (or disk) may still grow to in total. */
export interface StorageUsage {
  usage: number;
  quota: number;
}

/** Kinds of atomic writes, as passed to the test-only `onBeforeCommit` hook. */
export type WriteKind =
  | 'putHeaders'
  | 'setHeaderStatus'
  | 'putBlock'
  | 'connectBlock'
  | 'disconnectBlock'
  | 'setMeta'
  | 'deleteMeta'
  | 'putKey'
  | 'putOutbox'
  | 'deleteOutbox'
  | 'putPeer'
  | 'deletePeer'
  | 'init';

/**
 * Everything a store holds about the chain, read in ONE read transaction: what
 * {@link ChainStore.readAll} returns for verification (verify-store.ts replays it from genesis).
 * Hashes and txids are keyed by lowercase hex of their internal-order bytes, as stored.
 */
export interface StoreSnapshot {
  meta: ChainMeta;
  headers: HeaderEntry[];
  /** Every stored body, by hex(hash). */
  bodies: Array<[string, Uint8Array]>;
  /** Every undo record, by hex(hash). */
  undo: Array<[string, BlockUndo]>;
  state: Array<[string, StateEntry]>;
  /** The txid index: hex(txid) → the block holding it. */
  txIndex: Array<[string, TxLocation]>;
  /** Each indexed block's txid list (32 bytes each, in block order), by hex(block hash). */
  blockTxids: Array<[string, Uint8Array]>;
}

/** Options every store takes. */
export interface StoreOptions {
  network: NetworkName;
  /**
   * TEST-ONLY fault injection: called synchronously after a write has been fully staged and just
   * before it commits. Throwing aborts the write (IndexedDB transaction aborted, Level batch not
   * written, memory maps untouched) and the error surfaces as a StorageError. `raw` is the backend
   * transaction (IDBTransaction for IdbStore), for tests that simulate backend aborts.
   */
  onBeforeCommit?: (kind: WriteKind, raw?: unknown) => void;
}

/**
 * Persistent storage of one node: header index, block bodies, undo records, chain state and tip,
 * plus the wallet's keys, the outbox and the peer address book.
 *
 * All methods are async and reject with {@link StorageError} only. Every method except `open`,
 * `close` and `destroy` requires an open store (else code 'CLOSED'). Values passed in are copied
 * (later mutation by the caller does not change what is stored) and values returned are fresh
 * copies.
 *
 * @example
 * ```ts
 * const store = new IdbStore({ network: 'main', profileId: profile.id });
 * const { meta, headers, state } = await store.open();   // no replay: index + state as stored
 * const chainState = new ChainState(state);
 * if (meta.tipHash === null) {                              // first run: connect genesis
 *   const { genesis, genesisHash } = params;              // (genesis is not applied: empty undo)
 *   await store.connectBlock({ hash: genesisHash, height: 0, body: encodeBlock(genesis),
 *     undo: { hash: genesisHash, height: 0, changes: [] } });
 * }
 * const undo = applyBlock(chainState, block, { params, height, hash });
 * await store.connectBlock({ hash, height, body: encodeBlock(block), undo });
 * ```
 */
export interface ChainStore {
  /** The network this store holds. */
  readonly network: NetworkName;

  /**
   * Opens (creating or upgrading if needed) and reads the tip, the whole header index and the whole
   * state, consistently (one read transaction). Never replays blocks. Calling it again on an open
   * store re-reads.
   * Fails with 'WRONG_NETWORK' if the database belongs to another network, 'SCHEMA_TOO_NEW' if a
   * newer version wrote it, 'LOCKED' if another process/tab holds it, 'CORRUPT' if it does not decode.
   * @example
   * ```ts
   * const { meta } = await store.open(); console.log(`tip at ${meta.tipHeight}`);
   * ```
   */
  open(): Promise<OpenedChain>;

  /**
   * Stores header entries (insert or replace, one transaction). `hasBody` is never downgraded: a
   * stored `true` stays true, because bodies are never deleted.
   * @example
   * ```ts
   * await store.putHeaders(newEntries);
   * ```
   */
  putHeaders(entries: HeaderEntry[]): Promise<void>;

  /**
   * Sets the status of stored headers (one transaction; 'NOT_FOUND' and no change if any is missing).
   * @example
   * ```ts
   * await store.setHeaderStatus(index.descendantsOf(bad).map((e) => e.hash), 'invalid');
   * ```
   */
  setHeaderStatus(hashes: Uint8Array[], status: HeaderStatus): Promise<void>;

  /**
   * Stores a block body that is not connected yet (download ahead of validation, side branches).
   * Marks the stored header entry, if any, `hasBody: true` in the same transaction.
   * @example
   * ```ts
   * await store.putBlock(hash, bytes);
   * ```
   */
  putBlock(hash: Uint8Array, bytes: Uint8Array): Promise<void>;

  /** A stored block body, or null. @example const bytes = await store.getBlock(hash) */
  getBlock(hash: Uint8Array): Promise<Uint8Array | null>;

  /**
   * Stored block bodies, in the order asked, null for those not stored: one read transaction.
   * @example const [a, b] = await store.getBlocks([hashA, hashB])
   */
  getBlocks(hashes: Uint8Array[]): Promise<(Uint8Array | null)[]>;

  /** Whether a body is stored. @example if (!(await store.hasBlock(hash))) request(hash) */
  hasBlock(hash: Uint8Array): Promise<boolean>;

  /**
   * Connects a block in ONE atomic transaction: the body (if given), the undo record, every
   * StateChange's `after` in order (null deletes the key), the given header entries, the txid index
   * entries of `txids`, and the tip = this block. `height` must be the stored tip height + 1 (0 on an empty chain), `undo.hash` and
   * `undo.height` must match, and the stored header of `hash`, if any, must have the tip as its
   * parent — else 'INVALID' and nothing is written.
   * @example
   * ```ts
   * const undo = applyBlock(state, block, { params, height, hash });
   * await store.connectBlock({ hash, height, undo, headers: [{ ...entry, status: 'valid' }] });
   * ```
   */
  connectBlock(args: ConnectBlockArgs): Promise<void>;

  /**
   * Connects several blocks, oldest first, in ONE atomic transaction: exactly what calling
   * {@link connectBlock} for each in turn would write, but all or nothing, and with one commit
   * instead of one per block (a browser pays about a millisecond per IndexedDB commit, which is
   * what limited initial sync). Each block must extend the one before it, the first the stored
   * tip; any failed check is 'INVALID' and nothing is written.
   * @example
   * ```ts
   * await store.connectBlocks(batch.map((b) => ({ hash: b.hash, height: b.height, body: b.bytes, undo: b.undo })));
   * ```
   */
  connectBlocks(list: ConnectBlockArgs[]): Promise<void>;

  /**
   * Disconnects the tip block in ONE atomic transaction: every change's `before` is written in
   * reverse order (null deletes), the undo record and the block's txid index entries are deleted
   * (a block connected again gets a fresh undo from applyBlock), the body is kept, and the tip moves
   * to `newTipHash`/`newTipHeight`.
   * `hash` must be the stored tip and `newTipHeight` its height − 1 ('INVALID' otherwise).
   * @example
   * ```ts
   * await store.disconnectBlock({ hash: tip.hash, newTipHash: tip.header.prevHash, newTipHeight: tip.height - 1 });
   * ```
   */
  disconnectBlock(args: DisconnectBlockArgs): Promise<void>;

  /**
   * The whole chain part of the store — chain record, header index, bodies, undo records, state
   * and txid index — in ONE read transaction, for verification (`verifyStore`, the API's
   * `verifyChain`, crash tests). Reads every body: meant for checks, not for a hot path.
   * @example const problems = verifyStore(await store.readAll(), params)
   */
  readAll(): Promise<StoreSnapshot>;

  /** The undo record of a connected block, or null. @example const undo = await store.getUndo(tipHash) */
  getUndo(hash: Uint8Array): Promise<BlockUndo | null>;

  /**
   * The connected block holding a transaction (by txid, internal order), or null: the txid index
   * covers exactly the blocks of the active chain that were connected with `txids` (Bitcoin Core's
   * `-txindex`, kept in the same atomic write as the block, so it never names a disconnected one).
   * @example
   * ```ts
   * const loc = await store.getTxLocation(txid(tx));
   * if (loc) console.log(`confirmed in block ${loc.height}`);
   * ```
   */
  getTxLocation(txid: Uint8Array): Promise<TxLocation | null>;

  /**
   * A small keyed value (settings, mining address…), or undefined. Keys starting with `tabchain:`
   * are reserved for the store itself ('INVALID').
   * @example
   * ```ts
   * const threads = (await store.getMeta('miner.threads')) ?? 2;
   * ```
   */
  getMeta(key: string): Promise<StoredValue | undefined>;

  /** Sets a small keyed value. @example await store.setMeta('miner.threads', 4) */
  setMeta(key: string, value: StoredValue): Promise<void>;

  /** Deletes a small keyed value. @example await store.deleteMeta('miner.threads') */
  deleteMeta(key: string): Promise<void>;

  /** Stores (or replaces, by `id`) a wallet key. @example await store.putKey({ id: addr, privateKey, publicKey, createdAt: Date.now() }) */
  putKey(record: KeyRecord): Promise<void>;

  /** All wallet keys, oldest first. @example const [first] = await store.getKeys() */
  getKeys(): Promise<KeyRecord[]>;

  /** Stores (or replaces, by `txid`) an outbox record. @example await store.putOutbox({ ...rec, state: 'confirmed', blockHash }) */
  putOutbox(record: OutboxRecord): Promise<void>;

  /** Removes an outbox record (no-op if absent). @example await store.deleteOutbox(txid) */
  deleteOutbox(txid: string): Promise<void>;

  /** All outbox records, oldest first. @example const pending = (await store.listOutbox()).filter((r) => r.state === 'pending') */
  listOutbox(): Promise<OutboxRecord[]>;

  /** Stores (or replaces, by `peerId`) an address-book entry. @example await store.putPeer({ peerId, multiaddrs, lastSeen: Date.now() }) */
  putPeer(record: PeerRecord): Promise<void>;

  /** The address book, most recently seen first. @example const peers = await store.listPeers() */
  listPeers(): Promise<PeerRecord[]>;

  /** Removes an address-book entry (no-op if absent). @example await store.deletePeer(peerId) */
  deletePeer(peerId: string): Promise<void>;

  /**
   * Bytes used and available, or null when the platform cannot tell (memory store, no
   * navigator.storage). For IdbStore this is the whole origin's usage, as the browser reports it.
   * @example
   * ```ts
   * const u = await store.usage(); if (u) show(`${(u.usage / 1e6).toFixed(1)} MB of ${(u.quota / 1e6).toFixed(0)} MB`);
   * ```
   */
  usage(): Promise<StorageUsage | null>;

  /** Closes the store (idempotent). Pending writes finish first. @example await store.close() */
  close(): Promise<void>;

  /** Closes and deletes the whole database (chain, keys, outbox, peers). @example await store.destroy() */
  destroy(): Promise<void>;
}

/** Meta keys the stores reserve for themselves. */
export const RESERVED_META_PREFIX = 'tabchain:';
