/**
 * NodeMiner: mining on top of a node, through the node's public surface only — its block
 * template, {@link MiningNode.processBlock} with source 'miner', and its events. Two ways to mine:
 * - continuous mining ({@link NodeMiner.startMining}): a {@link MinerService} whose template
 *   follows every tip change at once and every mempool change after a debounce, mining only while
 *   the node is synced;
 * - {@link NodeMiner.mineBlocks}: n blocks one after another with a pool of its own (tests, demo
 *   scripts, the automation API), synced or not.
 * The chain never calls into its miner (Nimiq's FullChain owns no miner either): the miner learns
 * of a new tip from the 'tip' event, of a mempool change from 'tx' / 'txRemoved', of the synced
 * flag from 'synced', and its blocks take the same path as everyone's.
 * @module
 */
import { hashToHex, type Block, type BlockTemplate, type NetworkParams } from '../chain/index.ts';
import { MinerPool, MinerService, spawnInlineWorker, type FoundNonce, type MinerStatus, type MiningWork, type SpawnWorker } from '../miner/index.ts';
import type { Emitter, NodeEvents, ProcessBlockResult, Source } from './events.ts';
import { minerTemplate } from './miner-template.ts';
import { SerialQueue } from './queue.ts';

/** Miner options of a node. */
export interface NodeMinerOptions {
  /** Worker count (default: CPUs − 1). */
  workers?: number;
  /** Scan kernel (default: the fastest available). */
  kind?: 'wasm-simd' | 'wasm' | 'js';
  /** false: scan in this thread (Node tests without worker_threads). Default true. */
  useWorkers?: boolean;
  /** Worker transport override (tests). Takes precedence over `useWorkers`. */
  spawn?: SpawnWorker;
}

/** What mining needs of a node ({@link FullNode} provides it). */
export interface MiningNode {
  readonly params: NetworkParams;
  readonly events: Emitter<NodeEvents>;
  readonly synced: boolean;
  /** Whether the node runs (started, not stopped). */
  readonly running: boolean;
  /** Who the node's templates pay, if set. */
  readonly minerPubKey: Uint8Array | undefined;
  /** A template on the tip paying the node's miner key (throws NO_MINER_KEY without one). */
  template(): BlockTemplate;
  /** Runs `fn` between two processing steps of the node (tip, state and mempool agree). */
  runExclusive<T>(fn: () => T): Promise<T>;
  processBlock(block: Block, source: Source): Promise<ProcessBlockResult>;
}

/** Everything {@link NodeMiner} is built with besides its node. */
export interface NodeMinerConfig extends NodeMinerOptions {
  /** The node's clock, unix seconds. */
  now: () => number;
  /** Delay before a mempool change reaches the template, ms. */
  templateDebounceMs: number;
  /** Period of 'miner' status events while mining, ms. */
  minerStatusMs: number;
  /** Failures outside any caller's promise (the node logs them and emits 'error'). */
  onError: (e: unknown) => void;
}

/** Most blocks one {@link NodeMiner.mineBlocks} call mines. */
export const MAX_MINE_BLOCKS = 100_000;

/** An Error with a stable `code`. */
function minerError(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}

/**
 * The miner of one node.
 * @example
 * ```ts
 * const [hash] = await node.miner.mineBlocks(1);
 * await node.miner.startMining({ workers: 2 });
 * node.miner.minerStatus().hashrate;
 * ```
 */
export class NodeMiner {
  readonly #node: MiningNode;
  readonly #config: NodeMinerConfig;
  #closed = false;

  #service: MinerService<Block> | null = null;
  #miningWanted = false;
  #templateTimer: ReturnType<typeof setTimeout> | undefined;
  #statusTimer: ReturnType<typeof setInterval> | undefined;

  readonly #mineQueue = new SerialQueue();
  #solver: MinerPool | null = null;
  #solverPromise: Promise<MinerPool> | null = null;
  #solverJob: { work: MiningWork; resolve: (f: FoundNonce | null) => void } | null = null;

  constructor(node: MiningNode, config: NodeMinerConfig) {
    this.#node = node;
    this.#config = config;
    // A new tip: a new template at once (the listener runs inside the node's processing step).
    node.events.on('tip', () => this.#refreshTemplate());
    // A mempool change outside blocks (blocks come with a new tip): a new template, debounced.
    node.events.on('tx', ({ result }) => {
      if (result.status === 'accepted') this.templateChanged();
    });
    node.events.on('txRemoved', ({ reason }) => {
      if (reason === 'expired') this.templateChanged();
    });
    node.events.on('synced', ({ synced }) => this.#service?.setSynced(synced));
  }

  /**
   * Starts continuous mining with the worker pool (optionally a new worker count). Mined blocks
   * go through the node's processBlock; the template follows every tip change and (debounced)
   * mempool change. Mines only while the node is synced.
   * @example await node.miner.startMining({ workers: 2 })
   */
  async startMining(opts: { workers?: number } = {}): Promise<void> {
    if (!this.#node.running || this.#closed) throw minerError('STOPPED', 'the node is not running');
    if (!this.#node.minerPubKey) throw minerError('NO_MINER_KEY', 'no miner key: call setMinerPubKey first');
    this.#service ??= new MinerService<Block>({
      // Same-thread workers share one thread: more than one only adds overhead.
      workers: opts.workers ?? this.#config.workers ?? (this.#spawn() === spawnInlineWorker ? 1 : undefined),
      kind: this.#config.kind,
      spawn: this.#spawn(),
      onBlock: async (block) => {
        let r: ProcessBlockResult;
        try {
          r = await this.#node.processBlock(block, 'miner');
        } catch (e) {
          // A full disk will not take the next block either: stop, and say why, once.
          if ((e as { code?: unknown })?.code === 'QUOTA_EXCEEDED') {
            await this.stopMining();
            throw minerError('QUOTA_EXCEEDED', `${(e as Error).message}. Mining stopped: start it again once there is space.`);
          }
          throw e;
        }
        if (r.status === 'invalid') this.#config.onError(minerError(r.code ?? 'INVALID', `our miner's block ${r.hash} was rejected (${r.code})`));
        this.#node.events.emit('miner', this.minerStatus());
      },
      onError: (e) => this.#config.onError(e),
    });
    this.#service.setSynced(this.#node.synced);
    this.#miningWanted = true;
    await this.#node.runExclusive(() => this.#refreshTemplate());
    await this.#service.start(opts);
    if (this.#statusTimer === undefined) {
      this.#statusTimer = setInterval(() => this.#node.events.emit('miner', this.minerStatus()), this.#config.minerStatusMs);
      unref(this.#statusTimer);
    }
    this.#node.events.emit('miner', this.minerStatus());
  }

  /** Stops continuous mining (workers stay alive for a quick restart). @example await node.miner.stopMining() */
  async stopMining(): Promise<void> {
    this.#miningWanted = false;
    await this.#service?.stop();
    if (this.#statusTimer !== undefined) clearInterval(this.#statusTimer);
    this.#statusTimer = undefined;
    this.#node.events.emit('miner', this.minerStatus());
  }

  /** The miner's status. @example node.miner.minerStatus().hashrate */
  minerStatus(): MinerStatus {
    return (
      this.#service?.status() ?? {
        started: false,
        synced: this.#node.synced,
        mining: false,
        workers: this.#config.workers ?? 0,
        hashrate: 0,
        workerHashrates: [],
        blocksFound: 0,
      }
    );
  }

  /**
   * Something the template depends on changed (the mempool, the miner key): continuous mining
   * gets a new template after the debounce. No-op when not mining.
   * @example node.miner.templateChanged()
   */
  templateChanged(delayMs = this.#config.templateDebounceMs): void {
    if (!this.#service || !this.#miningWanted || this.#templateTimer !== undefined) return;
    this.#templateTimer = setTimeout(() => {
      this.#templateTimer = undefined;
      if (!this.#node.running || this.#closed) return;
      this.#node.runExclusive(() => this.#refreshTemplate()).catch((e) => this.#config.onError(e));
    }, delayMs);
    unref(this.#templateTimer);
  }

  /**
   * Mines `n` blocks one after another on the current tip, including mempool transactions, each
   * through the node's processBlock; resolves with their display hashes once all are connected.
   * If another block moves the tip meanwhile, the current block is abandoned and mined again on
   * the new tip. Uses the miner's kernels (in workers unless `useWorkers` is false), and works
   * whether or not continuous mining is on or the node is synced.
   * @example const [h1, h2] = await node.miner.mineBlocks(2)
   */
  mineBlocks(n: number): Promise<string[]> {
    if (!Number.isSafeInteger(n) || n < 0 || n > MAX_MINE_BLOCKS) return Promise.reject(new RangeError(`mineBlocks: n must be an integer in 0..${MAX_MINE_BLOCKS}`));
    return this.#mineQueue.run(async () => {
      const hashes: string[] = [];
      while (hashes.length < n) {
        if (!this.#node.running || this.#closed) throw minerError('STOPPED', 'the node stopped while mining');
        const t = await this.#node.runExclusive(() => this.#usableTemplate());
        if (!t) {
          // Blocks came faster than one per second for long enough that the next block's time
          // (> median time past) would be too far in the future: wait for the clock.
          await sleep(1000);
          continue;
        }
        const block = await this.#solve(t);
        if (!block) continue; // the tip moved: mine on the new one
        const r = await this.#node.processBlock(block, 'miner');
        if (r.status === 'extended' || r.status === 'reorged') hashes.push(r.hash);
        else if (r.status === 'invalid') throw minerError(r.code ?? 'INVALID', `mineBlocks: our own block was rejected (${r.code})`);
        // 'side' / 'duplicate': another block won the race; go again on the new tip.
      }
      return hashes;
    });
  }

  /**
   * Stops everything for good: continuous mining, timers, workers, and a mineBlocks in progress
   * (it rejects STOPPED). Resolves once no mineBlocks runs. The node calls it when it stops.
   * @example await node.miner.close()
   */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#templateTimer !== undefined) clearTimeout(this.#templateTimer);
    if (this.#statusTimer !== undefined) clearInterval(this.#statusTimer);
    this.#miningWanted = false;
    this.#service?.close();
    this.#service = null;
    this.#solverJob?.resolve(null);
    this.#solverJob = null;
    this.#solver?.close();
    this.#solver = null;
    await this.#mineQueue.idle();
  }

  /** The template, unless its time would be too far ahead of the clock (blocks faster than 1/s). */
  #usableTemplate(): BlockTemplate | null {
    const t = this.#node.template();
    return t.block.header.time > this.#config.now() + this.#node.params.maxFutureSeconds ? null : t;
  }

  /** Gives continuous mining a template for the current tip (runs between processing steps). */
  #refreshTemplate(): void {
    if (!this.#service || !this.#miningWanted) return;
    let t: BlockTemplate | null = null;
    try {
      t = this.#usableTemplate();
    } catch (e) {
      this.#config.onError(e);
    }
    this.#service.setTemplate(t && minerTemplate(t));
    // A template too far ahead of the clock is retried in a second.
    if (!t) this.templateChanged(1000);
  }

  #spawn(): SpawnWorker | undefined {
    return this.#config.spawn ?? (this.#config.useWorkers === false ? spawnInlineWorker : undefined);
  }

  async #solverPool(): Promise<MinerPool> {
    this.#solverPromise ??= MinerPool.create({
      workers: this.#spawn() === spawnInlineWorker ? 1 : this.#config.workers,
      kind: this.#config.kind,
      spawn: this.#spawn(),
      onFound: (f) => {
        const job = this.#solverJob;
        if (job && f.work === job.work) {
          this.#solverJob = null;
          job.resolve(f);
        }
      },
      onError: (e) => this.#config.onError(e),
    }).then((p) => (this.#solver = p));
    return this.#solverPromise;
  }

  /** Finds a nonce for `t` with the solver pool; null if the tip moved first (or the miner closed). */
  async #solve(t: BlockTemplate): Promise<Block | null> {
    const pool = await this.#solverPool();
    if (!this.#node.running || this.#closed) return null;
    const mt = minerTemplate(t);
    const work: MiningWork = { target: mt.target, headerFor: mt.headerFor };
    const prevHex = hashToHex(t.block.header.prevHash);
    const found = await new Promise<FoundNonce | null>((resolve) => {
      const offTip = this.#node.events.on('tip', ({ hash }) => {
        if (hash === prevHex || this.#solverJob?.work !== work) return;
        this.#solverJob = null;
        pool.stop();
        finish(null);
      });
      const finish = (f: FoundNonce | null) => {
        offTip();
        resolve(f);
      };
      this.#solverJob = { work, resolve: finish };
      pool.mine(work);
    });
    return found && mt.blockFor(found.extraNonce, found.nonce);
  }
}

function unref(t: unknown): void {
  (t as { unref?: () => void } | undefined)?.unref?.();
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
