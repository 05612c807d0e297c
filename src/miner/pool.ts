/**
 * The miner's worker pool: N workers (Web Workers, worker_threads or same-thread), each given one
 * chunk of ~2^16 nonces at a time by the pool, so a new template or a stop takes effect within one
 * chunk per worker (a few milliseconds at wasm-simd speed). When the 2^32 nonce space of a header
 * is handed out the pool rolls the extraNonce (the node layer's `headerFor(extraNonce)` builds a
 * new coinbase → new merkle root → new header). Hashrate is a time-weighted moving average per
 * worker; the total is their sum.
 * @module
 */
import type { FromWorkerMessage } from './messages.ts';
import { NONCE_SPACE, type ScannerKind } from './scanner.ts';
import { defaultSpawner, spawnInlineWorker, type MinerWorker, type SpawnWorker } from './spawn.ts';

/** What to mine: a template as the miner sees it. */
export interface MiningWork {
  /** Hashes ≤ target win (compared as little-endian 256-bit numbers). */
  target: bigint;
  /**
   * The 80-byte header of the block with this extraNonce (nonce bytes ignored). Called once per
   * extraNonce, i.e. every 2^32 nonces.
   */
  headerFor(extraNonce: bigint): Uint8Array;
  /** First extraNonce to use (default 0n). */
  startExtraNonce?: bigint;
}

/** A winning (extraNonce, nonce) for a work. */
export interface FoundNonce {
  work: MiningWork;
  jobId: number;
  extraNonce: bigint;
  nonce: number;
  /** The winning header, nonce included. */
  header80: Uint8Array;
}

export interface MinerPoolOptions {
  /** Number of workers; default {@link defaultWorkerCount}. */
  workers?: number;
  /** Kernel the workers use; default 'best'. */
  kind?: ScannerKind | 'best';
  /** Nonces per chunk; default 2^16. */
  chunkSize?: number;
  /** Nonces per extraNonce; default 2^32 (smaller only for tests of the extraNonce roll). */
  nonceSpace?: number;
  /** Worker transport; default {@link defaultSpawner}. */
  spawn?: SpawnWorker;
  /** Time constant of the hashrate moving average, ms; default 5000. */
  hashrateTauMs?: number;
  /** Called once per job with its winning nonce; the job then pauses until the next `mine`. */
  onFound?: (found: FoundNonce) => void;
  /** Worker failures (the pool replaces a failed worker by a same-thread one and goes on). */
  onError?: (err: Error) => void;
}

/** Counters, for the UI and for tests that assert on behaviour (never on time). */
export interface MinerPoolStats {
  chunksDispatched: number;
  chunksCompleted: number;
  /** Results that arrived for a job that was replaced or stopped meanwhile (discarded). */
  staleResults: number;
  /** Nonces hashed since the pool was created. */
  hashes: number;
  /** How many times the extraNonce was rolled. */
  extraNonceRolls: number;
}

interface Chunk {
  jobId: number;
  chunkId: number;
  extraNonce: bigint;
  header80: Uint8Array;
  startNonce: number;
  count: number;
  target: bigint;
}

interface Job {
  id: number;
  work: MiningWork;
  extraNonce: bigint;
  header80: Uint8Array;
  nextNonce: number;
  solved: boolean;
}

interface Slot {
  worker: MinerWorker;
  chunk: Chunk | null;
  rate: number; // H/s, moving average
  lastAt: number | null; // when the current measurement interval began
  warm: boolean; // false until the first result: that one includes compiling the kernel
  closed: boolean;
}

/**
 * Default worker count: one less than the logical CPUs (the page and the node need a core), at
 * least 1.
 * @example defaultWorkerCount() // 1 on a 2-core machine
 */
export function defaultWorkerCount(): number {
  const n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 2;
  return Math.max(1, (Number.isInteger(n) ? n : 2) - 1);
}

/** Most workers a pool runs. */
export const MAX_WORKERS = 256;

/**
 * Returns n if it is a valid worker count (an integer in [1, MAX_WORKERS]), else throws RangeError.
 * @example checkWorkers(2) // 2
 */
export function checkWorkers(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_WORKERS) throw new RangeError(`miner: workers must be an integer in [1, ${MAX_WORKERS}], got ${n}`);
  return n;
}

/**
 * A pool of miner workers.
 * @example
 * ```ts
 * const pool = await MinerPool.create({ workers: 2, onFound: (f) => submit(f) });
 * pool.mine({ target, headerFor: (en) => encodeHeader(withExtraNonce(template, en).header) });
 * pool.hashrate(); // H/s
 * pool.stop();
 * ```
 */
export class MinerPool {
  readonly #spawn: SpawnWorker;
  readonly #kind: ScannerKind | 'best';
  readonly #chunkSize: number;
  readonly #nonceSpace: number;
  readonly #tauMs: number;
  readonly #onFound: (f: FoundNonce) => void;
  readonly #onError: (e: Error) => void;
  readonly #slots: Slot[] = [];
  readonly #retry: Chunk[] = [];
  #job: Job | null = null;
  #jobSeq = 0;
  #chunkSeq = 0;
  #closed = false;
  readonly #stats: MinerPoolStats = { chunksDispatched: 0, chunksCompleted: 0, staleResults: 0, hashes: 0, extraNonceRolls: 0 };

  /** Creates a pool and starts its (idle) workers. */
  static async create(opts: MinerPoolOptions = {}): Promise<MinerPool> {
    const spawn = opts.spawn ?? (await defaultSpawner());
    return new MinerPool(spawn, opts);
  }

  private constructor(spawn: SpawnWorker, opts: MinerPoolOptions) {
    this.#spawn = spawn;
    this.#kind = opts.kind ?? 'best';
    this.#chunkSize = opts.chunkSize ?? 1 << 16;
    this.#nonceSpace = opts.nonceSpace ?? NONCE_SPACE;
    this.#tauMs = opts.hashrateTauMs ?? 5000;
    this.#onFound = opts.onFound ?? (() => {});
    this.#onError = opts.onError ?? (() => {});
    if (!Number.isInteger(this.#chunkSize) || this.#chunkSize < 1 || this.#chunkSize > NONCE_SPACE) throw new RangeError('miner: bad chunkSize');
    if (!Number.isInteger(this.#nonceSpace) || this.#nonceSpace < 1 || this.#nonceSpace > NONCE_SPACE) throw new RangeError('miner: bad nonceSpace');
    this.setWorkers(opts.workers ?? defaultWorkerCount());
  }

  /** Number of workers. */
  get size(): number {
    return this.#slots.length;
  }

  /** Whether a job is being mined (false after stop, and after a job's nonce was found). */
  get mining(): boolean {
    return this.#job !== null && !this.#job.solved;
  }

  /** A snapshot of the counters. */
  get stats(): MinerPoolStats {
    return { ...this.#stats };
  }

  /** Transports of the workers, e.g. ['thread', 'thread'] or ['inline'] after a fallback. */
  get transports(): string[] {
    return this.#slots.map((s) => s.worker.transport);
  }

  /** Grows or shrinks the pool; a removed worker's unfinished chunk is handed to another. */
  setWorkers(n: number): void {
    checkWorkers(n);
    if (this.#closed) throw new Error('miner: pool is closed');
    while (this.#slots.length > n) {
      const slot = this.#slots.pop()!;
      slot.closed = true;
      if (slot.chunk) this.#retry.push(slot.chunk);
      slot.worker.terminate();
    }
    while (this.#slots.length < n) this.#slots.push(this.#newSlot(this.#spawnWorker()));
    for (const slot of this.#slots) this.#dispatch(slot);
  }

  /**
   * Starts mining `work`, replacing any previous job: workers pick it up when their current chunk
   * ends. Returns the job id.
   */
  mine(work: MiningWork): number {
    if (this.#closed) throw new Error('miner: pool is closed');
    if (typeof work.target !== 'bigint' || work.target < 0n) throw new RangeError('miner: target must be a non-negative bigint');
    const extraNonce = work.startExtraNonce ?? 0n;
    const job: Job = { id: ++this.#jobSeq, work, extraNonce, header80: headerOf(work, extraNonce), nextNonce: 0, solved: false };
    this.#job = job;
    this.#retry.length = 0;
    for (const slot of this.#slots) this.#dispatch(slot);
    return job.id;
  }

  /** Stops mining; chunks in flight finish and are discarded. Workers stay alive, idle. */
  stop(): void {
    this.#job = null;
    this.#retry.length = 0;
    for (const slot of this.#slots) {
      slot.rate = 0;
      slot.lastAt = null;
    }
  }

  /** Total hashrate (H/s): the sum of the workers' moving averages; 0 when not mining. */
  hashrate(): number {
    return this.workerHashrates().reduce((a, b) => a + b, 0);
  }

  /** Per-worker hashrate (H/s), moving average. */
  workerHashrates(): number[] {
    const mining = this.#job !== null;
    return this.#slots.map((s) => (mining ? s.rate : 0));
  }

  /** Stops mining and terminates the workers. */
  close(): void {
    this.stop();
    this.#closed = true;
    for (const slot of this.#slots.splice(0)) {
      slot.closed = true;
      slot.worker.terminate();
    }
  }

  #spawnWorker(): MinerWorker {
    let worker: MinerWorker;
    try {
      worker = this.#spawn();
    } catch (err) {
      this.#onError(new Error(`miner: cannot start a worker (${err instanceof Error ? err.message : String(err)}); mining in this thread`));
      worker = spawnInlineWorker();
    }
    worker.post({ type: 'init', kind: this.#kind });
    return worker;
  }

  #newSlot(worker: MinerWorker): Slot {
    const slot: Slot = { worker, chunk: null, rate: 0, lastAt: null, warm: false, closed: false };
    this.#attach(slot);
    return slot;
  }

  #attach(slot: Slot): void {
    const worker = slot.worker;
    worker.onMessage = (msg) => {
      if (!slot.closed && slot.worker === worker) this.#onMessage(slot, msg);
    };
    worker.onError = (err) => {
      if (!slot.closed && slot.worker === worker) this.#replace(slot, err);
    };
  }

  /** A worker died or its kernel failed: hand its chunk on and run that slot in this thread. */
  #replace(slot: Slot, err: Error): void {
    this.#onError(err);
    if (slot.chunk) this.#retry.push(slot.chunk);
    slot.chunk = null;
    slot.worker.terminate();
    if (slot.worker.transport === 'inline') {
      // Even the same-thread kernel fails: nothing left to fall back to.
      slot.closed = true;
      this.#slots.splice(this.#slots.indexOf(slot), 1);
      return;
    }
    const inline = spawnInlineWorker();
    inline.post({ type: 'init', kind: this.#kind });
    slot.worker = inline;
    slot.warm = false;
    this.#attach(slot);
    this.#dispatch(slot);
  }

  #onMessage(slot: Slot, msg: FromWorkerMessage): void {
    if (msg.type === 'ready') return;
    if (msg.type === 'error') {
      this.#replace(slot, new Error(`miner worker: ${msg.message}`));
      return;
    }
    const chunk = slot.chunk;
    if (!chunk || chunk.chunkId !== msg.chunkId) return; // not ours (cannot happen with one chunk in flight)
    slot.chunk = null;
    this.#stats.chunksCompleted++;
    this.#stats.hashes += msg.scanned;
    const now = performance.now();
    if (slot.lastAt !== null && slot.warm) {
      const dt = Math.max(now - slot.lastAt, 1e-3);
      const instant = (msg.scanned * 1000) / dt;
      slot.rate = slot.rate === 0 ? instant : slot.rate + (1 - Math.exp(-dt / this.#tauMs)) * (instant - slot.rate);
    }
    slot.lastAt = now;
    slot.warm = true;
    const job = this.#job;
    let found: FoundNonce | null = null;
    if (!job || chunk.jobId !== job.id) this.#stats.staleResults++;
    else if (msg.nonce !== null && !job.solved) {
      job.solved = true;
      const header80 = chunk.header80.slice();
      new DataView(header80.buffer).setUint32(76, msg.nonce, true);
      found = { work: job.work, jobId: job.id, extraNonce: chunk.extraNonce, nonce: msg.nonce, header80 };
    }
    this.#dispatch(slot);
    if (found) this.#onFound(found);
  }

  #dispatch(slot: Slot): void {
    if (slot.chunk || slot.closed) return;
    const chunk = this.#nextChunk();
    if (!chunk) {
      slot.lastAt = null;
      return;
    }
    slot.lastAt ??= performance.now();
    slot.chunk = chunk;
    this.#stats.chunksDispatched++;
    slot.worker.post({ type: 'scan', ...chunk });
  }

  #nextChunk(): Chunk | null {
    const job = this.#job;
    if (!job || job.solved) return null;
    const retried = this.#retry.shift();
    if (retried) return retried;
    if (job.nextNonce >= this.#nonceSpace) {
      // Nonce space handed out: new extraNonce → new coinbase → new merkle root.
      try {
        job.header80 = headerOf(job.work, job.extraNonce + 1n);
      } catch (err) {
        this.#onError(err instanceof Error ? err : new Error(String(err)));
        this.stop();
        return null;
      }
      job.extraNonce += 1n;
      job.nextNonce = 0;
      this.#stats.extraNonceRolls++;
    }
    const count = Math.min(this.#chunkSize, this.#nonceSpace - job.nextNonce);
    const chunk: Chunk = { jobId: job.id, chunkId: ++this.#chunkSeq, extraNonce: job.extraNonce, header80: job.header80, startNonce: job.nextNonce, count, target: job.work.target };
    job.nextNonce += count;
    return chunk;
  }
}

function headerOf(work: MiningWork, extraNonce: bigint): Uint8Array {
  const h = work.headerFor(extraNonce);
  if (!(h instanceof Uint8Array) || h.length !== 80) throw new TypeError('miner: headerFor must return 80 bytes');
  return h.slice();
}
