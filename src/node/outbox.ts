/**
 * The outbox: every transaction this profile sent, persisted in its ChainStore until the chain
 * settles it, like a mail client's outbox (and like Bitcoin Core's wallet, which keeps its own
 * transactions and rebroadcasts them — `ResubmitWalletTransactions`).
 *
 * States (an {@link OutboxRecord}'s `state`):
 * - `pending` — sent, not in the best chain. It is kept in the node's mempool: resubmitted on start
 *   (a restart empties the mempool), after a reorg that dropped its block if the node did not
 *   readmit it, and on the rebroadcast timer if it was evicted or expired; and it is handed to the
 *   network's `rebroadcast(bytes)` hook on that timer (a no-op until p2p provides one).
 * - `confirmed` — in a block of the best chain (`blockHash`); confirmations = tip height − block
 *   height + 1. A reorg that disconnects that block sends it back to `pending` (or to `confirmed`
 *   in the other branch's block if that branch has it too).
 * - `rejected` — the rules refuse it now, with the rule's code in `error`: the node dropped it as
 *   invalid (FullNode 'txRemoved' with reason 'invalid', or 'reorg' `dropped`), or resubmitting
 *   it failed — e.g. a double spend of the same nonce won on the other branch (BAD_NONCE) or
 *   someone else took the offer's last lots (OFFER_NOT_FOUND). A rejected transaction that shows
 *   up confirmed again (a reorg back) is `confirmed` again.
 *
 * Driven by the node's events ('tip', 'reorg', 'txRemoved'); every event schedules one
 * reconciliation pass, and passes never overlap (a request during a pass runs one more pass after
 * it). The pass asks the node where each transaction is (`findTx`) rather than trusting event
 * order, so a missed event or a restart cannot leave a wrong state behind.
 * @module
 */
import { decodeTx, hashToHex, txid as txidOf, encodeTx, type HeaderEntry, type HeaderIndex, type Transaction } from '../chain/index.ts';
import type { ChainStore, OutboxRecord } from '../storage/index.ts';
import type { Emitter, NodeEvents } from './events.ts';
import type { WalletNode } from './wallet.ts';

/** A record of the outbox with its decoded transaction and live confirmation count. */
export interface OutboxEntry extends OutboxRecord {
  /** The decoded transaction. */
  decoded: Transaction;
  /** Height of the confirming block (confirmed only). */
  height?: number;
  /** tip height − block height + 1 when confirmed, else 0. */
  confirmations: number;
}

/** Where the node says a transaction is. */
export interface TxLocation {
  state: 'pending' | 'confirmed';
  blockHash?: string;
  height?: number;
  confirmations?: number;
}

/** What the outbox needs of the node (FullNode provides it). */
export interface OutboxNode extends WalletNode {
  /** The node's events ('tip', 'reorg', 'txRemoved' drive the outbox). */
  readonly events: Pick<Emitter<NodeEvents>, 'on'>;
  readonly headers: HeaderIndex;
  readonly tip: HeaderEntry;
  findTx(txid: string): Promise<TxLocation | null>;
}

/** Options of {@link Outbox}. */
export interface OutboxOptions {
  node: OutboxNode;
  store: ChainStore;
  /** Hands a pending transaction's bytes to the network (p2p provides it later). */
  rebroadcast?: (txBytes: Uint8Array) => void | Promise<void>;
  /** Rebroadcast timer period in ms (default 60,000; 0 = no timer). */
  rebroadcastIntervalMs?: number;
  /** ms since epoch (record dates). */
  now?: () => number;
  log?: (msg: string) => void;
}

/** Codes that say "not now" rather than "never": a resubmission failing with them stays pending. */
const TRANSIENT_CODES = new Set(['BAD_FEE']);

/**
 * Our own transactions and their fate.
 * @example
 * ```ts
 * const outbox = new Outbox({ node, store });
 * await outbox.start();            // reload from the store, resubmit pending ones
 * await outbox.add(tx);            // after node.processTx accepted it
 * outbox.get(txidHex)?.state       // 'pending' → 'confirmed'
 * ```
 */
export class Outbox {
  private readonly node: OutboxNode;
  private readonly store: ChainStore;
  private readonly opts: OutboxOptions;
  private readonly records = new Map<string, OutboxEntry>();
  private readonly unsubscribes: (() => void)[] = [];
  private readonly listeners = new Set<(e: OutboxEntry) => void>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private started = false;
  private readonly inFlight = new Set<Promise<unknown>>();
  /** The next pass also looks up rejected records (set by a reorg). */
  private rejectedToo = false;
  /** Hands a pending transaction to the network; p2p sets it once it runs (undefined = no network). */
  rebroadcastHook: ((txBytes: Uint8Array) => void | Promise<void>) | undefined;

  constructor(opts: OutboxOptions) {
    this.opts = opts;
    this.node = opts.node;
    this.store = opts.store;
    this.rebroadcastHook = opts.rebroadcast;
  }

  /**
   * Loads the records from the store, subscribes to node events, reconciles (pending
   * transactions go back into the mempool) and starts the rebroadcast timer.
   * @example await outbox.start()
   */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    for (const rec of await this.store.listOutbox()) {
      let decoded: Transaction;
      try {
        decoded = decodeTx(rec.tx, this.node.params.maxTxBytes);
      } catch (e) {
        this.opts.log?.(`outbox: skipping undecodable record ${rec.txid}: ${(e as Error).message}`);
        continue;
      }
      this.records.set(rec.txid, { ...rec, decoded, confirmations: 0 });
    }
    const events = this.node.events;
    this.unsubscribes.push(
      events.on('tip', () => this.track(this.reconcile())),
      events.on('reorg', (e) => this.track(this.onReorg(e))),
      events.on('txRemoved', (e) => this.track(this.onRemoved(e))),
    );
    await this.reconcile();
    const every = this.opts.rebroadcastIntervalMs ?? 60_000;
    if (every > 0) {
      this.timer = setInterval(() => void this.rebroadcastPending().catch((e) => this.opts.log?.(`outbox: rebroadcast failed: ${(e as Error).message}`)), every);
      (this.timer as { unref?: () => void }).unref?.();
    }
  }

  /** Unsubscribes and stops the timer; waits for running work. @example await outbox.stop() */
  async stop(): Promise<void> {
    this.started = false;
    for (const u of this.unsubscribes.splice(0)) u();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.idle();
  }

  /**
   * Resolves once every event the outbox has received so far is handled and no pass is running
   * (tests, and callers that want a settled view right after a block).
   * @example await node.miner.mineBlocks(1); await outbox.idle(); outbox.get(txid)!.state // 'confirmed'
   */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0 || this.running) {
      await Promise.all([...this.inFlight, this.running]);
    }
  }

  private track(p: Promise<unknown>): void {
    const t = p
      .catch((e) => this.opts.log?.(`outbox: ${(e as Error).message}`))
      .finally(() => this.inFlight.delete(t));
    this.inFlight.add(t);
  }

  /** Calls `fn` whenever a record changes (added, confirmed, back to pending, rejected). @example outbox.onChange((e) => ui.update(e)) */
  onChange(fn: (e: OutboxEntry) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  // --- reading ------------------------------------------------------------------------------------

  /** The record of a txid (display hex), with live confirmations. @example outbox.get(txid)?.state */
  get(txid: string): OutboxEntry | undefined {
    const e = this.records.get(txid.toLowerCase());
    return e && this.view(e);
  }

  /** Every record, oldest first. @example outbox.list().filter((e) => e.state === 'pending') */
  list(): OutboxEntry[] {
    return [...this.records.values()].sort((a, b) => a.createdAt - b.createdAt).map((e) => this.view(e));
  }

  /** The decoded transactions still pending (for the wallet's nonce). @example outbox.pendingTxs() */
  pendingTxs(): Transaction[] {
    return [...this.records.values()].filter((e) => e.state === 'pending').map((e) => e.decoded);
  }

  private view(e: OutboxEntry): OutboxEntry {
    const out: OutboxEntry = { ...e, tx: e.tx.slice(), confirmations: 0 };
    if (e.state === 'confirmed' && e.height !== undefined) out.confirmations = Math.max(0, this.node.height - e.height + 1);
    return out;
  }

  // --- writing ------------------------------------------------------------------------------------

  /**
   * Records a transaction the node accepted, as pending (persisted before it resolves).
   * @example await outbox.add(tx)
   */
  async add(tx: Transaction): Promise<OutboxEntry> {
    const txid = hashToHex(txidOf(tx));
    const known = this.records.get(txid);
    if (known) return this.view(known);
    const entry: OutboxEntry = { txid, tx: encodeTx(tx), state: 'pending', createdAt: (this.opts.now ?? Date.now)(), decoded: tx, confirmations: 0 };
    this.records.set(txid, entry);
    await this.persist(entry);
    // A block may have confirmed it between processTx and now: look once.
    if (this.started) this.track(this.reconcile());
    return this.view(entry);
  }

  /**
   * Forgets a record (e.g. the user clears a rejected one). @example await outbox.remove(txid)
   */
  async remove(txid: string): Promise<void> {
    this.records.delete(txid.toLowerCase());
    await this.store.deleteOutbox(txid.toLowerCase());
  }

  private async persist(e: OutboxEntry): Promise<void> {
    const rec: OutboxRecord = { txid: e.txid, tx: e.tx, state: e.state, createdAt: e.createdAt };
    if (e.error !== undefined) rec.error = e.error;
    if (e.blockHash !== undefined) rec.blockHash = e.blockHash;
    await this.store.putOutbox(rec);
    const v = this.view(e);
    for (const fn of this.listeners) {
      try {
        fn(v);
      } catch (err) {
        this.opts.log?.(`outbox: listener failed: ${(err as Error).message}`);
      }
    }
  }

  private async setState(e: OutboxEntry, state: OutboxEntry['state'], extra: { error?: string; blockHash?: string; height?: number } = {}): Promise<void> {
    if (e.state === state && e.error === extra.error && e.blockHash === extra.blockHash && e.height === extra.height) return;
    e.state = state;
    e.error = extra.error;
    e.blockHash = extra.blockHash;
    e.height = extra.height;
    if (state !== 'rejected') delete e.error;
    if (state !== 'confirmed') {
      delete e.blockHash;
      delete e.height;
    }
    await this.persist(e);
  }

  // --- events -------------------------------------------------------------------------------------

  private async onRemoved(ev: NodeEvents['txRemoved']): Promise<void> {
    const e = this.records.get(ev.txid);
    if (!e) return;
    if (ev.reason === 'invalid' && e.state === 'pending') await this.setState(e, 'rejected', { error: ev.code ?? 'INVALID' });
    else await this.reconcile();
  }

  private async onReorg(ev: NodeEvents['reorg']): Promise<void> {
    for (const d of ev.dropped ?? []) {
      const e = this.records.get(d.txid);
      if (e && e.state !== 'rejected') await this.setState(e, 'rejected', { error: d.code });
    }
    await this.reconcile({ rejectedToo: true });
  }

  // --- reconciliation ---------------------------------------------------------------------------

  /**
   * Brings every record in line with the node: confirmed ones whose block left the best chain go
   * back to pending (or to their new block), pending ones found in a block become confirmed, and
   * pending ones the mempool lacks are resubmitted (rejected if the rules now refuse them).
   * Passes never overlap. `rejectedToo` also looks rejected ones up (after a reorg).
   * @example await outbox.reconcile()
   */
  reconcile(opts: { rejectedToo?: boolean } = {}): Promise<void> {
    if (opts.rejectedToo) this.rejectedToo = true;
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const run = async () => {
      do {
        this.again = false;
        const rejectedToo = this.rejectedToo;
        this.rejectedToo = false;
        await this.pass(rejectedToo);
      } while (this.again);
    };
    this.running = run()
      .catch((e) => this.opts.log?.(`outbox: reconcile failed: ${(e as Error).message}`))
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  private onBestChain(blockHash: string): HeaderEntry | undefined {
    const entry = this.node.headers.get(blockHash);
    if (!entry) return undefined;
    const tip = this.node.tip;
    return entry.height <= tip.height && this.node.headers.isAncestor(entry, tip) ? entry : undefined;
  }

  private async pass(rejectedToo: boolean): Promise<void> {
    for (const e of [...this.records.values()]) {
      if (e.state === 'confirmed' && e.blockHash !== undefined) {
        const entry = this.onBestChain(e.blockHash);
        if (entry) {
          if (e.height !== entry.height) e.height = entry.height;
          continue; // still in the best chain: nothing to ask
        }
      }
      if (e.state === 'rejected' && !rejectedToo) continue;
      const where = await this.node.findTx(e.txid);
      if (where?.state === 'confirmed' && where.blockHash) {
        const height = where.height ?? this.node.headers.get(where.blockHash)?.height;
        await this.setState(e, 'confirmed', { blockHash: where.blockHash, height });
      } else if (where?.state === 'pending') {
        if (e.state === 'confirmed') await this.setState(e, 'pending');
      } else if (e.state !== 'rejected') {
        if (e.state === 'confirmed') await this.setState(e, 'pending');
        await this.resubmit(e);
      }
    }
  }

  /** Puts a pending record back into the mempool; a rule refusal rejects it. */
  private async resubmit(e: OutboxEntry): Promise<void> {
    const result = await this.node.processTx(e.decoded, 'local');
    if (result.status === 'invalid') {
      const code = result.code ?? 'INVALID';
      if (TRANSIENT_CODES.has(code)) return;
      // The mempool refuses a nonce at or below the account's as BAD_NONCE: that nonce was used by
      // another transaction of ours that is confirmed — unless it is this very one, in a block the
      // node connected after our lookup. Ask once more before calling it a double spend.
      const where = await this.node.findTx(e.txid);
      if (where?.state === 'confirmed' && where.blockHash) {
        await this.setState(e, 'confirmed', { blockHash: where.blockHash, height: where.height ?? this.node.headers.get(where.blockHash)?.height });
        return;
      }
      await this.setState(e, 'rejected', { error: code });
    }
  }

  /**
   * Resubmits pending transactions the mempool lacks and hands every pending one to the
   * rebroadcast hook. Runs on the timer; call it to rebroadcast now. Resolves to the number handed
   * to the hook.
   * @example await outbox.rebroadcastPending()
   */
  async rebroadcastPending(): Promise<number> {
    await this.reconcile();
    let n = 0;
    for (const e of [...this.records.values()]) {
      if (e.state !== 'pending') continue;
      if (!this.node.mempool.has(e.txid)) await this.resubmit(e);
      if (e.state !== 'pending' || !this.rebroadcastHook) continue;
      try {
        await this.rebroadcastHook(e.tx.slice());
        n++;
      } catch (err) {
        this.opts.log?.(`outbox: rebroadcast of ${e.txid} failed: ${(err as Error).message}`);
      }
    }
    return n;
  }
}
