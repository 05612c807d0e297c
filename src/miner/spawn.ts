/**
 * The miner's workers over the three transports of worker-transport.ts: Web Workers (browser),
 * worker_threads (Node) and a same-thread fallback for when neither is available (or for
 * deterministic tests), all running src/miner/worker-core.ts's handler.
 * @module
 */
import type { FromWorkerMessage, ToWorkerMessage } from './messages.ts';
import { createWorkerHandler } from './worker-core.ts';
import { inlineWorker, isNodeRuntime, nodeWorkerSpawnerFor, wrapWebWorker, type PoolWorker } from './worker-transport.ts';

/** A miner worker as the pool sees it. */
export type MinerWorker = PoolWorker<ToWorkerMessage, FromWorkerMessage>;

/** Creates one worker. May throw (then the pool falls back to an inline worker). */
export type SpawnWorker = () => MinerWorker;

const LABEL = 'miner worker';

/**
 * A worker that runs in the calling thread, one message per macrotask, so the event loop stays
 * responsive between chunks (a chunk itself blocks for its duration).
 * @example
 * ```ts
 * const pool = await MinerPool.create({ spawn: spawnInlineWorker, workers: 1 });
 * ```
 */
export function spawnInlineWorker(): MinerWorker {
  return inlineWorker(createWorkerHandler);
}

/**
 * A module Web Worker running src/miner/worker.ts (vite bundles it from this exact expression).
 * @example const w = spawnWebWorker();
 */
export function spawnWebWorker(): MinerWorker {
  return wrapWebWorker(new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'tabchain-miner' }), LABEL);
}

/**
 * A spawner of Node worker_threads running src/miner/worker.ts (see nodeWorkerSpawnerFor: same
 * execArgv as the parent; a worker keeps the process alive only while it has a chunk in flight).
 * @example
 * ```ts
 * const spawn = await nodeWorkerSpawner();
 * const pool = await MinerPool.create({ spawn });
 * ```
 */
export async function nodeWorkerSpawner(): Promise<SpawnWorker> {
  // Not a literal inside `new URL(...)`, so vite does not emit this .ts file as an asset.
  const file = './worker.ts';
  return nodeWorkerSpawnerFor<ToWorkerMessage, FromWorkerMessage>(new URL(file, import.meta.url), {
    name: 'tabchain-miner',
    label: LABEL,
    holds: (msg) => msg.type === 'scan',
    releases: (msg) => msg.type !== 'ready',
  });
}

/**
 * The platform's worker transport: Web Workers where `Worker` exists, else worker_threads in
 * Node, else the same-thread fallback.
 * @example const spawn = await defaultSpawner();
 */
export async function defaultSpawner(): Promise<SpawnWorker> {
  if (typeof Worker === 'function') return spawnWebWorker;
  if (isNodeRuntime()) {
    try {
      return await nodeWorkerSpawner();
    } catch {
      // fall through to the inline worker
    }
  }
  return spawnInlineWorker;
}
