/**
 * The small key-value engine contract under every ChainStore.
 *
 * A ChainStore's semantics (validation, what a connect writes, tip bookkeeping) live once in
 * engine-chain-store.ts; an engine only has to run a body of reads and staged writes over named
 * collections ATOMICALLY. IndexedDB does this with one transaction, LevelDB with one batch, the
 * memory engine by applying the staged writes only after the body succeeded. Keeping the engines
 * this thin is what makes "memory, IndexedDB and disk agree by construction" true.
 * @module
 */
import type { StorageUsage } from './chain-store.ts';

/** Collections (IndexedDB object stores; key prefixes in LevelDB). */
export type CollectionName = 'headers' | 'blocks' | 'undo' | 'state' | 'meta' | 'keys' | 'outbox' | 'peers';

/** Every collection, in schema order. */
export const COLLECTIONS: readonly CollectionName[] = ['headers', 'blocks', 'undo', 'state', 'meta', 'keys', 'outbox', 'peers'];

/** Reads and staged writes of one atomic engine transaction. */
export interface EngineTx {
  /** A fresh copy of the stored value, or undefined. */
  get(collection: CollectionName, key: string): Promise<unknown>;
  /** Every (key, value) of a collection, keys ascending, values fresh copies. */
  getAll(collection: CollectionName): Promise<Array<[string, unknown]>>;
  /** Stages a write; throws synchronously if the value cannot be stored. Copies `value`. */
  put(collection: CollectionName, key: string, value: unknown): void;
  /** Stages a delete. */
  delete(collection: CollectionName, key: string): void;
}

/** What a store engine provides. */
export interface KvEngine {
  /** For error messages: where the data lives. */
  readonly medium: 'memory' | 'browser' | 'disk';
  /** Opens (creating/upgrading); returns the schema version now in force. */
  open(): Promise<number>;
  /**
   * Runs `body` as ONE atomic transaction over `collections`. For 'readwrite', the staged writes
   * commit only if `body` resolves and `beforeCommit` (called synchronously right before the
   * commit, with the raw backend transaction if there is one) does not throw; otherwise nothing
   * is written and the error is rethrown. `body` may await only its own tx reads.
   */
  run<T>(
    mode: 'readonly' | 'readwrite',
    collections: readonly CollectionName[],
    body: (tx: EngineTx) => Promise<T>,
    beforeCommit?: (raw?: unknown) => void,
  ): Promise<T>;
  usage(): Promise<StorageUsage | null>;
  close(): Promise<void>;
  /** Closes and removes every byte of the database. */
  destroy(): Promise<void>;
}
