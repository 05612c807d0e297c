/**
 * Messages between the miner pool and its workers (Web Workers, worker_threads or the
 * same-thread fallback — all three speak exactly these). Everything is structured-clone safe
 * (bigint included).
 *
 * Protocol: the pool sends `init` once, then one `scan` at a time; the worker answers every
 * `scan` with exactly one `result` (or `error`). One chunk in flight per worker is what makes a
 * new template or a stop take effect within one chunk.
 * @module
 */
import type { ScannerKind } from './scanner.ts';

/** Pool → worker: choose the kernel ('best' = fastest supported). */
export interface InitMessage {
  type: 'init';
  kind: ScannerKind | 'best';
}

/** Pool → worker: scan one chunk of nonces. */
export interface ScanMessage {
  type: 'scan';
  /** The pool's job (template) id; results of stale jobs are discarded by the pool. */
  jobId: number;
  /** Unique per pool, to match the result to the chunk. */
  chunkId: number;
  /** 80-byte header; the nonce bytes are ignored. */
  header80: Uint8Array;
  startNonce: number;
  count: number;
  target: bigint;
}

/** Worker → pool: the kernel is ready. */
export interface ReadyMessage {
  type: 'ready';
  kind: ScannerKind;
}

/** Worker → pool: a chunk is done. */
export interface ResultMessage {
  type: 'result';
  jobId: number;
  chunkId: number;
  /** The lowest nonce of the chunk meeting the target, or null. */
  nonce: number | null;
  /** Nonces hashed (up to and including `nonce` when found). */
  scanned: number;
  /** Time spent in the kernel, in ms (the worker's clock). */
  elapsedMs: number;
}

/** Worker → pool: something failed (kernel creation or a scan). */
export interface ErrorMessage {
  type: 'error';
  message: string;
  chunkId?: number;
}

export type ToWorkerMessage = InitMessage | ScanMessage;
export type FromWorkerMessage = ReadyMessage | ResultMessage | ErrorMessage;
