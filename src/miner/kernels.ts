/**
 * Choosing and creating a scan kernel.
 * @module
 */
import { createJsScanner } from './scan-js.ts';
import { createWasmScanner, wasmSimdSupported, wasmSupported } from './scan-wasm.ts';
import type { Scanner, ScannerKind } from './scanner.ts';

/**
 * Creates a kernel of the given kind. All kinds return identical answers; they differ in speed
 * (wasm-simd ≫ wasm > js). Rejects if the platform cannot run the requested kind.
 * @example
 * ```ts
 * const s = await createScanner('wasm-simd');
 * s.scan(header80, 0, 1 << 16, target);
 * ```
 */
export async function createScanner(kind: ScannerKind): Promise<Scanner> {
  switch (kind) {
    case 'wasm-simd':
    case 'wasm':
      return createWasmScanner(kind);
    case 'js':
      return createJsScanner();
    default:
      throw new TypeError(`createScanner: unknown kind ${String(kind)}`);
  }
}

/**
 * The fastest kind this platform supports: wasm-simd, else wasm, else js.
 * @example bestScannerKind() // 'wasm-simd' in any current browser or Node
 */
export function bestScannerKind(): ScannerKind {
  if (wasmSimdSupported()) return 'wasm-simd';
  if (wasmSupported()) return 'wasm';
  return 'js';
}

/**
 * The fastest kernel this platform runs (falls back if compilation fails, e.g. under a CSP that
 * forbids WebAssembly).
 * @example
 * ```ts
 * const s = await bestScanner();
 * s.kind // 'wasm-simd'
 * ```
 */
export async function bestScanner(): Promise<Scanner> {
  const kinds: ScannerKind[] = bestScannerKind() === 'wasm-simd' ? ['wasm-simd', 'wasm', 'js'] : bestScannerKind() === 'wasm' ? ['wasm', 'js'] : ['js'];
  for (const kind of kinds) {
    try {
      return await createScanner(kind);
    } catch {
      // try the next kind
    }
  }
  return createJsScanner();
}
