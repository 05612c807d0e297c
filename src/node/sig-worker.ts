/**
 * Entry point of a signature worker (sig-worker-core.ts): a module Web Worker in the browser
 * (bundled by vite from sig-pool.ts's `new Worker(new URL('./sig-worker.ts', import.meta.url))`)
 * or a Node worker_threads worker (run from this .ts file by Node's type stripping or tsx).
 * @module
 */
import { serveWorker } from '../miner/worker-transport.ts';
import { createSigWorkerHandler } from './sig-worker-core.ts';

void serveWorker(createSigWorkerHandler, 'signature worker');
