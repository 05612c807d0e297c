/**
 * Store verification (Bitcoin Core's `verifychain` at its deepest level, plus its index checks):
 * re-derives everything a {@link ChainStore} keeps about the chain by replaying the stored active
 * chain's blocks from genesis, and compares it with what is stored.
 *
 * A store written only through atomic connects and disconnects is consistent at every commit
 * boundary; this is how crash tests (a tab's renderer killed, a headless node SIGKILLed in the
 * middle of connecting a run or of a reorg) show that every reopen is. Checked:
 * - the chain record: its network, and a tip that is in the header index at its height;
 * - the header index: each key is its header's hash, each entry links to a stored parent one
 *   height below with the parent's chainwork plus its own, genesis is this network's, and a header
 *   that says it has a body has one;
 * - the active chain (tip back to genesis): every block stored, 'valid', with a body that hashes
 *   to it; replayed with `applyBlock` from an empty state, each block's undo record must be exactly
 *   the one stored (genesis: none applied, empty), and the final state exactly the stored state;
 * - undo records exist for the active chain only;
 * - the txid index names exactly the active chain's transactions, each at its block, and each
 *   active block's txid list is its transactions in order (and no other block has one).
 * Consensus code does the replay: nothing here restates a rule.
 * @module
 */
import {
  ChainState,
  RuleError,
  applyBlock,
  blockHash,
  bytesToHex,
  decodeBlock,
  txid as txidOf,
  workForBits,
  type BlockUndo,
  type HeaderEntry,
  type NetworkParams,
  type StateEntry,
} from '../chain/index.ts';
import type { StoreSnapshot } from './chain-store.ts';

/** Most discrepancies reported; past it one `TRUNCATED` entry says how many more there were. */
export const MAX_DISCREPANCIES = 100;

/** Kinds of discrepancy, stable like rule codes (tests and people match on them). */
export type DiscrepancyKind =
  | 'WRONG_NETWORK'
  | 'TIP_NOT_IN_INDEX'
  | 'HEADER_KEY'
  | 'HEADER_LINK'
  | 'BODY_MISSING'
  | 'CHAIN_BROKEN'
  | 'ACTIVE_NOT_VALID'
  | 'BODY_MISMATCH'
  | 'REPLAY_FAILED'
  | 'UNDO_MISSING'
  | 'UNDO_MISMATCH'
  | 'UNDO_STRAY'
  | 'STATE_MISMATCH'
  | 'TXINDEX_MISSING'
  | 'TXINDEX_WRONG'
  | 'TXINDEX_STRAY'
  | 'BLOCKTXS_MISSING'
  | 'BLOCKTXS_WRONG'
  | 'BLOCKTXS_STRAY'
  /** A running node's tip or state is not the stored one between processing steps (FullNode.verifyStore). */
  | 'NODE_TIP'
  | 'NODE_STATE'
  | 'TRUNCATED';

/** One way the store disagrees with a replay of its own active chain. */
export interface Discrepancy {
  kind: DiscrepancyKind;
  /** What disagrees, in words. */
  message: string;
  /** The block's height, when it concerns one. */
  height?: number;
  /** The key concerned (hex of a hash or txid, or a state key). */
  key?: string;
}

/** What {@link verifyStore} found: `discrepancies` is empty exactly when the store is consistent. */
export interface StoreVerification {
  tipHeight: number;
  /** Hex (internal order, as stored) of the stored tip, or null. */
  tipHash: string | null;
  /** Blocks replayed (the active chain above genesis, as far as the replay got). */
  replayed: number;
  discrepancies: Discrepancy[];
}

/** A canonical string of a stored value (bigints, bytes, nested objects with sorted keys): equal values, equal strings. */
function canon(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (v instanceof Uint8Array) return `0x${bytesToHex(v)}`;
  if (Array.isArray(v)) return `[${v.map(canon).join(',')}]`;
  if (typeof v === 'object')
    return `{${Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${k}:${canon((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/**
 * How `actual` state entries differ from `expected` ones: each key missing, different or extra.
 * @example stateDifferences(snap.state, replayed.entries()) // [] when equal
 */
export function stateDifferences(actual: ReadonlyArray<readonly [string, StateEntry]>, expected: ReadonlyArray<readonly [string, StateEntry]>): Array<{ key: string; message: string }> {
  const out: Array<{ key: string; message: string }> = [];
  const got = new Map(actual.map(([k, v]) => [k, canon(v)]));
  const want = new Map(expected.map(([k, v]) => [k, canon(v)]));
  for (const [k, v] of want) {
    const s = got.get(k);
    if (s === undefined) out.push({ key: k, message: `state entry ${k} is missing from the store` });
    else if (s !== v) out.push({ key: k, message: `state entry ${k} differs from the replay` });
  }
  for (const k of got.keys()) if (!want.has(k)) out.push({ key: k, message: `state entry ${k} is stored but not produced by the replay` });
  return out;
}

/**
 * Replays the snapshot's active chain from genesis and lists every way the store disagrees.
 * @example
 * ```ts
 * const { discrepancies } = verifyStore(await store.readAll(), params);
 * if (discrepancies.length > 0) console.error(discrepancies);
 * ```
 */
export function verifyStore(snap: StoreSnapshot, params: NetworkParams): StoreVerification {
  const found: Discrepancy[] = [];
  let dropped = 0;
  const report = (d: Discrepancy) => {
    if (found.length < MAX_DISCREPANCIES) found.push(d);
    else dropped++;
  };
  const { meta } = snap;
  const tipHex = meta.tipHash === null ? null : bytesToHex(meta.tipHash);
  const result = (replayed: number): StoreVerification => {
    if (dropped > 0) found.push({ kind: 'TRUNCATED', message: `${dropped} more discrepancies not listed` });
    return { tipHeight: meta.tipHeight, tipHash: tipHex, replayed, discrepancies: found };
  };
  if (meta.network !== params.name) report({ kind: 'WRONG_NETWORK', message: `the store holds ${meta.network}, not ${params.name}` });

  // --- header index -------------------------------------------------------------------------
  const headers = new Map<string, HeaderEntry>();
  for (const e of snap.headers) headers.set(bytesToHex(e.hash), e);
  const bodies = new Map(snap.bodies);
  const genesisHex = bytesToHex(params.genesisHash);
  for (const [key, e] of headers) {
    if (bytesToHex(blockHash(e.header)) !== key) report({ kind: 'HEADER_KEY', message: `header entry ${key} holds a header hashing to another value`, key, height: e.height });
    if (e.height === 0) {
      if (key !== genesisHex) report({ kind: 'HEADER_LINK', message: `a header at height 0 is not this network's genesis`, key, height: 0 });
    } else {
      const parent = headers.get(bytesToHex(e.header.prevHash));
      if (!parent) report({ kind: 'HEADER_LINK', message: `header ${key} at height ${e.height} has no stored parent`, key, height: e.height });
      else if (parent.height !== e.height - 1 || parent.chainwork + workForBits(e.header.bits) !== e.chainwork)
        report({ kind: 'HEADER_LINK', message: `header ${key} at height ${e.height}: height or chainwork does not follow from its parent's`, key, height: e.height });
    }
    if (e.hasBody && !bodies.has(key)) report({ kind: 'BODY_MISSING', message: `header ${key} at height ${e.height} says its body is stored, and it is not`, key, height: e.height });
  }

  // --- the active chain, tip back to genesis ------------------------------------------------------
  if (tipHex === null) {
    // Nothing connected: nothing may be indexed, undone or in the state.
    for (const [key] of snap.undo) report({ kind: 'UNDO_STRAY', message: `undo record ${key} with no chain connected`, key });
    if (snap.state.length > 0) report({ kind: 'STATE_MISMATCH', message: `${snap.state.length} state entries with no chain connected` });
    for (const [key] of snap.txIndex) report({ kind: 'TXINDEX_STRAY', message: `txid ${key} indexed with no chain connected`, key });
    for (const [key] of snap.blockTxids) report({ kind: 'BLOCKTXS_STRAY', message: `txid list of ${key} with no chain connected`, key });
    return result(0);
  }
  const tip = headers.get(tipHex);
  if (!tip || tip.height !== meta.tipHeight) {
    report({ kind: 'TIP_NOT_IN_INDEX', message: `the stored tip ${tipHex} at height ${meta.tipHeight} is not in the header index at that height`, key: tipHex });
    return result(0);
  }
  const active: HeaderEntry[] = [];
  for (let e: HeaderEntry | undefined = tip; e; e = e.height === 0 ? undefined : headers.get(bytesToHex(e.header.prevHash))) {
    active.push(e);
    if (e.height === 0) break;
  }
  active.reverse();
  if (active[0].height !== 0 || active.length !== meta.tipHeight + 1) {
    report({ kind: 'CHAIN_BROKEN', message: `the active chain does not reach genesis from the tip (stops at height ${active[0].height})`, height: active[0].height });
    return result(0);
  }
  const activeKeys = new Set(active.map((e) => bytesToHex(e.hash)));
  const undo = new Map(snap.undo);
  for (const [key] of undo) if (!activeKeys.has(key)) report({ kind: 'UNDO_STRAY', message: `undo record of ${key}, which is not on the active chain`, key });

  // --- replay from genesis -------------------------------------------------------------------------
  const state = new ChainState();
  const expectTx = new Map<string, { block: string; height: number }>();
  const expectLists = new Map<string, string>();
  let replayed = 0;
  for (const e of active) {
    const key = bytesToHex(e.hash);
    if (e.status !== 'valid') report({ kind: 'ACTIVE_NOT_VALID', message: `block ${e.height} ${key} is on the active chain with status ${e.status}`, key, height: e.height });
    const bytes = bodies.get(key);
    if (!bytes) {
      report({ kind: 'BODY_MISSING', message: `block ${e.height} ${key} of the active chain has no stored body; replay stops`, key, height: e.height });
      break;
    }
    let block;
    try {
      block = decodeBlock(bytes, params);
    } catch (err) {
      report({ kind: 'BODY_MISMATCH', message: `block ${e.height} ${key}: the stored body does not decode (${(err as Error).message}); replay stops`, key, height: e.height });
      break;
    }
    if (bytesToHex(blockHash(block.header)) !== key) {
      report({ kind: 'BODY_MISMATCH', message: `block ${e.height} ${key}: the stored body is another block's; replay stops`, key, height: e.height });
      break;
    }
    let derived: BlockUndo;
    if (e.height === 0) derived = { hash: e.hash, height: 0, changes: [] };
    else {
      try {
        derived = applyBlock(state, block, { params, height: e.height, hash: e.hash });
      } catch (err) {
        if (!(err instanceof RuleError)) throw err;
        report({ kind: 'REPLAY_FAILED', message: `block ${e.height} ${key} does not apply to the replayed state (${err.code}); replay stops`, key, height: e.height });
        break;
      }
      replayed++;
    }
    const stored = undo.get(key);
    if (!stored) report({ kind: 'UNDO_MISSING', message: `block ${e.height} ${key} of the active chain has no undo record`, key, height: e.height });
    else if (canon(stored) !== canon(derived)) report({ kind: 'UNDO_MISMATCH', message: `block ${e.height} ${key}: the stored undo record is not what the replay produced`, key, height: e.height });
    const ids = block.txs.map((t) => bytesToHex(txidOf(t)));
    for (const id of ids) expectTx.set(id, { block: key, height: e.height });
    expectLists.set(key, ids.join(''));
  }
  const complete = replayed === active.length - 1;

  // --- state ------------------------------------------------------------------------------------
  if (complete) {
    for (const d of stateDifferences(snap.state, state.entries())) report({ kind: 'STATE_MISMATCH', message: d.message, key: d.key });

    // --- txid index ------------------------------------------------------------------------------
    const index = new Map(snap.txIndex);
    for (const [id, want] of expectTx) {
      const got = index.get(id);
      if (!got) report({ kind: 'TXINDEX_MISSING', message: `txid ${id} of block ${want.height} is not indexed`, key: id, height: want.height });
      else if (bytesToHex(got.blockHash) !== want.block || got.height !== want.height)
        report({ kind: 'TXINDEX_WRONG', message: `txid ${id} is indexed at block ${got.height}, not ${want.height}`, key: id, height: want.height });
    }
    for (const [id, got] of index) if (!expectTx.has(id)) report({ kind: 'TXINDEX_STRAY', message: `txid ${id} is indexed (block ${got.height}) but on no active block`, key: id });
    const lists = new Map(snap.blockTxids);
    for (const [key, want] of expectLists) {
      const got = lists.get(key);
      const height = headers.get(key)!.height;
      if (!got) report({ kind: 'BLOCKTXS_MISSING', message: `block ${height} ${key} has no txid list`, key, height });
      else if (bytesToHex(got) !== want) report({ kind: 'BLOCKTXS_WRONG', message: `block ${height} ${key}: its txid list is not its transactions`, key, height });
    }
    for (const [key] of lists) if (!expectLists.has(key)) report({ kind: 'BLOCKTXS_STRAY', message: `txid list of ${key}, which is not on the active chain`, key });
  }
  return result(replayed);
}
