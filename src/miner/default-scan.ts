/**
 * `scan` with the fastest kernel of the platform, compiled when this module loads (top-level
 * await: WebAssembly compilation is asynchronous in browsers). For tools, benches and tests that
 * want one synchronous call; the app never imports it — a top-level await anywhere in the page's
 * module graph would delay main.ts past the load event, and with it `window.tabchain` (the lint
 * forbids top-level await in src/ but here).
 * @module
 */
import { bestScanner } from './kernels.ts';

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
