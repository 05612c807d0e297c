/**
 * Block templates for the miner (Bitcoin Core `BlockAssembler::CreateNewBlock`): the header on
 * top of `prev` with the required bits and a valid time, a coinbase, and the mempool transactions
 * that pay the most per byte, in an order that applies.
 *
 * Selection is Core's ancestor-feerate package selection adapted to accounts: a sender's pending
 * transactions form a nonce chain (n + 1 cannot go before n), so a "package" is a prefix of the
 * chain that is still unselected, scored by its total fee / total size; the best package over all
 * senders goes first. This is plain "highest fee rate first" when each sender has one tx, and it
 * lets a high-fee tx pull in its lower-fee predecessor (child pays for parent). Each tx is applied
 * in a savepoint of the state on top of the ones before it; one that fails is skipped together
 * with the rest of its sender's chain (they need it), and the block byte and count limits are
 * respected. The state is rolled back at the end: building a template never changes it.
 * @module
 */
import { applyTx, matureRewards } from './apply.ts';
import { nextBits } from './asert.ts';
import { merkleRoot } from './block.ts';
import { RuleError } from './errors.ts';
import { varintSize } from './codec.ts';
import { HEADER_BYTES } from './header.ts';
import { type Mempool, type MempoolEntry } from './mempool.ts';
import { BLOCK_VERSION } from './params.ts';
import { bitsToTarget } from './pow.ts';
import type { ChainState } from './state.ts';
import { makeCoinbase, txSize } from './tx.ts';
import type { Block, HeaderEntry, NetworkParams, Transaction } from './types.ts';

/** Inputs of {@link buildBlockTemplate}. */
export interface TemplateInput {
  params: NetworkParams;
  /** The state after `prev` (only read: a savepoint is rolled back). */
  state: ChainState;
  /** The tip to build on. */
  prev: HeaderEntry;
  mempool: Mempool;
  /** Who gets the reward (32-byte public key). */
  minerPubKey: Uint8Array;
  /** Current (network-adjusted) time, seconds. */
  now: number;
  /** Median time past of `prev` and its 10 predecessors; the block's time must exceed it. */
  medianTimePast: number;
  /** Time of block 1, the ASERT anchor; required once prev.height ≥ 1. */
  block1Time?: number;
  /** Coinbase extra nonce (default 0). */
  extraNonce?: bigint;
}

/** A block ready to mine: only `block.header.nonce` (and the extra nonce) remain to be searched. */
export interface BlockTemplate {
  block: Block;
  height: number;
  /** Sum of the fees of the included transactions (the coinbase earns reward + fees). */
  fees: bigint;
  /** Target that the block hash must not exceed (from `block.header.bits`). */
  target: bigint;
  /** The mempool entries included, in block order. */
  entries: MempoolEntry[];
  /** Encoded block size in bytes. */
  size: number;
}

const MAX_U64 = (1n << 64n) - 1n;

/** A sender's selectable chain while the template is built. */
interface Cursor {
  chain: MempoolEntry[];
  /** Next index to select. */
  pos: number;
  /** Entries at or past this index are out (failed, or do not fit). */
  limit: number;
  /** Best package = chain[pos..end] inclusive, with its totals; bumped on change. */
  end: number;
  fee: bigint;
  size: number;
  version: number;
}

/** Picks the best-scoring prefix of chain[pos..limit). */
function scoreCursor(c: Cursor): void {
  let fee = 0n;
  let size = 0;
  let bestFee = -1n;
  let bestSize = 1;
  let bestEnd = -1;
  for (let k = c.pos; k < c.limit; k++) {
    fee += c.chain[k].fee;
    size += c.chain[k].size;
    // fee/size ≥ bestFee/bestSize: ties take the longer package.
    if (bestEnd < 0 || fee * BigInt(bestSize) >= bestFee * BigInt(size)) {
      bestFee = fee;
      bestSize = size;
      bestEnd = k;
    }
  }
  c.end = bestEnd;
  c.fee = bestFee;
  c.size = bestSize;
  c.version++;
}

interface HeapItem {
  cursor: Cursor;
  version: number;
  fee: bigint;
  size: number;
  seq: number;
}

/** Max-heap by package fee rate (ties: the package whose first tx arrived first). */
class PackageHeap {
  private readonly items: HeapItem[] = [];

  private above(a: HeapItem, b: HeapItem): boolean {
    const l = a.fee * BigInt(b.size);
    const r = b.fee * BigInt(a.size);
    return l > r || (l === r && a.seq < b.seq);
  }

  push(c: Cursor): void {
    if (c.end < c.pos) return;
    const item: HeapItem = { cursor: c, version: c.version, fee: c.fee, size: c.size, seq: c.chain[c.pos].seq };
    const a = this.items;
    a.push(item);
    for (let i = a.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (!this.above(a[i], a[p])) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }

  /** The best current package, skipping stale items. */
  pop(): Cursor | undefined {
    const a = this.items;
    while (a.length > 0) {
      const top = a[0];
      const last = a.pop()!;
      if (a.length > 0) {
        a[0] = last;
        for (let i = 0; ; ) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < a.length && this.above(a[l], a[m])) m = l;
          if (r < a.length && this.above(a[r], a[m])) m = r;
          if (m === i) break;
          [a[i], a[m]] = [a[m], a[i]];
          i = m;
        }
      }
      if (top.version === top.cursor.version) return top.cursor;
    }
    return undefined;
  }
}

/** Bytes a transaction of encoded size `size` adds to a block (length prefix + bytes). */
function txCost(size: number): number {
  return varintSize(size) + size;
}

/**
 * Builds a block template on `prev` (see the module doc for the selection): header with
 * `bits = nextBits(params, prev)`, `time = max(now, medianTimePast + 1)`, nonce 0, the merkle root
 * of coinbase + selected txs; coinbase `makeCoinbase(params, height, minerPubKey, extraNonce)`.
 * @example
 * ```ts
 * const t = buildBlockTemplate({ params, state, prev: tip, mempool, minerPubKey, now,
 *   medianTimePast: medianTimePast(index.timesForMtp(tip)), block1Time });
 * const header = mine(t.block.header, t.target);
 * ```
 */
export function buildBlockTemplate(input: TemplateInput): BlockTemplate {
  const { params, state, prev, mempool, minerPubKey, now, medianTimePast } = input;
  const extraNonce = input.extraNonce ?? 0n;
  const height = prev.height + 1;
  const bits = nextBits(params, { height: prev.height, time: prev.header.time }, input.block1Time);
  const target = bitsToTarget(bits);
  const time = Math.max(Math.floor(now), medianTimePast + 1);

  // Room for the coinbase at its largest extra nonce, so withExtraNonce never outgrows the limit.
  const coinbaseCost = txCost(txSize(makeCoinbase(params, height, minerPubKey, MAX_U64)));
  const maxTxs = params.maxBlockTxs - 1;
  let bytesUsed = HEADER_BYTES + coinbaseCost; // + varintSize(count), added when checking
  let count = 0;
  let fees = 0n;
  const selected: MempoolEntry[] = [];
  const fits = (extraBytes: number, extraCount: number) =>
    count + extraCount <= maxTxs && bytesUsed + extraBytes + varintSize(1 + count + extraCount) <= params.maxBlockBytes;

  const txCtx = { params, height };
  state.begin();
  try {
    matureRewards(state, params, height);
    const heap = new PackageHeap();
    for (const chain of mempool.senderChains()) {
      // Only the gap-free run from the sender's next nonce can apply.
      let next = state.account(chain[0].tx.from).nonce + 1;
      const runnable: MempoolEntry[] = [];
      for (const e of chain) {
        if (e.nonce < next) continue;
        if (e.nonce !== next) break;
        runnable.push(e);
        next++;
      }
      if (runnable.length === 0) continue;
      const c: Cursor = { chain: runnable, pos: 0, limit: runnable.length, end: -1, fee: 0n, size: 0, version: 0 };
      scoreCursor(c);
      heap.push(c);
    }

    for (let c = heap.pop(); c !== undefined; c = heap.pop()) {
      // Shrink the package to what still fits; what does not fit now never will.
      let end = c.end;
      let extraBytes = 0;
      for (let k = c.pos; k <= c.end; k++) extraBytes += txCost(c.chain[k].size);
      while (end >= c.pos && !fits(extraBytes, end - c.pos + 1)) {
        extraBytes -= txCost(c.chain[end].size);
        end--;
      }
      if (end < c.end) {
        // Drop the entries past the fitting part of this package (they follow in nonce order).
        c.limit = end + 1;
        scoreCursor(c);
        heap.push(c);
        continue;
      }
      for (let k = c.pos; k <= c.end; k++) {
        const e = c.chain[k];
        try {
          applyTx(state, e.tx, txCtx);
        } catch (err) {
          if (!(err instanceof RuleError)) throw err;
          c.limit = k; // this one and every later nonce of the sender are out
          break;
        }
        selected.push(e);
        fees += e.fee;
        bytesUsed += txCost(e.size);
        count++;
        c.pos = k + 1;
      }
      if (c.pos < c.limit) {
        scoreCursor(c);
        heap.push(c);
      }
    }
  } finally {
    state.rollback();
  }

  const coinbase = makeCoinbase(params, height, minerPubKey, extraNonce);
  const txs: Transaction[] = [coinbase, ...selected.map((e) => e.tx)];
  const block: Block = {
    header: { version: BLOCK_VERSION, prevHash: prev.hash, merkleRoot: merkleRoot(txs), time, bits, nonce: 0 },
    txs,
  };
  const size = HEADER_BYTES + varintSize(txs.length) + txCost(txSize(coinbase)) + selected.reduce((n, e) => n + txCost(e.size), 0);
  return { block, height, fees, target, entries: selected, size };
}

/**
 * The same template with another coinbase extra nonce: new coinbase, new merkle root, header
 * nonce reset to 0 (the miner rolls the extra nonce when the 2^32 header nonces are exhausted).
 * @example
 * ```ts
 * if (nonce === 0xffffffff) template = withExtraNonce(template, extraNonce + 1n);
 * ```
 */
export function withExtraNonce(template: BlockTemplate, extraNonce: bigint): BlockTemplate {
  const old = template.block.txs[0];
  if (old?.kind !== 'coinbase') throw new TypeError('withExtraNonce: the template has no coinbase');
  if (typeof extraNonce !== 'bigint' || extraNonce < 0n || extraNonce > MAX_U64) throw new RangeError('withExtraNonce: extraNonce must be a u64');
  const coinbase = { ...old, extraNonce };
  const txs = [coinbase, ...template.block.txs.slice(1)];
  const size = template.size - txCost(txSize(old)) + txCost(txSize(coinbase));
  return {
    ...template,
    block: { header: { ...template.block.header, merkleRoot: merkleRoot(txs), nonce: 0 }, txs },
    size,
  };
}
