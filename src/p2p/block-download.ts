/**
 * BlockDownload: the bodies phase of one sync run (Bitcoin Core's parallel block download,
 * net_processing.cpp) — the bodies missing along the best header chain, fetched from several
 * peers at once and handed to the node in chain order.
 *
 * - **Window.** Only the first `window` missing bodies from the oldest one not yet received are
 *   asked for, so one slow peer cannot make us hold bodies far ahead of the tip.
 * - **Assignment.** Each round, every peer that may be asked (its claimed chain holds the block,
 *   it has not failed that block, it has a request slot: PeerScores' cap) gets `getBlocks`
 *   batches of `perRequest` hashes, least busy peers first.
 * - **Failure.** A batch that fails (a timeout or a bad answer, charged by the sync service; a
 *   dropped connection) or comes back `notFound` is asked of another peer: the peer that failed a
 *   hash is not asked for it again in this phase. A peer lacking bodies of the chain it claims is
 *   charged as for a timeout and its claim ignored for a while (Core disconnects such a staller).
 *   A `BUSY` peer (serving budget spent) is not charged: it is only passed over for a moment.
 * - **Stall.** With `stallMs`, the batch holding the oldest missing body, still unanswered after
 *   that long, is also asked of another peer with a free slot, once; whichever answer comes first
 *   is used (Core's BLOCK_STALLING_TIMEOUT, without disconnecting the staller): one request stuck
 *   on a connection that stopped carrying anything no longer holds the window until its timeout.
 * - **Delivery.** Bodies go to the node's block path in chain order, as runs of consecutive
 *   blocks (`processBlocks`: one store write per run) — in the background: an answer frees its
 *   request slot before its blocks are connected, so the next requests are out meanwhile.
 *   Answers that arrive early wait for the ones before them — within {@link MAX_ARRIVED_BYTES};
 *   beyond it everything held goes as it is (the node copes with any order). Only the first
 *   invalid block of a run is its sender's fault: `invalidBlock`, or `malformedFrame` for a body
 *   that does not match its header (then asked of someone else).
 *
 * The sync manager creates one per bodies phase and awaits {@link BlockDownload.run}.
 * @module
 */
import { hashToHex, hexToHash, type HeaderEntry } from '../chain/index.ts';
import { isMutationCode, type ChainAccess } from './chain-access.ts';
import { errorText, RemoteSyncError } from './errors.ts';
import type { PeerGate } from './peer-gate.ts';
import type { BlocksResult } from './sync-client.ts';

/** Received bodies held for in-order delivery at most (bytes); beyond it they go as they are. */
export const MAX_ARRIVED_BYTES = 64 * 1024 * 1024;
/** Blocks handed to the node per `processBlocks` call at most (progress shows between calls). */
export const DELIVERY_RUN = 128;

/** A peer as the download sees it (the sync manager adapts its own peer records). */
export interface DownloadPeer {
  readonly key: string;
  /** Whether the chain it claims may hold this block (an ancestor of its tip, or enough work). */
  mayHave(entry: HeaderEntry | undefined): boolean;
  /** Whether this block is of the chain it claims, as far as we know (an ancestor of its known tip). */
  claims(entry: HeaderEntry | undefined): boolean;
  getBlocks(hashes: Uint8Array[]): Promise<Pick<BlocksResult, 'blocks' | 'notFound'>>;
  /** It answered BUSY: pass it over for a moment (not its fault). */
  busy(): void;
  /** It withheld bodies of its own chain: ignore its claim for a while. */
  unhelpful(): void;
}

/** What a {@link BlockDownload} works with. */
export interface BlockDownloadOptions {
  chain: Pick<ChainAccess, 'headers' | 'tip' | 'missingBodies' | 'processBlocks'>;
  gate: Pick<PeerGate, 'penalize'> & { scores: Pick<PeerGate['scores'], 'tryBeginRequest' | 'endRequest' | 'pending'> };
  /** The peers that may be asked now (status known, claim not ignored, not paused, not denied); asked each round. */
  peers: () => DownloadPeer[];
  /**
   * Each round, before assigning: work that may bring more peers in (status asks of peers that
   * connected meanwhile). Awaited like the requests: the download ends only once they settled.
   */
  eachRound?: () => Promise<void>[];
  /** Whether sync stopped: the download ends at the next round. */
  stopped: () => boolean;
  /** Bodies asked ahead of the oldest one not yet received, at most. */
  window: number;
  /** Hashes per getBlocks request. */
  perRequest: number;
  /** Received bytes held for in-order delivery at most (default {@link MAX_ARRIVED_BYTES}). */
  maxArrivedBytes?: number;
  /**
   * A batch holding the oldest missing body that is still unanswered after this long (ms) is also
   * asked of another peer with a free slot (Core's BLOCK_STALLING_TIMEOUT, without the
   * disconnect): whichever answers first is used. Off when absent.
   */
  stallMs?: number;
  /** The clock of {@link stallMs}, ms (default `performance.now`). */
  now?: () => number;
  /** Progress of the phase: blocks connected since it began, of how many. */
  progress: (done: number, total: number, force: boolean) => void;
  log?: (msg: string) => void;
}

interface Arrived {
  bytes: Uint8Array;
  from: string;
}

/** Whether a failed request was a BUSY answer (the peer is at its serving budget: not its fault). */
function isBusy(e: unknown): boolean {
  return e instanceof RemoteSyncError && e.code === 'BUSY';
}

/**
 * One bodies phase.
 * @example
 * ```ts
 * await new BlockDownload({ chain, gate, peers: () => helpfulPeers(), stopped: () => false, window: 1024, perRequest: 16, progress }).run();
 * ```
 */
export class BlockDownload {
  readonly #opts: BlockDownloadOptions;
  readonly #maxArrivedBytes: number;
  /** The bodies to fetch, oldest first (refreshed when used up or when the best chain changed). */
  #order: string[] = [];
  /** Cursor at the oldest body of #order not yet received: the window starts there. */
  #lo = 0;
  /** The plan must be made again (the best chain, or what is missing, changed). */
  #refresh = true;
  readonly #received = new Set<string>();
  readonly #inFlight = new Set<string>();
  /** The request each body in flight went out in: when, to whom, with which hashes. */
  readonly #asked = new Map<string, { at: number; peer: string; hashes: string[] }>();
  /** Bodies asked of a second peer because the first stalled (once each). */
  readonly #hedged = new Set<string>();
  /** Peers that failed a hash (timeout, notFound, a mutated body): not asked for it again. */
  readonly #failedBy = new Map<string, Set<string>>();
  /** Requests (and eachRound work) not settled yet. */
  readonly #requests = new Set<Promise<void>>();
  /** Bodies received but not handed to the node yet, and their bytes. */
  readonly #arrived = new Map<string, Arrived>();
  #arrivedBytes = 0;
  /** Delivery cursor in #order. */
  #next = 0;
  #delivering: Promise<void> = Promise.resolve();
  #startHeight = 0;

  constructor(opts: BlockDownloadOptions) {
    this.#opts = opts;
    this.#maxArrivedBytes = opts.maxArrivedBytes ?? MAX_ARRIVED_BYTES;
  }

  /** Bytes of bodies received and held for in-order delivery now. @example download.heldBytes */
  get heldBytes(): number {
    return this.#arrivedBytes;
  }

  /**
   * Downloads until nothing is missing, or nobody can serve what is missing (the periodic status
   * poll brings the sync loop back), or sync stopped; resolves once every request settled and
   * everything received went to the node.
   * @example await download.run()
   */
  async run(): Promise<void> {
    const { chain } = this.#opts;
    if (chain.missingBodies(1).length === 0) return;
    this.#startHeight = chain.tip().height;
    this.#opts.progress(0, this.#total(), true);
    for (;;) {
      if (this.#opts.stopped()) break;
      for (const work of this.#opts.eachRound?.() ?? []) this.#track(work);
      while (this.#lo < this.#order.length && this.#received.has(this.#order[this.#lo])) this.#lo++;
      if (this.#refresh || (this.#lo >= this.#order.length && this.#inFlight.size === 0)) await this.#plan();
      this.#assign();
      this.#hedgeStall();
      // Nothing in flight and nothing assignable: done, or nobody can serve what is missing.
      if (this.#requests.size === 0) break;
      await this.#nextEvent();
    }
    await Promise.all(this.#requests);
    await this.#deliver(true);
    this.#opts.progress(this.#done(), this.#total(), true);
  }

  #total(): number {
    return Math.max(0, this.#opts.chain.headers.bestTip().height - this.#startHeight);
  }

  #done(): number {
    return Math.max(0, this.#opts.chain.tip().height - this.#startHeight);
  }

  /** A new plan: what arrived for the old one goes to the node first; the new one starts after it. */
  async #plan(): Promise<void> {
    await this.#deliver(true);
    this.#order = this.#opts.chain.missingBodies(Number.MAX_SAFE_INTEGER).filter((h) => !this.#inFlight.has(h));
    this.#lo = 0;
    this.#next = 0;
    this.#refresh = false;
    // Bodies asked twice (a stall) stay marked received: the slower answer may still come.
    for (const h of this.#received) if (!this.#hedged.has(h)) this.#received.delete(h);
  }

  /** Gives every peer the batches of the window it may serve, as long as it has request slots. */
  #assign(): void {
    const { chain, gate } = this.#opts;
    const end = Math.min(this.#order.length, this.#lo + this.#opts.window);
    const peers = this.#opts.peers().sort((a, b) => gate.scores.pending(a.key) - gate.scores.pending(b.key));
    for (const p of peers) {
      for (;;) {
        const chunk: string[] = [];
        for (let i = this.#lo; i < end && chunk.length < this.#opts.perRequest; i++) {
          const h = this.#order[i];
          if (this.#received.has(h) || this.#inFlight.has(h) || this.#failedBy.get(h)?.has(p.key)) continue;
          if (p.mayHave(chain.headers.get(h))) chunk.push(h);
        }
        if (chunk.length === 0 || !gate.scores.tryBeginRequest(p.key)) break;
        const asked = { at: this.#now(), peer: p.key, hashes: chunk };
        for (const h of chunk) {
          this.#inFlight.add(h);
          this.#asked.set(h, asked);
        }
        this.#track(this.#request(p, chunk));
      }
    }
  }

  /** A request settling, or (with stall detection) the moment the oldest batch out would stall. */
  async #nextEvent(): Promise<void> {
    const stallMs = this.#opts.stallMs;
    const oldest = this.#lo < this.#order.length ? this.#asked.get(this.#order[this.#lo]) : undefined;
    if (stallMs === undefined || !oldest || this.#hedged.has(this.#order[this.#lo])) return Promise.race(this.#requests);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const wake = new Promise<void>((r) => (timer = setTimeout(r, Math.max(0, oldest.at + stallMs - this.#now()))));
    try {
      await Promise.race([...this.#requests, wake]);
    } finally {
      clearTimeout(timer);
    }
  }

  #now(): number {
    return (this.#opts.now ?? (() => performance.now()))();
  }

  /**
   * The oldest missing body's batch has been out longer than stallMs: ask another peer that may
   * have it and has a free slot for that batch's bodies still missing (once).
   */
  #hedgeStall(): void {
    const { stallMs } = this.#opts;
    if (stallMs === undefined || this.#lo >= this.#order.length) return;
    const first = this.#order[this.#lo];
    const asked = this.#asked.get(first);
    if (!asked || this.#hedged.has(first) || this.#now() - asked.at < stallMs) return;
    const { chain, gate } = this.#opts;
    const hashes = asked.hashes.filter((h) => this.#inFlight.has(h) && !this.#received.has(h));
    for (const h of hashes) this.#hedged.add(h);
    const peers = this.#opts.peers().sort((a, b) => gate.scores.pending(a.key) - gate.scores.pending(b.key));
    for (const p of peers) {
      if (p.key === asked.peer || hashes.some((h) => this.#failedBy.get(h)?.has(p.key) || !p.mayHave(chain.headers.get(h)))) continue;
      if (!gate.scores.tryBeginRequest(p.key)) continue;
      this.#opts.log?.(`sync: ${hashes.length} bodies from ${asked.peer} stalled for ${stallMs} ms: asked of ${p.key} too`);
      this.#track(this.#request(p, hashes));
      return;
    }
  }

  #track(r: Promise<void>): void {
    this.#requests.add(r);
    void r.finally(() => this.#requests.delete(r));
  }

  #markFailed(hash: string, peer: string): void {
    const set = this.#failedBy.get(hash);
    if (set) set.add(peer);
    else this.#failedBy.set(hash, new Set([peer]));
  }

  async #request(p: DownloadPeer, hashes: string[]): Promise<void> {
    const { chain, gate } = this.#opts;
    let res;
    try {
      res = await p.getBlocks(hashes.map(hexToHash));
    } catch (e) {
      // Timeouts and bad answers were charged by the sync service; ask someone else. A BUSY
      // peer may still have them: it is only passed over for a moment.
      this.#opts.log?.(`sync: blocks from ${p.key} failed: ${errorText(e)}`);
      if (isBusy(e)) p.busy();
      else for (const h of hashes) this.#markFailed(h, p.key);
      for (const h of hashes) this.#inFlight.delete(h);
      return;
    } finally {
      // The slot is free as soon as the answer is in: the next request overlaps our processing.
      gate.scores.endRequest(p.key);
      for (const h of hashes) if (this.#asked.get(h)?.peer === p.key) this.#asked.delete(h);
    }
    for (const b of res.blocks) {
      const hex = hashToHex(b.hash);
      if (this.#received.has(hex)) continue;
      this.#received.add(hex);
      this.#arrived.set(hex, { bytes: b.bytes, from: p.key });
      this.#arrivedBytes += b.bytes.length;
    }
    for (const h of hashes) this.#inFlight.delete(h);
    if (res.notFound.length > 0) {
      // A peer may lack blocks of a branch it is not on; lacking one of its OWN chain means its
      // claim cannot be backed.
      let withheld = 0;
      for (const h of res.notFound) {
        this.#markFailed(hashToHex(h), p.key);
        if (p.claims(chain.headers.get(h))) withheld++;
      }
      if (withheld > 0) {
        // Announcing a chain and then withholding its bodies stalls us like a timeout does;
        // charged as one, once per answer, so an honest peer that reorged away between its
        // status and our request only pays a little, which decays.
        p.unhelpful();
        gate.penalize(p.key, 'timeout', `${withheld} bodies of its own chain not found`);
      }
    }
    // Delivered in the background (tracked like a request, so the download still ends only once
    // it is done): this request settles now and the loop asks for more while the node connects
    // these blocks — the download overlaps the store write instead of waiting for it.
    this.#track(this.#deliver(false));
  }

  /** Delivers what can go now (the run at the cursor; everything if `all`), one delivery at a time. */
  #deliver(all: boolean): Promise<void> {
    this.#delivering = this.#delivering.then(async () => {
      let run: ({ hex: string } & Arrived)[] = [];
      if (all || this.#arrivedBytes > this.#maxArrivedBytes) {
        const height = (hex: string) => this.#opts.chain.headers.get(hex)?.height ?? Number.MAX_SAFE_INTEGER;
        run = [...this.#arrived].map(([hex, b]) => ({ hex, ...b })).sort((x, y) => height(x.hex) - height(y.hex));
      } else {
        for (; this.#next < this.#order.length; this.#next++) {
          const b = this.#arrived.get(this.#order[this.#next]);
          if (!b) break;
          run.push({ hex: this.#order[this.#next], ...b });
        }
      }
      for (let i = 0; i < run.length; i += DELIVERY_RUN) await this.#processRun(run.slice(i, i + DELIVERY_RUN));
      if (run.length > 0) this.#opts.progress(this.#done(), this.#total(), false);
    });
    return this.#delivering;
  }

  /** Hands a run to the node and judges the senders by the verdicts. */
  async #processRun(run: ({ hex: string } & Arrived)[]): Promise<void> {
    for (const b of run) {
      this.#arrived.delete(b.hex);
      this.#arrivedBytes -= b.bytes.length;
    }
    const verdicts = await this.#opts.chain.processBlocks(run.map((b) => b.bytes));
    // Only the first invalid block of a run is its sender's fault: the blocks after it in the run
    // are refused as its descendants (BAD_PREV), whoever sent them.
    const bad = verdicts.findIndex((v) => v.status === 'invalid');
    if (bad < 0) return;
    const v = verdicts[bad];
    const { hex, from } = run[bad];
    if (isMutationCode(v.code)) {
      this.#opts.gate.penalize(from, 'malformedFrame', `block ${hex} does not match its header (${v.code})`);
      this.#markFailed(hex, from);
      this.#received.delete(hex); // ask someone else for the right body
    } else {
      this.#opts.gate.penalize(from, 'invalidBlock', `block ${hex}: ${v.code ?? 'invalid'}`);
    }
    this.#refresh = true; // the best chain (or what is missing) changed
    for (const b of run.slice(bad + 1)) this.#received.delete(b.hex);
  }
}
