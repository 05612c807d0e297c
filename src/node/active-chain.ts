/**
 * ActiveChain: what a {@link FullNode}'s block path shares — the header index, the store, the
 * chain state and the tip (which move together), and the rule codes of invalid blocks — with the
 * small reads and marks every step of that path needs (btcd keeps these on its BlockChain). Only
 * the node's serial queue changes it: one processing step at a time.
 * @module
 */
import {
  checkHeaderContext,
  decodeBlock,
  encodeBlock,
  equalBytes,
  hashToHex,
  txid as txidOf,
  medianTimePast,
  ChainState,
  type Block,
  type BlockHeader,
  type HeaderEntry,
  type HeaderIndex,
  type NetworkParams,
  type RuleCode,
} from '../chain/index.ts';
import type { ChainStore } from '../storage/chain-store.ts';
import type { ConnectBatch, ChainTip } from './connect-batch.ts';
import { nodeError } from './errors.ts';
import type { ProcessBlockResult } from './events.ts';

/** Most rule codes of invalid blocks remembered (oldest forgotten first; the mark stays in the index). */
export const MAX_INVALID_CODES = 10_000;

/**
 * The active chain of a node.
 * @example
 * ```ts
 * const chain = new ActiveChain({ params, store, headers });
 * chain.checkContext(header, prev, now);
 * ```
 */
export class ActiveChain implements ChainTip {
  readonly params: NetworkParams;
  readonly store: ChainStore;
  readonly headers: HeaderIndex;
  /** The state at the tip (state and tip move together). */
  state = new ChainState();
  tip: HeaderEntry;
  readonly #invalidCodes = new Map<string, RuleCode>();

  constructor(deps: { params: NetworkParams; store: ChainStore; headers: HeaderIndex }) {
    this.params = deps.params;
    this.store = deps.store;
    this.headers = deps.headers;
    this.tip = deps.headers.genesis;
  }

  /**
   * Opens the store and loads the header index, the tip and the state as stored (no replay). A
   * fresh store gets the genesis block (connected with an empty undo: genesis is never applied).
   * @example await chain.open()
   */
  async open(): Promise<void> {
    const { meta, headers, state } = await this.store.open();
    const genesisHash = this.params.genesisHash;
    if (meta.tipHash === null) {
      if (state.length > 0) throw nodeError('CORRUPT', 'the store has state entries but no tip');
      const g = this.params.genesis;
      await this.store.connectBlock({
        hash: genesisHash,
        height: 0,
        body: encodeBlock(g),
        undo: { hash: genesisHash, height: 0, changes: [] },
        headers: [{ ...this.headers.genesis }],
        txids: g.txs.map(txidOf),
      });
      // Headers of an earlier session whose chain was disconnected down to nothing stay known.
      this.headers.load(headers.filter((e) => e.height > 0));
    } else {
      const storedGenesis = headers.find((e) => e.height === 0);
      if (storedGenesis && !equalBytes(storedGenesis.hash, genesisHash)) {
        throw nodeError('WRONG_GENESIS', `the store holds another ${this.params.name} chain (genesis ${hashToHex(storedGenesis.hash)})`);
      }
      this.headers.load(headers, { preferredTip: meta.tipHash });
      const tip = this.headers.get(meta.tipHash);
      if (!tip || tip.height !== meta.tipHeight) throw nodeError('CORRUPT', `the stored tip ${hashToHex(meta.tipHash)} is not in the stored header index`);
      this.tip = tip;
      this.state = new ChainState(state);
    }
  }

  /** Header context against the parent, with MTP and the ASERT anchor from the index. @example chain.checkContext(h, prev, now) */
  checkContext(header: BlockHeader, prev: HeaderEntry, now: number): void {
    const mtp = medianTimePast(this.headers.timesForMtp(prev, this.params.medianTimeSpan), this.params.medianTimeSpan);
    checkHeaderContext(header, prev, { params: this.params, medianTimePast: mtp, now, block1Time: this.block1Time(prev) });
  }

  /** The time of block 1 on `e`'s chain (the ASERT anchor), if `e` is above it. @example chain.block1Time(tip) */
  block1Time(e: HeaderEntry): number | undefined {
    return e.height >= 1 ? this.headers.ancestorAt(e, 1)!.header.time : undefined;
  }

  /** Whether `e` is on the active chain. @example chain.onActiveChain(entry) */
  onActiveChain(e: HeaderEntry): boolean {
    const a = this.headers.ancestorAt(this.tip, e.height);
    return a !== undefined && equalBytes(a.hash, e.hash);
  }

  /** The rule code a block was found invalid for, if still remembered. @example chain.invalidCode(hex) */
  invalidCode(hex: string): RuleCode | undefined {
    return this.#invalidCodes.get(hex);
  }

  /** Remembers why a block is invalid (bounded: the oldest is forgotten first). @example chain.rememberInvalid(hex, 'BAD_POW') */
  rememberInvalid(hex: string, code: RuleCode): void {
    this.#invalidCodes.set(hex, code);
    if (this.#invalidCodes.size > MAX_INVALID_CODES) this.#invalidCodes.delete(this.#invalidCodes.keys().next().value!);
  }

  /** Adds a header that broke a rule as 'invalid', in the index and the store. @example await chain.addInvalidHeader(h, hex, code) */
  async addInvalidHeader(header: BlockHeader, hex: string, code: RuleCode): Promise<HeaderEntry> {
    const entry = this.headers.add(header, { status: 'invalid', hasBody: false });
    this.rememberInvalid(hex, code);
    await this.store.putHeaders([{ ...entry }]);
    return entry;
  }

  /** Marks a block and its descendants invalid in the index and the store. @example await chain.markInvalid(hash, code) */
  async markInvalid(hash: Uint8Array, code: RuleCode): Promise<void> {
    const changed = this.headers.markInvalid(hash);
    for (const e of changed) this.rememberInvalid(hashToHex(e.hash), equalBytes(e.hash, hash) ? code : 'BAD_PREV');
    if (changed.length > 0) await this.store.putHeaders(changed.map((e) => ({ ...e })));
  }

  /** The 'invalid' verdict on a block, with its code (given or remembered) and height if known. @example chain.invalidResult(hex, entry) */
  invalidResult(hex: string, entry: HeaderEntry | undefined, code?: RuleCode): ProcessBlockResult {
    const r: ProcessBlockResult = { status: 'invalid', hash: hex };
    const c = code ?? this.#invalidCodes.get(hex);
    if (c) r.code = c;
    if (entry) r.height = entry.height;
    return r;
  }

  /** The block of `e`: from the step's batch, else from the store (then kept in the batch). @example await chain.blockOf(e, batch) */
  async blockOf(e: HeaderEntry, batch: ConnectBatch): Promise<Block> {
    const hex = hashToHex(e.hash);
    let block = batch.blocks.get(hex);
    if (!block) {
      const bytes = await this.store.getBlock(e.hash);
      if (!bytes) throw nodeError('CORRUPT', `the body of block ${e.height} ${hex} is missing from the store`);
      block = decodeBlock(bytes, this.params);
      batch.blocks.set(hex, block);
    }
    return block;
  }
}
