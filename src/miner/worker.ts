/**
 * Entry point of a miner worker: a module Web Worker in the browser (bundled by vite from
 * `new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' })`) or a Node
 * worker_threads worker (run from this .ts file by Node's type stripping or tsx).
 * @module
 */
import { createWorkerHandler } from './worker-core.ts';
import { serveWorker } from './worker-transport.ts';

void serveWorker(createWorkerHandler, 'miner worker');
