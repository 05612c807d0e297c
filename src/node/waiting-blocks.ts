/**
 * Blocks a node keeps without a verdict, waiting for something (btcd's orphan handling in
 * process.go):
 * - orphans wait for their parent: in an {@link OrphanPool} (as bytes, under a share per sending
 *   peer, or per source for blocks that came from no peer), with where each came from, so that a
 *   child taken out when its parent arrives goes through the block path as from its source;
 * - held blocks (TIME_TOO_NEW) wait for the clock: at most {@link MAX_HELD}, oldest dropped first,
 *   retried on a timer.
 * @module
 */
import { hashToHex, OrphanPool, type Block } from '../chain/index.ts';
import type { BlockWork } from './block-input.ts';
import type { Source } from './events.ts';

/** Most blocks held for TIME_TOO_NEW (oldest dropped first). */
export const MAX_HELD = 64;

/** A held block and where it came from. */
export interface HeldBlock {
  block: Block;
  source: Source;
}

/**
 * The orphans and held blocks of a node.
 * @example
 * ```ts
 * const waiting = new WaitingBlocks({ heldRetryMs: 5000, onHeldDue: () => void node.retryHeld() });
 * waiting.addOrphan(bytes, hex, now, { input: bytes, source: 'peer', peer: 'peer-1' });
 * const children = waiting.takeOrphans(parentHash);
 * ```
 */
export class WaitingBlocks {
  readonly #orphans = new OrphanPool();
  readonly #orphanSources = new Map<string, Source>();
  readonly #held = new Map<string, HeldBlock>();
  readonly #heldRetryMs: number;
  readonly #onHeldDue: () => void;
  #heldTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(opts: { heldRetryMs: number; onHeldDue: () => void }) {
    this.#heldRetryMs = opts.heldRetryMs;
    this.#onHeldDue = opts.onHeldDue;
  }

  /** Orphans waiting for a parent. @example waiting.orphanCount */
  get orphanCount(): number {
    return this.#orphans.size;
  }

  /** Blocks held for TIME_TOO_NEW. @example waiting.heldCount */
  get heldCount(): number {
    return this.#held.size;
  }

  /** Whether the orphan pool holds this block. @example waiting.hasOrphan(hash) */
  hasOrphan(hash: Uint8Array | string): boolean {
    return this.#orphans.has(hash);
  }

  /** Parent hashes (internal order) that orphans wait for. @example waiting.missingParents() */
  missingParents(): Uint8Array[] {
    return this.#orphans.missingParents();
  }

  /** Keeps an orphan (already checked to be worth it) in its sender's share. @example waiting.addOrphan(bytes, hex, now, work) */
  addOrphan(bytes: Uint8Array, hex: string, now: number, work: BlockWork): void {
    const { added, evicted } = this.#orphans.add(bytes, now, work.peer === undefined ? work.source : `peer:${work.peer}`);
    for (const o of evicted) this.#orphanSources.delete(hashToHex(o.hash));
    if (added) this.#orphanSources.set(hex, work.source);
  }

  /** Takes out the orphans whose parent this is, as work for the block path. @example waiting.takeOrphans(parentHash) */
  takeOrphans(parentHash: Uint8Array): BlockWork[] {
    return this.#orphans.takeChildren(parentHash).map((o) => {
      const hex = hashToHex(o.hash);
      const source = this.#orphanSources.get(hex) ?? 'peer';
      this.#orphanSources.delete(hex);
      return { input: o.bytes, source };
    });
  }

  /** Drops orphans older than `maxAgeSeconds`. @example waiting.expireOrphans(now, 20 * 60) */
  expireOrphans(now: number, maxAgeSeconds: number): void {
    for (const o of this.#orphans.expire(now, maxAgeSeconds)) this.#orphanSources.delete(hashToHex(o.hash));
    for (const hex of this.#orphanSources.keys()) if (!this.#orphans.has(hex)) this.#orphanSources.delete(hex);
  }

  /** Holds a TIME_TOO_NEW block; the retry timer calls `onHeldDue`. @example waiting.hold(hex, block, 'peer') */
  hold(hex: string, block: Block, source: Source): void {
    this.#held.set(hex, { block, source });
    while (this.#held.size > MAX_HELD) this.#held.delete(this.#held.keys().next().value!);
    if (this.#heldTimer === undefined) {
      this.#heldTimer = setTimeout(() => {
        this.#heldTimer = undefined;
        this.#onHeldDue();
      }, this.#heldRetryMs);
      (this.#heldTimer as { unref?: () => void }).unref?.();
    }
  }

  /** Forgets a held block (sent again: it is simply re-checked). @example waiting.unhold(hex) */
  unhold(hex: string): void {
    this.#held.delete(hex);
  }

  /** The held blocks, oldest first. @example for (const h of waiting.held()) … */
  held(): HeldBlock[] {
    return [...this.#held.values()];
  }

  /** Stops the retry timer. @example waiting.close() */
  close(): void {
    if (this.#heldTimer !== undefined) clearTimeout(this.#heldTimer);
  }
}
