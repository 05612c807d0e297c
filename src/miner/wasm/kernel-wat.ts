/**
 * The source of the WebAssembly sha256d scan kernels: a small staged SHA-256 that writes WAT.
 *
 * Why a generator and not a hand-typed .wat: the fast kernel is two fully unrolled SHA-256
 * compressions (≈ 120 rounds) in which every round differs in what is constant. Typing that by
 * hand is 10,000 lines of error-prone WAT; writing SHA-256 once, over symbolic values that know
 * whether they are a compile-time constant, a per-template ("uniform") value or a per-nonce value,
 * lets the generator do every classic miner optimisation mechanically and exactly:
 *
 * - midstate: the first 64 header bytes are compressed once per template (in `prepare`);
 * - rounds 0–2 of the second block and the constant-only parts of rounds 3+ and of the message
 *   schedule (W16, W17, parts of W18…) are folded into `prepare` as well (cpuminer's `sha256d_ms`
 *   trick, here derived automatically instead of by hand);
 * - padding words are compile-time constants, so `K[t] + W[t]` folds to one constant;
 * - the second hash stops after round 60: its e is the last state word before the final
 *   addition, and H7 is all we need for the early reject (Bitcoin miners' "H7 == 0" test,
 *   generalised to any target: bswap(H7) ≤ target >> 224);
 * - Maj reuses the previous round's a ^ b (via common-subexpression memoisation).
 *
 * `lanes: 4` emits i32x4 SIMD (4 nonces per pass: nonce, nonce+1, nonce+2, nonce+3), `lanes: 1`
 * emits scalar i32 with the native `i32.rotr`. Both export the same interface:
 *
 * - `memory`: bytes 0..79 hold the 80-byte header (the caller writes it; nonce bytes ignored);
 * - `prepare()`: reads the header and stores the per-template values;
 * - `scan(startNonce, groups, targetTop) → i32`: scans `groups` groups of `lanes` consecutive
 *   nonces from `startNonce` (u32, wrapping) and returns the index of the first group in which
 *   some lane has bswap(H7) ≤u targetTop, or -1. A hit there is only a candidate: the caller
 *   confirms it with the exact 256-bit comparison (see scan-wasm.ts).
 *
 * FIPS 180-4 §6.2 for SHA-256 itself.
 * @module
 */

/** SHA-256 round constants (FIPS 180-4 §4.2.2). */
export const SHA256_K: readonly number[] = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/** SHA-256 initial hash value (FIPS 180-4 §5.3.3). */
export const SHA256_IV: readonly number[] = [
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/** Options of {@link kernelWat}. */
export interface KernelWatOptions {
  /** 4 = i32x4 SIMD kernel, 1 = scalar kernel. */
  lanes: 1 | 4;
  /**
   * How the SIMD kernel materialises 128-bit constants: `table` loads them from a data segment
   * (one load each), `inline` uses `v128.const`. Ignored for lanes = 1 (immediates).
   */
  constMode?: 'table' | 'inline';
  /**
   * How the SIMD kernel computes Ch(e,f,g): one `v128.bitselect` (default; measured ≈ 3 % faster
   * in V8) or g ^ (e & (f ^ g)).
   */
  chMode?: 'bitselect' | 'xor';
}

// ---------------------------------------------------------------------------------------------
// Symbolic values. Level: 0 = compile-time constant, 1 = uniform (per template, computed in
// `prepare` as scalar i32), 2 = per nonce (computed in the scan loop, i32 or i32x4).

interface Const { t: 'c'; id: number; v: number }
interface Uni { t: 'u'; id: number; local: string; slot: number | null }
interface Var { t: 'v'; id: number; local: string }
/** A lazy sum: additions are collected so constants and uniform terms fold together. */
interface Sum { t: 's'; id: number; c: number; u: Uni[]; v: Var[]; mat: Leaf | null }
type Leaf = Const | Uni | Var;
type Val = Leaf | Sum;

const HEADER_BYTES = 80;
const CONST_TABLE_AT = 128;

/**
 * Writes the WAT text of a sha256d scan kernel. Deterministic: same options, same text.
 * @example
 * ```ts
 * const wat = kernelWat({ lanes: 4 });
 * const wasm = (await wabt()).parseWat('k.wat', wat, { simd: true }).toBinary({}).buffer;
 * ```
 */
export function kernelWat(opts: KernelWatOptions): string {
  const lanes = opts.lanes;
  const simd = lanes === 4;
  const constMode = opts.constMode ?? 'table';
  let nextId = 0;
  const pre: string[] = []; // body of prepare()
  const loop: string[] = []; // body of the scan loop
  const preLocals: string[] = [];
  const loopLocals: string[] = [];
  const memo = new Map<string, Leaf>();
  const consts = new Map<number, Const>();
  const constSlots = new Map<number, number>(); // value → byte offset in the constant table
  const constTable: number[] = [];
  let slotCursor = 0; // uniform slots, placed after the constant table once its size is known
  const slotFixups: { uni: Uni }[] = [];

  const k = (v: number): Const => {
    v >>>= 0;
    let c = consts.get(v);
    if (!c) consts.set(v, (c = { t: 'c', id: nextId++, v }));
    return c;
  };
  const newUni = (): Uni => {
    const local = `$u${preLocals.length}`;
    preLocals.push(local);
    return { t: 'u', id: nextId++, local, slot: null };
  };
  const newVar = (): Var => {
    const local = `$v${loopLocals.length}`;
    loopLocals.push(local);
    return { t: 'v', id: nextId++, local };
  };
  const level = (x: Leaf): number => (x.t === 'c' ? 0 : x.t === 'u' ? 1 : 2);

  // References to a leaf from prepare (scalar) and from the loop (scalar or SIMD).
  const preRef = (x: Leaf): string => {
    if (x.t === 'c') return `(i32.const ${x.v | 0})`;
    if (x.t === 'u') return `(local.get ${x.local})`;
    throw new Error('kernelWat: a per-nonce value cannot be used in prepare');
  };
  const loopRef = (x: Leaf): string => {
    if (x.t === 'v') return `(local.get ${x.local})`;
    if (x.t === 'u') {
      if (x.slot === null) {
        x.slot = slotCursor;
        slotCursor += lanes * 4;
        slotFixups.push({ uni: x });
        // The store happens in prepare right after the value is known (prepare runs in order).
        pre.push(simd ? `(v128.store offset=@SLOT${x.id}@ (i32.const 0) (i32x4.splat (local.get ${x.local})))` : `(i32.store offset=@SLOT${x.id}@ (i32.const 0) (local.get ${x.local}))`);
      }
      return simd ? `(v128.load offset=@SLOT${x.id}@ (i32.const 0))` : `(i32.load offset=@SLOT${x.id}@ (i32.const 0))`;
    }
    if (!simd) return `(i32.const ${x.v | 0})`;
    if (constMode === 'inline') return `(v128.const i32x4 ${x.v | 0} ${x.v | 0} ${x.v | 0} ${x.v | 0})`;
    let at = constSlots.get(x.v);
    if (at === undefined) {
      at = CONST_TABLE_AT + constTable.length * 16;
      constSlots.set(x.v, at);
      constTable.push(x.v);
    }
    return `(v128.load offset=${at} (i32.const 0))`;
  };

  // Constant folding for each operation (u32 semantics).
  const fold: Record<string, (a: number, b: number) => number> = {
    add: (a, b) => (a + b) >>> 0,
    xor: (a, b) => (a ^ b) >>> 0,
    and: (a, b) => (a & b) >>> 0,
    or: (a, b) => (a | b) >>> 0,
    shr: (a, n) => a >>> n,
    shl: (a, n) => (a << n) >>> 0,
    rotr: (a, n) => ((a >>> n) | (a << (32 - n))) >>> 0,
  };
  const scalarOp: Record<string, string> = { add: 'i32.add', xor: 'i32.xor', and: 'i32.and', or: 'i32.or', shr: 'i32.shr_u', shl: 'i32.shl', rotr: 'i32.rotr' };
  const simdOp: Record<string, string> = { add: 'i32x4.add', xor: 'v128.xor', and: 'v128.and', or: 'v128.or', shr: 'i32x4.shr_u', shl: 'i32x4.shl' };

  /** A binary op on two values (b may be a shift count when `op` is a shift/rotate). */
  const op = (name: string, a: Val, b: Val | number): Leaf => {
    const x = materialize(a);
    if (typeof b === 'number') {
      const key = `${name}:${x.id}:#${b}`;
      const hit = memo.get(key);
      if (hit) return hit;
      let out: Leaf;
      if (x.t === 'c') out = k(fold[name](x.v, b));
      else if (x.t === 'u') {
        out = newUni();
        pre.push(`(local.set ${out.local} (${scalarOp[name]} ${preRef(x)} (i32.const ${b})))`);
      } else if (simd && name === 'rotr') {
        out = op('or', op('shr', x, b), op('shl', x, 32 - b));
      } else {
        out = newVar();
        loop.push(`(local.set ${out.local} (${(simd ? simdOp : scalarOp)[name]} ${loopRef(x)} (i32.const ${b})))`);
      }
      memo.set(key, out);
      return out;
    }
    const y = materialize(b);
    const key = `${name}:${x.id}:${y.id}`;
    const hit = memo.get(key);
    if (hit) return hit;
    let out: Leaf;
    const lv = Math.max(level(x), level(y));
    if (lv === 0) out = k(fold[name]((x as Const).v, (y as Const).v));
    else if (lv === 1) {
      out = newUni();
      pre.push(`(local.set ${out.local} (${scalarOp[name]} ${preRef(x)} ${preRef(y)}))`);
    } else {
      out = newVar();
      loop.push(`(local.set ${out.local} (${(simd ? simdOp : scalarOp)[name]} ${loopRef(x)} ${loopRef(y)}))`);
    }
    memo.set(key, out);
    return out;
  };

  const xor = (a: Val, b: Val) => op('xor', a, b);
  const and = (a: Val, b: Val) => op('and', a, b);

  /**
   * rotr(x,r1) ^ rotr(x,r2) ^ (rotr or shr)(x,r3). SIMD has no rotate, so there it is five or six
   * shifts XORed one at a time into an accumulator: a chain keeps two temporaries alive instead of
   * six, and V8 then spills far less (measured 15 % faster than a balanced XOR tree).
   */
  const sigma = (a: Val, r1: number, r2: number, r3: number, lastIsShift: boolean): Leaf => {
    const x = materialize(a);
    if (simd && x.t === 'v') {
      const shifts: [string, number][] = [['shr', r1], ['shl', 32 - r1], ['shr', r2], ['shl', 32 - r2], ['shr', r3]];
      if (!lastIsShift) shifts.push(['shl', 32 - r3]);
      let acc: Leaf = op(shifts[0][0], x, shifts[0][1]);
      for (const [name, n] of shifts.slice(1)) acc = xor(acc, op(name, x, n));
      return acc;
    }
    return xor(xor(op('rotr', x, r1), op('rotr', x, r2)), op(lastIsShift ? 'shr' : 'rotr', x, r3));
  };
  const bigSigma0 = (x: Val) => sigma(x, 2, 13, 22, false);
  const bigSigma1 = (x: Val) => sigma(x, 6, 11, 25, false);
  const smallSigma0 = (x: Val) => sigma(x, 7, 18, 3, true);
  const smallSigma1 = (x: Val) => sigma(x, 17, 19, 10, true);
  const ch = (e: Val, f: Val, g: Val): Leaf => {
    const [ee, ff, gg] = [materialize(e), materialize(f), materialize(g)];
    if (simd && (opts.chMode ?? 'bitselect') === 'bitselect' && ee.t === 'v' && ff.t === 'v' && gg.t === 'v') {
      const out = newVar();
      loop.push(`(local.set ${out.local} (v128.bitselect ${loopRef(ff)} ${loopRef(gg)} ${loopRef(ee)}))`);
      return out;
    }
    return xor(gg, and(ee, xor(ff, gg)));
  };
  // Maj(a,b,c) = b ^ ((a ^ b) & (b ^ c)); b ^ c is the previous round's a ^ b (memo hit).
  const maj = (a: Val, b: Val, c: Val) => xor(b, and(xor(a, b), xor(b, c)));

  /** Lazy addition: constants fold, uniform terms are summed once in prepare. */
  const add = (...xs: Val[]): Val => {
    let c = 0;
    const u: Uni[] = [];
    const v: Var[] = [];
    const push = (x: Leaf) => {
      if (x.t === 'c') c = (c + x.v) >>> 0;
      else if (x.t === 'u') u.push(x);
      else v.push(x);
    };
    for (const x of xs) {
      if (x.t !== 's') push(x);
      else if (x.mat || x.v.length >= 2) push(materialize(x));
      else {
        c = (c + x.c) >>> 0;
        u.push(...x.u);
        v.push(...x.v);
      }
    }
    if (u.length + v.length === 0) return k(c);
    if (c === 0 && u.length + v.length === 1) return u[0] ?? v[0];
    return { t: 's', id: nextId++, c, u, v, mat: null };
  };

  function materialize(x: Val): Leaf {
    if (x.t !== 's') return x;
    if (x.mat) return x.mat;
    // Uniform part: c + Σu, once per template.
    let uni: Leaf | null = x.c !== 0 ? k(x.c) : null;
    for (const t of x.u) uni = uni ? op('add', uni, t) : t;
    if (x.v.length === 0) return (x.mat = uni ?? k(0));
    // Per-nonce part: a plain chain in the caller's order (early-ready terms first). Pairing the
    // two latest terms to shorten the critical path measured slower: register pressure wins.
    let acc: Leaf = x.v[0];
    if (uni) acc = op('add', acc, uni);
    for (let i = 1; i < x.v.length; i++) acc = op('add', acc, x.v[i]);
    return (x.mat = acc);
  }

  /**
   * SHA-256 compression rounds [0, rounds) over 16 message words, returning the working
   * variables (a..h) after the last round; the schedule is extended only as far as needed.
   */
  function rounds(state: Val[], w16: Val[], count: number): Val[] {
    const w = w16.slice();
    let [a, b, c, d, e, f, g, h] = state;
    for (let t = 0; t < count; t++) {
      if (t >= 16) w[t] = add(smallSigma1(w[t - 2]), w[t - 7], smallSigma0(w[t - 15]), w[t - 16]);
      const t1 = add(h, w[t], k(SHA256_K[t]), bigSigma1(e), ch(e, f, g));
      const t2 = add(bigSigma0(a), maj(a, b, c));
      h = g;
      g = f;
      f = e;
      e = add(d, t1);
      d = c;
      c = b;
      b = a;
      a = add(t1, t2);
    }
    return [a, b, c, d, e, f, g, h];
  }

  // ---- prepare: header words (big-endian, as SHA-256 reads them) and the midstate.
  const headerWord = (i: number): Uni => {
    const u = newUni();
    pre.push(`(local.set ${u.local} (call $bswap (i32.load offset=${i * 4} (i32.const 0))))`);
    return u;
  };
  const iv = SHA256_IV.map(k);
  const block1 = Array.from({ length: 16 }, (_, i) => headerWord(i));
  const r1 = rounds(iv, block1, 64);
  const midstate = iv.map((x, i) => add(x, r1[i]));

  // ---- loop: the second block of the first hash (W3 = the nonce, big-endian).
  const w3: Var = { t: 'v', id: nextId++, local: '$w3' };
  const block2: Val[] = [headerWord(16), headerWord(17), headerWord(18), w3, k(0x80000000)];
  for (let i = 5; i < 15; i++) block2.push(k(0));
  block2.push(k(HEADER_BYTES * 8));
  const r2 = rounds(midstate, block2, 64);
  const hash1 = midstate.map((x, i) => add(x, r2[i]));

  // ---- the second hash, stopped after round 60: then e (index 4) becomes h after three more
  // rounds, and H7 = IV7 + that h.
  const block3: Val[] = [...hash1, k(0x80000000)];
  for (let i = 9; i < 15; i++) block3.push(k(0));
  block3.push(k(256));
  const r3 = rounds(iv, block3, 61);
  const h7 = materialize(add(iv[7], r3[4]));
  if (h7.t !== 'v') throw new Error('kernelWat: H7 does not depend on the nonce');

  // ---- assemble the module.
  const uniformAt = CONST_TABLE_AT + constTable.length * 16;
  const slotText = (s: string) =>
    s.replace(/@SLOT(\d+)@/g, (_, id: string) => {
      const fix = slotFixups.find((f) => f.uni.id === Number(id))!;
      return String(uniformAt + fix.uni.slot!);
    });
  const bytesNeeded = uniformAt + slotCursor;
  if (bytesNeeded > 65536) throw new Error('kernelWat: layout exceeds one page');
  const ty = simd ? 'v128' : 'i32';
  const dataHex = constTable
    .map((v) => {
      const le = [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24].map((b) => '\\' + b.toString(16).padStart(2, '0')).join('');
      return le.repeat(4);
    })
    .join('');
  const out: string[] = [];
  out.push(`;; sha256d scan kernel, ${simd ? 'i32x4 SIMD, 4 nonces per pass' : 'scalar'}. Generated by src/miner/wasm/kernel-wat.ts.`);
  out.push('(module');
  out.push('  (memory (export "memory") 1)');
  if (dataHex) out.push(`  (data (i32.const ${CONST_TABLE_AT}) "${dataHex}")`);
  out.push('  (func $bswap (param $x i32) (result i32)');
  out.push('    (i32.or (i32.rotr (i32.and (local.get $x) (i32.const 0x00ff00ff)) (i32.const 8))');
  out.push('            (i32.rotl (i32.and (local.get $x) (i32.const 0xff00ff00)) (i32.const 8))))');
  out.push('  (func (export "prepare")');
  for (const l of preLocals) out.push(`    (local ${l} i32)`);
  for (const s of pre) out.push('    ' + slotText(s));
  out.push('  )');
  out.push('  (func (export "scan") (param $start i32) (param $groups i32) (param $top i32) (result i32)');
  out.push(`    (local $g i32) (local $nonce ${ty}) (local $w3 ${ty}) (local $topv ${ty})`);
  for (const l of loopLocals) out.push(`    (local ${l} ${ty})`);
  out.push('    (if (i32.eqz (local.get $groups)) (then (return (i32.const -1))))');
  if (simd) {
    out.push('    (local.set $topv (i32x4.splat (local.get $top)))');
    out.push('    (local.set $nonce (i32x4.add (i32x4.splat (local.get $start)) (v128.const i32x4 0 1 2 3)))');
  } else {
    out.push('    (local.set $topv (local.get $top))');
    out.push('    (local.set $nonce (local.get $start))');
  }
  out.push('    (loop $next');
  // W3: the nonce is stored little-endian in the header; SHA-256 reads the word big-endian.
  if (simd) out.push('      (local.set $w3 (i8x16.shuffle 3 2 1 0 7 6 5 4 11 10 9 8 15 14 13 12 (local.get $nonce) (local.get $nonce)))');
  else out.push('      (local.set $w3 (call $bswap (local.get $nonce)))');
  for (const s of loop) out.push('      ' + slotText(s));
  // Early reject: the hash read as a little-endian 256-bit number has bswap(H7) as its top word,
  // and hash ≤ target implies top word ≤ target >> 224.
  if (simd) {
    out.push(`      (if (v128.any_true (i32x4.le_u (i8x16.shuffle 3 2 1 0 7 6 5 4 11 10 9 8 15 14 13 12 (local.get ${h7.local}) (local.get ${h7.local})) (local.get $topv)))`);
    out.push('        (then (return (local.get $g))))');
    out.push('      (local.set $nonce (i32x4.add (local.get $nonce) (v128.const i32x4 4 4 4 4)))');
  } else {
    out.push(`      (if (i32.le_u (call $bswap (local.get ${h7.local})) (local.get $topv))`);
    out.push('        (then (return (local.get $g))))');
    out.push('      (local.set $nonce (i32.add (local.get $nonce) (i32.const 1)))');
  }
  out.push('      (local.set $g (i32.add (local.get $g) (i32.const 1)))');
  out.push('      (br_if $next (i32.lt_u (local.get $g) (local.get $groups))))');
  out.push('    (i32.const -1))');
  out.push(')');
  return out.join('\n') + '\n';
}
