/**
 * The one implementation of ChainStore semantics, over any {@link KvEngine}.
 *
 * Layout (the same in every engine):
 *   headers  hex(hash) → HeaderEntry          blocks  hex(hash) → Uint8Array (encoded block)
 *   undo     hex(hash) → BlockUndo            state   state key → StateEntry
 *   meta     'tabchain:chain' → { network, tipHash, tipHeight }, other keys → user values
 *            'tabchain:tx:<hex(txid)>' → { blockHash, height }      (the txid index, see below)
 *            'tabchain:blocktxs:<hex(hash)>' → Uint8Array (the block's txids, 32 bytes each)
 *   keys     id → KeyRecord                   outbox  txid → OutboxRecord
 *   peers    peerId → PeerRecord
 * hex(hash) is the lowercase hex of the internal-order bytes.
 *
 * The txid index lives under the store's reserved meta prefix rather than in a collection of its
 * own: a new IndexedDB object store would need a schema upgrade (a version bump every open profile
 * must go through), while these keys need none and ride in the `meta` store that connect and
 * disconnect already write atomically. `getMeta`/`setMeta` refuse the prefix, so users cannot
 * collide with them, and `open` reads only the chain record, so the index never slows a reopen.
 * Each connected block also records its txid list, which is how disconnect finds the entries to
 * delete without decoding the body.
 * @module
 */
import { bytesToHex } from '../chain/bytes.ts';
import type { BlockUndo, HeaderEntry, HeaderStatus, NetworkName, StateEntry } from '../chain/types.ts';
import {
  RESERVED_META_PREFIX,
  type ChainMeta,
  type ChainStore,
  type ConnectBlockArgs,
  type DisconnectBlockArgs,
  type KeyRecord,
  type OpenedChain,
  type OutboxRecord,
  type PeerRecord,
  type StorageUsage,
  type StoreSnapshot,
  type StoredValue,
  type StoreOptions,
  type TxLocation,
  type WriteKind,
} from './chain-store.ts';
import { StorageError, toStorageError } from './errors.ts';
import type { CollectionName, EngineTx, KvEngine } from './kv-engine.ts';

/** Meta key of the chain record (network and tip). */
const CHAIN_KEY = `${RESERVED_META_PREFIX}chain`;
/** Meta key prefixes of the txid index. */
const TX_KEY = `${RESERVED_META_PREFIX}tx:`;
const BLOCK_TXS_KEY = `${RESERVED_META_PREFIX}blocktxs:`;

interface TxIndexRecord {
  blockHash: Uint8Array;
  height: number;
}

/** What the earlier blocks of one connectBlocks batch staged (see {@link EngineChainStore.connectBlocks}). */
interface StagedBatch {
  headers: Map<string, HeaderEntry>;
  bodies: Set<string>;
}

interface ChainRecord {
  network: NetworkName;
  tipHash: Uint8Array | null;
  tipHeight: number;
}

const HEADER_STATUSES: readonly HeaderStatus[] = ['headers-only', 'valid', 'invalid'];
const MAX_HEIGHT = 0xffffffff;

function invalid(message: string): never {
  throw new StorageError('INVALID', message);
}

function checkHash(h: unknown, what: string): asserts h is Uint8Array {
  if (!(h instanceof Uint8Array) || h.length !== 32) invalid(`${what} must be a 32-byte Uint8Array`);
}

function checkHeight(n: unknown, what: string, min = 0): asserts n is number {
  if (!Number.isInteger(n) || (n as number) < min || (n as number) > MAX_HEIGHT) invalid(`${what} must be an integer in ${min}..${MAX_HEIGHT}`);
}

function checkKey(k: unknown, what: string): asserts k is string {
  if (typeof k !== 'string' || k.length === 0) invalid(`${what} must be a non-empty string`);
}

function checkHeaderEntry(e: HeaderEntry): void {
  if (typeof e !== 'object' || e === null) invalid('header entry must be an object');
  checkHash(e.hash, 'header entry hash');
  checkHeight(e.height, 'header entry height');
  if (typeof e.chainwork !== 'bigint' || e.chainwork < 0n) invalid('header entry chainwork must be a bigint ≥ 0');
  if (!HEADER_STATUSES.includes(e.status)) invalid(`header entry status must be one of ${HEADER_STATUSES.join(', ')}`);
  if (typeof e.hasBody !== 'boolean') invalid('header entry hasBody must be a boolean');
  if (typeof e.header !== 'object' || e.header === null) invalid('header entry header must be a BlockHeader');
}

function checkUndo(undo: BlockUndo, hash: Uint8Array, height: number): void {
  if (typeof undo !== 'object' || undo === null || !Array.isArray(undo.changes)) invalid('undo must be a BlockUndo');
  checkHash(undo.hash, 'undo.hash');
  if (bytesToHex(undo.hash) !== bytesToHex(hash)) invalid('undo.hash does not match the block hash');
  if (undo.height !== height) invalid(`undo.height ${undo.height} does not match the block height ${height}`);
  for (const c of undo.changes) checkKey(c?.key, 'state change key');
}

function checkConnectArgs(args: ConnectBlockArgs): void {
  if (typeof args !== 'object' || args === null) invalid('connectBlock: args must be an object');
  const { hash, height, body, undo, headers = [], txids } = args;
  checkHash(hash, 'connectBlock: hash');
  checkHeight(height, 'connectBlock: height');
  if (body !== undefined && !(body instanceof Uint8Array)) invalid('connectBlock: body must be a Uint8Array');
  checkUndo(undo, hash, height);
  if (!Array.isArray(headers)) invalid('connectBlock: headers must be an array');
  headers.forEach(checkHeaderEntry);
  if (txids !== undefined) {
    if (!Array.isArray(txids)) invalid('connectBlock: txids must be an array');
    txids.forEach((t) => checkHash(t, 'connectBlock: txid'));
  }
}

function sameHash(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return bytesToHex(a) === bytesToHex(b);
}

function copyBytes(b: Uint8Array): Uint8Array {
  // A plain copy of exactly the view: structured clone of a subarray would store its whole
  // buffer, and a Node Buffer's own slice() would not copy.
  return new Uint8Array(b);
}

/**
 * ChainStore over a {@link KvEngine}. Subclasses only pick the engine.
 * @example
 * ```ts
 * class MyStore extends EngineChainStore { constructor(o: StoreOptions) { super(new MyEngine(), o) } }
 * ```
 */
export class EngineChainStore implements ChainStore {
  readonly network: NetworkName;
  private readonly engine: KvEngine;
  private readonly onBeforeCommit: StoreOptions['onBeforeCommit'];
  private state: 'new' | 'open' | 'closed' = 'new';
  private schemaVersion = 0;
  /** Tip height as of the last committed write, for error messages. */
  private tipHeight: number | undefined;
  /** Every operation runs after the previous one settled: engines need no locking of their own. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(engine: KvEngine, opts: StoreOptions) {
    // Not a closed list: src/chain owns the network names; they only have to be safe in a db name.
    if (typeof opts.network !== 'string' || !/^[a-z][a-z0-9]{0,15}$/.test(opts.network)) invalid(`bad network name ${String(opts.network)}`);
    this.engine = engine;
    this.network = opts.network;
    this.onBeforeCommit = opts.onBeforeCommit;
  }

  /** Runs `fn` after every earlier operation, translating errors. */
  private serial<T>(op: string, fn: () => Promise<T>, needOpen = true): Promise<T> {
    const run = async () => {
      if (needOpen && this.state !== 'open')
        throw new StorageError('CLOSED', `${op}: the store is ${this.state === 'new' ? 'not open yet' : 'closed'}`, { tipHeight: this.tipHeight });
      try {
        return await fn();
      } catch (e) {
        throw toStorageError(e, { op, tipHeight: this.tipHeight, medium: this.engine.medium });
      }
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  private write<T>(kind: WriteKind, collections: readonly CollectionName[], body: (tx: EngineTx) => Promise<T>): Promise<T> {
    const hook = this.onBeforeCommit;
    return this.engine.run('readwrite', collections, body, hook && ((raw) => hook(kind, raw)));
  }

  private async readChain(tx: EngineTx): Promise<ChainRecord> {
    const rec = (await tx.get('meta', CHAIN_KEY)) as ChainRecord | undefined;
    if (!rec || (rec.tipHash !== null && !(rec.tipHash instanceof Uint8Array)) || !Number.isInteger(rec.tipHeight))
      throw new StorageError('CORRUPT', 'the chain record is missing or malformed');
    return rec;
  }

  open(): Promise<OpenedChain> {
    return this.serial(
      'open',
      async () => {
        if (this.state !== 'open') {
          this.schemaVersion = await this.engine.open();
          this.state = 'open';
        }
        try {
          let rec = await this.engine.run('readonly', ['meta'], (tx) => tx.get('meta', CHAIN_KEY));
          if (rec === undefined) {
            const init: ChainRecord = { network: this.network, tipHash: null, tipHeight: -1 };
            // Another writer cannot exist (profile lock / LevelDB LOCK), so check-then-write is safe.
            await this.write('init', ['meta'], async (tx) => tx.put('meta', CHAIN_KEY, init));
            rec = init;
          }
          const network = (rec as ChainRecord).network;
          if (network !== this.network)
            throw new StorageError('WRONG_NETWORK', `open: this database holds the ${String(network)} network, not ${this.network}`);
          return await this.engine.run('readonly', ['meta', 'headers', 'state'], async (tx) => {
            const chain = await this.readChain(tx);
            const headers = (await tx.getAll('headers')).map(([, v]) => v as HeaderEntry);
            const state = (await tx.getAll('state')) as Array<[string, StateEntry]>;
            this.tipHeight = chain.tipHeight;
            const meta: ChainMeta = { schemaVersion: this.schemaVersion, network: chain.network, tipHash: chain.tipHash, tipHeight: chain.tipHeight };
            return { meta, headers, state };
          });
        } catch (e) {
          // A database we refuse to use stays closed, so the caller can destroy() or retry.
          await this.engine.close().catch(() => undefined);
          this.state = 'closed';
          throw e;
        }
      },
      false,
    );
  }

  putHeaders(entries: HeaderEntry[]): Promise<void> {
    return this.serial('putHeaders', async () => {
      if (!Array.isArray(entries)) invalid('putHeaders: entries must be an array');
      entries.forEach(checkHeaderEntry);
      if (entries.length === 0) return;
      await this.write('putHeaders', ['headers'], async (tx) => {
        const keys = entries.map((e) => bytesToHex(e.hash));
        const stored = await Promise.all(keys.map((k) => tx.get('headers', k) as Promise<HeaderEntry | undefined>));
        entries.forEach((e, i) => tx.put('headers', keys[i], { ...e, hasBody: e.hasBody || stored[i]?.hasBody === true }));
      });
    });
  }

  setHeaderStatus(hashes: Uint8Array[], status: HeaderStatus): Promise<void> {
    return this.serial('setHeaderStatus', async () => {
      if (!Array.isArray(hashes)) invalid('setHeaderStatus: hashes must be an array');
      hashes.forEach((h) => checkHash(h, 'hash'));
      if (!HEADER_STATUSES.includes(status)) invalid(`setHeaderStatus: unknown status ${String(status)}`);
      await this.write('setHeaderStatus', ['headers'], async (tx) => {
        const keys = hashes.map((h) => bytesToHex(h));
        const stored = await Promise.all(keys.map((k) => tx.get('headers', k) as Promise<HeaderEntry | undefined>));
        stored.forEach((e, i) => {
          if (!e) throw new StorageError('NOT_FOUND', `setHeaderStatus: no stored header ${keys[i]}`);
        });
        stored.forEach((e, i) => tx.put('headers', keys[i], { ...e!, status }));
      });
    });
  }

  putBlock(hash: Uint8Array, bytes: Uint8Array): Promise<void> {
    return this.serial('putBlock', async () => {
      checkHash(hash, 'putBlock: hash');
      if (!(bytes instanceof Uint8Array)) invalid('putBlock: bytes must be a Uint8Array');
      const key = bytesToHex(hash);
      await this.write('putBlock', ['blocks', 'headers'], async (tx) => {
        const entry = (await tx.get('headers', key)) as HeaderEntry | undefined;
        tx.put('blocks', key, copyBytes(bytes));
        if (entry && !entry.hasBody) tx.put('headers', key, { ...entry, hasBody: true });
      });
    });
  }

  getBlock(hash: Uint8Array): Promise<Uint8Array | null> {
    return this.serial('getBlock', async () => {
      checkHash(hash, 'getBlock: hash');
      const v = await this.engine.run('readonly', ['blocks'], (tx) => tx.get('blocks', bytesToHex(hash)));
      return v === undefined ? null : (v as Uint8Array);
    });
  }

  getBlocks(hashes: Uint8Array[]): Promise<(Uint8Array | null)[]> {
    return this.serial('getBlocks', async () => {
      if (!Array.isArray(hashes)) invalid('getBlocks: hashes must be an array');
      hashes.forEach((h) => checkHash(h, 'getBlocks: hash'));
      if (hashes.length === 0) return [];
      const got = await this.engine.run('readonly', ['blocks'], (tx) => Promise.all(hashes.map((h) => tx.get('blocks', bytesToHex(h)))));
      return got.map((v) => (v === undefined ? null : (v as Uint8Array)));
    });
  }

  hasBlock(hash: Uint8Array): Promise<boolean> {
    return this.getBlock(hash).then((b) => b !== null);
  }

  connectBlock(args: ConnectBlockArgs): Promise<void> {
    return this.connectBlocks([args]);
  }

  connectBlocks(list: ConnectBlockArgs[]): Promise<void> {
    const what = Array.isArray(list) && list.length > 0 ? `${list[0]?.height}..${list[list.length - 1]?.height}` : '';
    return this.serial(`connectBlocks ${what}`, async () => {
      if (!Array.isArray(list) || list.length === 0) invalid('connectBlocks: list must be a non-empty array');
      list.forEach(checkConnectArgs);
      await this.write('connectBlock', ['meta', 'headers', 'blocks', 'undo', 'state'], async (tx) => {
        let chain = await this.readChain(tx);
        // Engines do not let a transaction read its own staged writes (memory and Level stage
        // them), so what earlier blocks of this batch wrote is looked up here first.
        const batch: StagedBatch = { headers: new Map(), bodies: new Set() };
        // Each block must extend the one before it: the stored tip for the first.
        for (const args of list) chain = await this.stageConnect(tx, args, chain, batch);
        tx.put('meta', CHAIN_KEY, chain);
      });
      this.tipHeight = list[list.length - 1].height;
    });
  }

  /** Stages the writes of one connect on top of `chain`; returns the chain record after it. */
  private async stageConnect(tx: EngineTx, args: ConnectBlockArgs, chain: ChainRecord, batch: StagedBatch): Promise<ChainRecord> {
    const { hash, height, body, undo, headers = [], txids } = args;
    const key = bytesToHex(hash);
    if (height !== chain.tipHeight + 1) invalid(`connectBlock: block at height ${height} does not extend the stored tip at height ${chain.tipHeight}`);
    const given = headers.find((e) => bytesToHex(e.hash) === key);
    const entry = given ?? batch.headers.get(key) ?? ((await tx.get('headers', key)) as HeaderEntry | undefined);
    if (entry && chain.tipHash !== null && !sameHash(entry.header.prevHash, chain.tipHash))
      invalid(`connectBlock: block ${key} does not build on the stored tip`);
    const hasBody = body !== undefined || batch.bodies.has(key) || (await tx.get('blocks', key)) !== undefined;
    if (body !== undefined) {
      tx.put('blocks', key, copyBytes(body));
      batch.bodies.add(key);
    }
    for (const c of undo.changes) {
      if (c.after === null) tx.delete('state', c.key);
      else tx.put('state', c.key, c.after);
    }
    const putHeader = (k: string, e: HeaderEntry) => {
      tx.put('headers', k, e);
      batch.headers.set(k, e);
    };
    for (const e of headers) putHeader(bytesToHex(e.hash), { ...e, hasBody: e.hasBody || (hasBody && bytesToHex(e.hash) === key) });
    if (!given && entry && hasBody && !entry.hasBody) putHeader(key, { ...entry, hasBody: true });
    if (txids !== undefined && txids.length > 0) {
      const list = new Uint8Array(32 * txids.length);
      txids.forEach((t, i) => {
        list.set(t, 32 * i);
        tx.put('meta', TX_KEY + bytesToHex(t), { blockHash: hash, height } satisfies TxIndexRecord);
      });
      tx.put('meta', BLOCK_TXS_KEY + key, list);
    }
    tx.put('undo', key, undo);
    return { network: this.network, tipHash: hash, tipHeight: height };
  }

  disconnectBlock(args: DisconnectBlockArgs): Promise<void> {
    return this.serial('disconnectBlock', async () => {
      if (typeof args !== 'object' || args === null) invalid('disconnectBlock: args must be an object');
      const { hash, newTipHash, newTipHeight } = args;
      checkHash(hash, 'disconnectBlock: hash');
      if (newTipHash !== null) checkHash(newTipHash, 'disconnectBlock: newTipHash');
      checkHeight(newTipHeight, 'disconnectBlock: newTipHeight', -1);
      if ((newTipHash === null) !== (newTipHeight === -1)) invalid('disconnectBlock: newTipHash is null exactly when newTipHeight is -1');
      const key = bytesToHex(hash);
      await this.write('disconnectBlock', ['meta', 'headers', 'undo', 'state'], async (tx) => {
        const chain = await this.readChain(tx);
        if (!sameHash(chain.tipHash, hash)) invalid(`disconnectBlock: ${key} is not the stored tip`);
        if (newTipHeight !== chain.tipHeight - 1) invalid(`disconnectBlock: new tip height ${newTipHeight} is not ${chain.tipHeight - 1}`);
        const entry = (await tx.get('headers', key)) as HeaderEntry | undefined;
        if (entry && newTipHash !== null && !sameHash(entry.header.prevHash, newTipHash))
          invalid('disconnectBlock: newTipHash is not the parent of the disconnected block');
        const undo = args.undo ?? ((await tx.get('undo', key)) as BlockUndo | undefined);
        if (!undo) throw new StorageError('NOT_FOUND', `disconnectBlock: no undo record for ${key}`);
        checkUndo(undo, hash, chain.tipHeight);
        for (let i = undo.changes.length - 1; i >= 0; i--) {
          const c = undo.changes[i];
          if (c.before === null) tx.delete('state', c.key);
          else tx.put('state', c.key, c.before);
        }
        const list = (await tx.get('meta', BLOCK_TXS_KEY + key)) as Uint8Array | undefined;
        if (list !== undefined) {
          const txKeys: string[] = [];
          for (let i = 0; i + 32 <= list.length; i += 32) txKeys.push(TX_KEY + bytesToHex(list.subarray(i, i + 32)));
          const records = await Promise.all(txKeys.map((k) => tx.get('meta', k) as Promise<TxIndexRecord | undefined>));
          // Only entries that name this block: a txid is never confirmed twice on one chain, but
          // the index must not lose another block's entry even if it were.
          records.forEach((r, i) => {
            if (r && sameHash(r.blockHash, hash)) tx.delete('meta', txKeys[i]);
          });
          tx.delete('meta', BLOCK_TXS_KEY + key);
        }
        tx.delete('undo', key);
        tx.put('meta', CHAIN_KEY, { network: this.network, tipHash: newTipHash, tipHeight: newTipHeight } satisfies ChainRecord);
      });
      this.tipHeight = newTipHeight;
    });
  }

  getUndo(hash: Uint8Array): Promise<BlockUndo | null> {
    return this.serial('getUndo', async () => {
      checkHash(hash, 'getUndo: hash');
      const v = await this.engine.run('readonly', ['undo'], (tx) => tx.get('undo', bytesToHex(hash)));
      return (v as BlockUndo | undefined) ?? null;
    });
  }

  readAll(): Promise<StoreSnapshot> {
    return this.serial('readAll', () =>
      this.engine.run('readonly', ['meta', 'headers', 'blocks', 'undo', 'state'], async (tx) => {
        const chain = await this.readChain(tx);
        const meta: ChainMeta = { schemaVersion: this.schemaVersion, network: chain.network, tipHash: chain.tipHash, tipHeight: chain.tipHeight };
        const txIndex: StoreSnapshot['txIndex'] = [];
        const blockTxids: StoreSnapshot['blockTxids'] = [];
        for (const [k, v] of await tx.getAll('meta')) {
          if (k.startsWith(TX_KEY)) {
            const r = v as TxIndexRecord;
            txIndex.push([k.slice(TX_KEY.length), { blockHash: r.blockHash, height: r.height }]);
          } else if (k.startsWith(BLOCK_TXS_KEY)) blockTxids.push([k.slice(BLOCK_TXS_KEY.length), v as Uint8Array]);
        }
        return {
          meta,
          headers: (await tx.getAll('headers')).map(([, v]) => v as HeaderEntry),
          bodies: (await tx.getAll('blocks')) as Array<[string, Uint8Array]>,
          undo: (await tx.getAll('undo')) as Array<[string, BlockUndo]>,
          state: (await tx.getAll('state')) as Array<[string, StateEntry]>,
          txIndex,
          blockTxids,
        };
      }),
    );
  }

  getTxLocation(txid: Uint8Array): Promise<TxLocation | null> {
    return this.serial('getTxLocation', async () => {
      checkHash(txid, 'getTxLocation: txid');
      const r = (await this.engine.run('readonly', ['meta'], (tx) => tx.get('meta', TX_KEY + bytesToHex(txid)))) as TxIndexRecord | undefined;
      return r ? { blockHash: r.blockHash, height: r.height } : null;
    });
  }

  private checkMetaKey(key: string, op: string): void {
    checkKey(key, `${op}: key`);
    if (key.startsWith(RESERVED_META_PREFIX)) invalid(`${op}: keys starting with "${RESERVED_META_PREFIX}" are reserved`);
  }

  getMeta(key: string): Promise<StoredValue | undefined> {
    return this.serial('getMeta', async () => {
      this.checkMetaKey(key, 'getMeta');
      return (await this.engine.run('readonly', ['meta'], (tx) => tx.get('meta', key))) as StoredValue | undefined;
    });
  }

  setMeta(key: string, value: StoredValue): Promise<void> {
    return this.serial('setMeta', async () => {
      this.checkMetaKey(key, 'setMeta');
      if (value === undefined) invalid('setMeta: value must not be undefined (use deleteMeta)');
      await this.write('setMeta', ['meta'], async (tx) => tx.put('meta', key, value));
    });
  }

  deleteMeta(key: string): Promise<void> {
    return this.serial('deleteMeta', async () => {
      this.checkMetaKey(key, 'deleteMeta');
      await this.write('deleteMeta', ['meta'], async (tx) => tx.delete('meta', key));
    });
  }

  private putRecord(kind: WriteKind, collection: CollectionName, key: string, record: object): Promise<void> {
    return this.serial(kind, async () => {
      checkKey(key, `${kind}: key`);
      await this.write(kind, [collection], async (tx) => tx.put(collection, key, record));
    });
  }

  private deleteRecord(kind: WriteKind, collection: CollectionName, key: string): Promise<void> {
    return this.serial(kind, async () => {
      checkKey(key, `${kind}: key`);
      await this.write(kind, [collection], async (tx) => tx.delete(collection, key));
    });
  }

  private listRecords<T>(op: string, collection: CollectionName): Promise<T[]> {
    return this.serial(op, async () => (await this.engine.run('readonly', [collection], (tx) => tx.getAll(collection))).map(([, v]) => v as T));
  }

  putKey(record: KeyRecord): Promise<void> {
    if (!(record?.privateKey instanceof Uint8Array) || !(record.publicKey instanceof Uint8Array))
      return Promise.reject(new StorageError('INVALID', 'putKey: privateKey and publicKey must be Uint8Array'));
    return this.putRecord('putKey', 'keys', record.id, record);
  }

  async getKeys(): Promise<KeyRecord[]> {
    return (await this.listRecords<KeyRecord>('getKeys', 'keys')).sort((a, b) => a.createdAt - b.createdAt);
  }

  putOutbox(record: OutboxRecord): Promise<void> {
    if (!(record?.tx instanceof Uint8Array)) return Promise.reject(new StorageError('INVALID', 'putOutbox: tx must be a Uint8Array'));
    return this.putRecord('putOutbox', 'outbox', record.txid, record);
  }

  deleteOutbox(txid: string): Promise<void> {
    return this.deleteRecord('deleteOutbox', 'outbox', txid);
  }

  async listOutbox(): Promise<OutboxRecord[]> {
    return (await this.listRecords<OutboxRecord>('listOutbox', 'outbox')).sort((a, b) => a.createdAt - b.createdAt);
  }

  putPeer(record: PeerRecord): Promise<void> {
    if (!Array.isArray(record?.multiaddrs)) return Promise.reject(new StorageError('INVALID', 'putPeer: multiaddrs must be an array'));
    return this.putRecord('putPeer', 'peers', record.peerId, record);
  }

  async listPeers(): Promise<PeerRecord[]> {
    return (await this.listRecords<PeerRecord>('listPeers', 'peers')).sort((a, b) => b.lastSeen - a.lastSeen);
  }

  deletePeer(peerId: string): Promise<void> {
    return this.deleteRecord('deletePeer', 'peers', peerId);
  }

  usage(): Promise<StorageUsage | null> {
    return this.serial('usage', () => this.engine.usage());
  }

  close(): Promise<void> {
    return this.serial(
      'close',
      async () => {
        if (this.state === 'open') await this.engine.close();
        this.state = 'closed';
      },
      false,
    );
  }

  destroy(): Promise<void> {
    return this.serial(
      'destroy',
      async () => {
        if (this.state === 'open') await this.engine.close();
        this.state = 'closed';
        await this.engine.destroy();
        this.tipHeight = undefined;
      },
      false,
    );
  }
}
