/**
 * Block validation tiers, as in Bitcoin Core (`CheckBlock` → `ContextualCheckBlockHeader` →
 * `ConnectBlock`) and btcd (`checkBlockSanity` → `checkBlockHeaderContext` → `connectBlock`):
 *
 * 1. {@link checkBlockSanity}: context-free — version, PoW against the block's own bits, size and
 *    transaction count, merkle root and CVE-2012-2459 duplicates, coinbase position, every
 *    transaction's sanity (including its signature).
 * 2. {@link checkHeaderContext}: against the parent — parent valid, bits == ASERT, time rules.
 * 3. {@link connectBlock}: against the state — {@link applyBlock}, producing the undo record.
 *
 * The same functions serve blocks from peers, from our own miner and from storage.
 * @module
 */
import { applyBlock } from './apply.ts';
import type { BlockContext } from './apply.ts';
import { nextBits } from './asert.ts';
import { blockSizeOfEncodings, computeMerkle } from './block.ts';
import { bytesToHex } from './bytes.ts';
import { RuleError, fail } from './errors.ts';
import { sha256d } from './hash.ts';
import { blockHash } from './header.ts';
import { checkProofOfWork } from './pow.ts';
import type { ChainState } from './state.ts';
import { checkEncodedTxSanity, encodeTx } from './tx.ts';
import type { SignatureCache } from './sigcache.ts';
import type { Block, BlockHeader, BlockUndo, HeaderEntry, NetworkParams } from './types.ts';

/**
 * Lowest accepted header version. tabchain blocks are version 1; higher versions are accepted (as
 * Bitcoin accepts them, leaving room for soft-fork signalling) and 0 is rejected (BAD_VERSION),
 * like Core's "bad-version" for obsolete versions.
 * @example if (header.version < MIN_BLOCK_VERSION) fail('BAD_VERSION')
 */
export const MIN_BLOCK_VERSION = 1;

/**
 * Codes by which a block body fails to match its header (Bitcoin Core's BLOCK_MUTATED): the
 * header may still be valid with the right transactions — e.g. a peer sent [a, b, c, c] for a
 * header committing to [a, b, c]. A node must not mark the header hash invalid for these; it
 * should drop the body and fetch it again (from another peer).
 * @example MUTATION_CODES.has(err.code)
 */
export const MUTATION_CODES: ReadonlySet<string> = new Set(['BAD_MERKLE', 'DUPLICATE_TX']);

/**
 * Whether `err` says the body does not match the header (see {@link MUTATION_CODES}).
 * @example if (isMutationError(e)) requestBlockAgain(hash); else index.markInvalid(hash)
 */
export function isMutationError(err: unknown): boolean {
  return err instanceof RuleError && MUTATION_CODES.has(err.code);
}

/**
 * Context-free block checks (Bitcoin Core `CheckBlock`, btcd `checkBlockSanity`), cheapest first:
 * - header.version ≥ {@link MIN_BLOCK_VERSION} (BAD_VERSION);
 * - PoW: hash ≤ target of its own bits, bits valid and ≤ powLimit (BAD_BITS / BAD_POW);
 * - at least one transaction (BAD_COINBASE: there is no coinbase), at most params.maxBlockTxs and
 *   encoded size ≤ params.maxBlockBytes (BLOCK_TOO_LARGE);
 * - merkle root over the full transaction bytes equals header.merkleRoot (BAD_MERKLE);
 * - no two identical transactions, checked by leaf hash, and no CVE-2012-2459 mutation
 *   (DUPLICATE_TX) — see {@link isMutationError};
 * - txs[0] is a coinbase and no other transaction is (BAD_COINBASE);
 * - checkTxSanity of every transaction (TX_TOO_LARGE, WRONG_CHAIN, BAD_AMOUNT, BAD_SIGNATURE, …).
 * The coinbase height is contextual and checked by applyBlock.
 * @example
 * ```ts
 * checkBlockSanity(decodeBlock(bytes), params); // throws RuleError
 * ```
 */
export function checkBlockSanity(block: Block, params: NetworkParams, opts: { sigCache?: SignatureCache } = {}): void {
  const { header, txs } = block;
  if (!(header.version >= MIN_BLOCK_VERSION)) fail('BAD_VERSION', `version ${header.version}`);
  checkProofOfWork(blockHash(header), header.bits, params.powLimit);
  const { encodings, leaves } = checkBlockStructureEncoded(block, params);
  for (let i = 0; i < txs.length; i++) checkEncodedTxSanity(txs[i], params, opts.sigCache, encodings[i], leaves[i]);
}

/**
 * The cheap part of {@link checkBlockSanity}'s body checks, in its order and with its codes — no
 * signature is verified, which is the expensive part (the orphan pool runs this before keeping a
 * block whose parent it lacks):
 * - at least one transaction (BAD_COINBASE: there is no coinbase), at most params.maxBlockTxs and
 *   encoded size ≤ params.maxBlockBytes (BLOCK_TOO_LARGE);
 * - merkle root over the full transaction bytes equals header.merkleRoot (BAD_MERKLE);
 * - no two identical transactions, checked by leaf hash, and no CVE-2012-2459 mutation
 *   (DUPLICATE_TX) — see {@link isMutationError};
 * - txs[0] is a coinbase and no other transaction is (BAD_COINBASE).
 * Returns the merkle leaves it computed (`txLeafHash` of each transaction, in order) for callers
 * that need them again.
 * @example checkBlockStructure(block, params) // throws RuleError
 */
export function checkBlockStructure(block: Block, params: Pick<NetworkParams, 'maxBlockBytes' | 'maxBlockTxs'>): Uint8Array[] {
  return checkBlockStructureEncoded(block, params).leaves;
}

/**
 * {@link checkBlockStructure}, also returning the encoding of each transaction (`encodeTx`, in
 * order), which it computes once for the block size and the merkle leaves (`txLeafHash` = sha256d
 * of it): for callers that need the encodings too (the signature preverifier's signing hashes).
 * @example const { encodings, leaves } = checkBlockStructureEncoded(block, params)
 */
export function checkBlockStructureEncoded(block: Block, params: Pick<NetworkParams, 'maxBlockBytes' | 'maxBlockTxs'>): { encodings: Uint8Array[]; leaves: Uint8Array[] } {
  const { header, txs } = block;
  if (txs.length === 0) fail('BAD_COINBASE', 'block has no transactions');
  if (txs.length > params.maxBlockTxs) fail('BLOCK_TOO_LARGE', `${txs.length} transactions > ${params.maxBlockTxs}`);
  // Encoded in order, as blockSize(block) encodes them (the same TypeError for the same tx).
  const encodings = txs.map(encodeTx);
  const size = blockSizeOfEncodings(encodings);
  if (size > params.maxBlockBytes) fail('BLOCK_TOO_LARGE', `${size} bytes > ${params.maxBlockBytes}`);

  const leaves = encodings.map(sha256d); // = txs.map(txLeafHash)
  const { root, mutated } = computeMerkle(leaves);
  if (!equal(root, header.merkleRoot)) fail('BAD_MERKLE', 'merkle root does not match the header');
  // CVE-2012-2459: [a, b, c] and [a, b, c, c] have the same root. Core catches it with the
  // mutation flag alone; an explicit duplicate check also rejects duplicates the flag cannot see.
  const seen = new Set<string>();
  for (const leaf of leaves) {
    const h = bytesToHex(leaf);
    if (seen.has(h)) fail('DUPLICATE_TX', 'the same transaction twice');
    seen.add(h);
  }
  if (mutated) fail('DUPLICATE_TX', 'mutated merkle tree');

  if (txs[0].kind !== 'coinbase') fail('BAD_COINBASE', 'first transaction is not a coinbase');
  for (let i = 1; i < txs.length; i++) if (txs[i].kind === 'coinbase') fail('BAD_COINBASE', `coinbase at position ${i}`);
  return { encodings, leaves };
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Median of the last (up to) 11 block times, Bitcoin Core `CBlockIndex::GetMedianTimePast`:
 * sort the times and take element ⌊n/2⌋ (for an even count, the upper middle). `times` are the
 * times of the parent and its ancestors in any order; only the last 11 given are used.
 * @example medianTimePast([5, 1, 3]) === 3
 */
export function medianTimePast(times: readonly number[], span = 11): number {
  if (times.length === 0) throw new RangeError('medianTimePast: no times');
  const window = times.slice(-span).sort((a, b) => a - b);
  return window[Math.floor(window.length / 2)];
}

/** Context for {@link checkHeaderContext}. @example { params, medianTimePast: mtp, now, block1Time } */
export interface HeaderContext {
  params: NetworkParams;
  /** {@link medianTimePast} of prev and its ancestors (up to params.medianTimeSpan). */
  medianTimePast: number;
  /** Local (network-adjusted) time in seconds. */
  now: number;
  /** Time of block 1 on prev's chain; required when prev.height ≥ 2 (ASERT anchor, see asert.ts). */
  block1Time?: number;
}

/**
 * Header checks against its parent (Core `ContextualCheckBlockHeader`, btcd
 * `checkBlockHeaderContext`):
 * - the parent is prev (header.prevHash) and not invalid (BAD_PREV);
 * - bits equal nextBits(params, prev, block1Time) — aserti3-2d anchored at genesis's target and
 *   block 1's time (BAD_BITS);
 * - time > median time past (TIME_TOO_OLD);
 * - time ≤ now + params.maxFutureSeconds (TIME_TOO_NEW). This one is NOT a verdict on the block:
 *   it may become valid as the clock advances, so callers hold such a block and retry it later
 *   and must neither mark it invalid nor penalise the peer (Core: BLOCK_TIME_FUTURE).
 * @example
 * ```ts
 * checkHeaderContext(header, parentEntry, { params, medianTimePast: mtp, now: Math.floor(Date.now() / 1000), block1Time });
 * ```
 */
export function checkHeaderContext(header: BlockHeader, prev: HeaderEntry, ctx: HeaderContext): void {
  const { params } = ctx;
  if (prev.status === 'invalid') fail('BAD_PREV', 'parent is invalid');
  if (!equal(header.prevHash, prev.hash)) fail('BAD_PREV', 'prevHash is not the given parent');
  // For the header at height 2 the parent is block 1 itself.
  const block1Time = ctx.block1Time ?? (prev.height === 1 ? prev.header.time : undefined);
  if (prev.height >= 1 && block1Time === undefined) throw new TypeError('checkHeaderContext: block1Time is required for headers at height ≥ 3');
  const expected = nextBits(params, { height: prev.height, time: prev.header.time }, block1Time);
  if (header.bits !== expected) fail('BAD_BITS', `bits ${hex32(header.bits)}, expected ${hex32(expected)}`);
  if (header.time <= ctx.medianTimePast) fail('TIME_TOO_OLD', `time ${header.time} ≤ median time past ${ctx.medianTimePast}`);
  if (header.time > ctx.now + params.maxFutureSeconds) fail('TIME_TOO_NEW', `time ${header.time} > now ${ctx.now} + ${params.maxFutureSeconds}`);
}

/** True when `err` is TIME_TOO_NEW: hold the block and retry, do not ban. @example if (isTooNew(e)) holdForLater(block) */
export function isTooNew(err: unknown): boolean {
  return err instanceof RuleError && err.code === 'TIME_TOO_NEW';
}

function hex32(n: number): string {
  return '0x' + (n >>> 0).toString(16).padStart(8, '0');
}

/** Context for {@link connectBlock}: the block's height; its hash is computed when not given. @example { params, height: prev.height + 1, sanityChecked: true } */
export interface ConnectContext extends Omit<BlockContext, 'hash'> {
  hash?: Uint8Array;
  /** Set when the caller already ran {@link checkBlockSanity} on this block (skips re-verifying signatures). */
  sanityChecked?: boolean;
}

/**
 * Connects a block: {@link checkBlockSanity} (unless `ctx.sanityChecked`), then
 * {@link applyBlock} — all or nothing, returning the undo record. Header context is the caller's
 * (it needs the header index).
 * @example
 * ```ts
 * const undo = connectBlock(state, block, { params, height: prev.height + 1 });
 * ```
 */
export function connectBlock(state: ChainState, block: Block, ctx: ConnectContext): BlockUndo {
  if (!ctx.sanityChecked) checkBlockSanity(block, ctx.params);
  return applyBlock(state, block, { params: ctx.params, height: ctx.height, hash: ctx.hash ?? blockHash(block.header) });
}
