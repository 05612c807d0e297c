/**
 * One worker interface over three transports — Web Workers (browser), worker_threads (Node) and
 * a same-thread fallback — for any request/reply protocol. The miner's pool (spawn.ts) and the
 * node's signature verifier (src/node/sig-pool.ts) both run their workers through it; each keeps
 * its own entry file and protocol, and its own `new Worker(new URL('./entry.ts', import.meta.url))`
 * expression, which is what vite looks for to bundle a worker.
 * @module
 */

/** A worker as a pool sees it: post requests, get replies and failures. */
export interface PoolWorker<In, Out> {
  /** 'web' | 'thread' | 'inline' — which transport runs it. */
  readonly transport: 'web' | 'thread' | 'inline';
  post(msg: In): void;
  /** Set by the pool. */
  onMessage: ((msg: Out) => void) | null;
  /** Set by the pool: the worker died or failed to load. */
  onError: ((err: Error) => void) | null;
  terminate(): void;
}

/** The worker side of a protocol: given how to reply, the handler of one request. */
export type WorkerHandlerFactory<In, Out> = (post: (msg: Out) => void) => (msg: In) => unknown;

/**
 * A worker that runs `makeHandler`'s handler in the calling thread, one message per macrotask, so
 * the event loop stays responsive between requests (a request itself blocks for its duration).
 * @example const w = inlineWorker(createWorkerHandler);
 */
export function inlineWorker<In, Out>(makeHandler: WorkerHandlerFactory<In, Out>): PoolWorker<In, Out> {
  let alive = true;
  const w: PoolWorker<In, Out> = {
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
  const handle = makeHandler((reply) => {
    setTimeout(() => {
      if (alive) w.onMessage?.(reply);
    }, 0);
  });
  return w;
}

/**
 * A started Web Worker as a {@link PoolWorker}; `label` names it in errors ("<label> failed: …").
 * @example const w = wrapWebWorker(new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' }), 'miner worker');
 */
export function wrapWebWorker<In, Out>(worker: Worker, label: string): PoolWorker<In, Out> {
  const w: PoolWorker<In, Out> = {
    transport: 'web',
    onMessage: null,
    onError: null,
    post: (msg) => worker.postMessage(msg),
    terminate: () => worker.terminate(),
  };
  worker.onmessage = (e: MessageEvent<Out>) => w.onMessage?.(e.data);
  worker.onerror = (e: ErrorEvent) => {
    e.preventDefault();
    w.onError?.(new Error(`${label} failed: ${e.message || 'load error'}`));
  };
  worker.onmessageerror = () => w.onError?.(new Error(`${label}: message could not be deserialised`));
  return w;
}

interface NodeWorkerLike<Out> {
  postMessage(msg: unknown): void;
  on(event: 'message', cb: (msg: Out) => void): void;
  on(event: 'error', cb: (err: Error) => void): void;
  on(event: 'exit', cb: (code: number) => void): void;
  terminate(): Promise<number>;
  ref(): void;
  unref(): void;
}

/** How a Node worker_threads worker is started and when it may keep the process alive. */
export interface NodeWorkerOptions<In, Out> {
  /** The thread's name. */
  name: string;
  /** Names it in errors ("<label> exited with code …"). */
  label: string;
  /** Whether posting this request makes the worker keep the process alive (work in flight). */
  holds(msg: In): boolean;
  /** Whether this reply lets the process exit again (the work is done). */
  releases(msg: Out): boolean;
}

/**
 * A spawner of Node worker_threads running the module at `url`. The worker inherits the parent's
 * execArgv, so it runs TypeScript the same way the parent does (Node ≥ 22.18 strips types
 * natively; under `node --import tsx` tsx does). A worker keeps the process alive only while it
 * has work in flight: an idle pool never does. Rejects where there is no node:worker_threads.
 * @example
 * ```ts
 * const file = './worker.ts'; // not a literal in new URL(...): vite must not emit it as an asset
 * const spawn = await nodeWorkerSpawnerFor(new URL(file, import.meta.url), { name, label, holds, releases });
 * ```
 */
export async function nodeWorkerSpawnerFor<In, Out>(url: URL, opts: NodeWorkerOptions<In, Out>): Promise<() => PoolWorker<In, Out>> {
  // A variable specifier keeps bundlers from trying to resolve a Node builtin for the browser.
  const spec = 'node:worker_threads';
  const { Worker: NodeWorker } = (await import(/* @vite-ignore */ spec)) as { Worker: new (url: URL, o?: object) => NodeWorkerLike<Out> };
  return () => {
    const worker = new NodeWorker(url, { name: opts.name });
    worker.unref();
    let terminated = false;
    const w: PoolWorker<In, Out> = {
      transport: 'thread',
      onMessage: null,
      onError: null,
      post: (msg) => {
        if (opts.holds(msg)) worker.ref();
        worker.postMessage(msg);
      },
      terminate: () => {
        terminated = true;
        void worker.terminate();
      },
    };
    worker.on('message', (m) => {
      if (opts.releases(m)) worker.unref();
      w.onMessage?.(m);
    });
    worker.on('error', (err) => w.onError?.(err));
    worker.on('exit', (code) => {
      if (!terminated) w.onError?.(new Error(`${opts.label} exited with code ${code}`));
    });
    return w;
  };
}

/** Whether this is Node (worker_threads available), not a browser or a Web Worker. @example if (isNodeRuntime()) … */
export function isNodeRuntime(): boolean {
  const g = globalThis as { process?: { versions?: { node?: string } }; WorkerGlobalScope?: unknown };
  return typeof g.process?.versions?.node === 'string' && typeof g.WorkerGlobalScope === 'undefined';
}

/**
 * The worker side's plumbing: in a Node worker thread, handle messages from `parentPort`; in a
 * Web Worker, from `onmessage`. Called once by a worker entry file.
 * @example await serveWorker(createWorkerHandler); // in src/miner/worker.ts
 */
export async function serveWorker<In, Out>(makeHandler: WorkerHandlerFactory<In, Out>, label: string): Promise<void> {
  if (isNodeRuntime()) {
    const spec = 'node:worker_threads';
    const { parentPort } = (await import(/* @vite-ignore */ spec)) as { parentPort: { on(e: 'message', cb: (m: In) => void): void; postMessage(m: Out): void } | null };
    if (!parentPort) throw new Error(`${label}: not running in a worker thread`);
    const port = parentPort;
    const handle = makeHandler((m) => port.postMessage(m));
    port.on('message', (m) => void handle(m));
    return;
  }
  const scope = globalThis as unknown as { postMessage(m: Out): void; onmessage: ((e: MessageEvent<In>) => void) | null };
  const handle = makeHandler((m) => scope.postMessage(m));
  scope.onmessage = (e) => void handle(e.data);
}
