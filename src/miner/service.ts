/**
 * The miner as the node layer uses it: give it block templates, tell it when the node is synced,
 * start/stop it; it hands every block it finds to `onBlock` (the FullNode's processBlock path —
 * the same path as blocks from peers). It mines only when started AND synced AND given a
 * template, and restarts on every new template.
 * @module
 */
import { MinerPool, checkWorkers, defaultWorkerCount, type FoundNonce, type MinerPoolOptions, type MiningWork } from './pool.ts';

/**
 * A block template in the miner's terms. The node layer adapts its own template (e.g. src/chain's
 * `buildBlockTemplate` + `withExtraNonce`) to this.
 */
export interface MinerTemplate<B> {
  /** Target from the template's bits. */
  target: bigint;
  /** 80-byte header of the block with this extraNonce (nonce bytes ignored). */
  headerFor(extraNonce: bigint): Uint8Array;
  /** The complete block for a winning (extraNonce, nonce). */
  blockFor(extraNonce: bigint, nonce: number): B;
}

export interface MinerServiceOptions<B> extends Omit<MinerPoolOptions, 'onFound'> {
  /** Receives each found block; awaited before mining resumes on the same template. */
  onBlock(block: B): void | Promise<void>;
}

/** What the UI and `window.tabchain.status()` show. */
export interface MinerStatus {
  /** Started by the user (may still be waiting for sync or a template). */
  started: boolean;
  synced: boolean;
  /** Actually hashing right now. */
  mining: boolean;
  workers: number;
  /** Total H/s (moving average). */
  hashrate: number;
  workerHashrates: number[];
  blocksFound: number;
}

/**
 * @example
 * ```ts
 * const miner = new MinerService({ onBlock: (b) => node.processBlock(b) });
 * miner.setTemplate(adapt(buildBlockTemplate(...)));
 * miner.setSynced(true);
 * await miner.start({ workers: 2 });
 * miner.status().hashrate;
 * ```
 */
export class MinerService<B> {
  readonly #opts: MinerServiceOptions<B>;
  #pool: MinerPool | null = null;
  #poolPromise: Promise<MinerPool> | null = null;
  #workers: number;
  #started = false;
  #synced = false;
  #template: MinerTemplate<B> | null = null;
  #work: MiningWork | null = null; // the pool's work for #template
  #minedWork: MiningWork | null = null; // the work last handed to the pool (null after stop)
  #blocksFound = 0;

  constructor(opts: MinerServiceOptions<B>) {
    this.#opts = opts;
    this.#workers = checkWorkers(opts.workers ?? defaultWorkerCount());
  }

  /** The node tells the miner whether it is synced; it never mines unsynced. */
  setSynced(synced: boolean): void {
    this.#synced = synced;
    this.#update();
  }

  /** A new template (new tip, new mempool): mining restarts on it at once. null = no template. */
  setTemplate(template: MinerTemplate<B> | null): void {
    this.#template = template;
    this.#work = template ? { target: template.target, headerFor: (en) => template.headerFor(en) } : null;
    this.#update();
  }

  /** Starts mining (when synced and given a template), optionally with a new worker count. */
  async start(opts: { workers?: number } = {}): Promise<void> {
    if (opts.workers !== undefined) this.#workers = checkWorkers(opts.workers);
    this.#started = true;
    const pool = await this.#ensurePool();
    if (pool.size !== this.#workers) pool.setWorkers(this.#workers);
    this.#update();
  }

  /** Stops mining; workers stay alive for a quick restart. */
  async stop(): Promise<void> {
    this.#started = false;
    this.#update();
  }

  /** Changes the number of workers, mining or not. */
  setWorkers(n: number): void {
    this.#workers = checkWorkers(n);
    this.#pool?.setWorkers(n);
  }

  status(): MinerStatus {
    const pool = this.#pool;
    return {
      started: this.#started,
      synced: this.#synced,
      mining: pool?.mining ?? false,
      workers: this.#workers,
      hashrate: pool?.hashrate() ?? 0,
      workerHashrates: pool?.workerHashrates() ?? [],
      blocksFound: this.#blocksFound,
    };
  }

  /** Terminates the workers. */
  close(): void {
    this.#started = false;
    this.#pool?.close();
    this.#pool = null;
    this.#poolPromise = null;
  }

  /** The underlying pool (for stats), once started. */
  get pool(): MinerPool | null {
    return this.#pool;
  }

  #ensurePool(): Promise<MinerPool> {
    this.#poolPromise ??= MinerPool.create({ ...this.#opts, workers: this.#workers, onFound: (f) => void this.#found(f) }).then((p) => (this.#pool = p));
    return this.#poolPromise;
  }

  #update(): void {
    const pool = this.#pool;
    if (!pool) return;
    if (this.#started && this.#synced && this.#work) {
      // Same work already handed to the pool (mining, or solved and awaiting onBlock): leave it.
      if (this.#minedWork !== this.#work) this.#mine(this.#work);
    } else {
      pool.stop();
      this.#minedWork = null;
    }
  }

  #mine(work: MiningWork): void {
    this.#minedWork = work;
    this.#pool!.mine(work);
  }

  async #found(f: FoundNonce): Promise<void> {
    const template = this.#template;
    if (!template || f.work !== this.#work) return; // a stale template's block: the tip moved on
    this.#blocksFound++;
    let block: B;
    try {
      block = template.blockFor(f.extraNonce, f.nonce);
      await this.#opts.onBlock(block);
    } catch (err) {
      this.#opts.onError?.(err instanceof Error ? err : new Error(String(err)));
    }
    // Usually the node has sent a new template by now. If not (e.g. the block was rejected), go on
    // with the same template from the next extraNonce instead of idling.
    if (this.#work === f.work && this.#started && this.#synced && this.#pool && !this.#pool.mining) {
      const next: MiningWork = { ...f.work, startExtraNonce: f.extraNonce + 1n };
      this.#work = next;
      this.#mine(next);
    }
  }
}
