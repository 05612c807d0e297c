/**
 * FullNode: the one owner of a node's chain — store, header index, chain state, mempool, orphan
 * pool and miner — with ONE serialized path for blocks and transactions from every source (peers,
 * our own miner, the local API, storage), like Bitcoin Core's `ProcessNewBlock` /
 * `AcceptToMemoryPool` under `cs_main`.
 *
 * Block path ({@link FullNode.processBlock}), cheapest checks first:
 * 1. decode (MALFORMED), duplicate check, proof of work against the block's own bits;
 * 2. unknown parent → orphan pool (processed when the parent arrives), if it is worth holding:
 *    bits within `ORPHAN_MAX_EASIER` of our tip's next bits (else 'low-work', not kept) and a body
 *    that passes the cheap context-free checks (`checkOrphanBody`; signatures wait for the
 *    parent). Held as bytes, under a share per sending peer (`OrphanPool`);
 * 3. header context (`checkHeaderContext`: bits = ASERT, time > MTP, time ≤ now + 120 s —
 *    TIME_TOO_NEW is held and retried, never a verdict);
 * 4. sanity (`checkBlockSanity`: merkle, signatures, limits); a body that does not match its
 *    header (BAD_MERKLE / DUPLICATE_TX) is rejected WITHOUT marking the header invalid;
 * 5. store header and body, then fork choice (`ActivateBestChain`): while the most-work header
 *    chain with every body stored has more work than the tip, switch to it — disconnect down to
 *    the fork point with the stored undo records, connect the new blocks one by one. A block that
 *    fails to connect is marked invalid with its descendants, the node returns to the chain it was
 *    on, and fork choice runs again among what is left. Connects are written atomically (body,
 *    undo, state changes, txid index, header status, tip): each processing step writes its run
 *    of connects in ONE store write (`connectBlocks`), so a crash leaves the chain at a block
 *    boundary, and initial sync pays one IndexedDB commit per run instead of one per block
 *    (Bitcoin Core likewise flushes its coins cache in batches, never half a block).
 * 6. mempool: transactions of connected blocks leave it, those of disconnected blocks come back
 *    (`Mempool.afterReorg`), and events go out once per processing step with the net effect.
 *
 * Starting never replays the chain: the header index and the state are loaded as stored.
 * @module
 */
import {
  RuleError,
  antiDosWorkThreshold,
  applyBlock,
  blockHash,
  buildBlockTemplate,
  checkBlockSanity,
  checkHeaderContext,
  checkOrphanBody,
  checkProofOfWork,
  decodeBlock,
  decodeTx,
  encodeBlock,
  equalBytes,
  hashToHex,
  hexToHash,
  isMutationError,
  medianTimePast,
  merkleRoot,
  nextBits,
  orphanWorkSuffices,
  sha256d,
  txid as txidOf,
  undoBlock,
  workForBits,
  ChainState,
  HeaderIndex,
  Mempool,
  OrphanPool,
  SignatureCache,
  type Block,
  type BlockHeader,
  type BlockTemplate,
  type BlockUndo,
  type HeaderEntry,
  type MempoolEntry,
  type MempoolOptions,
  type MempoolRejection,
  type NetworkParams,
  type RuleCode,
  type Transaction,
} from '../chain/index.ts';
import type { ChainStore } from '../storage/chain-store.ts';
import { Emitter, type NodeEvents, type ProcessBlockResult, type ProcessTxResult, type Source } from './events.ts';
import { NodeMiner, type NodeMinerOptions } from './node-miner.ts';
import { SerialQueue } from './queue.ts';

export type { NodeEvents, ProcessBlockResult, ProcessTxResult, Source } from './events.ts';
export type { NodeMinerOptions } from './node-miner.ts';

/** Options of {@link FullNode}. */
export interface FullNodeOptions {
  params: NetworkParams;
  store: ChainStore;
  /** Current time in unix SECONDS (default: the system clock). Tests inject a clock. */
  now?: () => number;
  miner?: NodeMinerOptions;
  /** Who mined blocks pay (32-byte public key); needed before mining or `template()`. */
  minerPubKey?: Uint8Array;
  log?: (msg: string) => void;
  /** Mempool bounds. */
  mempool?: MempoolOptions;
  /** Timing knobs (ms unless named otherwise). */
  timing?: {
    /** Retry of held (TIME_TOO_NEW) blocks; default 5000. */
    heldRetryMs?: number;
    /** Mempool expiry / orphan expiry period; default 60,000. */
    maintenanceMs?: number;
    /** Age after which a pending tx expires, seconds; default 24 h. */
    mempoolMaxAgeSeconds?: number;
    /** Age after which an orphan block is dropped, seconds; default 20 min. */
    orphanMaxAgeSeconds?: number;
    /** Delay before a mempool change reaches the miner's template; default 500. */
    templateDebounceMs?: number;
    /** Period of 'miner' status events while mining; default 2000. */
    minerStatusMs?: number;
  };
}

/** What {@link FullNode.processHeaders} did. */
export interface ProcessHeadersResult {
  /** Headers newly added to the index (as 'headers-only'). */
  added: number;
  /** The first header that broke a rule; processing stopped there (it and its descendants are invalid). */
  invalid?: { hash: string; code: RuleCode };
  /** The first header whose parent is unknown; processing stopped there. */
  unconnected?: string;
  /** The first header too far in the future (TIME_TOO_NEW); processing stopped there, nothing marked. */
  held?: string;
  /** Bodies to fetch, oldest first, along the best header chain (see {@link FullNode.missingBodies}). */
  needBodies: string[];
}

/** A transaction as {@link FullNode.findTx} finds it. */
export interface FoundTx {
  state: 'pending' | 'confirmed';
  blockHash?: string;
  height?: number;
  confirmations?: number;
  tx: Transaction;
}

/** An Error with a stable `code`, for failures that are not rule violations. */
function nodeError(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}

/** A block connected in memory (state and tip moved) whose store write is still to come. */
interface UnwrittenConnect {
  entry: HeaderEntry;
  /** The tip before it. */
  prevTip: HeaderEntry;
  undo: BlockUndo;
  txids: Uint8Array[];
}

/** Bookkeeping of one queue task: what it loaded and changed. */
interface Task {
  startTip: HeaderEntry;
  /** Blocks seen or loaded during the task, by display hex. */
  blocks: Map<string, Block>;
  /** Bodies accepted but not written yet: the connect writes them in its atomic write. */
  pending: Map<string, Uint8Array>;
  /**
   * Connects not written yet, oldest first: they go to the store together in ONE atomic write
   * ({@link ChainStore.connectBlocks}) when the task ends or the run gets long. A browser pays
   * about a millisecond per IndexedDB commit, so initial sync writes a run of blocks at once.
   */
  unwritten: UnwrittenConnect[];
  /** Bytes of the bodies in `unwritten`. */
  unwrittenBytes: number;
  /** 'block' events of the task, sent once its connects are written. */
  blockEvents: NodeEvents['block'][];
  /** A write of connects failed: the state went back, and results that said otherwise are void. */
  writeFailed: boolean;
}

interface HeldBlock {
  block: Block;
  source: Source;
}

const MAX_HELD = 64;
/** Longest run of connects held in memory before it is written (see Task.unwritten). */
const MAX_UNWRITTEN_BLOCKS = 256;
const MAX_UNWRITTEN_BYTES = 8 * 1024 * 1024;
const MAX_INVALID_CODES = 10_000;

/**
 * A full node.
 * @example
 * ```ts
 * const node = new FullNode({ params: NETWORKS.dev, store: new MemoryStore({ network: 'dev' }), minerPubKey });
 * await node.start();
 * node.events.on('tip', ({ height }) => console.log('height', height));
 * const [hash] = await node.miner.mineBlocks(1);
 * await node.processTx(signedTx, 'local');
 * await node.stop();
 * ```
 */
export class FullNode {
  readonly params: NetworkParams;
  readonly events = new Emitter<NodeEvents>();
  readonly mempool: Mempool;
  /** Signatures verified by the mempool are not verified again when their block arrives. */
  readonly #sigCache = new SignatureCache();
  readonly headers: HeaderIndex;
  readonly store: ChainStore;

  readonly #now: () => number;
  readonly #log: (msg: string) => void;
  readonly #timing: Required<NonNullable<FullNodeOptions['timing']>>;
  readonly #queue = new SerialQueue();
  readonly #orphans = new OrphanPool();
  readonly #orphanSources = new Map<string, Source>();
  readonly #held = new Map<string, HeldBlock>();
  readonly #invalidCodes = new Map<string, RuleCode>();

  #state = new ChainState();
  #tip: HeaderEntry;
  #synced = true;
  #running: 'new' | 'running' | 'stopped' = 'new';
  #minerPubKey: Uint8Array | undefined;

  #heldTimer: ReturnType<typeof setTimeout> | undefined;
  #maintenanceTimer: ReturnType<typeof setInterval> | undefined;

  /**
   * The node's miner (node-miner.ts): continuous mining and mineBlocks, through this node's
   * template, processBlock and events only. The node creates it and stops it with itself.
   */
  readonly miner: NodeMiner;

  constructor(opts: FullNodeOptions) {
    if (!opts?.params || !opts.store) throw new TypeError('FullNode: params and store are required');
    if (opts.store.network !== opts.params.name) {
      throw new TypeError(`FullNode: the store holds network ${opts.store.network}, the params are ${opts.params.name}`);
    }
    this.params = opts.params;
    this.store = opts.store;
    this.#now = opts.now ?? (() => Math.floor(Date.now() / 1000));
    this.#log = opts.log ?? (() => {});
    const t = opts.timing ?? {};
    this.#timing = {
      heldRetryMs: t.heldRetryMs ?? 5000,
      maintenanceMs: t.maintenanceMs ?? 60_000,
      mempoolMaxAgeSeconds: t.mempoolMaxAgeSeconds ?? 24 * 3600,
      orphanMaxAgeSeconds: t.orphanMaxAgeSeconds ?? 20 * 60,
      templateDebounceMs: t.templateDebounceMs ?? 500,
      minerStatusMs: t.minerStatusMs ?? 2000,
    };
    this.mempool = new Mempool({ sigCache: this.#sigCache, ...opts.mempool });
    this.headers = new HeaderIndex(this.params.genesis.header);
    this.#tip = this.headers.genesis;
    this.miner = new NodeMiner(this, {
      ...opts.miner,
      now: this.#now,
      templateDebounceMs: this.#timing.templateDebounceMs,
      minerStatusMs: this.#timing.minerStatusMs,
      onError: (e) => this.#error(e),
    });
    if (opts.minerPubKey) this.setMinerPubKey(opts.minerPubKey);
  }

  // --- lifecycle -----------------------------------------------------------------------------

  /**
   * Opens the store and loads the header index and the state as stored (no replay). A fresh
   * store gets the genesis block (connected with an empty undo: genesis is never applied). If a
   * stored branch has more work than the stored tip (a crash between storing and connecting), the
   * node switches to it.
   * @example await node.start(); node.height
   */
  async start(): Promise<void> {
    if (this.#running !== 'new') throw nodeError('INVALID_STATE', `FullNode.start: the node is ${this.#running}`);
    this.#running = 'running';
    try {
      await this.#queue.run(() => this.#open());
    } catch (e) {
      this.#running = 'stopped';
      await this.store.close().catch(() => undefined);
      throw e;
    }
    this.#maintenanceTimer = setInterval(() => void this.#maintenance(), this.#timing.maintenanceMs);
    unref(this.#maintenanceTimer);
  }

  async #open(): Promise<void> {
    const { meta, headers, state } = await this.store.open();
    const genesisHash = this.params.genesisHash;
    if (meta.tipHash === null) {
      if (state.length > 0) throw nodeError('CORRUPT', 'the store has state entries but no tip');
      const g = this.params.genesis;
      await this.store.connectBlock({
        hash: genesisHash,
        height: 0,
        body: encodeBlock(g),
        undo: { hash: genesisHash, height: 0, changes: [] },
        headers: [{ ...this.headers.genesis }],
        txids: g.txs.map(txidOf),
      });
      // Headers of an earlier session whose chain was disconnected down to nothing stay known.
      this.headers.load(headers.filter((e) => e.height > 0));
    } else {
      const storedGenesis = headers.find((e) => e.height === 0);
      if (storedGenesis && !equalBytes(storedGenesis.hash, genesisHash)) {
        throw nodeError('WRONG_GENESIS', `the store holds another ${this.params.name} chain (genesis ${hashToHex(storedGenesis.hash)})`);
      }
      this.headers.load(headers, { preferredTip: meta.tipHash });
      const tip = this.headers.get(meta.tipHash);
      if (!tip || tip.height !== meta.tipHeight) throw nodeError('CORRUPT', `the stored tip ${hashToHex(meta.tipHash)} is not in the stored header index`);
      this.#tip = tip;
      this.#state = new ChainState(state);
    }
    this.#log(`opened ${this.params.name} at height ${this.#tip.height} (${hashToHex(this.#tip.hash)}), ${this.headers.size} headers`);
    await this.#runTask((task) => this.#activate(task));
  }

  /**
   * Stops the miner and the timers, lets queued work finish, and closes the store.
   * @example await node.stop()
   */
  async stop(): Promise<void> {
    if (this.#running === 'stopped') return;
    const wasRunning = this.#running === 'running';
    this.#running = 'stopped';
    if (this.#heldTimer !== undefined) clearTimeout(this.#heldTimer);
    if (this.#maintenanceTimer !== undefined) clearInterval(this.#maintenanceTimer);
    const minerClosed = this.miner.close();
    await this.#queue.idle();
    await minerClosed;
    if (wasRunning) await this.store.close();
  }

  // --- read access ---------------------------------------------------------------------------

  /** The active tip (an index entry: treat as read-only). @example node.tip.height */
  get tip(): HeaderEntry {
    return this.#tip;
  }

  /** Height of the active tip. @example node.height */
  get height(): number {
    return this.#tip.height;
  }

  /** The chain state at the tip (treat as read-only). @example node.state.account(pub).balance */
  get state(): ChainState {
    return this.#state;
  }

  /** Whether the node runs: started and not stopped. @example if (node.running) … */
  get running(): boolean {
    return this.#running === 'running';
  }

  /** Whether the node considers itself synced (true without a network). @example if (node.synced) … */
  get synced(): boolean {
    return this.#synced;
  }

  /** Number of held (TIME_TOO_NEW) blocks. @example node.heldCount */
  get heldCount(): number {
    return this.#held.size;
  }

  /** Number of orphan blocks waiting for a parent. @example node.orphanCount */
  get orphanCount(): number {
    return this.#orphans.size;
  }

  /** Parent hashes (display hex) that orphans are waiting for: what to ask peers for. @example node.missingParents() */
  missingParents(): string[] {
    return this.#orphans.missingParents().map(hashToHex).filter((h) => !this.headers.has(h));
  }

  /**
   * Sets the synced flag (the p2p layer does, while it catches up); the miner mines only when
   * synced. A node without a network is synced.
   * @example node.setSynced(false)
   */
  setSynced(synced: boolean): void {
    if (synced === this.#synced) return;
    this.#synced = synced;
    this.events.emit('synced', { synced });
  }

  /**
   * A stored block by hash (bytes in internal order, or display hex), or null.
   * @example const block = await node.getBlock(node.tip.hash)
   */
  async getBlock(hash: Uint8Array | string): Promise<Block | null> {
    const h = typeof hash === 'string' ? hexToHash(hash) : hash;
    const bytes = await this.store.getBlock(h);
    return bytes && decodeBlock(bytes, this.params);
  }

  /** The block at `height` on the active chain, or null. @example await node.getBlockAtHeight(0) // genesis */
  async getBlockAtHeight(height: number): Promise<Block | null> {
    if (!Number.isSafeInteger(height) || height < 0) return null;
    const e = this.headers.ancestorAt(this.#tip, height);
    return e ? this.getBlock(e.hash) : null;
  }

  /**
   * A transaction the node knows: pending in the mempool, or confirmed on the active chain (via
   * the store's txid index). null if neither.
   * @example
   * ```ts
   * const found = await node.findTx(txidHex); found?.state === 'confirmed' && found.confirmations
   * ```
   */
  async findTx(txid: string): Promise<FoundTx | null> {
    const id = hexToHash(txid);
    const pending = this.mempool.get(id);
    if (pending) return { state: 'pending', tx: pending.tx };
    const loc = await this.store.getTxLocation(id);
    if (!loc) return null;
    const block = await this.getBlock(loc.blockHash);
    const tx = block?.txs.find((t) => equalBytes(txidOf(t), id));
    if (!tx) return null;
    return { state: 'confirmed', blockHash: hashToHex(loc.blockHash), height: loc.height, confirmations: Math.max(0, this.#tip.height - loc.height + 1), tx };
  }

  /**
   * Display hashes of block bodies to fetch, oldest first: along the best known header chain
   * (which may be headers-only, from {@link processHeaders}), the blocks without a stored body
   * after the active chain's fork point. At most `max`.
   * @example for (const h of node.missingBodies(16)) peer.getBlock(h)
   */
  missingBodies(max = 128): string[] {
    const best = this.headers.bestTip();
    if (best.chainwork <= this.#tip.chainwork) return [];
    const { connect } = this.headers.reorgPath(this.#tip, best);
    const out: string[] = [];
    for (const e of connect) {
      if (out.length >= max) break;
      if (!e.hasBody) out.push(hashToHex(e.hash));
    }
    return out;
  }

  // --- blocks ----------------------------------------------------------------------------------

  /**
   * THE path of every block (peers, own miner, local API): see the module doc. Resolves with what
   * happened to this block; rejects only on a storage failure or when the node is stopped.
   * `unrequested`: the block came without being asked for (gossip); if it starts a branch that
   * ends far below the tip's work it is answered 'low-work' and not stored. `peer`: the peer that
   * sent it (gossip's sender): an orphan counts against that peer's share of the orphan pool.
   * @example
   * ```ts
   * const r = await node.processBlock(bytes, 'peer');
   * if (r.status === 'invalid') peer.penalise(r.code);
   * ```
   */
  processBlock(block: Block | Uint8Array, source: Source, opts: { unrequested?: boolean; peer?: string } = {}): Promise<ProcessBlockResult> {
    const unrequested = opts.unrequested === true;
    const peer = typeof opts.peer === 'string' ? opts.peer : undefined;
    return this.#enqueue(() => this.#runTask((task) => this.#processBlocks([{ input: block, source, unrequested, peer }], task)));
  }

  /**
   * Several blocks through the same path as {@link processBlock}, in order, as ONE step: their
   * connects are written together (one atomic store write per run of up to 256 blocks) and the
   * mempool, the events and the miner follow once. Initial sync hands its runs of consecutive
   * blocks here. Results are in input order; rejects only on a storage failure (then none of the
   * blocks connected by this call stays connected) or when the node is stopped.
   * @example
   * ```ts
   * const results = await node.processBlocks(bodies, 'peer');
   * const bad = results.find((r) => r.status === 'invalid');
   * ```
   */
  processBlocks(blocks: readonly (Block | Uint8Array)[], source: Source): Promise<ProcessBlockResult[]> {
    if (!Array.isArray(blocks)) return Promise.reject(new TypeError('processBlocks: blocks must be an array'));
    return this.#enqueue(() =>
      this.#runTask(async (task) => {
        const results: ProcessBlockResult[] = [];
        for (const input of blocks) results.push(await this.#processBlocks([{ input, source }], task));
        return results;
      }),
    );
  }

  /** Runs `fn` as one task: writes its connects, sends its block events, then {@link #finishTask}. */
  async #runTask<T>(fn: (task: Task) => Promise<T>): Promise<T> {
    const task = this.#newTask();
    try {
      const result = await fn(task);
      await this.#writeConnects(task);
      return result;
    } finally {
      await this.#finishTask(task);
    }
  }

  /**
   * Headers-first sync: validates headers (proof of work, context) in order and stores them as
   * 'headers-only', without bodies. Stops at the first header that is invalid, has an unknown
   * parent or is too far in the future. Returns which bodies are now wanted.
   * @example
   * ```ts
   * const { needBodies } = await node.processHeaders(headers);
   * for (const h of needBodies) peer.requestBlock(h);
   * ```
   */
  processHeaders(headers: BlockHeader[]): Promise<ProcessHeadersResult> {
    return this.#enqueue(() => this.#runTask((task) => this.#acceptHeaders(headers, task)));
  }

  async #acceptHeaders(headers: BlockHeader[], task: Task): Promise<ProcessHeadersResult> {
    const result: ProcessHeadersResult = { added: 0, needBodies: [] };
    const toStore: HeaderEntry[] = [];
    for (const header of headers) {
      let hash: Uint8Array;
      try {
        hash = blockHash(header);
      } catch {
        result.invalid = { hash: '', code: 'MALFORMED' };
        break;
      }
      const hex = hashToHex(hash);
      const known = this.headers.get(hash);
      if (known) {
        if (known.status === 'invalid') {
          result.invalid = { hash: hex, code: this.#invalidCodes.get(hex) ?? 'BAD_PREV' };
          break;
        }
        continue;
      }
      const prev = this.headers.get(header.prevHash);
      if (!prev) {
        result.unconnected = hex;
        break;
      }
      try {
        checkProofOfWork(hash, header.bits, this.params.powLimit);
      } catch (e) {
        if (!(e instanceof RuleError)) throw e;
        result.invalid = { hash: hex, code: e.code };
        break;
      }
      try {
        this.#checkContext(header, prev);
      } catch (e) {
        if (!(e instanceof RuleError)) throw e;
        if (e.code === 'TIME_TOO_NEW') {
          result.held = hex;
          break;
        }
        toStore.push(this.headers.add(header, { status: 'invalid', hasBody: false }));
        this.#rememberInvalid(hex, e.code);
        result.invalid = { hash: hex, code: e.code };
        break;
      }
      toStore.push(this.headers.add(header, { status: 'headers-only', hasBody: false }));
      result.added++;
    }
    if (toStore.length > 0) await this.store.putHeaders(toStore.map((e) => ({ ...e })));
    // Orphans whose parent is now known go through the block path.
    const children = toStore.filter((e) => e.status !== 'invalid').flatMap((e) => this.#takeOrphans(e.hash));
    if (children.length > 0) await this.#processBlocks(children, task);
    result.needBodies = this.missingBodies();
    return result;
  }

  /**
   * Processes the held (TIME_TOO_NEW) blocks again now; the node also does this on a timer.
   * @example await node.retryHeld()
   */
  async retryHeld(): Promise<ProcessBlockResult[]> {
    const held = [...this.#held.values()];
    return Promise.all(held.map((h) => this.processBlock(h.block, h.source)));
  }

  #enqueue<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#running !== 'running') return Promise.reject(nodeError('STOPPED', `the node is ${this.#running === 'new' ? 'not started' : 'stopped'}`));
    return this.#queue.run(() => {
      if (this.#running !== 'running') throw nodeError('STOPPED', 'the node is stopped');
      return fn();
    });
  }

  #newTask(): Task {
    return { startTip: this.#tip, blocks: new Map(), pending: new Map(), unwritten: [], unwrittenBytes: 0, blockEvents: [], writeFailed: false };
  }

  #takeOrphans(parentHash: Uint8Array): { input: Uint8Array; source: Source }[] {
    return this.#orphans.takeChildren(parentHash).map((o) => {
      const hex = hashToHex(o.hash);
      const source = this.#orphanSources.get(hex) ?? 'peer';
      this.#orphanSources.delete(hex);
      return { input: o.bytes, source };
    });
  }

  /** Processes blocks, then the orphans each one unlocks; returns the first block's result. */
  async #processBlocks(work: { input: Block | Uint8Array; source: Source; unrequested?: boolean; peer?: string }[], task: Task): Promise<ProcessBlockResult> {
    let first: ProcessBlockResult | undefined;
    for (let item = work.shift(); item !== undefined; item = work.shift()) {
      const result = await this.#acceptBlock(item.input, item.source, task, item.unrequested === true, item.peer);
      first ??= result;
      task.blockEvents.push({ hash: result.hash, height: result.height ?? -1, result, source: item.source });
      if (result.status !== 'orphan' && result.status !== 'held' && result.hash !== '' && this.headers.has(result.hash)) {
        work.push(...this.#takeOrphans(hexToHash(result.hash)));
      }
    }
    return first!;
  }

  /** Header context against the parent, with MTP and the ASERT anchor from the index. */
  #checkContext(header: BlockHeader, prev: HeaderEntry): void {
    const mtp = medianTimePast(this.headers.timesForMtp(prev, this.params.medianTimeSpan), this.params.medianTimeSpan);
    const block1Time = prev.height >= 1 ? this.headers.ancestorAt(prev, 1)!.header.time : undefined;
    checkHeaderContext(header, prev, { params: this.params, medianTimePast: mtp, now: this.#now(), block1Time });
  }

  #rememberInvalid(hex: string, code: RuleCode): void {
    this.#invalidCodes.set(hex, code);
    if (this.#invalidCodes.size > MAX_INVALID_CODES) this.#invalidCodes.delete(this.#invalidCodes.keys().next().value!);
  }

  /** Marks a block and its descendants invalid in the index and the store. */
  async #markInvalid(hash: Uint8Array, code: RuleCode): Promise<void> {
    const changed = this.headers.markInvalid(hash);
    for (const e of changed) this.#rememberInvalid(hashToHex(e.hash), equalBytes(e.hash, hash) ? code : 'BAD_PREV');
    if (changed.length > 0) await this.store.putHeaders(changed.map((e) => ({ ...e })));
  }

  #invalidResult(hex: string, entry: HeaderEntry | undefined, code?: RuleCode): ProcessBlockResult {
    const r: ProcessBlockResult = { status: 'invalid', hash: hex };
    const c = code ?? this.#invalidCodes.get(hex);
    if (c) r.code = c;
    if (entry) r.height = entry.height;
    return r;
  }

  /** One block through steps 1–5 of the module doc. */
  async #acceptBlock(input: Block | Uint8Array, source: Source, task: Task, unrequested = false, peer?: string): Promise<ProcessBlockResult> {
    const params = this.params;
    // 1. Decode.
    let block: Block;
    let bytes: Uint8Array;
    if (input instanceof Uint8Array) {
      bytes = input;
      try {
        block = decodeBlock(bytes, params);
      } catch (e) {
        if (!(e instanceof RuleError)) throw e;
        return { status: 'invalid', code: 'MALFORMED', hash: bytes.length >= 80 ? hashToHex(sha256d(bytes.subarray(0, 80))) : '' };
      }
    } else {
      block = input;
      try {
        bytes = encodeBlock(block);
      } catch {
        let hash = '';
        try {
          hash = hashToHex(blockHash(block.header));
        } catch {
          // not even the header encodes
        }
        return { status: 'invalid', code: 'MALFORMED', hash };
      }
    }
    const header = block.header;
    const hash = blockHash(header);
    const hex = hashToHex(hash);

    // Duplicates.
    const known = this.headers.get(hash);
    if (known?.status === 'invalid') return this.#invalidResult(hex, known);
    if (known?.hasBody) {
      // Stored but maybe never connected (a store write failed, e.g. a full disk): offering it
      // again is the moment to try once more.
      if (this.headers.bestFullTip().chainwork > this.#tip.chainwork) await this.#activate(task);
      return { status: 'duplicate', hash: hex, height: known.height };
    }
    if (this.#orphans.has(hash)) return { status: 'orphan', hash: hex };
    this.#held.delete(hex); // a held block sent again is simply re-checked

    // Proof of work against its own bits: cheap, and nothing is kept for a block without it.
    try {
      checkProofOfWork(hash, header.bits, params.powLimit);
    } catch (e) {
      if (!(e instanceof RuleError)) throw e;
      return this.#invalidResult(hex, undefined, e.code);
    }

    // 2. Orphan.
    const prev = this.headers.get(header.prevHash);
    if (!prev) return this.#keepOrphan(block, bytes, hex, source, peer);

    // Anti-DoS (Core's AcceptBlock for blocks nobody asked for): a new branch ending far below
    // the tip's work costs its sender little to make; it is not stored until sync asks for it.
    if (unrequested && !known && prev.chainwork + workForBits(header.bits) < antiDosWorkThreshold(this.#tip)) {
      return { status: 'low-work', hash: hex, height: prev.height + 1 };
    }

    // 3. Header context (a header already in the index passed it when it was added).
    if (!known) {
      try {
        this.#checkContext(header, prev);
      } catch (e) {
        if (!(e instanceof RuleError)) throw e;
        if (e.code === 'TIME_TOO_NEW') {
          this.#hold(hex, block, source);
          return { status: 'held', code: 'TIME_TOO_NEW', hash: hex, height: prev.height + 1 };
        }
        const entry = this.headers.add(header, { status: 'invalid', hasBody: false });
        this.#rememberInvalid(hex, e.code);
        await this.store.putHeaders([{ ...entry }]);
        return this.#invalidResult(hex, entry, e.code);
      }
    }

    // 4. Sanity.
    try {
      checkBlockSanity(block, params, { sigCache: this.#sigCache });
    } catch (e) {
      if (!(e instanceof RuleError)) throw e;
      // A body that does not match its header says nothing about the header (Core's
      // BLOCK_MUTATED): keep nothing, mark nothing, so the right body can still be accepted.
      if (isMutationError(e) || !this.#bodyMatchesHeader(block)) return { status: 'invalid', code: e.code, hash: hex, height: prev.height + 1 };
      if (known) {
        await this.#markInvalid(hash, e.code);
      } else {
        const entry = this.headers.add(header, { status: 'invalid', hasBody: false });
        this.#rememberInvalid(hex, e.code);
        await this.store.putHeaders([{ ...entry }]);
      }
      return this.#invalidResult(hex, this.headers.get(hash), e.code);
    }

    // 5. Store, then fork choice.
    const entry = known ? this.headers.setHasBody(hash) : this.headers.add(header, { status: 'headers-only', hasBody: true });
    task.blocks.set(hex, block);
    if (equalBytes(prev.hash, this.#tip.hash)) {
      // Extends the tip: the connect writes header, body and all in one atomic write.
      task.pending.set(hex, bytes);
    } else {
      if (!known) await this.store.putHeaders([{ ...entry, hasBody: false }]);
      await this.store.putBlock(hash, bytes);
    }
    const reorged = await this.#activate(task);

    const now = this.headers.get(hash)!;
    if (now.status === 'invalid') return this.#invalidResult(hex, now);
    if (this.#onActiveChain(now)) return { status: reorged ? 'reorged' : 'extended', hash: hex, height: now.height };
    return { status: 'side', hash: hex, height: now.height };
  }

  /**
   * Step 2 of the module doc: an orphan is kept only if it cost nearly a real block to make and
   * its body matches its header; then as bytes, in its sender's share (the peer, or our own
   * source for blocks that came from no peer).
   */
  #keepOrphan(block: Block, bytes: Uint8Array, hex: string, source: Source, peer: string | undefined): ProcessBlockResult {
    const tip = this.#tip;
    const block1Time = tip.height >= 1 ? this.headers.ancestorAt(tip, 1)!.header.time : undefined;
    // Not kept, no verdict: an honest peer far ahead of a stalled tip may send one (sync catches up).
    if (!orphanWorkSuffices(block.header.bits, nextBits(this.params, { height: tip.height, time: tip.header.time }, block1Time))) {
      return { status: 'low-work', hash: hex };
    }
    try {
      checkOrphanBody(block, this.params);
    } catch (e) {
      if (!(e instanceof RuleError)) throw e;
      return { status: 'invalid', code: e.code, hash: hex };
    }
    const { added, evicted } = this.#orphans.add(bytes, this.#now(), peer === undefined ? source : `peer:${peer}`);
    for (const o of evicted) this.#orphanSources.delete(hashToHex(o.hash));
    if (added) this.#orphanSources.set(hex, source);
    return { status: 'orphan', hash: hex };
  }

  /** Whether the block's merkle root matches its header (a failing body may just be mutated). */
  #bodyMatchesHeader(block: Block): boolean {
    try {
      return block.txs.length > 0 && equalBytes(merkleRoot(block.txs), block.header.merkleRoot);
    } catch {
      return false;
    }
  }

  #onActiveChain(e: HeaderEntry): boolean {
    const a = this.headers.ancestorAt(this.#tip, e.height);
    return a !== undefined && equalBytes(a.hash, e.hash);
  }

  #hold(hex: string, block: Block, source: Source): void {
    this.#held.set(hex, { block, source });
    while (this.#held.size > MAX_HELD) this.#held.delete(this.#held.keys().next().value!);
    if (this.#heldTimer === undefined) {
      this.#heldTimer = setTimeout(() => {
        this.#heldTimer = undefined;
        if (this.#running !== 'running') return;
        this.retryHeld().catch((e) => this.#error(e));
      }, this.#timing.heldRetryMs);
      unref(this.#heldTimer);
    }
  }

  /**
   * Fork choice (Bitcoin Core `ActivateBestChain`): while the best candidate with every body
   * stored has MORE work than the tip (equal work keeps the first seen, i.e. the tip), switch to
   * it. Returns whether blocks were disconnected on the way.
   */
  async #activate(task: Task): Promise<boolean> {
    let reorged = false;
    for (let guard = 0; ; guard++) {
      if (guard > 1_000_000) throw new Error('FullNode: fork choice does not settle');
      const candidate = this.headers.bestFullTip();
      if (candidate.chainwork <= this.#tip.chainwork) return reorged;
      const path = this.headers.reorgPath(this.#tip, candidate);
      const ok = await this.#switchChain(path.disconnect, path.connect, task);
      if (ok && path.disconnect.length > 0) reorged = true;
    }
  }

  /**
   * Disconnects `disconnect` (tip first) and connects `connect` (oldest first). If a block fails
   * to connect, it is marked invalid with its descendants and the old chain is restored; returns
   * false then.
   */
  async #switchChain(disconnect: HeaderEntry[], connect: HeaderEntry[], task: Task): Promise<boolean> {
    const disconnected: HeaderEntry[] = [];
    for (const e of disconnect) {
      await this.#disconnectTip(task);
      disconnected.push(e);
    }
    const connected: HeaderEntry[] = [];
    for (const e of connect) {
      try {
        await this.#connectTip(e, task);
      } catch (err) {
        if (!(err instanceof RuleError)) throw err;
        const hex = hashToHex(e.hash);
        this.#log(`block ${e.height} ${hex} is invalid: ${err.message}`);
        if (task.pending.delete(hex)) this.headers.setHasBody(e.hash, false); // its body was never written
        await this.#markInvalid(e.hash, err.code);
        // Back to the chain we were on (Core would stay on the valid part; fork choice runs again
        // right after and picks the best of what is left, which may be that part).
        for (let i = connected.length - 1; i >= 0; i--) await this.#disconnectTip(task);
        for (let i = disconnected.length - 1; i >= 0; i--) await this.#connectTip(disconnected[i], task);
        return false;
      }
      connected.push(e);
    }
    return true;
  }

  async #blockOf(e: HeaderEntry, task: Task): Promise<Block> {
    const hex = hashToHex(e.hash);
    let block = task.blocks.get(hex);
    if (!block) {
      const bytes = await this.store.getBlock(e.hash);
      if (!bytes) throw nodeError('CORRUPT', `the body of block ${e.height} ${hex} is missing from the store`);
      block = decodeBlock(bytes, this.params);
      task.blocks.set(hex, block);
    }
    return block;
  }

  /**
   * Connects `e` (a child of the tip) in memory: applyBlock moves the state and the tip at once;
   * the store write follows with the task's other connects ({@link #writeConnects}).
   */
  async #connectTip(e: HeaderEntry, task: Task): Promise<void> {
    const block = await this.#blockOf(e, task);
    const undo = applyBlock(this.#state, block, { params: this.params, height: e.height, hash: e.hash });
    task.unwritten.push({ entry: e, prevTip: this.#tip, undo, txids: block.txs.map(txidOf) });
    task.unwrittenBytes += task.pending.get(hashToHex(e.hash))?.length ?? 0;
    this.#tip = e; // state and tip move together
    if (task.unwritten.length >= MAX_UNWRITTEN_BLOCKS || task.unwrittenBytes >= MAX_UNWRITTEN_BYTES) await this.#writeConnects(task);
  }

  /**
   * Writes the task's unwritten connects in ONE atomic store write (body, undo, state changes,
   * txid index, header status and tip of each). If the write fails, the state and the tip go back
   * to where the store is, and the error is rethrown.
   */
  async #writeConnects(task: Task): Promise<void> {
    const run = task.unwritten;
    if (run.length === 0) return;
    task.unwritten = [];
    task.unwrittenBytes = 0;
    try {
      await this.store.connectBlocks(
        run.map((c) => ({
          hash: c.entry.hash,
          height: c.entry.height,
          body: task.pending.get(hashToHex(c.entry.hash)),
          undo: c.undo,
          txids: c.txids,
          headers: [{ ...c.entry, status: 'valid', hasBody: true }],
        })),
      );
    } catch (err) {
      for (let i = run.length - 1; i >= 0; i--) undoBlock(this.#state, run[i].undo);
      this.#tip = run[0].prevTip;
      task.writeFailed = true;
      throw err;
    }
    for (const c of run) {
      task.pending.delete(hashToHex(c.entry.hash));
      if (c.entry.status !== 'valid') this.headers.setStatus(c.entry.hash, 'valid');
    }
  }

  /** Disconnects the tip with its stored undo record, in ONE atomic store write. */
  async #disconnectTip(task: Task): Promise<void> {
    const unwritten = task.unwritten.pop();
    if (unwritten) {
      // Connected by this task and not written yet: undone in memory, nothing to write. Its body
      // stays in task.pending, so it is stored as a side-branch block when the task ends.
      undoBlock(this.#state, unwritten.undo);
      this.#tip = unwritten.prevTip;
      task.unwrittenBytes -= task.pending.get(hashToHex(unwritten.entry.hash))?.length ?? 0;
      return;
    }
    const e = this.#tip;
    const parent = this.headers.parentOf(e);
    if (!parent) throw new Error('FullNode: cannot disconnect genesis');
    await this.#blockOf(e, task); // for the mempool: its transactions come back
    const undo = await this.store.getUndo(e.hash);
    if (!undo) throw nodeError('CORRUPT', `no undo record for block ${e.height} ${hashToHex(e.hash)}`);
    undoBlock(this.#state, undo);
    this.#tip = parent;
    try {
      await this.store.disconnectBlock({ hash: e.hash, undo, newTipHash: parent.hash, newTipHeight: parent.height });
    } catch (err) {
      this.#state.applyChanges(undo.changes);
      this.#tip = e;
      throw err;
    }
  }

  /** After a task: persist leftovers, update the mempool for the net chain change, emit events (the miner follows 'tip'). */
  async #finishTask(task: Task): Promise<void> {
    // Connects left unwritten by a task that failed half-way: write them (or go back, if that fails).
    await this.#writeConnects(task).catch((err) => this.#error(err));
    // Block verdicts go out once what they say is stored. After a failed write, those that said
    // a block was connected (or stored as a side block) are void: the caller got the error.
    const void_ = new Set(['extended', 'reorged', 'side']);
    for (const ev of task.blockEvents) if (!task.writeFailed || !void_.has(ev.result.status)) this.events.emit('block', ev);
    // Bodies accepted but never connected (a storage failure mid-way, or connected and then
    // undone within the task): store them normally.
    for (const [hex, bytes] of task.pending) {
      const e = this.headers.get(hex);
      try {
        if (e) await this.store.putHeaders([{ ...e, hasBody: false }]);
        await this.store.putBlock(hexToHash(hex), bytes);
      } catch (err) {
        if (e) this.headers.setHasBody(hex, false);
        this.#error(err);
      }
    }
    task.pending.clear();
    const start = task.startTip;
    const end = this.#tip;
    if (start === end) return;
    const path = this.headers.reorgPath(start, end);
    const blockOf = (e: HeaderEntry) => task.blocks.get(hashToHex(e.hash))!;
    const connected = path.connect.map(blockOf);
    const ctx = { params: this.params, height: end.height, now: this.#now() };
    const confirmedIn = new Map<string, string>();
    path.connect.forEach((e, i) => {
      for (const tx of connected[i].txs) if (tx.kind !== 'coinbase') confirmedIn.set(hashToHex(txidOf(tx)), hashToHex(e.hash));
    });
    let confirmed: MempoolEntry[];
    let invalid: MempoolRejection[];
    if (path.disconnect.length === 0) {
      ({ confirmed, invalid } = this.mempool.removeForBlocks(connected, this.#state, ctx));
    } else {
      const r = this.mempool.afterReorg(path.disconnect.map(blockOf), connected, this.#state, ctx);
      confirmed = r.confirmed;
      invalid = r.invalid;
      this.#log(`reorg at height ${path.fork.height}: -${path.disconnect.length} +${path.connect.length} blocks`);
      this.events.emit('reorg', {
        fork: { hash: hashToHex(path.fork.hash), height: path.fork.height },
        disconnected: path.disconnect.map((e) => hashToHex(e.hash)),
        connected: path.connect.map((e) => hashToHex(e.hash)),
        readmitted: r.readmitted.map((e) => e.id),
        dropped: [...r.rejected.map((x) => ({ txid: hashToHex(txidOf(x.tx)), code: x.error.code })), ...r.invalid.map((x) => ({ txid: x.entry.id, code: x.code }))],
      });
    }
    for (const e of confirmed) this.events.emit('txRemoved', { txid: e.id, reason: 'confirmed', blockHash: confirmedIn.get(e.id) });
    for (const x of invalid) this.events.emit('txRemoved', { txid: x.entry.id, reason: 'invalid', code: x.code });
    this.#emitMempool();
    this.events.emit('tip', { hash: hashToHex(end.hash), height: end.height });
  }

  // --- transactions ----------------------------------------------------------------------------

  /**
   * THE path of every transaction: decode, duplicate (pending or confirmed), mempool policy
   * against the tip's state.
   * @example
   * ```ts
   * const r = await node.processTx(signTx(unsigned, priv), 'local');
   * if (r.status === 'invalid') throw new Error(r.code);
   * ```
   */
  processTx(input: Transaction | Uint8Array, source: Source): Promise<ProcessTxResult> {
    return this.#enqueue(async () => {
      const result = await this.#acceptTx(input);
      this.events.emit('tx', { txid: result.txid, result, source });
      return result;
    });
  }

  async #acceptTx(input: Transaction | Uint8Array): Promise<ProcessTxResult> {
    let tx: Transaction;
    if (input instanceof Uint8Array) {
      try {
        tx = decodeTx(input, this.params.maxTxBytes);
      } catch (e) {
        if (!(e instanceof RuleError)) throw e;
        return { status: 'invalid', code: 'MALFORMED', txid: '' };
      }
    } else {
      tx = input;
    }
    let id: Uint8Array;
    try {
      id = txidOf(tx);
    } catch {
      return { status: 'invalid', code: 'MALFORMED', txid: '' };
    }
    const txid = hashToHex(id);
    if (this.mempool.has(id) || (await this.store.getTxLocation(id))) return { status: 'duplicate', txid };
    let r;
    try {
      r = this.mempool.add(tx, this.#state, { params: this.params, height: this.#tip.height, now: this.#now() });
    } catch (e) {
      if (!(e instanceof RuleError)) throw e;
      return { status: 'invalid', code: e.code, txid };
    }
    if (!r.added) return { status: 'duplicate', txid };
    if (r.replaced) this.events.emit('txRemoved', { txid: r.replaced.id, reason: 'replaced' });
    for (const x of r.invalidated) this.events.emit('txRemoved', { txid: x.entry.id, reason: 'invalid', code: x.code });
    for (const e of r.evicted) this.events.emit('txRemoved', { txid: e.id, reason: 'evicted' });
    this.#emitMempool();
    return r.future ? { status: 'accepted', future: true, txid } : { status: 'accepted', txid };
  }

  #emitMempool(): void {
    this.events.emit('mempool', { size: this.mempool.size, bytes: this.mempool.bytes });
  }

  /** Mempool expiry and orphan expiry, on a timer. */
  async #maintenance(): Promise<void> {
    if (this.#running !== 'running') return;
    try {
      await this.#enqueue(async () => {
        const now = this.#now();
        const expired = this.mempool.expire(now, this.#timing.mempoolMaxAgeSeconds);
        for (const e of expired) this.events.emit('txRemoved', { txid: e.id, reason: 'expired' });
        if (expired.length > 0) this.#emitMempool();
        for (const o of this.#orphans.expire(now, this.#timing.orphanMaxAgeSeconds)) this.#orphanSources.delete(hashToHex(o.hash));
        for (const hex of this.#orphanSources.keys()) if (!this.#orphans.has(hex)) this.#orphanSources.delete(hex);
      });
    } catch (e) {
      this.#error(e);
    }
  }

  #error(e: unknown): void {
    if ((e as { code?: string })?.code === 'STOPPED') return;
    const message = e instanceof Error ? e.message : String(e);
    this.#log(`error: ${message}`);
    const code = (e as { code?: unknown })?.code;
    this.events.emit('error', typeof code === 'string' ? { message, code } : { message });
  }

  // --- what mining needs (the miner itself is node-miner.ts) -----------------------------------

  /** Sets who mined blocks pay (32-byte public key). @example node.setMinerPubKey(wallet.publicKey) */
  setMinerPubKey(pub: Uint8Array): void {
    if (!(pub instanceof Uint8Array) || pub.length !== 32) throw new TypeError('setMinerPubKey: a 32-byte public key is required');
    this.#minerPubKey = pub.slice();
    this.miner.templateChanged();
  }

  /** The public key mined blocks pay, if set. @example node.minerPubKey */
  get minerPubKey(): Uint8Array | undefined {
    return this.#minerPubKey?.slice();
  }

  /**
   * A block template on the current tip with the best-paying mempool transactions, paying the
   * miner key. Throws (code NO_MINER_KEY) if none is set.
   * @example const t = node.template(); t.block.txs.length
   */
  template(): BlockTemplate {
    const minerPubKey = this.#minerPubKey;
    if (!minerPubKey) throw nodeError('NO_MINER_KEY', 'no miner key: call setMinerPubKey first');
    const prev = this.#tip;
    return buildBlockTemplate({
      params: this.params,
      state: this.#state,
      prev,
      mempool: this.mempool,
      minerPubKey,
      now: this.#now(),
      medianTimePast: medianTimePast(this.headers.timesForMtp(prev, this.params.medianTimeSpan), this.params.medianTimeSpan),
      block1Time: prev.height >= 1 ? this.headers.ancestorAt(prev, 1)!.header.time : undefined,
    });
  }

  /**
   * Runs `fn` in the node's queue, between two processing steps, where tip, state and mempool
   * agree (Bitcoin Core's `cs_main`). `fn` must not wait for the node (a processBlock awaited
   * inside would wait for itself). Rejects (STOPPED) when the node does not run.
   * @example const t = await node.runExclusive(() => node.template())
   */
  runExclusive<T>(fn: () => T): Promise<T> {
    return this.#enqueue(async () => fn());
  }
}

function unref(t: unknown): void {
  (t as { unref?: () => void } | undefined)?.unref?.();
}
