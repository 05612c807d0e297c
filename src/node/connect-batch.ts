/**
 * ConnectBatch: the bookkeeping of one processing step of a {@link FullNode} — the blocks it
 * loaded, the bodies it accepted, and the connects it made in memory whose store write is still to
 * come. Connects go to the store together, in ONE atomic write ({@link ChainStore.connectBlocks}:
 * body, undo, state changes, txid index, header status and tip of each), when the step ends or the
 * run reaches {@link MAX_UNWRITTEN_BLOCKS} blocks or {@link MAX_UNWRITTEN_BYTES} bytes of bodies. A
 * browser pays about a millisecond per IndexedDB commit, so initial sync writes a run of blocks at
 * once, and a crash still leaves the chain at a block boundary (Bitcoin Core likewise flushes its
 * coins cache in batches, never half a block).
 *
 * If a write fails, the state and the tip go back to where the store is, and every verdict of the
 * step that said a block was connected or stored is void: its 'block' event is not sent.
 * @module
 */
import { hashToHex, hexToHash, undoBlock, type Block, type BlockUndo, type ChainState, type HeaderEntry, type HeaderIndex } from '../chain/index.ts';
import type { ChainStore } from '../storage/chain-store.ts';
import type { NodeEvents } from './events.ts';

/** Longest run of connects held in memory before it is written. */
export const MAX_UNWRITTEN_BLOCKS = 256;
/** Most bytes of bodies in a run of connects held in memory before it is written. */
export const MAX_UNWRITTEN_BYTES = 8 * 1024 * 1024;

/** The active chain as a batch sees it: the state and the tip it moves back on a failed write. */
export interface ChainTip {
  readonly state: ChainState;
  tip: HeaderEntry;
}

/** A block connected in memory (state and tip moved) whose store write is still to come. */
export interface UnwrittenConnect {
  entry: HeaderEntry;
  /** The tip before it. */
  prevTip: HeaderEntry;
  undo: BlockUndo;
  txids: Uint8Array[];
}

/** Verdicts that a failed write makes void: they said the block was connected or stored. */
const VOID_AFTER_FAILED_WRITE = new Set(['extended', 'reorged', 'side']);

/**
 * One processing step's connects, bodies and block events.
 * @example
 * ```ts
 * const batch = new ConnectBatch({ store, headers, chain });
 * const undo = applyBlock(chain.state, block, ctx);
 * const prevTip = chain.tip;
 * chain.tip = entry;
 * await batch.connected({ entry, prevTip, undo, txids });
 * await batch.write();
 * ```
 */
export class ConnectBatch {
  /** The tip when the step began. */
  readonly startTip: HeaderEntry;
  /** Blocks seen or loaded during the step, by display hex. */
  readonly blocks = new Map<string, Block>();
  /** Bodies accepted but not written yet: the connect writes them in its atomic write. */
  readonly pending = new Map<string, Uint8Array>();
  /** 'block' events of the step, sent once its connects are written ({@link finish}). */
  readonly blockEvents: NodeEvents['block'][] = [];

  readonly #store: ChainStore;
  readonly #headers: HeaderIndex;
  readonly #chain: ChainTip;
  #unwritten: UnwrittenConnect[] = [];
  #unwrittenBytes = 0;
  #writeFailed = false;

  constructor(deps: { store: ChainStore; headers: HeaderIndex; chain: ChainTip }) {
    this.#store = deps.store;
    this.#headers = deps.headers;
    this.#chain = deps.chain;
    this.startTip = deps.chain.tip;
  }

  /** Connects made in memory and not written yet. @example batch.unwrittenCount */
  get unwrittenCount(): number {
    return this.#unwritten.length;
  }

  /** Bytes of the bodies of the unwritten connects. @example batch.unwrittenBytes */
  get unwrittenBytes(): number {
    return this.#unwrittenBytes;
  }

  /** Whether a write of connects failed (the state went back; results that said otherwise are void). */
  get writeFailed(): boolean {
    return this.#writeFailed;
  }

  /**
   * Records a connect the caller made in memory (state applied, tip moved to `c.entry`); writes
   * the run once it is long enough.
   * @example await batch.connected({ entry, prevTip, undo, txids })
   */
  async connected(c: UnwrittenConnect): Promise<void> {
    this.#unwritten.push(c);
    this.#unwrittenBytes += this.pending.get(hashToHex(c.entry.hash))?.length ?? 0;
    if (this.#unwritten.length >= MAX_UNWRITTEN_BLOCKS || this.#unwrittenBytes >= MAX_UNWRITTEN_BYTES) await this.write();
  }

  /**
   * Undoes the newest unwritten connect in memory (state and tip go back; nothing to write; its
   * body stays pending, so {@link finish} stores it as a side-branch block). false if every
   * connect is written: the caller disconnects the tip from the store.
   * @example if (!batch.undoLast()) await disconnectStoredTip()
   */
  undoLast(): boolean {
    const last = this.#unwritten.pop();
    if (!last) return false;
    undoBlock(this.#chain.state, last.undo);
    this.#chain.tip = last.prevTip;
    this.#unwrittenBytes -= this.pending.get(hashToHex(last.entry.hash))?.length ?? 0;
    return true;
  }

  /**
   * Writes the unwritten connects in ONE atomic store write. If the write fails, the state and
   * the tip go back to where the store is, and the error is rethrown.
   * @example await batch.write()
   */
  async write(): Promise<void> {
    const run = this.#unwritten;
    if (run.length === 0) return;
    this.#unwritten = [];
    this.#unwrittenBytes = 0;
    try {
      await this.#store.connectBlocks(
        run.map((c) => ({
          hash: c.entry.hash,
          height: c.entry.height,
          body: this.pending.get(hashToHex(c.entry.hash)),
          undo: c.undo,
          txids: c.txids,
          headers: [{ ...c.entry, status: 'valid', hasBody: true }],
        })),
      );
    } catch (err) {
      for (let i = run.length - 1; i >= 0; i--) undoBlock(this.#chain.state, run[i].undo);
      this.#chain.tip = run[0].prevTip;
      this.#writeFailed = true;
      throw err;
    }
    for (const c of run) {
      this.pending.delete(hashToHex(c.entry.hash));
      if (c.entry.status !== 'valid') this.#headers.setStatus(c.entry.hash, 'valid');
    }
  }

  /**
   * The persistence end of the step: writes connects left unwritten by a step that failed
   * half-way (or goes back, if that fails), sends the block events that still stand, then stores
   * the bodies accepted but never connected (a storage failure mid-way, or connected and undone
   * within the step) as side-branch blocks. Failures go to `onError`; nothing here throws.
   * @example await batch.finish({ emitBlock: (ev) => events.emit('block', ev), onError })
   */
  async finish(opts: { emitBlock: (ev: NodeEvents['block']) => void; onError: (e: unknown) => void }): Promise<void> {
    await this.write().catch(opts.onError);
    for (const ev of this.blockEvents) if (!this.#writeFailed || !VOID_AFTER_FAILED_WRITE.has(ev.result.status)) opts.emitBlock(ev);
    for (const [hex, bytes] of this.pending) {
      const e = this.#headers.get(hex);
      try {
        if (e) await this.#store.putHeaders([{ ...e, hasBody: false }]);
        await this.#store.putBlock(hexToHash(hex), bytes);
      } catch (err) {
        if (e) this.#headers.setHasBody(hex, false);
        opts.onError(err);
      }
    }
    this.pending.clear();
  }
}
