/**
 * The tabchain miner: sha256d proof-of-work scan kernels (WebAssembly SIMD, scalar WebAssembly,
 * JavaScript), a worker pool, and the miner service used by the node layer.
 *
 * No top-level await here (the page imports this module): the one-call `scan` with the fastest
 * kernel, compiled at load, is in default-scan.ts for tools, benches and tests.
 * @module
 */
export * from './scanner.ts';
export { createScanner, bestScanner, bestScannerKind } from './kernels.ts';
export { createJsScanner } from './scan-js.ts';
export { createWasmScanner, wasmSimdSupported, wasmSupported } from './scan-wasm.ts';
export * from './pool.ts';
export * from './service.ts';
export * from './spawn.ts';
export type * from './messages.ts';
