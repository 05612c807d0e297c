/**
 * The header index: every block header we know, as a tree rooted at genesis, with cumulative
 * work, validity status and whether the body is stored — the in-memory `mapBlockIndex` /
 * `CBlockIndex` tree of Bitcoin Core, from which fork choice reads the most-work tip.
 *
 * - Heights and chainwork are computed from the parent when a header is added (the parent must be
 *   known); entries loaded from storage keep theirs.
 * - Fork choice: most cumulative work among entries that are not invalid; equal work keeps the
 *   first seen (Bitcoin Core's `nSequenceId` tie-break in `CBlockIndexWorkComparator`).
 * - `ancestorAt` uses skip pointers (Bitcoin Core `CBlockIndex::pskip` / `GetAncestor`), so it
 *   takes O(log n) steps even on chains of hundreds of thousands of headers.
 * - Locators and `headersAfter` serve headers-first sync (Bitcoin Core `CChain::GetLocator`,
 *   `FindForkInGlobalIndex`, the `getheaders` handler).
 *
 * Entries handed out are the index's own objects: treat them as read-only and change status with
 * {@link HeaderIndex.setStatus} / {@link HeaderIndex.markInvalid} / {@link HeaderIndex.setHasBody}.
 * Hashes are accepted as bytes (internal order) or display hex (as `hashToHex` prints them).
 * @module
 */
import { RuleError } from './errors.ts';
import { blockHash } from './header.ts';
import { hashToHex } from './hash.ts';
import { workForBits } from './pow.ts';
import type { BlockHeader, HeaderEntry, HeaderStatus } from './types.ts';

/** A block hash: 32 bytes in internal order, or 64 hex digits in display order. */
export type HashLike = Uint8Array | string;

/** Most headers returned for one `getheaders` request (Bitcoin Core `MAX_HEADERS_RESULTS`). */
export const MAX_HEADERS_RESULTS = 2000;

/** The path a reorganisation takes from one tip to another. */
export interface ReorgPath {
  /** Last common ancestor of both tips. */
  fork: HeaderEntry;
  /** Blocks to disconnect, from the old tip down, excluding the fork point. */
  disconnect: HeaderEntry[];
  /** Blocks to connect, from the fork point + 1 up to the new tip. */
  connect: HeaderEntry[];
}

interface Node {
  entry: HeaderEntry;
  key: string;
  parent: Node | null;
  skip: Node | null;
  children: Node[];
  /** Insertion order; lower = seen first. */
  seq: number;
  /** This entry and all its ancestors have their bodies stored (Bitcoin Core `HaveNumChainTxs`). */
  fullChain: boolean;
}

function keyOf(hash: HashLike): string {
  return typeof hash === 'string' ? hash.toLowerCase() : hashToHex(hash);
}

// Bitcoin Core chain.cpp: turn the lowest '1' bit in the binary representation of a number off.
function invertLowestOne(n: number): number {
  return n & (n - 1);
}

// Bitcoin Core chain.cpp `GetSkipHeight`: the height the skip pointer of a block at `height`
// points to. Any number strictly lower than height would do; this choice makes GetAncestor
// O(log n) while keeping the pointers of nearby blocks diverse.
function skipHeight(height: number): number {
  if (height < 2) return 0;
  return height & 1 ? invertLowestOne(invertLowestOne(height - 1)) + 1 : invertLowestOne(height);
}

// Bitcoin Core `CBlockIndex::GetAncestor`.
function ancestorNode(node: Node, height: number): Node | undefined {
  if (height > node.entry.height || height < 0) return undefined;
  let walk: Node = node;
  let heightWalk = node.entry.height;
  while (heightWalk > height) {
    const heightSkip = skipHeight(heightWalk);
    const heightSkipPrev = skipHeight(heightWalk - 1);
    if (
      walk.skip !== null &&
      (heightSkip === height ||
        (heightSkip > height && !(heightSkipPrev < heightSkip - 2 && heightSkipPrev >= height)))
    ) {
      walk = walk.skip;
      heightWalk = heightSkip;
    } else {
      walk = walk.parent!;
      heightWalk--;
    }
  }
  return walk;
}

/** Better = more work, then seen first. */
function better(a: Node, b: Node): boolean {
  const wa = a.entry.chainwork;
  const wb = b.entry.chainwork;
  return wa > wb || (wa === wb && a.seq < b.seq);
}

/**
 * In-memory tree of block headers with fork choice.
 * @example
 * ```ts
 * const index = new HeaderIndex(params.genesis.header);
 * index.add(header, { status: 'valid', hasBody: false });
 * const tip = index.bestTip();
 * const { disconnect, connect } = index.reorgPath(current, tip);
 * ```
 */
export class HeaderIndex {
  private readonly nodes = new Map<string, Node>();
  private readonly genesisNode: Node;
  private nextSeq = 0;
  private best: Node;
  private bestFull: Node;

  constructor(genesis: BlockHeader) {
    const hash = blockHash(genesis);
    const entry: HeaderEntry = {
      hash,
      header: genesis,
      height: 0,
      chainwork: workForBits(genesis.bits),
      status: 'valid',
      hasBody: true,
    };
    this.genesisNode = this.insert(entry, null);
    this.best = this.genesisNode;
    this.bestFull = this.genesisNode;
  }

  /** Number of headers in the index, genesis included. @example index.size */
  get size(): number {
    return this.nodes.size;
  }

  /** The genesis entry. @example index.genesis.height // 0 */
  get genesis(): HeaderEntry {
    return this.genesisNode.entry;
  }

  private insert(entry: HeaderEntry, parent: Node | null): Node {
    const node: Node = {
      entry,
      key: hashToHex(entry.hash),
      parent,
      skip: null,
      children: [],
      seq: this.nextSeq++,
      fullChain: entry.hasBody && (parent === null || parent.fullChain),
    };
    if (parent) {
      parent.children.push(node);
      node.skip = ancestorNode(parent, skipHeight(entry.height)) ?? null;
    }
    this.nodes.set(node.key, node);
    return node;
  }

  private node(hash: HashLike): Node {
    const n = this.nodes.get(keyOf(hash));
    if (!n) throw new Error(`HeaderIndex: unknown block ${keyOf(hash)}`);
    return n;
  }

  private nodeOfEntry(entry: HeaderEntry): Node {
    return this.node(entry.hash);
  }

  /** Offers a node as a fork-choice candidate (no rescan). */
  private consider(node: Node): void {
    if (node.entry.status === 'invalid') return;
    if (better(node, this.best)) this.best = node;
    if (node.fullChain && better(node, this.bestFull)) this.bestFull = node;
  }

  /** Full rescan, after an invalidation removed the best candidates. O(n). */
  private recomputeBest(): void {
    let best = this.genesisNode;
    let bestFull = this.genesisNode;
    for (const n of this.nodes.values()) {
      if (n.entry.status === 'invalid') continue;
      if (better(n, best)) best = n;
      if (n.fullChain && better(n, bestFull)) bestFull = n;
    }
    this.best = best;
    this.bestFull = bestFull;
  }

  /**
   * Adds a header whose parent is known; height and chainwork come from the parent. Adding a
   * known header returns the existing entry unchanged. A header whose parent is invalid is stored
   * as invalid (Bitcoin Core `BLOCK_FAILED_CHILD`), so descendants of a bad block never win fork
   * choice. Throws RuleError BAD_PREV if the parent is unknown (an orphan: see OrphanPool).
   * @example
   * ```ts
   * const entry = index.add(header, { status: 'headers-only', hasBody: false });
   * entry.height // parent.height + 1
   * ```
   */
  add(header: BlockHeader, opts: { status: HeaderStatus; hasBody: boolean }): HeaderEntry {
    const hash = blockHash(header);
    const existing = this.nodes.get(hashToHex(hash));
    if (existing) return existing.entry;
    const parent = this.nodes.get(hashToHex(header.prevHash));
    if (!parent) throw new RuleError('BAD_PREV', `parent ${hashToHex(header.prevHash)} unknown`);
    const entry: HeaderEntry = {
      hash,
      header,
      height: parent.entry.height + 1,
      chainwork: parent.entry.chainwork + workForBits(header.bits),
      status: parent.entry.status === 'invalid' ? 'invalid' : opts.status,
      hasBody: opts.hasBody,
    };
    const node = this.insert(entry, parent);
    this.consider(node);
    return entry;
  }

  /**
   * Bulk-loads entries read from storage, keeping their stored height, chainwork and status
   * (nothing is recomputed but the links). Entries may come in any order; each one's parent must
   * be in the index or in the batch. Already-known hashes are skipped. `preferredTip` (the tip the
   * node was on when it stopped) wins ties in work against everything else, since the first-seen
   * order of a previous session is not stored.
   * @example
   * ```ts
   * index.load(await store.allHeaderEntries(), { preferredTip: await store.tipHash() });
   * ```
   */
  load(entries: Iterable<HeaderEntry>, opts: { preferredTip?: HashLike } = {}): void {
    const batch = [...entries].filter((e) => !this.nodes.has(hashToHex(e.hash)));
    batch.sort((a, b) => a.height - b.height);
    for (const e of batch) {
      const parent = this.nodes.get(hashToHex(e.header.prevHash));
      if (!parent) throw new Error(`HeaderIndex.load: parent of ${hashToHex(e.hash)} missing`);
      if (e.height !== parent.entry.height + 1) {
        throw new Error(`HeaderIndex.load: height of ${hashToHex(e.hash)} inconsistent with parent`);
      }
      this.insert(e, parent);
    }
    if (opts.preferredTip !== undefined) {
      const tip = this.nodes.get(keyOf(opts.preferredTip));
      if (tip) tip.seq = -1;
    }
    this.recomputeBest();
  }

  /** The entry of a hash, or undefined. @example index.get(hashHex)?.height */
  get(hash: HashLike): HeaderEntry | undefined {
    return this.nodes.get(keyOf(hash))?.entry;
  }

  /** Whether a hash is in the index. @example if (!index.has(h.prevHash)) orphans.add(...) */
  has(hash: HashLike): boolean {
    return this.nodes.has(keyOf(hash));
  }

  /** The parent entry (undefined for genesis). @example index.parentOf(tip) */
  parentOf(entry: HeaderEntry): HeaderEntry | undefined {
    return this.nodeOfEntry(entry).parent?.entry;
  }

  /** Every entry, in insertion order. @example [...index.entries()].length */
  *entries(): IterableIterator<HeaderEntry> {
    for (const n of this.nodes.values()) yield n.entry;
  }

  /**
   * The ancestor of `entry` at `height` (the entry itself at its own height), or undefined if
   * height is negative or above the entry. O(log n) via skip pointers.
   * @example
   * ```ts
   * index.ancestorAt(tip, 0) === index.genesis // true
   * ```
   */
  ancestorAt(entry: HeaderEntry, height: number): HeaderEntry | undefined {
    return ancestorNode(this.nodeOfEntry(entry), height)?.entry;
  }

  /**
   * Whether `ancestor` is `entry` or one of its ancestors.
   * @example index.isAncestor(index.genesis, tip) // true
   */
  isAncestor(ancestor: HeaderEntry, entry: HeaderEntry): boolean {
    const a = this.ancestorAt(entry, ancestor.height);
    return a !== undefined && a === this.nodeOfEntry(ancestor).entry;
  }

  /**
   * The most-work entry that is not invalid; equal work keeps the first seen. This is the chain
   * to sync towards (its bodies may still be missing).
   * @example
   * ```ts
   * if (index.bestTip() !== currentTip) requestBlocksTowards(index.bestTip());
   * ```
   */
  bestTip(): HeaderEntry {
    return this.best.entry;
  }

  /**
   * Like {@link bestTip}, among entries whose whole chain down to genesis has bodies stored: the
   * tip the node can actually try to connect now (Bitcoin Core `setBlockIndexCandidates`).
   * @example
   * ```ts
   * const { disconnect, connect } = index.reorgPath(active, index.bestFullTip());
   * ```
   */
  bestFullTip(): HeaderEntry {
    return this.bestFull.entry;
  }

  /**
   * The last common ancestor of two entries (Bitcoin Core `LastCommonAncestor`).
   * @example index.forkPoint(a, b).height
   */
  forkPoint(a: HeaderEntry, b: HeaderEntry): HeaderEntry {
    let na = this.nodeOfEntry(a);
    let nb = this.nodeOfEntry(b);
    if (na.entry.height > nb.entry.height) na = ancestorNode(na, nb.entry.height)!;
    else if (nb.entry.height > na.entry.height) nb = ancestorNode(nb, na.entry.height)!;
    while (na !== nb) {
      // Skip pointers of equal heights point to equal heights, so both may jump together.
      if (na.skip !== null && nb.skip !== null && na.skip !== nb.skip) {
        na = na.skip;
        nb = nb.skip;
      } else {
        na = na.parent!;
        nb = nb.parent!;
      }
    }
    return na.entry;
  }

  /**
   * Blocks to disconnect and connect to move the active chain from `fromTip` to `toTip`.
   * @example
   * ```ts
   * const { fork, disconnect, connect } = index.reorgPath(active, index.bestFullTip());
   * for (const e of disconnect) undoBlock(state, await store.undo(e.hash));
   * for (const e of connect) connectBlock(state, await store.block(e.hash), ctxFor(e));
   * ```
   */
  reorgPath(fromTip: HeaderEntry, toTip: HeaderEntry): ReorgPath {
    const fork = this.nodeOfEntry(this.forkPoint(fromTip, toTip));
    const disconnect: HeaderEntry[] = [];
    for (let n = this.nodeOfEntry(fromTip); n !== fork; n = n.parent!) disconnect.push(n.entry);
    const connect: HeaderEntry[] = [];
    for (let n = this.nodeOfEntry(toTip); n !== fork; n = n.parent!) connect.push(n.entry);
    connect.reverse();
    return { fork: fork.entry, disconnect, connect };
  }

  /**
   * Marks a block and every descendant invalid (Bitcoin Core `InvalidBlockFound` +
   * `BLOCK_FAILED_CHILD`) and moves fork choice off them. Returns the entries that changed from
   * another status to invalid, the block itself first. Genesis cannot be invalidated.
   * @example
   * ```ts
   * for (const e of index.markInvalid(badHash)) await store.putHeaderEntry(e);
   * ```
   */
  markInvalid(hash: HashLike): HeaderEntry[] {
    const root = this.node(hash);
    if (root === this.genesisNode) throw new Error('HeaderIndex: genesis cannot be invalid');
    const changed: HeaderEntry[] = [];
    const stack: Node[] = [root];
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (n.entry.status !== 'invalid') {
        n.entry.status = 'invalid';
        changed.push(n.entry);
      }
      for (const c of n.children) stack.push(c);
    }
    if (this.best.entry.status === 'invalid' || this.bestFull.entry.status === 'invalid') {
      this.recomputeBest();
    }
    return changed;
  }

  /**
   * Sets the status of one entry. Setting 'invalid' is {@link markInvalid} (descendants too).
   * Clearing 'invalid' (reconsidering a block) affects that entry only, and is refused while its
   * parent is invalid.
   * @example
   * ```ts
   * index.setStatus(entry.hash, 'valid'); // connected successfully
   * ```
   */
  setStatus(hash: HashLike, status: HeaderStatus): HeaderEntry {
    const n = this.node(hash);
    if (status === 'invalid') {
      this.markInvalid(hash);
      return n.entry;
    }
    if (n.parent && n.parent.entry.status === 'invalid') {
      throw new Error('HeaderIndex.setStatus: parent is invalid');
    }
    const wasInvalid = n.entry.status === 'invalid';
    n.entry.status = status;
    if (wasInvalid) this.recomputeBest();
    return n.entry;
  }

  /**
   * Records that a block's body is stored (or dropped). Storing a body may complete the chains
   * of descendants whose bodies arrived first, making them candidates for {@link bestFullTip}.
   * @example
   * ```ts
   * await store.putBlock(block); index.setHasBody(hash);
   * ```
   */
  setHasBody(hash: HashLike, hasBody = true): HeaderEntry {
    const n = this.node(hash);
    n.entry.hasBody = hasBody;
    if (hasBody) {
      if (n.parent !== null && !n.parent.fullChain) return n.entry;
      // Propagate fullChain down through children whose bodies are already here.
      const stack: Node[] = [n];
      while (stack.length > 0) {
        const m = stack.pop()!;
        if (m.fullChain) continue;
        m.fullChain = true;
        this.consider(m);
        for (const c of m.children) if (c.entry.hasBody) stack.push(c);
      }
    } else if (n.fullChain && n !== this.genesisNode) {
      const stack: Node[] = [n];
      while (stack.length > 0) {
        const m = stack.pop()!;
        if (!m.fullChain) continue;
        m.fullChain = false;
        for (const c of m.children) stack.push(c);
      }
      if (!this.bestFull.fullChain) this.recomputeBest();
    }
    return n.entry;
  }

  /**
   * A block locator for `tip` (Bitcoin Core `LocatorEntries`): the hashes of the tip and its 9
   * predecessors, then back in doubling steps, always ending with genesis. Internal byte order.
   * @example
   * ```ts
   * peer.getHeaders({ locator: index.locator(index.bestTip()) })
   * ```
   */
  locator(tip: HeaderEntry = this.bestTip()): Uint8Array[] {
    const out: Uint8Array[] = [];
    let node: Node | undefined = this.nodeOfEntry(tip);
    let step = 1;
    while (node) {
      out.push(node.entry.hash);
      if (node.entry.height === 0) break;
      const height = Math.max(node.entry.height - step, 0);
      node = ancestorNode(node, height);
      if (out.length > 10) step *= 2;
    }
    return out;
  }

  /**
   * The first locator hash that we know and that lies on the chain of `tip`, or genesis if none
   * does (Bitcoin Core `FindForkInGlobalIndex`). Unknown hashes and hashes on other branches are
   * skipped.
   * @example
   * ```ts
   * const fork = index.findFork(request.locator, activeTip);
   * ```
   */
  findFork(locatorHashes: readonly HashLike[], tip: HeaderEntry = this.bestTip()): HeaderEntry {
    const tipNode = this.nodeOfEntry(tip);
    for (const h of locatorHashes) {
      const n = this.nodes.get(keyOf(h));
      if (n && ancestorNode(tipNode, n.entry.height) === n) return n.entry;
    }
    return this.genesisNode.entry;
  }

  /**
   * Serves a `getheaders` request: the entries after the fork point of the locator along the
   * chain of `tip`, at most `max` (clamped to 2000), stopping after `stopHash` if it is reached.
   * @example
   * ```ts
   * const headers = index.headersAfter(req.locator, 2000, req.stop, activeTip).map((e) => e.header);
   * ```
   */
  headersAfter(
    locatorHashes: readonly HashLike[],
    max: number = MAX_HEADERS_RESULTS,
    stopHash?: HashLike,
    tip: HeaderEntry = this.bestTip(),
  ): HeaderEntry[] {
    const limit = Math.max(0, Math.min(Math.floor(max), MAX_HEADERS_RESULTS));
    const fork = this.findFork(locatorHashes, tip);
    const last = Math.min(tip.height, fork.height + limit);
    if (last <= fork.height) return [];
    const out: HeaderEntry[] = [];
    for (let n: Node = ancestorNode(this.nodeOfEntry(tip), last)!; n.entry.height > fork.height; n = n.parent!) {
      out.push(n.entry);
    }
    out.reverse();
    if (stopHash !== undefined) {
      const stopKey = keyOf(stopHash);
      const i = out.findIndex((e) => hashToHex(e.hash) === stopKey);
      if (i >= 0) out.length = i + 1;
    }
    return out;
  }

  /**
   * Timestamps for the median-time-past of the block after `entry`: the times of up to
   * `span - 1` ancestors and of `entry` itself (11 in all, Bitcoin Core `GetMedianTimePast`),
   * oldest first, so `entry`'s time is last (what `medianTimePast(times)` expects).
   * @example
   * ```ts
   * const mtp = medianTimePast(index.timesForMtp(prev));
   * ```
   */
  timesForMtp(entry: HeaderEntry, span = 11): number[] {
    const times: number[] = [];
    for (let n: Node | null = this.nodeOfEntry(entry); n && times.length < span; n = n.parent) {
      times.push(n.entry.header.time);
    }
    return times.reverse();
  }
}
