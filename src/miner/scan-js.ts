/**
 * The plain-JavaScript scan kernel: the fallback where WebAssembly is unavailable, and the
 * readable statement of what the wasm kernels compute.
 *
 * Same algorithm as the wasm kernels, in scalar JS: midstate of the first 64 header bytes once
 * per call, then per nonce the second block of the first SHA-256 (W3 = nonce, big-endian) and
 * the second SHA-256 up to round 60 — enough for H7, the early reject (bswap(H7) is the top word
 * of the hash read little-endian). Candidates are confirmed with the exact 256-bit comparison.
 * @module
 */
import { checkScanArgs, meetsTarget, sameTemplate, targetTopWord, type Scanner } from './scanner.ts';
import { SHA256_IV as IV, SHA256_K } from './wasm/kernel-wat.ts';

const K = Int32Array.from(SHA256_K);
const rotr = (x: number, n: number) => (x >>> n) | (x << (32 - n));
const bswap = (x: number) => ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);

/**
 * SHA-256 compression of the 16 words in `w` (extended in place to `rounds` words) into
 * `state`, running `rounds` rounds; with rounds < 64 the working variables are returned
 * without the final addition (used for the H7 shortcut). Returns e of the last round.
 */
function compress(state: Int32Array, w: Int32Array, rounds: number, out: Int32Array): void {
  for (let t = 16; t < rounds; t++) {
    const w2 = w[t - 2];
    const w15 = w[t - 15];
    const s1 = rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >>> 10);
    const s0 = rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >>> 3);
    w[t] = (s1 + w[t - 7] + s0 + w[t - 16]) | 0;
  }
  let a = state[0], b = state[1], c = state[2], d = state[3];
  let e = state[4], f = state[5], g = state[6], h = state[7];
  for (let t = 0; t < rounds; t++) {
    const t1 = (h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + (g ^ (e & (f ^ g))) + K[t] + w[t]) | 0;
    const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) | (c & (a | b)))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  out[0] = a; out[1] = b; out[2] = c; out[3] = d;
  out[4] = e; out[5] = f; out[6] = g; out[7] = h;
}

const IV32 = Int32Array.from(IV);

/**
 * The JS kernel. Allocation-free in the nonce loop.
 * @example
 * ```ts
 * const s = createJsScanner();
 * s.scan(header80, 0, 1 << 16, target); // nonce or null
 * ```
 */
export function createJsScanner(): Scanner {
  const w = new Int32Array(64);
  const mid = new Int32Array(8);
  const tmp = new Int32Array(8);
  const tail = new Int32Array(3);
  const prepared = new Uint8Array(80);
  let hasPrepared = false;
  return {
    kind: 'js',
    scan(header80, startNonce, count, target) {
      checkScanArgs(header80, startNonce, count, target);
      if (count === 0) return null;
      if (!hasPrepared || !sameTemplate(prepared, header80)) {
        // Midstate of the first 64 bytes, once per template.
        const view = new DataView(header80.buffer, header80.byteOffset, 80);
        for (let i = 0; i < 16; i++) w[i] = view.getInt32(i * 4, false);
        compress(IV32, w, 64, tmp);
        for (let i = 0; i < 8; i++) mid[i] = (IV32[i] + tmp[i]) | 0;
        for (let i = 0; i < 3; i++) tail[i] = view.getInt32(64 + i * 4, false);
        prepared.set(header80);
        hasPrepared = true;
      }
      const top = targetTopWord(target);
      const scratch = header80.slice();
      const end = startNonce + count;
      for (let n = startNonce; n < end; n++) {
        w[0] = tail[0]; w[1] = tail[1]; w[2] = tail[2]; w[3] = bswap(n);
        w[4] = 0x80000000 | 0;
        for (let i = 5; i < 15; i++) w[i] = 0;
        w[15] = 640;
        compress(mid, w, 64, tmp);
        for (let i = 0; i < 8; i++) w[i] = (mid[i] + tmp[i]) | 0;
        w[8] = 0x80000000 | 0;
        for (let i = 9; i < 15; i++) w[i] = 0;
        w[15] = 256;
        // 61 rounds: e after round 60 is the h after round 63, so H7 = IV7 + e.
        compress(IV32, w, 61, tmp);
        const h7 = (IV32[7] + tmp[4]) | 0;
        if (bswap(h7) >>> 0 <= top && meetsTarget(scratch, n, target)) return n;
      }
      return null;
    },
  };
}
