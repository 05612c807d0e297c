/**
 * A small seeded PRNG (mulberry32), so a run can be repeated from its seed: the simulation's
 * topology, shares, intervals and miners; the crash tests' kill points.
 */

/**
 * Numbers in [0, 1), the same sequence for the same seed.
 * @example const r = seededRandom(7); r() // 0.…
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
