/**
 * Fork choice and reorganisation (Bitcoin Core's `ActivateBestChain`, btcd's
 * connectBestChain / reorganizeChain): while the most-work header chain with every body stored has
 * more work than the tip, switch to it — disconnect down to the fork point with the stored undo
 * records, connect the new blocks one by one. A block that fails to connect is marked invalid with
 * its descendants, the chain goes back to the branch it was on, and fork choice runs again among
 * what is left.
 *
 * Connects happen in memory (state and tip move together) and reach the store with the step's
 * other connects ({@link ConnectBatch}); a disconnect of a written block is one atomic store write.
 * @module
 */
import { RuleError, applyBlock, hashToHex, txid as txidOf, undoBlock, type HeaderEntry } from '../chain/index.ts';
import type { ActiveChain } from './active-chain.ts';
import type { ConnectBatch } from './connect-batch.ts';
import { nodeError } from './errors.ts';

/** Rounds of fork choice after which it is a bug, not a chain: every round removes a candidate or settles. */
const MAX_FORK_CHOICE_ROUNDS = 1_000_000;

/**
 * Fork choice: while the best candidate with every body stored has MORE work than the tip (equal
 * work keeps the first seen, i.e. the tip), switch to it. Returns whether blocks were
 * disconnected on the way.
 * @example const reorged = await activateBestChain(chain, batch, log)
 */
export async function activateBestChain(chain: ActiveChain, batch: ConnectBatch, log: (msg: string) => void): Promise<boolean> {
  let reorged = false;
  for (let round = 0; ; round++) {
    if (round > MAX_FORK_CHOICE_ROUNDS) throw new Error('FullNode: fork choice does not settle');
    const candidate = chain.headers.bestFullTip();
    if (candidate.chainwork <= chain.tip.chainwork) return reorged;
    const path = chain.headers.reorgPath(chain.tip, candidate);
    const ok = await switchChain(chain, path.disconnect, path.connect, batch, log);
    if (ok && path.disconnect.length > 0) reorged = true;
  }
}

/**
 * Disconnects `disconnect` (tip first) and connects `connect` (oldest first). If a block fails
 * to connect, it is marked invalid with its descendants and the old chain is restored; returns
 * false then.
 */
async function switchChain(chain: ActiveChain, disconnect: HeaderEntry[], connect: HeaderEntry[], batch: ConnectBatch, log: (msg: string) => void): Promise<boolean> {
  const disconnected: HeaderEntry[] = [];
  for (const e of disconnect) {
    await disconnectTip(chain, batch);
    disconnected.push(e);
  }
  const connected: HeaderEntry[] = [];
  for (const e of connect) {
    try {
      await connectTip(chain, e, batch);
    } catch (err) {
      if (!(err instanceof RuleError)) throw err;
      const hex = hashToHex(e.hash);
      log(`block ${e.height} ${hex} is invalid: ${err.message}`);
      if (batch.pending.delete(hex)) chain.headers.setHasBody(e.hash, false); // its body was never written
      await chain.markInvalid(e.hash, err.code);
      // Back to the chain we were on (Core would stay on the valid part; fork choice runs again
      // right after and picks the best of what is left, which may be that part).
      for (let i = connected.length - 1; i >= 0; i--) await disconnectTip(chain, batch);
      for (let i = disconnected.length - 1; i >= 0; i--) await connectTip(chain, disconnected[i], batch);
      return false;
    }
    connected.push(e);
  }
  return true;
}

/**
 * Connects `e` (a child of the tip) in memory: applyBlock moves the state and the tip at once;
 * the store write follows with the step's other connects.
 */
async function connectTip(chain: ActiveChain, e: HeaderEntry, batch: ConnectBatch): Promise<void> {
  const block = await chain.blockOf(e, batch);
  const undo = applyBlock(chain.state, block, { params: chain.params, height: e.height, hash: e.hash });
  const prevTip = chain.tip;
  chain.tip = e; // state and tip move together
  await batch.connected({ entry: e, prevTip, undo, txids: block.txs.map(txidOf) });
}

/** Disconnects the tip: in memory if this step connected it, else with its stored undo record in ONE atomic store write. */
async function disconnectTip(chain: ActiveChain, batch: ConnectBatch): Promise<void> {
  if (batch.undoLast()) return;
  const e = chain.tip;
  const parent = chain.headers.parentOf(e);
  if (!parent) throw new Error('FullNode: cannot disconnect genesis');
  await chain.blockOf(e, batch); // for the mempool: its transactions come back
  const undo = await chain.store.getUndo(e.hash);
  if (!undo) throw nodeError('CORRUPT', `no undo record for block ${e.height} ${hashToHex(e.hash)}`);
  undoBlock(chain.state, undo);
  chain.tip = parent;
  try {
    await chain.store.disconnectBlock({ hash: e.hash, undo, newTipHash: parent.hash, newTipHeight: parent.height });
  } catch (err) {
    chain.state.applyChanges(undo.changes);
    chain.tip = e;
    throw err;
  }
}
