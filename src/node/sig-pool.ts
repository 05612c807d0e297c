/**
 * Signatures verified natively on every core: the fast half of src/chain/sig-precheck.ts's
 * construction (P ∧ N: precheck, then the platform's Ed25519, native-ed25519.ts) over a pool of workers —
 * Web Workers in the browser, worker_threads in Node, through the transports the miner uses
 * (src/miner/worker-transport.ts).
 *
 * The pool only ever answers YES (a 1: our verifier accepts, by the construction) or "no
 * verdict" (a 0: refused natively, not checked, or the worker failed); it never says NO, so no
 * failure here can make a valid block invalid or an invalid one valid — consensus code still
 * verifies every signature that did not get a YES, with the pure-JS verifier, as before.
 *
 * - Fewer than `minWorkerBatch` (64) signatures are verified on the calling thread: a worker
 *   round trip would cost more than it saves (a native verification takes ~60 µs).
 * - Larger batches are cut into chunks (at least 64 records, about four per worker, so a worker
 *   slowed by another process does not hold the batch up) and handed to the workers, one chunk
 *   in flight per worker. Workers start on the first large batch.
 * - Bounded: at most `maxPendingRecords` records queued or in flight; beyond that a batch gets
 *   no verdicts at once (consensus code verifies it). A worker that fails loses its chunk's
 *   verdicts and is replaced; after {@link MAX_WORKER_FAILURES} failures the pool stops using
 *   workers and verifies on the calling thread.
 * - A platform without a native verifier that passes the probe gets no verdicts at all.
 * @module
 */
import { acceptedNatively, type NativeVerify } from '../chain/index.ts';
import { inlineWorker, isNodeRuntime, nodeWorkerSpawnerFor, wrapWebWorker, type PoolWorker } from '../miner/worker-transport.ts';
import { acceptRecords, createSigWorkerHandler, MAX_SIG_RECORDS, SIG_RECORD_BYTES, writeRecord, type FromSigWorker, type ToSigWorker } from './sig-worker-core.ts';
import { platformEd25519 } from './native-ed25519.ts';

/** A signature to verify: 64-byte signature, message, 32-byte public key. */
export interface SignatureItem {
  sig: Uint8Array;
  msg: Uint8Array;
  pub: Uint8Array;
}

/** A signature worker as the pool sees it. */
export type SigWorker = PoolWorker<ToSigWorker, FromSigWorker>;
/** Creates one signature worker; may throw (the pool then verifies on the calling thread). */
export type SpawnSigWorker = () => SigWorker;

/** Batches smaller than this are verified on the calling thread. */
export const MIN_WORKER_BATCH = 64;
/** Records queued or in flight at most: four full blocks. */
export const MAX_PENDING_RECORDS = 4 * MAX_SIG_RECORDS;
/** Most workers a pool runs. */
export const MAX_SIG_WORKERS = 16;
/** Worker failures after which the pool verifies on the calling thread only. */
export const MAX_WORKER_FAILURES = 3;
/** Chunks per worker a batch is cut into (load balance on a shared machine). */
const CHUNKS_PER_WORKER = 4;

/** Options of {@link SignaturePool}. */
export interface SignaturePoolOptions {
  /** Workers; default: the logical CPUs (the calling thread waits meanwhile), at most {@link MAX_SIG_WORKERS}. 0 = calling thread only. */
  workers?: number;
  /** Worker transport; default Web Workers in a browser, worker_threads in Node, else the calling thread. */
  spawn?: SpawnSigWorker;
  /** The calling thread's native verifier; default {@link platformEd25519}. null = none (no verdicts). */
  native?: Promise<NativeVerify | null>;
  /** Default {@link MIN_WORKER_BATCH}. */
  minWorkerBatch?: number;
  /** Default {@link MAX_PENDING_RECORDS}. */
  maxPendingRecords?: number;
}

/** Counters, for tests and benches (never timing). */
export interface SignaturePoolStats {
  /** Signatures asked about. */
  requested: number;
  /** Signatures that got a YES. */
  accepted: number;
  /** Verified on the calling thread. */
  onCallingThread: number;
  /** Verified by workers. */
  inWorkers: number;
  /** Refused without verification: the pending bound was reached. */
  overloaded: number;
  /** Worker failures. */
  workerFailures: number;
}

interface Chunk {
  id: number;
  records: Uint8Array;
  done: (accepted: Uint8Array | null) => void;
}

interface Slot {
  worker: SigWorker;
  chunk: Chunk | null;
}

/** Logical CPUs as the platform reports them (2 if it does not). */
function cpuCount(): number {
  const n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return Number.isInteger(n) && n! >= 1 ? n! : 2;
}

/**
 * The default worker transport: a Web Worker running sig-worker.ts where `Worker` exists (vite
 * bundles it from this exact expression), worker_threads in Node, else none.
 * @example const spawn = await defaultSigSpawner();
 */
export async function defaultSigSpawner(): Promise<SpawnSigWorker | null> {
  if (typeof Worker === 'function') {
    return () => wrapWebWorker(new Worker(new URL('./sig-worker.ts', import.meta.url), { type: 'module', name: 'tabchain-signatures' }), 'signature worker');
  }
  if (isNodeRuntime()) {
    // Not a literal inside `new URL(...)`, so vite does not emit this .ts file as an asset.
    const file = './sig-worker.ts';
    try {
      return await nodeWorkerSpawnerFor<ToSigWorker, FromSigWorker>(new URL(file, import.meta.url), {
        name: 'tabchain-signatures',
        label: 'signature worker',
        holds: () => true,
        releases: () => true,
      });
    } catch {
      return null;
    }
  }
  return null;
}

/**
 * A same-thread signature worker over `native` (tests; and what a failed transport falls back to).
 * @example const pool = new SignaturePool({ spawn: () => inlineSigWorker(native) });
 */
export function inlineSigWorker(native?: Promise<NativeVerify | null>): SigWorker {
  return inlineWorker<ToSigWorker, FromSigWorker>((post) => createSigWorkerHandler(post, native));
}

/**
 * @example
 * ```ts
 * const pool = new SignaturePool();
 * const yes = await pool.acceptedNatively(items); // yes[i] === 1: items[i] is valid by our rule
 * pool.close();
 * ```
 */
export class SignaturePool {
  readonly #workers: number;
  readonly #minWorkerBatch: number;
  readonly #maxPending: number;
  readonly #native: Promise<NativeVerify | null>;
  readonly #spawnOption: SpawnSigWorker | undefined;
  #spawn: Promise<SpawnSigWorker | null> | undefined;
  readonly #slots: Slot[] = [];
  readonly #queue: Chunk[] = [];
  #pending = 0;
  #chunkSeq = 0;
  #closed = false;
  readonly #stats: SignaturePoolStats = { requested: 0, accepted: 0, onCallingThread: 0, inWorkers: 0, overloaded: 0, workerFailures: 0 };

  constructor(opts: SignaturePoolOptions = {}) {
    const workers = opts.workers ?? Math.min(MAX_SIG_WORKERS, cpuCount());
    if (!Number.isInteger(workers) || workers < 0 || workers > MAX_SIG_WORKERS) throw new RangeError(`SignaturePool: workers must be an integer in [0, ${MAX_SIG_WORKERS}]`);
    this.#workers = workers;
    this.#minWorkerBatch = opts.minWorkerBatch ?? MIN_WORKER_BATCH;
    this.#maxPending = opts.maxPendingRecords ?? MAX_PENDING_RECORDS;
    if (!(Number.isSafeInteger(this.#minWorkerBatch) && this.#minWorkerBatch >= 1)) throw new RangeError('SignaturePool: minWorkerBatch must be a positive integer');
    if (!(Number.isSafeInteger(this.#maxPending) && this.#maxPending >= 1)) throw new RangeError('SignaturePool: maxPendingRecords must be a positive integer');
    this.#native = opts.native ?? platformEd25519();
    this.#spawnOption = opts.spawn;
  }

  /** A snapshot of the counters. */
  get stats(): SignaturePoolStats {
    return { ...this.#stats };
  }

  /** Transports of the running workers (none before the first large batch). */
  get transports(): string[] {
    return this.#slots.map((s) => s.worker.transport);
  }

  /** Whether the platform has a native verifier (resolves after its probe). @example await pool.hasNative() */
  async hasNative(): Promise<boolean> {
    return (await this.#native) !== null;
  }

  /**
   * One byte per item: 1 = accepted by P ∧ N, hence valid by our rule (src/chain/sig-precheck.ts);
   * 0 = no verdict. Never rejects.
   * @example
   * ```ts
   * const yes = await pool.acceptedNatively(items);
   * items.forEach((it, i) => yes[i] && sigCache.add(keys[i]));
   * ```
   */
  async acceptedNatively(items: readonly SignatureItem[]): Promise<Uint8Array> {
    const n = items.length;
    const out = new Uint8Array(n);
    if (n === 0 || this.#closed) return out;
    this.#stats.requested += n;
    const native = await this.#native;
    if (!native) return out;
    if (this.#pending + n > this.#maxPending) {
      this.#stats.overloaded += n;
      return out;
    }
    this.#pending += n;
    try {
      // Records need a 32-byte message; anything else (never a transaction) stays on this thread.
      const packable: number[] = [];
      const here: number[] = [];
      for (let i = 0; i < n; i++) (isRecordable(items[i]) ? packable : here).push(i);
      const useWorkers = packable.length >= this.#minWorkerBatch && this.#workers > 0 && (await this.#spawner()) !== null;
      if (!useWorkers) here.push(...packable.splice(0));
      const onThread = Promise.all(here.map(async (i) => (out[i] = (await acceptedNatively(items[i].sig, items[i].msg, items[i].pub, native)) ? 1 : 0)));
      this.#stats.onCallingThread += here.length;
      await Promise.all([onThread, this.#inWorkers(items, packable, out, native)]);
    } finally {
      this.#pending -= n;
    }
    let yes = 0;
    for (const v of out) yes += v;
    this.#stats.accepted += yes;
    return out;
  }

  /** Terminates the workers; batches in flight get no further verdicts. @example pool.close() */
  close(): void {
    this.#closed = true;
    for (const chunk of this.#queue.splice(0)) chunk.done(null);
    for (const slot of this.#slots.splice(0)) {
      slot.worker.terminate();
      slot.chunk?.done(null);
    }
  }

  async #inWorkers(items: readonly SignatureItem[], idx: number[], out: Uint8Array, native: NativeVerify): Promise<void> {
    if (idx.length === 0) return;
    this.#stats.inWorkers += idx.length;
    const per = Math.min(MAX_SIG_RECORDS, Math.max(this.#minWorkerBatch, Math.ceil(idx.length / (this.#workers * CHUNKS_PER_WORKER))));
    const parts: Promise<void>[] = [];
    for (let start = 0; start < idx.length; start += per) {
      const part = idx.slice(start, start + per);
      const records = new Uint8Array(part.length * SIG_RECORD_BYTES);
      part.forEach((i, k) => writeRecord(records, k, items[i]));
      parts.push(
        new Promise<Uint8Array | null>((done) => {
          this.#queue.push({ id: ++this.#chunkSeq, records, done });
          this.#dispatch();
        }).then(async (accepted) => {
          // A worker failed (or the pool closed): verify this chunk here rather than lose it.
          const verdicts = accepted ?? (this.#closed ? new Uint8Array(part.length) : await acceptRecords(records, native));
          part.forEach((i, k) => (out[i] = verdicts[k] === 1 ? 1 : 0));
        }),
      );
    }
    await Promise.all(parts);
  }

  #spawner(): Promise<SpawnSigWorker | null> {
    this.#spawn ??= this.#spawnOption ? Promise.resolve(this.#spawnOption) : defaultSigSpawner();
    return this.#spawn;
  }

  #dispatch(): void {
    if (this.#closed) return;
    void this.#spawner().then((spawn) => {
      if (this.#closed) return;
      while (this.#slots.length < this.#workers && spawn && this.#stats.workerFailures < MAX_WORKER_FAILURES && this.#queue.length > this.#slots.filter((s) => !s.chunk).length) {
        const worker = this.#start(spawn);
        if (!worker) break;
      }
      if (this.#slots.length === 0) {
        // No worker can run: the chunks go back to the calling thread.
        for (const chunk of this.#queue.splice(0)) chunk.done(null);
        return;
      }
      for (const slot of this.#slots) {
        if (slot.chunk || this.#queue.length === 0) continue;
        slot.chunk = this.#queue.shift()!;
        slot.worker.post({ type: 'verify', id: slot.chunk.id, records: slot.chunk.records });
      }
    });
  }

  #start(spawn: SpawnSigWorker): Slot | null {
    let worker: SigWorker;
    try {
      worker = spawn();
    } catch {
      this.#stats.workerFailures++;
      return null;
    }
    const slot: Slot = { worker, chunk: null };
    worker.onMessage = (msg) => {
      const chunk = slot.chunk;
      if (!chunk || msg?.id !== chunk.id) return; // not the chunk in flight: ignore
      slot.chunk = null;
      const ok = msg.type === 'verified' && msg.accepted instanceof Uint8Array && msg.accepted.length * SIG_RECORD_BYTES === chunk.records.length;
      chunk.done(ok ? msg.accepted : null);
      this.#dispatch();
    };
    worker.onError = () => this.#fail(slot);
    this.#slots.push(slot);
    return slot;
  }

  /** A worker died: its chunk goes back to the calling thread, the worker is dropped. */
  #fail(slot: Slot): void {
    const at = this.#slots.indexOf(slot);
    if (at < 0) return;
    this.#slots.splice(at, 1);
    this.#stats.workerFailures++;
    slot.worker.terminate();
    slot.chunk?.done(null);
    slot.chunk = null;
    this.#dispatch();
  }
}

function isRecordable(it: SignatureItem): boolean {
  return it.pub instanceof Uint8Array && it.pub.length === 32 && it.msg instanceof Uint8Array && it.msg.length === 32 && it.sig instanceof Uint8Array && it.sig.length === 64;
}
