/**
 * The tabchain miner: sha256d proof-of-work scan kernels (WebAssembly SIMD, scalar WebAssembly,
 * JavaScript), a worker pool, and the miner service used by the node layer.
 *
 * `scan` uses the fastest kernel of the platform, compiled when this module loads (top-level
 * await: WebAssembly compilation is asynchronous in browsers).
 * @module
 */
import { bestScanner } from './kernels.ts';

export * from './scanner.ts';
export { createScanner, bestScanner, bestScannerKind } from './kernels.ts';
export { createJsScanner } from './scan-js.ts';
export { createWasmScanner, wasmSimdSupported, wasmSupported } from './scan-wasm.ts';
export * from './pool.ts';
export * from './service.ts';
export * from './spawn.ts';
export type * from './messages.ts';

const defaultScanner = await bestScanner();

/**
 * The lowest nonce in [startNonce, startNonce + count) whose sha256d(header with that nonce),
 * read as a little-endian 256-bit number (as Bitcoin does), is ≤ target; null if none.
 * count ≤ 2^32 − startNonce. Uses the fastest kernel available (see {@link bestScanner}).
 * @example
 * ```ts
 * const nonce = scan(encodeHeader(header), 0, 1 << 20, bitsToTarget(header.bits));
 * ```
 */
export function scan(header80: Uint8Array, startNonce: number, count: number, target: bigint): number | null {
  return defaultScanner.scan(header80, startNonce, count, target);
}

/** The kind of kernel `scan` uses. @example scanKind() // 'wasm-simd' */
export function scanKind(): string {
  return defaultScanner.kind;
}
