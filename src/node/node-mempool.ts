/**
 * The node's mempool side, as two steps of its serial queue (Bitcoin Core's `AcceptToMemoryPool`
 * and `UpdateMempoolForReorg`):
 * - {@link acceptTx}: THE path of every transaction — decode, duplicate (pending or confirmed),
 *   mempool policy against the tip's state;
 * - {@link mempoolFollowsChain}: after a processing step, transactions of connected blocks leave
 *   the mempool, those of disconnected blocks come back (`Mempool.afterReorg`), and the events go
 *   out once, with the net effect ('reorg', 'txRemoved', 'mempool', then 'tip').
 * @module
 */
import { RuleError, decodeTx, hashToHex, txid as txidOf, type HeaderEntry, type Mempool, type MempoolEntry, type MempoolRejection, type NetworkParams, type Transaction } from '../chain/index.ts';
import type { ChainStore } from '../storage/chain-store.ts';
import type { ActiveChain } from './active-chain.ts';
import type { ConnectBatch } from './connect-batch.ts';
import type { Emitter, NodeEvents, ProcessTxResult } from './events.ts';

/** What both steps work on: the node's mempool, chain, store, clock and events. */
export interface MempoolContext {
  params: NetworkParams;
  mempool: Mempool;
  store: ChainStore;
  chain: ActiveChain;
  /** The node's clock, unix seconds. */
  now: () => number;
  events: Emitter<NodeEvents>;
  log: (msg: string) => void;
}

function emitMempool(ctx: MempoolContext): void {
  ctx.events.emit('mempool', { size: ctx.mempool.size, bytes: ctx.mempool.bytes });
}

/**
 * One transaction into the mempool, or the reason not; emits 'txRemoved' for those it replaced,
 * invalidated or evicted, then 'mempool'. (The caller emits 'tx'.)
 * @example const result = await acceptTx(bytes, ctx)
 */
export async function acceptTx(input: Transaction | Uint8Array, ctx: MempoolContext): Promise<ProcessTxResult> {
  let tx: Transaction;
  if (input instanceof Uint8Array) {
    try {
      tx = decodeTx(input, ctx.params.maxTxBytes);
    } catch (e) {
      if (!(e instanceof RuleError)) throw e;
      return { status: 'invalid', code: 'MALFORMED', txid: '' };
    }
  } else {
    tx = input;
  }
  let id: Uint8Array;
  try {
    id = txidOf(tx);
  } catch {
    return { status: 'invalid', code: 'MALFORMED', txid: '' };
  }
  const txid = hashToHex(id);
  if (ctx.mempool.has(id) || (await ctx.store.getTxLocation(id))) return { status: 'duplicate', txid };
  let r;
  try {
    r = ctx.mempool.add(tx, ctx.chain.state, { params: ctx.params, height: ctx.chain.tip.height, now: ctx.now() });
  } catch (e) {
    if (!(e instanceof RuleError)) throw e;
    return { status: 'invalid', code: e.code, txid };
  }
  if (!r.added) return { status: 'duplicate', txid };
  if (r.replaced) ctx.events.emit('txRemoved', { txid: r.replaced.id, reason: 'replaced' });
  for (const x of r.invalidated) ctx.events.emit('txRemoved', { txid: x.entry.id, reason: 'invalid', code: x.code });
  for (const e of r.evicted) ctx.events.emit('txRemoved', { txid: e.id, reason: 'evicted' });
  emitMempool(ctx);
  return r.future ? { status: 'accepted', future: true, txid } : { status: 'accepted', txid };
}

/**
 * Step 6 of the block path, after a processing step: the mempool follows the net chain change
 * from the batch's start tip to the tip now, and the events go out once. Nothing if the tip did
 * not move.
 * @example mempoolFollowsChain(batch, ctx)
 */
export function mempoolFollowsChain(batch: ConnectBatch, ctx: MempoolContext): void {
  const { chain, mempool } = ctx;
  const start = batch.startTip;
  const end = chain.tip;
  if (start === end) return;
  const path = chain.headers.reorgPath(start, end);
  const blockOf = (e: HeaderEntry) => batch.blocks.get(hashToHex(e.hash))!;
  const connected = path.connect.map(blockOf);
  const txCtx = { params: ctx.params, height: end.height, now: ctx.now() };
  const confirmedIn = new Map<string, string>();
  path.connect.forEach((e, i) => {
    for (const tx of connected[i].txs) if (tx.kind !== 'coinbase') confirmedIn.set(hashToHex(txidOf(tx)), hashToHex(e.hash));
  });
  let confirmed: MempoolEntry[];
  let invalid: MempoolRejection[];
  if (path.disconnect.length === 0) {
    ({ confirmed, invalid } = mempool.removeForBlocks(connected, chain.state, txCtx));
  } else {
    const r = mempool.afterReorg(path.disconnect.map(blockOf), connected, chain.state, txCtx);
    confirmed = r.confirmed;
    invalid = r.invalid;
    ctx.log(`reorg at height ${path.fork.height}: -${path.disconnect.length} +${path.connect.length} blocks`);
    ctx.events.emit('reorg', {
      fork: { hash: hashToHex(path.fork.hash), height: path.fork.height },
      disconnected: path.disconnect.map((e) => hashToHex(e.hash)),
      connected: path.connect.map((e) => hashToHex(e.hash)),
      readmitted: r.readmitted.map((e) => e.id),
      dropped: [...r.rejected.map((x) => ({ txid: hashToHex(txidOf(x.tx)), code: x.error.code })), ...r.invalid.map((x) => ({ txid: x.entry.id, code: x.code }))],
    });
  }
  for (const e of confirmed) ctx.events.emit('txRemoved', { txid: e.id, reason: 'confirmed', blockHash: confirmedIn.get(e.id) });
  for (const x of invalid) ctx.events.emit('txRemoved', { txid: x.entry.id, reason: 'invalid', code: x.code });
  emitMempool(ctx);
  ctx.events.emit('tip', { hash: hashToHex(end.hash), height: end.height });
}
