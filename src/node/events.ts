/**
 * The events a {@link FullNode} emits, and the tiny typed emitter it emits them with.
 *
 * Hashes and txids are display hex (`hashToHex`, byte-reversed as Bitcoin prints them), so a
 * listener can hand them straight to the UI or to `window.tabchain` callers. Listeners run
 * synchronously in registration order; one that throws does not stop the others (its error goes
 * to the emitter's `onListenerError`, by default `console.error`).
 * @module
 */
import type { RuleCode } from '../chain/errors.ts';
import type { MinerStatus } from '../miner/service.ts';
import type { BlockVerdict, TxVerdict } from '../p2p/chain-access.ts';

/** Where a block or transaction came from. */
export type Source = 'local' | 'miner' | 'peer' | 'storage';

/**
 * What {@link FullNode.processBlock} did with a block:
 * - `extended`: connected on top of the tip (the tip moved forward);
 * - `reorged`: connected as part of a switch to a branch with more work (blocks were disconnected);
 * - `side`: valid so far and stored, on a branch with no more work than the active one;
 * - `orphan`: its parent is unknown; kept in the orphan pool until the parent arrives (not a
 *   verdict on it: only its proof of work and the cheap body checks passed, so it is not relayed);
 * - `duplicate`: already stored;
 * - `held`: TIME_TOO_NEW — kept and retried once the clock has caught up (not a verdict, no ban);
 * - `low-work`: an unrequested block (gossip) on a branch ending far below the tip's work
 *   (`antiDosWorkThreshold`), or an orphan whose bits are far easier than our tip's
 *   (`ORPHAN_MAX_EASIER`); not stored, no verdict on it — sync fetches it if its branch ever
 *   gets ahead;
 * - `invalid`: breaks a rule (`code`); its header is marked invalid unless only the body was
 *   wrong (a mutated block, BAD_MERKLE / DUPLICATE_TX), so the right body can still come.
 */
export interface ProcessBlockResult extends BlockVerdict {
  code?: RuleCode;
}

/**
 * What {@link FullNode.processTx} did with a transaction. `future`: accepted only as waiting
 * behind a nonce gap of its sender (Mempool policy): kept here but not to be relayed, since its
 * fee is not shown to be payable until the gap fills.
 */
export interface ProcessTxResult extends TxVerdict {
  code?: RuleCode;
}

/** Why a transaction left the mempool. `replaced`: a tx with the same (from, nonce) and a higher fee took its place. */
export type TxRemovedReason = 'confirmed' | 'invalid' | 'expired' | 'evicted' | 'replaced';

/** Every event of a FullNode with its payload. */
export interface NodeEvents {
  /** The active tip changed (once per processing step, with the final tip). */
  tip: { hash: string; height: number };
  /** A block was processed (also each orphan child processed after its parent). */
  block: { hash: string; /** -1 when unknown (orphan, undecodable) */ height: number; result: ProcessBlockResult; source: Source };
  /** The active chain switched branches. `dropped`: transactions of the old branch that could not come back, and pending ones the new chain made invalid. */
  reorg: {
    fork: { hash: string; height: number };
    disconnected: string[];
    connected: string[];
    readmitted: string[];
    dropped: { txid: string; code: string }[];
  };
  /** A transaction was processed. */
  tx: { txid: string; result: ProcessTxResult; source: Source };
  /** A transaction left the mempool. */
  txRemoved: { txid: string; reason: TxRemovedReason; code?: string; blockHash?: string };
  /** Mempool size after a change. */
  mempool: { size: number; bytes: number };
  /** The synced flag changed. */
  synced: { synced: boolean };
  /** Miner status (on start/stop, each found block, and every few seconds while mining). */
  miner: MinerStatus;
  /** Something went wrong outside any caller's promise (a timer task, the miner, storage). */
  error: { message: string; code?: string };
}

export { Emitter } from '../p2p/emitter.ts';
