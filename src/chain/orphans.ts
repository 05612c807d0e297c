/**
 * The orphan pool: blocks that arrived before their parent. They are kept, bounded in count and
 * bytes, until the parent connects (then {@link OrphanPool.takeChildren} hands them back) or they
 * expire; their missing roots are what to ask peers for. Like Bitcoin Core's old
 * `mapOrphanBlocks` / btcd's `orphanBlocks` (oldest evicted first), with a byte bound added so a
 * peer cannot pin megabytes of junk in a tab.
 *
 * Pure: the caller passes the current time (seconds) in.
 * @module
 */
import { blockHash } from './header.ts';
import { hashToHex } from './hash.ts';
import type { Block } from './types.ts';

/** One orphan with its bookkeeping. */
export interface OrphanEntry {
  block: Block;
  hash: Uint8Array;
  /** Encoded size in bytes, as counted against the byte bound. */
  size: number;
  /** Arrival time, seconds. */
  receivedAt: number;
}

/** Default bounds. */
export const DEFAULT_MAX_ORPHANS = 100;
export const DEFAULT_MAX_ORPHAN_BYTES = 8 * 1024 * 1024;

/**
 * A bounded pool of blocks whose parent is unknown, keyed by hash and indexed by parent hash.
 * @example
 * ```ts
 * const orphans = new OrphanPool();
 * if (!index.has(block.header.prevHash)) {
 *   orphans.add(block, bytes.length, nowSeconds);
 *   for (const h of orphans.missingParents()) peer.requestBlock(h);
 * }
 * // later, when `parent` connected:
 * for (const child of orphans.takeChildren(parentHash)) processBlock(child);
 * ```
 */
export class OrphanPool {
  readonly maxCount: number;
  readonly maxBytes: number;
  /** Insertion order = age order (a Map iterates in insertion order). */
  private readonly byHash = new Map<string, OrphanEntry>();
  private readonly byPrev = new Map<string, Set<string>>();
  private totalBytes = 0;

  constructor(opts: { maxCount?: number; maxBytes?: number } = {}) {
    this.maxCount = opts.maxCount ?? DEFAULT_MAX_ORPHANS;
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_ORPHAN_BYTES;
    if (!(Number.isInteger(this.maxCount) && this.maxCount >= 1)) throw new RangeError('OrphanPool: maxCount');
    if (!(Number.isInteger(this.maxBytes) && this.maxBytes >= 1)) throw new RangeError('OrphanPool: maxBytes');
  }

  /** Number of orphans held. @example orphans.size */
  get size(): number {
    return this.byHash.size;
  }

  /** Total bytes held. @example orphans.bytes <= orphans.maxBytes */
  get bytes(): number {
    return this.totalBytes;
  }

  /**
   * Adds an orphan block. Returns false if it is already held or is larger than the whole byte
   * bound; otherwise adds it and evicts the oldest orphans until both bounds hold again.
   * @example
   * ```ts
   * orphans.add(block, encodeBlock(block).length, Math.floor(Date.now() / 1000));
   * ```
   */
  add(block: Block, size: number, now: number): boolean {
    if (!(Number.isInteger(size) && size >= 0)) throw new RangeError('OrphanPool.add: size');
    if (size > this.maxBytes) return false;
    const hash = blockHash(block.header);
    const key = hashToHex(hash);
    if (this.byHash.has(key)) return false;
    const entry: OrphanEntry = { block, hash, size, receivedAt: now };
    this.byHash.set(key, entry);
    const prevKey = hashToHex(block.header.prevHash);
    let siblings = this.byPrev.get(prevKey);
    if (!siblings) this.byPrev.set(prevKey, (siblings = new Set()));
    siblings.add(key);
    this.totalBytes += size;
    while (this.byHash.size > this.maxCount || this.totalBytes > this.maxBytes) {
      const oldest = this.byHash.keys().next().value as string;
      this.remove(oldest);
    }
    return true;
  }

  private remove(key: string): OrphanEntry | undefined {
    const entry = this.byHash.get(key);
    if (!entry) return undefined;
    this.byHash.delete(key);
    this.totalBytes -= entry.size;
    const prevKey = hashToHex(entry.block.header.prevHash);
    const siblings = this.byPrev.get(prevKey);
    if (siblings) {
      siblings.delete(key);
      if (siblings.size === 0) this.byPrev.delete(prevKey);
    }
    return entry;
  }

  /** Whether an orphan with this hash (bytes or display hex) is held. @example orphans.has(hash) */
  has(hash: Uint8Array | string): boolean {
    return this.byHash.has(typeof hash === 'string' ? hash.toLowerCase() : hashToHex(hash));
  }

  /** The orphan with this hash, if held. @example orphans.get(hash)?.block */
  get(hash: Uint8Array | string): OrphanEntry | undefined {
    return this.byHash.get(typeof hash === 'string' ? hash.toLowerCase() : hashToHex(hash));
  }

  /**
   * Removes and returns the orphans whose parent is `parentHash`, oldest first. Call it again
   * with each returned block's hash once that block connected, to walk down a chain of orphans.
   * @example
   * ```ts
   * const queue = [connectedHash];
   * while (queue.length) for (const o of orphans.takeChildren(queue.shift()!)) if (process(o.block)) queue.push(o.hash);
   * ```
   */
  takeChildren(parentHash: Uint8Array | string): OrphanEntry[] {
    const prevKey = typeof parentHash === 'string' ? parentHash.toLowerCase() : hashToHex(parentHash);
    const keys = this.byPrev.get(prevKey);
    if (!keys) return [];
    const out: OrphanEntry[] = [];
    for (const k of [...keys]) {
      const e = this.remove(k);
      if (e) out.push(e);
    }
    out.sort((a, b) => a.receivedAt - b.receivedAt);
    return out;
  }

  /**
   * Removes orphans older than `maxAgeSeconds` (received before `now − maxAgeSeconds`). Returns
   * the removed entries.
   * @example
   * ```ts
   * orphans.expire(now, 20 * 60);
   * ```
   */
  expire(now: number, maxAgeSeconds: number): OrphanEntry[] {
    const removed: OrphanEntry[] = [];
    for (const [key, e] of [...this.byHash]) {
      if (now - e.receivedAt > maxAgeSeconds) removed.push(this.remove(key)!);
    }
    return removed;
  }

  /**
   * Parent hashes (internal order) that no held orphan provides: the roots of the orphan chains,
   * to request from peers. A chain A ← B ← C of orphans yields only A's parent.
   * @example
   * ```ts
   * for (const h of orphans.missingParents()) if (!index.has(h)) peer.getBlock(h);
   * ```
   */
  missingParents(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const [prevKey, children] of this.byPrev) {
      if (this.byHash.has(prevKey)) continue;
      const first = this.byHash.get(children.values().next().value as string)!;
      out.push(first.block.header.prevHash);
    }
    return out;
  }

  /** All held orphans, oldest first. @example orphans.all().length === orphans.size */
  all(): OrphanEntry[] {
    return [...this.byHash.values()];
  }
}
