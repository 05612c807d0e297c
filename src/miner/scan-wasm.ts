/**
 * The WebAssembly scan kernels (built from src/miner/wasm/kernel-wat.ts by scripts/build-wasm.ts,
 * embedded as base64 in the generated src/miner/wasm/build/kernels.ts so that Node, vitest, vite
 * bundles and Web Workers load them identically).
 *
 * Compilation is asynchronous (`WebAssembly.compile`) because Chromium refuses synchronous
 * compilation of modules over 4 KB on the main thread. Each scanner has its own instance and
 * memory; a compiled module is shared.
 * @module
 */
import { base64 } from '@scure/base';
import { SHA256D_SCALAR_WASM_BASE64, SHA256D_SIMD_WASM_BASE64 } from './wasm/build/kernels.ts';
import { checkScanArgs, meetsTarget, sameTemplate, targetTopWord, type Scanner } from './scanner.ts';

interface KernelExports {
  memory: WebAssembly.Memory;
  prepare(): void;
  scan(startNonce: number, groups: number, targetTop: number): number;
}

let simdBytes: Uint8Array | undefined;
let scalarBytes: Uint8Array | undefined;

/** The kernel binaries. @example wasmKernelBytes('wasm-simd').length */
export function wasmKernelBytes(kind: 'wasm-simd' | 'wasm'): Uint8Array {
  if (kind === 'wasm-simd') return (simdBytes ??= base64.decode(SHA256D_SIMD_WASM_BASE64));
  return (scalarBytes ??= base64.decode(SHA256D_SCALAR_WASM_BASE64));
}

const compiled = new Map<string, Promise<WebAssembly.Module>>();

/**
 * Whether this platform runs the SIMD kernel (WebAssembly fixed-width SIMD: Chrome 91+, Firefox
 * 89+, Safari 16.4+, Node 16.4+).
 * @example if (wasmSimdSupported()) …
 */
export function wasmSimdSupported(): boolean {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(wasmKernelBytes('wasm-simd') as BufferSource);
  } catch {
    return false;
  }
}

/** Whether WebAssembly (MVP) is available at all. @example wasmSupported() */
export function wasmSupported(): boolean {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(wasmKernelBytes('wasm') as BufferSource);
  } catch {
    return false;
  }
}

// Groups per wasm call: keeps `groups` a positive i32 whatever the lane count.
const MAX_GROUPS_PER_CALL = 1 << 30;

/**
 * Instantiates a wasm kernel ('wasm-simd': 4 lanes, 'wasm': scalar). Rejects if the platform
 * cannot compile it.
 * @example
 * ```ts
 * const s = await createWasmScanner('wasm-simd');
 * s.scan(header80, 0, 1 << 16, target);
 * ```
 */
export async function createWasmScanner(kind: 'wasm-simd' | 'wasm'): Promise<Scanner> {
  let mod = compiled.get(kind);
  if (!mod) {
    mod = WebAssembly.compile(wasmKernelBytes(kind) as BufferSource);
    compiled.set(kind, mod);
    mod.catch(() => compiled.delete(kind));
  }
  const instance = await WebAssembly.instantiate(await mod, {});
  const k = instance.exports as unknown as KernelExports;
  const lanes = kind === 'wasm-simd' ? 4 : 1;
  const mem = new Uint8Array(k.memory.buffer, 0, 80);
  let prepared = false;
  return {
    kind,
    scan(header80, startNonce, count, target) {
      checkScanArgs(header80, startNonce, count, target);
      if (count === 0) return null;
      // Midstate and the other per-template values depend on bytes 0..75 only: recompute them
      // only when those change (a new template or extraNonce), not per chunk.
      if (!prepared || !sameTemplate(mem, header80)) {
        mem.set(header80);
        k.prepare();
        prepared = true;
      }
      const top = targetTopWord(target) | 0;
      const scratch = header80.slice();
      const end = startNonce + count;
      let pos = startNonce;
      while (pos < end) {
        const groups = Math.min(Math.ceil((end - pos) / lanes), MAX_GROUPS_PER_CALL);
        // Lanes past `end` (and past 2^32, where the nonce wraps) are scanned but ignored below.
        const g = k.scan(pos | 0, groups, top);
        if (g < 0) {
          pos += groups * lanes;
          continue;
        }
        const base = pos + g * lanes;
        for (let lane = 0; lane < lanes; lane++) {
          const n = base + lane;
          if (n >= end) break;
          if (meetsTarget(scratch, n, target)) return n;
        }
        pos = base + lanes;
      }
      return null;
    },
  };
}
