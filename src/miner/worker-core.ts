/**
 * The worker side of the pool protocol, independent of the transport: the Web Worker and
 * worker_threads entry (worker.ts) and the same-thread fallback (spawn.ts) all run this.
 * @module
 */
import { bestScanner, createScanner } from './kernels.ts';
import type { FromWorkerMessage, ToWorkerMessage } from './messages.ts';
import type { Scanner } from './scanner.ts';

/**
 * Returns the message handler of a miner worker; `post` sends replies to the pool. Messages are
 * handled in arrival order (a `scan` that arrives before `init` finished waits for it).
 * @example
 * ```ts
 * const handle = createWorkerHandler((m) => postMessage(m));
 * onmessage = (e) => handle(e.data);
 * ```
 */
export function createWorkerHandler(post: (msg: FromWorkerMessage) => void): (msg: ToWorkerMessage) => Promise<void> {
  let scanner: Promise<Scanner> | null = null;
  let queue: Promise<void> = Promise.resolve();
  const run = async (msg: ToWorkerMessage): Promise<void> => {
    try {
      if (msg.type === 'init') {
        scanner = msg.kind === 'best' ? bestScanner() : createScanner(msg.kind);
        post({ type: 'ready', kind: (await scanner).kind });
        return;
      }
      if (msg.type === 'scan') {
        const s = await (scanner ??= bestScanner());
        const t0 = performance.now();
        const nonce = s.scan(msg.header80, msg.startNonce, msg.count, msg.target);
        const elapsedMs = performance.now() - t0;
        const scanned = nonce === null ? msg.count : nonce - msg.startNonce + 1;
        post({ type: 'result', jobId: msg.jobId, chunkId: msg.chunkId, nonce, scanned, elapsedMs });
        return;
      }
      throw new Error(`unknown message ${(msg as { type?: unknown }).type}`);
    } catch (err) {
      post({ type: 'error', message: err instanceof Error ? err.message : String(err), chunkId: msg.type === 'scan' ? msg.chunkId : undefined });
    }
  };
  return (msg) => (queue = queue.then(() => run(msg)));
}
