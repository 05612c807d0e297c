/**
 * Entry point of a miner worker: a module Web Worker in the browser (bundled by vite from
 * `new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' })`) or a Node
 * worker_threads worker (run from this .ts file by Node's type stripping or tsx).
 * @module
 */
import { createWorkerHandler } from './worker-core.ts';
import type { FromWorkerMessage, ToWorkerMessage } from './messages.ts';

interface NodeParentPort {
  on(event: 'message', cb: (msg: ToWorkerMessage) => void): void;
  postMessage(msg: FromWorkerMessage): void;
}

const isNode = typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string' && typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope === 'undefined';

if (isNode) {
  // A variable specifier keeps bundlers from trying to resolve a Node builtin for the browser.
  const spec = 'node:worker_threads';
  const { parentPort } = (await import(/* @vite-ignore */ spec)) as { parentPort: NodeParentPort | null };
  if (!parentPort) throw new Error('miner worker: not running in a worker thread');
  const port = parentPort;
  const handle = createWorkerHandler((m) => port.postMessage(m));
  port.on('message', (m) => void handle(m));
} else {
  const scope = globalThis as unknown as { postMessage(m: FromWorkerMessage): void; onmessage: ((e: MessageEvent<ToWorkerMessage>) => void) | null };
  const handle = createWorkerHandler((m) => scope.postMessage(m));
  scope.onmessage = (e) => void handle(e.data);
}
