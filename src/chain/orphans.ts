/**
 * The orphan pool: blocks that arrived before their parent. They are kept, bounded in count and
 * bytes, until the parent connects (then {@link OrphanPool.takeChildren} hands them back) or they
 * expire; their missing roots are what to ask peers for. Like Bitcoin Core's old
 * `mapOrphanBlocks` / btcd's `orphanBlocks`, hardened against peers that send junk orphans
 * (issue 11: a dozen ~1 MiB junk orphans were kept and relayed, an "8 MiB" pool of decoded blocks
 * held ~50 MiB of heap, and 100 tiny orphans from one peer flushed another's):
 *
 * - what is kept must cost nearly a real block and be well formed: {@link orphanWorkSuffices}
 *   (its bits within {@link ORPHAN_MAX_EASIER} of the tip's) and {@link checkOrphanBody} (the
 *   cheap context-free body checks; signatures wait until the parent connects) — the caller runs
 *   both before {@link OrphanPool.add};
 * - orphans are held as their ENCODED BYTES (a copy owning its buffer, never a view that pins a
 *   larger one), with the decoded 80-byte header; the caller decodes the body again when the
 *   parent connects. So the byte bound is the memory actually held;
 * - each source (a peer, or the node's own path) holds at most {@link DEFAULT_MAX_ORPHANS_PER_SOURCE}
 *   orphans and 1/{@link ORPHAN_SOURCE_BYTES_SHARE} of the bytes: a source over its share loses its
 *   OWN oldest. When the whole pool is over a bound, the source holding the most of what is over
 *   (orphans for the count, bytes for the bytes; among equals the one holding the oldest orphan)
 *   loses its oldest — so a flood from one peer never evicts another peer's orphan.
 *
 * Pure: the caller passes the current time (seconds) in.
 * @module
 */
import { hashToHex } from './hash.ts';
import { HEADER_BYTES, blockHash, decodeHeader } from './header.ts';
import { workForBits } from './pow.ts';
import { checkBlockStructure } from './validate.ts';
import type { Block, BlockHeader, NetworkParams } from './types.ts';

/** One orphan with its bookkeeping. */
export interface OrphanEntry {
  /** The encoded block (its own buffer). Decode it when the parent has connected. */
  bytes: Uint8Array;
  header: BlockHeader;
  hash: Uint8Array;
  /** Encoded size in bytes, as counted against the byte bounds. */
  size: number;
  /** Arrival time, seconds. */
  receivedAt: number;
  /** Who sent it: the key of its per-source share. */
  source: string;
}

/** What {@link OrphanPool.add} did. */
export interface OrphanAddResult {
  /** Whether the block is held now (false: already held, larger than a source's share, or evicted at once). */
  added: boolean;
  /** Other orphans evicted to make room. */
  evicted: OrphanEntry[];
}

/** Bounds of an {@link OrphanPool}. */
export interface OrphanPoolOptions {
  /** Most orphans held (default 100). */
  maxCount?: number;
  /** Most encoded bytes held (default 8 MiB). */
  maxBytes?: number;
  /** Most orphans one source holds (default 8, at most `maxCount`). */
  maxCountPerSource?: number;
  /** Most bytes one source holds (default a quarter of `maxBytes`); a larger block is refused. */
  maxBytesPerSource?: number;
}

/**
 * Default bounds. 8 MiB of encoded blocks is what a tab holds now (it was ~50 MiB of heap when
 * decoded blocks were held); an honest orphan is a block or two that arrived just before the
 * sync that fetches its parent, so 8 full blocks is plenty.
 */
export const DEFAULT_MAX_ORPHANS = 100;
export const DEFAULT_MAX_ORPHAN_BYTES = 8 * 1024 * 1024;
/** Orphans one source may hold: an honest peer sends the blocks it connects, one per block interval. */
export const DEFAULT_MAX_ORPHANS_PER_SOURCE = 8;
/** One source may hold 1/n of the pool's bytes (2 MiB of 8: two full blocks). */
export const ORPHAN_SOURCE_BYTES_SHARE = 4;

/**
 * How much easier than the next block at our tip an orphan's bits may be. ASERT can lower the
 * difficulty legitimately over the blocks we have not seen yet (the orphan's ancestors): by half
 * per half-life that the chain falls behind schedule. 16 = 4 half-lives (4 h on main, 8 min on
 * dev) is generous for an honest orphan a few blocks ahead of us, and makes a junk orphan cost at
 * least 1/16 of a real block. A node much further behind catches up by headers-first sync (the
 * status poll), not through orphans.
 */
export const ORPHAN_MAX_EASIER = 16;

/**
 * Whether an orphan with `bits` is worth keeping when the next block at our tip needs
 * `requiredBits`: its work is at least 1/{@link ORPHAN_MAX_EASIER} of that block's.
 * @example if (!orphanWorkSuffices(block.header.bits, nextBits(params, tip, block1Time))) return 'low-work'
 */
export function orphanWorkSuffices(bits: number, requiredBits: number): boolean {
  return workForBits(bits) * BigInt(ORPHAN_MAX_EASIER) >= workForBits(requiredBits);
}

/**
 * The body checks an orphan must pass to be kept: {@link checkBlockStructure} (size, count,
 * merkle root, duplicates, coinbase position — no signature, that is the expensive part, done
 * when the parent has connected). Throws the RuleError.
 * @example checkOrphanBody(block, params) // before orphans.add(bytes, now, peer)
 */
export function checkOrphanBody(block: Block, params: Pick<NetworkParams, 'maxBlockBytes' | 'maxBlockTxs'>): void {
  checkBlockStructure(block, params);
}

interface Held extends OrphanEntry {
  /** Arrival order (ties of receivedAt, and the oldest of a source). */
  seq: number;
}

interface Share {
  /** Keys of the source's orphans, oldest first. */
  keys: Set<string>;
  bytes: number;
}

/**
 * A bounded pool of blocks whose parent is unknown, keyed by hash and indexed by parent hash,
 * with per-source shares.
 * @example
 * ```ts
 * const orphans = new OrphanPool();
 * if (!index.has(block.header.prevHash)) {
 *   checkOrphanBody(block, params);
 *   orphans.add(bytes, nowSeconds, peerId);
 *   for (const h of orphans.missingParents()) peer.requestBlock(h);
 * }
 * // later, when `parent` connected:
 * for (const child of orphans.takeChildren(parentHash)) processBlock(child.bytes);
 * ```
 */
export class OrphanPool {
  readonly maxCount: number;
  readonly maxBytes: number;
  readonly maxCountPerSource: number;
  readonly maxBytesPerSource: number;
  /** Insertion order = age order (a Map iterates in insertion order). */
  private readonly byHash = new Map<string, Held>();
  private readonly byPrev = new Map<string, Set<string>>();
  private readonly bySource = new Map<string, Share>();
  private totalBytes = 0;
  private nextSeq = 0;

  constructor(opts: OrphanPoolOptions = {}) {
    this.maxCount = opts.maxCount ?? DEFAULT_MAX_ORPHANS;
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_ORPHAN_BYTES;
    this.maxCountPerSource = opts.maxCountPerSource ?? Math.min(DEFAULT_MAX_ORPHANS_PER_SOURCE, this.maxCount);
    this.maxBytesPerSource = opts.maxBytesPerSource ?? Math.max(1, Math.floor(this.maxBytes / ORPHAN_SOURCE_BYTES_SHARE));
    for (const [k, v] of Object.entries({ maxCount: this.maxCount, maxBytes: this.maxBytes, maxCountPerSource: this.maxCountPerSource, maxBytesPerSource: this.maxBytesPerSource })) {
      if (!(Number.isSafeInteger(v) && v >= 1)) throw new RangeError(`OrphanPool: ${k} must be a positive integer`);
    }
  }

  /** Number of orphans held. @example orphans.size */
  get size(): number {
    return this.byHash.size;
  }

  /** Total bytes held. @example orphans.bytes <= orphans.maxBytes */
  get bytes(): number {
    return this.totalBytes;
  }

  /** Orphans and bytes held for one source. @example orphans.heldBy(peerId).count */
  heldBy(source: string): { count: number; bytes: number } {
    const share = this.bySource.get(source);
    return { count: share?.keys.size ?? 0, bytes: share?.bytes ?? 0 };
  }

  /**
   * Adds an encoded orphan block from `source` (its header is decoded here; check the body with
   * {@link checkOrphanBody} first). Refuses a block already held or larger than a source's share;
   * otherwise evicts until every bound holds again (see the module doc) — which may be the new
   * block itself if its source is the heaviest and holds nothing older. The bytes are copied if they are a view of a
   * larger buffer, so holding them never pins more than their size.
   * @example
   * ```ts
   * const { added, evicted } = orphans.add(bytes, Math.floor(Date.now() / 1000), peerId);
   * ```
   */
  add(bytes: Uint8Array, now: number, source = ''): OrphanAddResult {
    if (!(bytes instanceof Uint8Array) || bytes.length < HEADER_BYTES) throw new RangeError('OrphanPool.add: bytes must hold at least a header');
    const size = bytes.length;
    if (size > this.maxBytesPerSource) return { added: false, evicted: [] };
    const header = decodeHeader(bytes.subarray(0, HEADER_BYTES));
    const hash = blockHash(header);
    const key = hashToHex(hash);
    if (this.byHash.has(key)) return { added: false, evicted: [] };
    const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
    const entry: Held = { bytes: own, header, hash, size, receivedAt: now, source, seq: this.nextSeq++ };
    this.byHash.set(key, entry);
    const prevKey = hashToHex(header.prevHash);
    let siblings = this.byPrev.get(prevKey);
    if (!siblings) this.byPrev.set(prevKey, (siblings = new Set()));
    siblings.add(key);
    let share = this.bySource.get(source);
    if (!share) this.bySource.set(source, (share = { keys: new Set(), bytes: 0 }));
    share.keys.add(key);
    share.bytes += size;
    this.totalBytes += size;

    const evicted: OrphanEntry[] = [];
    const evictOldestOf = (s: Share) => evicted.push(this.remove(s.keys.values().next().value as string)!);
    // The new block is the source's newest, and alone it fits its share: it is never evicted here.
    while (share.keys.size > this.maxCountPerSource || share.bytes > this.maxBytesPerSource) evictOldestOf(share);
    while (this.byHash.size > this.maxCount || this.totalBytes > this.maxBytes) {
      evictOldestOf(this.heaviest(this.byHash.size > this.maxCount ? 'count' : 'bytes'));
    }
    const added = this.byHash.get(key) === entry;
    return { added, evicted: added ? evicted : evicted.filter((e) => e !== entry) };
  }

  /**
   * The share holding the most orphans (`by` 'count') or bytes; among equals the one holding the
   * oldest orphan (an honest orphan is useful only until its parent comes, so the fresh one is
   * worth more).
   */
  private heaviest(by: 'count' | 'bytes'): Share {
    let best: { share: Share; amount: number; oldest: number } | undefined;
    for (const share of this.bySource.values()) {
      const amount = by === 'count' ? share.keys.size : share.bytes;
      const oldest = this.byHash.get(share.keys.values().next().value as string)!.seq;
      if (best === undefined || amount > best.amount || (amount === best.amount && oldest < best.oldest)) best = { share, amount, oldest };
    }
    return best!.share;
  }

  private remove(key: string): Held | undefined {
    const entry = this.byHash.get(key);
    if (!entry) return undefined;
    this.byHash.delete(key);
    this.totalBytes -= entry.size;
    const prevKey = hashToHex(entry.header.prevHash);
    const siblings = this.byPrev.get(prevKey);
    if (siblings) {
      siblings.delete(key);
      if (siblings.size === 0) this.byPrev.delete(prevKey);
    }
    const share = this.bySource.get(entry.source)!;
    share.keys.delete(key);
    share.bytes -= entry.size;
    if (share.keys.size === 0) this.bySource.delete(entry.source);
    return entry;
  }

  /** Whether an orphan with this hash (bytes or display hex) is held. @example orphans.has(hash) */
  has(hash: Uint8Array | string): boolean {
    return this.byHash.has(typeof hash === 'string' ? hash.toLowerCase() : hashToHex(hash));
  }

  /** The orphan with this hash, if held. @example orphans.get(hash)?.bytes */
  get(hash: Uint8Array | string): OrphanEntry | undefined {
    return this.byHash.get(typeof hash === 'string' ? hash.toLowerCase() : hashToHex(hash));
  }

  /**
   * Removes and returns the orphans whose parent is `parentHash`, oldest first. Call it again
   * with each returned block's hash once that block connected, to walk down a chain of orphans.
   * @example
   * ```ts
   * const queue = [connectedHash];
   * while (queue.length) for (const o of orphans.takeChildren(queue.shift()!)) if (process(o.bytes)) queue.push(o.hash);
   * ```
   */
  takeChildren(parentHash: Uint8Array | string): OrphanEntry[] {
    const prevKey = typeof parentHash === 'string' ? parentHash.toLowerCase() : hashToHex(parentHash);
    const keys = this.byPrev.get(prevKey);
    if (!keys) return [];
    const out: Held[] = [];
    for (const k of [...keys]) {
      const e = this.remove(k);
      if (e) out.push(e);
    }
    out.sort((a, b) => a.receivedAt - b.receivedAt || a.seq - b.seq);
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
      out.push(first.header.prevHash);
    }
    return out;
  }

  /** All held orphans, oldest first. @example orphans.all().length === orphans.size */
  all(): OrphanEntry[] {
    return [...this.byHash.values()];
  }
}
