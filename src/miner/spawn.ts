/**
 * One worker interface over three transports: Web Workers (browser), worker_threads (Node) and
 * a same-thread fallback for when neither is available (or for deterministic tests).
 * @module
 */
import type { FromWorkerMessage, ToWorkerMessage } from './messages.ts';
import { createWorkerHandler } from './worker-core.ts';

/** A miner worker as the pool sees it. */
export interface MinerWorker {
  /** 'web' | 'thread' | 'inline' — which transport runs it. */
  readonly transport: 'web' | 'thread' | 'inline';
  post(msg: ToWorkerMessage): void;
  /** Set by the pool. */
  onMessage: ((msg: FromWorkerMessage) => void) | null;
  /** Set by the pool: the worker died or failed to load. */
  onError: ((err: Error) => void) | null;
  terminate(): void;
}

/** Creates one worker. May throw (then the pool falls back to an inline worker). */
export type SpawnWorker = () => MinerWorker;

/**
 * A worker that runs in the calling thread, one message per macrotask, so the event loop stays
 * responsive between chunks (a chunk itself blocks for its duration).
 * @example
 * ```ts
 * const pool = await MinerPool.create({ spawn: spawnInlineWorker, workers: 1 });
 * ```
 */
export function spawnInlineWorker(): MinerWorker {
  let alive = true;
  const w: MinerWorker = {
    transport: 'inline',
    onMessage: null,
    onError: null,
    post(msg) {
      if (!alive) return;
      setTimeout(() => {
        if (alive) void handle(msg);
      }, 0);
    },
    terminate() {
      alive = false;
    },
  };
  const handle = createWorkerHandler((reply) => {
    setTimeout(() => {
      if (alive) w.onMessage?.(reply);
    }, 0);
  });
  return w;
}

/**
 * A module Web Worker running src/miner/worker.ts (vite bundles it from this exact expression).
 * @example const w = spawnWebWorker();
 */
export function spawnWebWorker(): MinerWorker {
  const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'tabchain-miner' });
  const w: MinerWorker = {
    transport: 'web',
    onMessage: null,
    onError: null,
    post: (msg) => worker.postMessage(msg),
    terminate: () => worker.terminate(),
  };
  worker.onmessage = (e: MessageEvent<FromWorkerMessage>) => w.onMessage?.(e.data);
  worker.onerror = (e: ErrorEvent) => {
    e.preventDefault();
    w.onError?.(new Error(`miner worker failed: ${e.message || 'load error'}`));
  };
  worker.onmessageerror = () => w.onError?.(new Error('miner worker: message could not be deserialised'));
  return w;
}

interface NodeWorkerLike {
  postMessage(msg: unknown): void;
  on(event: 'message', cb: (msg: FromWorkerMessage) => void): void;
  on(event: 'error', cb: (err: Error) => void): void;
  on(event: 'exit', cb: (code: number) => void): void;
  terminate(): Promise<number>;
  ref(): void;
  unref(): void;
}

/**
 * A spawner of Node worker_threads running src/miner/worker.ts. The worker inherits the parent's
 * execArgv, so it runs TypeScript the same way the parent does (Node ≥ 22.18 strips types
 * natively; under `node --import tsx` tsx does). A worker keeps the process alive only while it
 * has a chunk in flight: an idle pool never does.
 * @example
 * ```ts
 * const spawn = await nodeWorkerSpawner();
 * const pool = await MinerPool.create({ spawn });
 * ```
 */
export async function nodeWorkerSpawner(): Promise<SpawnWorker> {
  const spec = 'node:worker_threads';
  const { Worker: NodeWorker } = (await import(/* @vite-ignore */ spec)) as { Worker: new (url: URL, opts?: object) => NodeWorkerLike };
  // Not a literal inside `new URL(...)`, so vite does not emit this .ts file as an asset.
  const file = './worker.ts';
  const url = new URL(file, import.meta.url);
  return () => {
    const worker = new NodeWorker(url, { name: 'tabchain-miner' });
    worker.unref();
    let terminated = false;
    const w: MinerWorker = {
      transport: 'thread',
      onMessage: null,
      onError: null,
      post: (msg) => {
        if (msg.type === 'scan') worker.ref();
        worker.postMessage(msg);
      },
      terminate: () => {
        terminated = true;
        void worker.terminate();
      },
    };
    worker.on('message', (m) => {
      if (m.type !== 'ready') worker.unref();
      w.onMessage?.(m);
    });
    worker.on('error', (err) => w.onError?.(err));
    worker.on('exit', (code) => {
      if (!terminated) w.onError?.(new Error(`miner worker exited with code ${code}`));
    });
    return w;
  };
}

/**
 * The platform's worker transport: Web Workers where `Worker` exists, else worker_threads in
 * Node, else the same-thread fallback.
 * @example const spawn = await defaultSpawner();
 */
export async function defaultSpawner(): Promise<SpawnWorker> {
  if (typeof Worker === 'function') return spawnWebWorker;
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  if (typeof proc?.versions?.node === 'string') {
    try {
      return await nodeWorkerSpawner();
    } catch {
      // fall through to the inline worker
    }
  }
  return spawnInlineWorker;
}
