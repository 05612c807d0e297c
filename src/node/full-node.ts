/**
 * FullNode: the one owner of a node's chain — store, header index, chain state, mempool and
 * orphan pool — with ONE serialized path for blocks and transactions from every source (peers,
 * our own miner, the local API, storage), like Bitcoin Core's `ProcessNewBlock` /
 * `AcceptToMemoryPool` under `cs_main`. Its parts, each in its own file: the steps' shared chain
 * (active-chain.ts), fork choice and reorganisation (fork-choice.ts), a step's batched store
 * writes (connect-batch.ts), headers-first sync's step (header-acceptance.ts), decoding
 * (block-input.ts); mining sits on top, through the node's public surface (node-miner.ts).
 *
 * Block path ({@link FullNode.processBlock}), cheapest checks first:
 * 1. decode (MALFORMED), duplicate check, proof of work against the block's own bits;
 * 2. unknown parent → orphan pool (processed when the parent arrives), if it is worth holding:
 *    bits within `ORPHAN_MAX_EASIER` of our tip's next bits (else 'low-work', not kept) and a body
 *    that passes the cheap context-free checks (`checkOrphanBody`; signatures wait for the
 *    parent). Held as bytes, under a share per sending peer (`OrphanPool`);
 * 3. header context (`checkHeaderContext`: bits = ASERT, time > MTP, time ≤ now + 120 s —
 *    TIME_TOO_NEW is held and retried, never a verdict);
 * 4. signatures verified natively on every core (`preverifySignatures`, sig-preverify.ts: the
 *    platform's Ed25519 behind our strictness precheck, in workers), each YES put in the signature
 *    cache; then sanity (`checkBlockSanity`: merkle, signatures, limits) — unchanged: it verifies
 *    with the pure-JS rule whatever is not cached, and verdicts are that rule's (sig-precheck.ts).
 *    A body that does not match its header (BAD_MERKLE / DUPLICATE_TX) is rejected WITHOUT
 *    marking the header invalid;
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
 * Signature preverification does not hold the queue while workers work, where it can help it: a
 * block handed to processBlock(s) starts its preverification at the call, before its task runs
 * (when the read-only cheap checks — decode, duplicate, proof of work, known parent, anti-DoS,
 * header context — pass against the index as it is then), and in a run of blocks the next
 * block's starts while the current one is checked and connected. The task keeps its place in the
 * queue (order is call order, as before) and its step 4 joins the preverification under way. What
 * the early checks could not clear (a parent not yet known) is preverified at step 4, holding the
 * queue, as any check does. Transactions (processTx) are preverified the same way, on the calling
 * thread.
 *
 * Starting never replays the chain: the header index and the state are loaded as stored.
 *
 * Size (~820 lines, ~90 of them this note): what is left is the block path's steps above as
 * private methods, each a few lines, sharing the queue, the step's batch and the preverifier;
 * every step with more to it than a check already lives in its own file (listed at the top).
 * Moving the checks out too would only pass the node's private state across files.
 * @module
 */
import {
  RuleError,
  antiDosWorkThreshold,
  buildBlockTemplate,
  checkBlockSanity,
  checkOrphanBody,
  checkProofOfWork,
  decodeBlock,
  decodeTx,
  equalBytes,
  hashToHex,
  hexToHash,
  isMutationError,
  medianTimePast,
  nextBits,
  orphanWorkSuffices,
  txid as txidOf,
  workForBits,
  ChainState,
  HeaderIndex,
  Mempool,
  SignatureCache,
  type Block,
  type BlockHeader,
  type BlockTemplate,
  type HeaderEntry,
  type MempoolOptions,
  type NetworkParams,
  type Transaction,
} from '../chain/index.ts';
import type { ChainStore } from '../storage/chain-store.ts';
import { MAX_DISCREPANCIES, stateDifferences, verifyStore, type StoreVerification } from '../storage/verify-store.ts';
import { ActiveChain } from './active-chain.ts';
import { bodyMatchesHeader, decodeBlockInput, type BlockWork, type Candidate, type DecodedBlock } from './block-input.ts';
import { ConnectBatch } from './connect-batch.ts';
import { nodeError } from './errors.ts';
import { Emitter, type NodeEvents, type ProcessBlockResult, type ProcessTxResult, type Source } from './events.ts';
import { NodeMiner, type NodeMinerOptions } from './node-miner.ts';
import { activateBestChain } from './fork-choice.ts';
import { acceptHeaders, type ProcessHeadersResult } from './header-acceptance.ts';
import { acceptTx, mempoolFollowsChain, type MempoolContext } from './node-mempool.ts';
import { SerialQueue } from './queue.ts';
import { SignaturePool, type SignaturePoolOptions } from './sig-pool.ts';
import { SignaturePreverifier } from './sig-preverify.ts';
import { WaitingBlocks } from './waiting-blocks.ts';

/**
 * Blocks of a {@link FullNode.processBlocks} run whose signatures are being verified ahead of the
 * one being checked and connected, started half of them at a time as one batch. One block ahead
 * was not enough: a block of 50 transfers is below the pool's worker batch (sig-pool.ts), so its
 * signatures were verified natively on the calling thread, one block's after the other's; four
 * blocks of them together reach the workers. Within the preverifier's memory of recent blocks
 * (sig-preverify.ts RECENT_BLOCKS).
 */
const PREVERIFY_AHEAD = 8;
/**
 * Signatures of the blocks preverified ahead, at most (the first block ahead always goes): the
 * pool gives no verdicts beyond MAX_PENDING_RECORDS (40,000) at once, and a block it refuses is
 * verified in pure JS.
 */
const PREVERIFY_AHEAD_SIGNATURES = 20_000;

export type { NodeEvents, ProcessBlockResult, ProcessTxResult, Source } from './events.ts';
export type { NodeMinerOptions } from './node-miner.ts';
export type { ProcessHeadersResult } from './header-acceptance.ts';

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
  /**
   * Native signature preverification (sig-preverify.ts): worker count (default: the logical CPUs;
   * 0 = the calling thread only), worker transport and the calling thread's native verifier
   * (tests). `false`: off — every signature is verified by the pure-JS verifier alone, as before.
   */
  signatures?: false | Pick<SignaturePoolOptions, 'workers' | 'spawn' | 'native'>;
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

/** A transaction as {@link FullNode.findTx} finds it. */
export interface FoundTx {
  state: 'pending' | 'confirmed';
  blockHash?: string;
  height?: number;
  confirmations?: number;
  tx: Transaction;
}

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
  /** Fills #sigCache natively before consensus code runs; null when turned off. */
  readonly #preverifier: SignaturePreverifier | null;
  readonly headers: HeaderIndex;
  readonly store: ChainStore;

  readonly #now: () => number;
  readonly #log: (msg: string) => void;
  readonly #timing: Required<NonNullable<FullNodeOptions['timing']>>;
  readonly #queue = new SerialQueue();
  /** Orphans (waiting for a parent) and held blocks (waiting for the clock). */
  readonly #waiting: WaitingBlocks;
  /** Header index, store, state and tip: what every step of the block path shares. */
  readonly #chain: ActiveChain;
  #synced = true;
  #running: 'new' | 'running' | 'stopped' = 'new';
  #minerPubKey: Uint8Array | undefined;
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
    this.#waiting = new WaitingBlocks({
      heldRetryMs: this.#timing.heldRetryMs,
      onHeldDue: () => {
        if (this.#running !== 'running') return;
        this.retryHeld().catch((e) => this.#error(e));
      },
    });
    this.mempool = new Mempool({ sigCache: this.#sigCache, ...opts.mempool });
    const sig = opts.signatures;
    this.#preverifier = sig === false ? null : new SignaturePreverifier({ params: this.params, sigCache: this.#sigCache, pool: new SignaturePool({ workers: sig?.workers, spawn: sig?.spawn, native: sig?.native }) });
    this.headers = new HeaderIndex(this.params.genesis.header);
    this.#chain = new ActiveChain({ params: this.params, store: this.store, headers: this.headers });
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
    await this.#chain.open();
    const opened = this.#chain.tip;
    this.#log(`opened ${this.params.name} at height ${opened.height} (${hashToHex(opened.hash)}), ${this.headers.size} headers`);
    await this.#runStep((batch) => activateBestChain(this.#chain, batch, this.#log));
  }

  /**
   * Stops the miner and the timers, lets queued work finish, and closes the store.
   * @example await node.stop()
   */
  async stop(): Promise<void> {
    if (this.#running === 'stopped') return;
    const wasRunning = this.#running === 'running';
    this.#running = 'stopped';
    this.#waiting.close();
    if (this.#maintenanceTimer !== undefined) clearInterval(this.#maintenanceTimer);
    const minerClosed = this.miner.close();
    await this.#queue.idle();
    await minerClosed;
    this.#preverifier?.close();
    if (wasRunning) await this.store.close();
  }

  // --- read access ---------------------------------------------------------------------------

  /** The active tip (an index entry: treat as read-only). @example node.tip.height */
  get tip(): HeaderEntry {
    return this.#chain.tip;
  }

  /** Height of the active tip. @example node.height */
  get height(): number {
    return this.#chain.tip.height;
  }

  /** The chain state at the tip (treat as read-only). @example node.state.account(pub).balance */
  get state(): ChainState {
    return this.#chain.state;
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
    return this.#waiting.heldCount;
  }

  /** Number of orphan blocks waiting for a parent. @example node.orphanCount */
  get orphanCount(): number {
    return this.#waiting.orphanCount;
  }

  /** Parent hashes (display hex) that orphans are waiting for: what to ask peers for. @example node.missingParents() */
  missingParents(): string[] {
    return this.#waiting.missingParents().map(hashToHex).filter((h) => !this.headers.has(h));
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
    const e = this.headers.ancestorAt(this.#chain.tip, height);
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
    return { state: 'confirmed', blockHash: hashToHex(loc.blockHash), height: loc.height, confirmations: Math.max(0, this.#chain.tip.height - loc.height + 1), tx };
  }

  /**
   * Display hashes of block bodies to fetch, oldest first: along the best known header chain
   * (which may be headers-only, from {@link processHeaders}), the blocks without a stored body
   * after the active chain's fork point. At most `max`.
   * @example for (const h of node.missingBodies(16)) peer.getBlock(h)
   */
  missingBodies(max = 128): string[] {
    const best = this.headers.bestTip();
    if (best.chainwork <= this.#chain.tip.chainwork) return [];
    const { connect } = this.headers.reorgPath(this.#chain.tip, best);
    const out: string[] = [];
    for (const e of connect) {
      if (out.length >= max) break;
      if (!e.hasBody) out.push(hashToHex(e.hash));
    }
    return out;
  }

  // --- blocks: entry points ---------------------------------------------------------------------

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
    const work: BlockWork = { input: block, source, unrequested, peer };
    this.#preverifyEarly(work);
    return this.#enqueue(() => this.#runStep((batch) => this.#processBlocks([work], batch)));
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
    const works: BlockWork[] = blocks.map((input) => ({ input, source }));
    // The signatures of the next blocks are verified while this one is checked and connected.
    let started = 0; // blocks before this one were sent to the preverifier (or not worth it)
    const ahead = (from: number) => {
      const list: DecodedBlock[] = [];
      let signatures = 0;
      for (let j = from; j < Math.min(works.length, from + PREVERIFY_AHEAD); j++) {
        const d = this.#preverifiable(works[j]);
        const n = d ? d.block.txs.length - 1 : 0;
        if (j > from && signatures + n > PREVERIFY_AHEAD_SIGNATURES) break;
        signatures += n;
        if (j < started) continue;
        started = j + 1;
        if (d) list.push(d);
      }
      if (list.length > 0) this.#preverifier?.blocks(list);
    };
    ahead(0);
    return this.#enqueue(() =>
      this.#runStep(async (batch) => {
        const results: ProcessBlockResult[] = [];
        for (let i = 0; i < works.length; i++) {
          if (i > 0 && i % (PREVERIFY_AHEAD / 2) === 0) ahead(i + 1);
          results.push(await this.#processBlocks([works[i]], batch));
        }
        return results;
      }),
    );
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
    return this.#enqueue(() =>
      this.#runStep(async (batch) => {
        const { result, added } = await acceptHeaders(this.#chain, headers, this.#now());
        // Orphans whose parent is now known go through the block path.
        const children = added.flatMap((e) => this.#waiting.takeOrphans(e.hash));
        if (children.length > 0) await this.#processBlocks(children, batch);
        result.needBodies = this.missingBodies();
        return result;
      }),
    );
  }

  /**
   * Processes the held (TIME_TOO_NEW) blocks again now; the node also does this on a timer.
   * @example await node.retryHeld()
   */
  async retryHeld(): Promise<ProcessBlockResult[]> {
    const held = this.#waiting.held();
    return Promise.all(held.map((h) => this.processBlock(h.block, h.source)));
  }

  #enqueue<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#running !== 'running') return Promise.reject(nodeError('STOPPED', `the node is ${this.#running === 'new' ? 'not started' : 'stopped'}`));
    return this.#queue.run(() => {
      if (this.#running !== 'running') throw nodeError('STOPPED', 'the node is stopped');
      return fn();
    });
  }

  /**
   * Runs `fn` as one processing step: writes its connects, then (even if it failed) finishes its
   * batch — leftovers stored, block events sent — and follows the net chain change.
   */
  async #runStep<T>(fn: (batch: ConnectBatch) => Promise<T>): Promise<T> {
    const batch = new ConnectBatch({ store: this.store, headers: this.headers, chain: this.#chain });
    try {
      const result = await fn(batch);
      await batch.write();
      return result;
    } finally {
      await batch.finish({ emitBlock: (ev) => this.events.emit('block', ev), onError: (e) => this.#error(e) });
      mempoolFollowsChain(batch, this.#mempoolContext());
    }
  }

  /** Processes blocks, then the orphans each one unlocks; returns the first block's result. */
  async #processBlocks(work: BlockWork[], batch: ConnectBatch): Promise<ProcessBlockResult> {
    let first: ProcessBlockResult | undefined;
    for (let item = work.shift(); item !== undefined; item = work.shift()) {
      const result = await this.#acceptBlock(item, batch);
      first ??= result;
      batch.blockEvents.push({ hash: result.hash, height: result.height ?? -1, result, source: item.source });
      if (result.status !== 'orphan' && result.status !== 'held' && result.hash !== '' && this.headers.has(result.hash)) {
        work.push(...this.#waiting.takeOrphans(hexToHash(result.hash)));
      }
    }
    return first!;
  }

  // --- blocks: the steps (module doc) ------------------------------------------------------------

  /** One block through steps 1–5 of the module doc, cheapest first; the first step with a verdict ends it. */
  async #acceptBlock(work: BlockWork, batch: ConnectBatch): Promise<ProcessBlockResult> {
    const decoded = work.decoded ?? decodeBlockInput(work.input, this.params);
    if ('invalid' in decoded) return decoded.invalid;
    const b: Candidate = { ...decoded, known: this.headers.get(decoded.hash) };
    const duplicate = await this.#checkDuplicate(b, batch);
    if (duplicate) return duplicate;
    const badWork = this.#checkProofOfWork(b);
    if (badWork) return badWork;
    const prev = this.headers.get(b.block.header.prevHash);
    if (!prev) return this.#acceptOrphan(b, work);
    const lowWork = this.#antiDos(b, prev, work);
    if (lowWork) return lowWork;
    const badContext = await this.#checkContext(b, prev, work);
    if (badContext) return badContext;
    await this.#preverifySignatures(b);
    const badBody = await this.#checkSanity(b, prev);
    if (badBody) return badBody;
    await this.#storeBlock(b, prev, batch);
    const reorged = await activateBestChain(this.#chain, batch, this.#log);
    return this.#verdict(b, reorged);
  }

  /** Duplicates: invalid before, stored before, or waiting as an orphan. */
  async #checkDuplicate(b: Candidate, batch: ConnectBatch): Promise<ProcessBlockResult | undefined> {
    if (b.known?.status === 'invalid') return this.#chain.invalidResult(b.hex, b.known);
    if (b.known?.hasBody) {
      // Stored but maybe never connected (a store write failed, e.g. a full disk): offering it
      // again is the moment to try once more.
      if (this.headers.bestFullTip().chainwork > this.#chain.tip.chainwork) await activateBestChain(this.#chain, batch, this.#log);
      return { status: 'duplicate', hash: b.hex, height: b.known.height };
    }
    if (this.#waiting.hasOrphan(b.hash)) return { status: 'orphan', hash: b.hex };
    this.#waiting.unhold(b.hex); // a held block sent again is simply re-checked
    return undefined;
  }

  /** Proof of work against the block's own bits: cheap, and nothing is kept for a block without it. */
  #checkProofOfWork(b: Candidate): ProcessBlockResult | undefined {
    try {
      checkProofOfWork(b.hash, b.block.header.bits, this.params.powLimit);
    } catch (e) {
      if (!(e instanceof RuleError)) throw e;
      return this.#chain.invalidResult(b.hex, undefined, e.code);
    }
    return undefined;
  }

  /**
   * Step 2: an orphan is kept only if it cost nearly a real block to make and its body matches its
   * header; then as bytes, in its sender's share (the peer, or our own source for blocks that came
   * from no peer).
   */
  #acceptOrphan(b: Candidate, work: BlockWork): ProcessBlockResult {
    const tip = this.#chain.tip;
    // Not kept, no verdict: an honest peer far ahead of a stalled tip may send one (sync catches up).
    if (!orphanWorkSuffices(b.block.header.bits, nextBits(this.params, { height: tip.height, time: tip.header.time }, this.#chain.block1Time(tip)))) {
      return { status: 'low-work', hash: b.hex };
    }
    try {
      checkOrphanBody(b.block, this.params);
    } catch (e) {
      if (!(e instanceof RuleError)) throw e;
      return { status: 'invalid', code: e.code, hash: b.hex };
    }
    this.#waiting.addOrphan(b.bytes, b.hex, this.#now(), work);
    return { status: 'orphan', hash: b.hex };
  }

  /**
   * Anti-DoS (Core's AcceptBlock for blocks nobody asked for): a new branch ending far below the
   * tip's work costs its sender little to make; it is not stored until sync asks for it.
   */
  #antiDos(b: Candidate, prev: HeaderEntry, work: BlockWork): ProcessBlockResult | undefined {
    if (work.unrequested === true && !b.known && prev.chainwork + workForBits(b.block.header.bits) < antiDosWorkThreshold(this.#chain.tip)) {
      return { status: 'low-work', hash: b.hex, height: prev.height + 1 };
    }
    return undefined;
  }

  /** Step 3: header context (a header already in the index passed it when it was added). */
  async #checkContext(b: Candidate, prev: HeaderEntry, work: BlockWork): Promise<ProcessBlockResult | undefined> {
    if (b.known) return undefined;
    try {
      this.#chain.checkContext(b.block.header, prev, this.#now());
    } catch (e) {
      if (!(e instanceof RuleError)) throw e;
      if (e.code === 'TIME_TOO_NEW') {
        this.#waiting.hold(b.hex, b.block, work.source);
        return { status: 'held', code: 'TIME_TOO_NEW', hash: b.hex, height: prev.height + 1 };
      }
      const entry = await this.#chain.addInvalidHeader(b.block.header, b.hex, e.code);
      return this.#chain.invalidResult(b.hex, entry, e.code);
    }
    return undefined;
  }

  /**
   * Step 4, first half: the block's signatures verified natively on every core, each YES put in the
   * signature cache (sig-preverify.ts) — or the preverification started early joined. Never a
   * verdict: sanity decides.
   */
  async #preverifySignatures(b: Candidate): Promise<void> {
    await this.#preverifier?.block(b.block, b.hex);
  }

  /**
   * Starts a block's preverification before its turn in the queue (module doc), if the read-only
   * forms of steps 1–3 pass against the index as it is now: it decodes, is neither known invalid
   * nor stored, and either its header is in the index (it passed proof of work and context when it
   * was added) or its parent is, with proof of work, anti-DoS work (unrequested blocks) and header
   * context passing. The decoded block is kept on `work` for step 1. Never throws.
   */
  #preverifyEarly(work: BlockWork): void {
    const d = this.#preverifiable(work);
    if (d) void this.#preverifier!.block(d.block, d.hex);
  }

  /** The decoded block if its preverification may start now ({@link #preverifyEarly}'s checks); kept on `work`. Never throws. */
  #preverifiable(work: BlockWork): DecodedBlock | undefined {
    if (!this.#preverifier || this.#running !== 'running') return undefined;
    try {
      work.decoded ??= decodeBlockInput(work.input, this.params);
      if ('invalid' in work.decoded) return undefined;
      return this.#worthPreverifying(work.decoded, work) ? work.decoded : undefined;
    } catch {
      return undefined; // left to the block path, which reports it
    }
  }

  #worthPreverifying(d: DecodedBlock, work: BlockWork): boolean {
    const known = this.headers.get(d.hash);
    if (known) return known.status !== 'invalid' && !known.hasBody;
    if (this.#waiting.hasOrphan(d.hash)) return false;
    const prev = this.headers.get(d.block.header.prevHash);
    if (!prev || prev.status === 'invalid') return false;
    try {
      checkProofOfWork(d.hash, d.block.header.bits, this.params.powLimit);
      if (work.unrequested === true && prev.chainwork + workForBits(d.block.header.bits) < antiDosWorkThreshold(this.#chain.tip)) return false;
      this.#chain.checkContext(d.block.header, prev, this.#now());
    } catch {
      return false;
    }
    return true;
  }

  /**
   * Step 4: sanity (merkle, signatures, limits). A body that does not match its header says
   * nothing about the header (Core's BLOCK_MUTATED): keep nothing, mark nothing, so the right body
   * can still be accepted.
   */
  async #checkSanity(b: Candidate, prev: HeaderEntry): Promise<ProcessBlockResult | undefined> {
    try {
      checkBlockSanity(b.block, this.params, { sigCache: this.#sigCache });
    } catch (e) {
      if (!(e instanceof RuleError)) throw e;
      if (isMutationError(e) || !bodyMatchesHeader(b.block)) return { status: 'invalid', code: e.code, hash: b.hex, height: prev.height + 1 };
      if (b.known) await this.#chain.markInvalid(b.hash, e.code);
      else await this.#chain.addInvalidHeader(b.block.header, b.hex, e.code);
      return this.#chain.invalidResult(b.hex, this.headers.get(b.hash), e.code);
    }
    return undefined;
  }

  /** Step 5, first half: store header and body (a block on the tip is written with its connect). */
  async #storeBlock(b: Candidate, prev: HeaderEntry, batch: ConnectBatch): Promise<void> {
    const entry = b.known ? this.headers.setHasBody(b.hash) : this.headers.add(b.block.header, { status: 'headers-only', hasBody: true });
    batch.blocks.set(b.hex, b.block);
    if (equalBytes(prev.hash, this.#chain.tip.hash)) {
      // Extends the tip: the connect writes header, body and all in one atomic write.
      batch.pending.set(b.hex, b.bytes);
    } else {
      if (!b.known) await this.store.putHeaders([{ ...entry, hasBody: false }]);
      await this.store.putBlock(b.hash, b.bytes);
    }
  }

  /** What became of a stored block after fork choice. */
  #verdict(b: Candidate, reorged: boolean): ProcessBlockResult {
    const now = this.headers.get(b.hash)!;
    if (now.status === 'invalid') return this.#chain.invalidResult(b.hex, now);
    if (this.#chain.onActiveChain(now)) return { status: reorged ? 'reorged' : 'extended', hash: b.hex, height: now.height };
    return { status: 'side', hash: b.hex, height: now.height };
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
    const preverified = this.#preverifyTx(input);
    return this.#enqueue(async () => {
      const result = await acceptTx(await preverified, this.#mempoolContext());
      this.events.emit('tx', { txid: result.txid, result, source });
      return result;
    });
  }

  /**
   * A transaction's signature verified natively before its turn (sig-preverify.ts); resolves with
   * the input, decoded if it decodes (acceptTx reports what does not). Never rejects.
   */
  async #preverifyTx(input: Transaction | Uint8Array): Promise<Transaction | Uint8Array> {
    if (!this.#preverifier || this.#running !== 'running') return input;
    try {
      const tx = input instanceof Uint8Array ? decodeTx(input, this.params.maxTxBytes) : input;
      if (tx.kind !== 'coinbase') await this.#preverifier.tx(tx);
      return tx;
    } catch {
      return input;
    }
  }

  #emitMempool(): void {
    this.events.emit('mempool', { size: this.mempool.size, bytes: this.mempool.bytes });
  }

  #mempoolContext(): MempoolContext {
    return { params: this.params, mempool: this.mempool, store: this.store, chain: this.#chain, now: this.#now, events: this.events, log: this.#log };
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
        this.#waiting.expireOrphans(now, this.#timing.orphanMaxAgeSeconds);
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
    const prev = this.#chain.tip;
    return buildBlockTemplate({
      params: this.params,
      state: this.#chain.state,
      prev,
      mempool: this.mempool,
      minerPubKey,
      now: this.#now(),
      medianTimePast: medianTimePast(this.headers.timesForMtp(prev, this.params.medianTimeSpan), this.params.medianTimeSpan),
      block1Time: prev.height >= 1 ? this.headers.ancestorAt(prev, 1)!.header.time : undefined,
    });
  }

  /**
   * Checks the store against a replay of its own active chain from genesis (`verifyStore`: tip,
   * state, undo records, txid index), and the node against the store: between processing steps
   * every connect is written, so the node's tip and state must be exactly the stored ones. Runs
   * between steps; reads every stored body (a check for tests and the curious, not a hot path).
   * `discrepancies` is empty exactly when all agree.
   * @example const { discrepancies } = await node.verifyStore()
   */
  verifyStore(): Promise<StoreVerification> {
    return this.#enqueue(async () => {
      const snap = await this.store.readAll();
      const v = verifyStore(snap, this.params);
      const tip = this.#chain.tip;
      if (snap.meta.tipHash === null || !equalBytes(snap.meta.tipHash, tip.hash))
        v.discrepancies.push({ kind: 'NODE_TIP', message: `the node is at ${tip.height} ${hashToHex(tip.hash)}, the store at ${snap.meta.tipHeight}`, height: tip.height });
      else
        for (const d of stateDifferences(snap.state, this.#chain.state.entries()).slice(0, MAX_DISCREPANCIES))
          v.discrepancies.push({ kind: 'NODE_STATE', message: `the node's state and the stored state differ at ${d.key}`, key: d.key });
      return v;
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
