/**
 * Difficulty adjustment: aserti3-2d, the Bitcoin Cash ASERT algorithm (absolutely scheduled
 * exponentially rising targets), integer-only and evaluated for every block.
 *
 * The target of the next block is the reference target scaled by 2^((timeDiff − spacing ·
 * (heightDiff + 1)) / halfLife): every half-life the chain runs behind schedule doubles the target
 * (halves difficulty), every half-life ahead halves it. Because it is computed from the anchor and
 * the parent alone (not from a window of recent blocks), it has no oscillation and no
 * timestamp-window attack surface. Reference: `CalculateASERT` in Bitcoin ABC
 * `src/pow/aserti32d.cpp` (same code in Bitcoin Cash Node `src/pow.cpp`); spec
 * `spec/2020-11-15-asert.md` of bitcoincash.org.
 *
 * **Anchor (tabchain decision).** The schedule is anchored at genesis's *target* but at block 1's
 * *time*. Genesis is a fixed constant whose timestamp only gets older, and every classroom starts
 * a fresh chain from it; anchored at genesis's time, a chain started months later would be that
 * many months "behind schedule", and ASERT would let tens of thousands of blocks be mined at
 * powLimit before catching up. Block 1 is mined at genesis's bits; its timestamp then starts the
 * clock: anchor height 1, anchor parent time = block1.time − targetSpacing, so block 2 on top of
 * an on-time block 1 gets exactly the genesis target. Block 1's miner picks that time, so every
 * network's powLimit is its genesis target (params.ts): a block 1 dated back to just after genesis
 * makes the chain look far behind schedule, and the clamp to powLimit keeps every later block at
 * the genesis difficulty or harder instead of easing it towards nothing.
 * @module
 */
import { bitsToTarget, targetToBits } from './pow.ts';
import type { NetworkParams } from './types.ts';

const MAX_256 = (1n << 256n) - 1n;

/** Inputs of {@link calculateAsertTarget}; all bigint, times in seconds. */
export interface AsertInput {
  /** Target of the anchor block, 0 < refTarget ≤ powLimit. */
  refTarget: bigint;
  /** Easiest allowed target; the result never exceeds it. */
  powLimit: bigint;
  /** Target block spacing (seconds), > 0. */
  spacing: bigint;
  /** Half-life (seconds), > 0. */
  halfLife: bigint;
  /** Parent's time − the anchor block's parent's time. */
  timeDiff: bigint;
  /** Parent's height − the anchor's height, ≥ 0. */
  heightDiff: bigint;
}

/**
 * The aserti3-2d target for the block after a parent that is `heightDiff` blocks and `timeDiff`
 * seconds past the anchor's parent, exactly as Bitcoin ABC `CalculateASERT`: the exponent's
 * division truncates toward zero (C++ int64), the integer part of the exponent is taken with an
 * arithmetic (flooring) shift, 2^frac is the same cubic fixed-point approximation, and the result
 * is clamped to [1, powLimit]. The reference assumes powLimit < 2^224 so that its 256-bit product
 * cannot overflow; our powLimits are larger, so the product is kept exact in BigInt and the
 * "does not fit in 256 bits" check and the powLimit clamp are done on the exact value.
 * @example
 * ```ts
 * calculateAsertTarget({ refTarget, powLimit, spacing: 600n, halfLife: 172800n, timeDiff: 1200n, heightDiff: 1n }) === refTarget
 * ```
 */
export function calculateAsertTarget(input: AsertInput): bigint {
  const { refTarget, powLimit, spacing, halfLife, timeDiff, heightDiff } = input;
  for (const [k, v] of Object.entries(input)) {
    if (typeof v !== 'bigint') throw new TypeError(`calculateAsertTarget: ${k} must be a bigint`);
  }
  if (!(powLimit > 0n && powLimit <= MAX_256)) throw new RangeError('calculateAsertTarget: powLimit out of range');
  if (!(refTarget > 0n && refTarget <= powLimit)) throw new RangeError('calculateAsertTarget: refTarget must be in (0, powLimit]');
  if (!(spacing > 0n)) throw new RangeError('calculateAsertTarget: spacing must be > 0');
  if (!(halfLife > 0n)) throw new RangeError('calculateAsertTarget: halfLife must be > 0');
  if (heightDiff < 0n) throw new RangeError('calculateAsertTarget: heightDiff must be >= 0');

  // BigInt division truncates toward zero, like the reference's int64 division.
  const exponent = ((timeDiff - spacing * (heightDiff + 1n)) * 65536n) / halfLife;
  // BigInt >> is an arithmetic shift (floor) and & works on two's complement, so
  // exponent === shifts * 65536 + frac with 0 <= frac < 65536, as in the reference.
  let shifts = exponent >> 16n;
  const frac = exponent & 0xffffn;
  const factor = 65536n + ((195766423245049n * frac + 971821376n * frac ** 2n + 5127n * frac ** 3n + (1n << 47n)) >> 48n);

  let next = refTarget * factor;
  shifts -= 16n;
  if (shifts <= 0n) {
    // Any shift of ≥ 512 bits empties a product < 2^273; skip the huge shift.
    next = -shifts >= 512n ? 0n : next >> -shifts;
  } else if (shifts >= 256n || next << shifts > MAX_256) {
    // The reference's overflow test, ((next << s) >> s) != next on 256 bits.
    next = powLimit;
  } else {
    next <<= shifts;
  }

  if (next === 0n) return 1n; // 0 is never a valid target
  return next > powLimit ? powLimit : next;
}

/**
 * Compact bits required of the block at height `prev.height + 1` on network `params`.
 *
 * - Block 1 (prev is genesis, height 0): `params.genesisBits`.
 * - Later blocks: aserti3-2d with refTarget = target of `genesisBits`, anchor height 1, anchor
 *   parent time = `block1Time − targetSpacing` (see the module comment for why block 1's time and
 *   not genesis's), timeDiff = prev.time − anchor parent time, heightDiff = prev.height − 1,
 *   clamped to `params.powLimit`, encoded with GetCompact.
 *
 * `block1Time` (the timestamp of block 1 on prev's chain) is required whenever prev.height ≥ 1.
 * @example
 * ```ts
 * nextBits(params, { height: 0, time: genesis.header.time }) === params.genesisBits
 * nextBits(params, { height: tip.height, time: tip.header.time }, block1.header.time)
 * ```
 */
export function nextBits(params: NetworkParams, prev: { height: number; time: number }, block1Time?: number): number {
  if (!Number.isSafeInteger(prev.height) || prev.height < 0) throw new RangeError(`nextBits: bad height ${prev.height}`);
  if (!Number.isSafeInteger(prev.time)) throw new RangeError(`nextBits: bad time ${prev.time}`);
  if (prev.height === 0) return params.genesisBits;
  if (block1Time === undefined || !Number.isSafeInteger(block1Time)) {
    throw new TypeError('nextBits: block1Time is required after block 1');
  }
  const spacing = BigInt(params.targetSpacing);
  const anchorParentTime = BigInt(block1Time) - spacing;
  const target = calculateAsertTarget({
    refTarget: bitsToTarget(params.genesisBits),
    powLimit: params.powLimit,
    spacing,
    halfLife: BigInt(params.asertHalfLife),
    timeDiff: BigInt(prev.time) - anchorParentTime,
    heightDiff: BigInt(prev.height - 1),
  });
  return targetToBits(target);
}
