/**
 * Catching up with peers: headers first, then bodies from several peers in parallel (Bitcoin
 * Core's headers-first download, net_processing.cpp).
 *
 * One driver loop, never running twice at once, woken by {@link SyncManager.kick} (a peer
 * connected, a gossiped orphan, the periodic timer):
 * 1. **Status.** Ask each chain peer whose status is stale for its status (tip, height,
 *    chainwork, genesis). A peer of another chain (network, chainId or genesis differ) is banned
 *    and dropped.
 * 2. **Headers.** While some peer claims more work than our best header, take the one claiming
 *    the most and walk its headers: `getHeaders(locator)` (≤ 2000 per round), each batch validated
 *    by the node (`processHeaders`: proof of work, ASERT bits, time) before anything else; the next
 *    locator starts at the last header it sent (so a peer on another branch is followed along its
 *    branch). Invalid headers → `invalidBlock` (ban); headers that do not connect → `unsolicited`.
 *    A peer whose claim its headers (or bodies) do not back is "unhelpful" — its claim ignored —
 *    until its tip changes or a minute passes.
 * 3. **Bodies** (block-download.ts: one {@link BlockDownload} per phase). The node lists the
 *    bodies missing along the best header chain; a sliding window
 *    of the first {@link SyncManagerOptions.window} of them is requested in `getBlocks` batches
 *    of 16 from every peer whose claimed chain holds them (the block is an ancestor of the tip it
 *    claims, or, if we do not know that tip, it claims at least as much work), at most `maxPendingRequests` batches in flight
 *    per peer (PeerScores' request cap). Bodies go to the node's block path in chain order, as
 *    runs of consecutive blocks (`processBlocks`, one store write per run); answers that arrive
 *    early wait for the ones before them (within a byte budget). A batch that times out or comes
 *    back `notFound` is asked of another peer (a peer that lacks bodies of the chain it claims is
 *    charged as for a timeout and passed over). An invalid body → `invalidBlock` (ban); a body that
 *    does not match its header → `malformedFrame`.
 * 4. **Synced** = no connected peer (still helpful) claims more work than our active tip; with no
 *    peers, synced. The node's flag follows (its miner waits for it).
 *
 * A peer that answers `BUSY` (its serving budget is spent, serve-budget.ts) is not charged and
 * its claim still counts (we are not synced because it is busy): it is passed over for
 * {@link BUSY_RETRY_MS} — other peers are asked meanwhile — and the loop comes back to it then.
 *
 * Progress goes out as `sync-progress` events `{ phase: 'headers' | 'blocks', done, total }`,
 * counted from the start of the phase.
 * @module
 */
import type { PeerId } from '@libp2p/interface';
import {
  antiDosWorkThreshold,
  blockHash,
  checkProofOfWork,
  equalBytes,
  hashToHex,
  workForBits,
  type BlockHeader,
  type HeaderEntry,
} from '../chain/index.ts';
import { BlockDownload, type DownloadPeer } from './block-download.ts';
import type { ChainAccess } from './chain-access.ts';
import { Emitter } from './emitter.ts';
import { errorText, RemoteSyncError } from './errors.ts';
import type { TabchainLibp2p } from './libp2p-node.ts';
import type { SyncClient } from './sync-client.ts';
import { MAX_BLOCKS_PER_REQUEST, MAX_HEADERS_PER_REQUEST, type SyncStatus } from './messages.ts';
import { HeldHeaders } from './held-headers.ts';
import type { PeerGate } from './peer-gate.ts';

/**
 * Low-work headers held back at most (see #headersFrom; one peer's at a time). Held as 80-byte
 * encodings (held-headers.ts): ~1.6 MB for 20,000. As decoded header objects they measured ~630
 * bytes of heap each, 12 MiB (node --expose-gc), which is why they are not kept that way.
 */
const MAX_LOW_WORK_HEADERS = 20_000;

/** Whether a header meets its own bits (and the network's limit): the cost of making one. */
function hasProofOfWork(h: BlockHeader, powLimit: bigint): boolean {
  try {
    checkProofOfWork(blockHash(h), h.bits, powLimit);
    return true;
  } catch {
    return false;
  }
}

/** Events of the sync manager. */
export interface SyncEvents {
  'sync-progress': { phase: 'headers' | 'blocks'; done: number; total: number };
  synced: { synced: boolean };
  /** A peer's status changed (its claimed height, for the peer list). */
  status: { peer: string; status: SyncStatus };
}

export interface SyncManagerOptions {
  libp2p: TabchainLibp2p;
  gate: PeerGate;
  /** How often every peer's status is asked again, ms (default 10 s). */
  statusEveryMs?: number;
  /** Bodies requested ahead of the active tip at most (default 1024). */
  window?: number;
  /** Bodies per getBlocks request (default 16, the protocol maximum). */
  blocksPerRequest?: number;
  /** Minimum spacing of progress events, ms (default 100; the last of a phase always goes out). */
  progressEveryMs?: number;
  log?: (msg: string) => void;
}

/** How long a peer's unbacked claim is ignored, ms. */
const UNHELPFUL_MS = 60_000;
/**
 * How long a peer whose status or headers request failed twice in a row (a timeout, a dropped
 * stream) is passed over before it is asked again, ms: one lost answer is not a lie, and the peer
 * may be the only one ahead. The first failure is asked again at once.
 */
const RETRY_MS = 3_000;
/**
 * How long the batch holding the oldest missing body may stay unanswered before it is also asked
 * of another peer, ms (block-download.ts stallMs): a request to a peer whose connection stopped
 * carrying anything otherwise holds the whole download up until its timeout (10 s).
 */
const STALL_MS = 3_000;
/** Margin added to a timed kick after a pause (see #markUnhelpful). */
const KICK_SLACK_MS = 50;
/**
 * How long a peer that answered BUSY is passed over, ms. Its budget refills fast (serve-budget.ts:
 * a request every 2.5 ms, a 2 MiB answer's bytes in 125 ms), unless all peers together drained its
 * node's budget; a quarter of a second loses little of a sync and asks a busy node at most 4
 * times a second.
 */
export const BUSY_RETRY_MS = 250;

/** Whether a failed request was a BUSY answer (the peer is at its serving budget: not its fault). */
function isBusy(e: unknown): boolean {
  return e instanceof RemoteSyncError && e.code === 'BUSY';
}

interface PeerSync {
  id: PeerId;
  status?: SyncStatus;
  /** The status must be asked again before it is trusted. */
  stale: boolean;
  /**
   * The claimed tip (display hex) this peer failed to deliver, and until when its claim is
   * ignored (unless its tip changes first): {@link UNHELPFUL_MS} when its headers or bodies did
   * not back its claim, {@link RETRY_MS} when a request to it failed.
   */
  unhelpful?: { tip: string; until: number };
  /** When its status was last asked for (ms). */
  askedAt?: number;
  /** It answered BUSY: not asked for anything until then (ms). */
  busyUntil?: number;
  /** The last tip it claimed that our header index did not hold when it claimed it (see isAhead). */
  newTip?: Uint8Array;
  /**
   * Its status or headers requests that failed in a row (a timeout, a dropped stream or
   * connection; not BUSY): the first is asked again at once, the next ones after {@link RETRY_MS}.
   */
  failures: number;
}

/**
 * The sync driver.
 * @example
 * ```ts
 * const sync = new SyncManager({ libp2p, gate });
 * sync.attach(chain);
 * sync.start();
 * sync.addPeer(peerId); // after identify says it speaks /tabchain/<net>/sync/1
 * sync.events.on('sync-progress', (p) => console.log(p.phase, p.done, p.total));
 * ```
 */
export class SyncManager {
  readonly events = new Emitter<SyncEvents>();
  readonly #opts: SyncManagerOptions;
  readonly #peers = new Map<string, PeerSync>();
  readonly #virtual = new Map<string, SyncClient>();
  /** Peers with a libp2p connection (as opposed to only a virtual carrier). */
  readonly #libp2pPeers = new Set<string>();
  readonly #refreshing = new Set<string>();
  readonly #window: number;
  readonly #perRequest: number;
  #chain: ChainAccess | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #retryAt = 0;
  #running = false;
  #again = false;
  #stopped = true;
  #synced = true;
  #lastProgress = 0;
  /** Resolves when the current loop run ends (tests, stop). */
  #loop: Promise<void> = Promise.resolve();

  constructor(opts: SyncManagerOptions) {
    this.#opts = opts;
    this.#window = opts.window ?? 1024;
    this.#perRequest = Math.min(opts.blocksPerRequest ?? MAX_BLOCKS_PER_REQUEST, MAX_BLOCKS_PER_REQUEST);
  }

  /** The chain to sync. @example sync.attach(chain) */
  attach(chain: ChainAccess): void {
    this.#chain = chain;
  }

  /** Whether no peer claims more work than our tip. @example sync.synced */
  get synced(): boolean {
    return this.#synced;
  }

  /** Last known status of a peer. @example sync.statusOf(id)?.height */
  statusOf(peer: string): SyncStatus | undefined {
    return this.#peers.get(peer)?.status;
  }

  /**
   * Whether a peer showed us a chain we lacked since it connected (the peer manager keeps an extra
   * peer for it, extra-peer.ts): it claimed a tip our header index did not hold, and that tip is
   * now in the index and not invalid — its headers passed our checks, proof of work included, so
   * the claim cannot be faked cheaply. false: its status is known and it has shown nothing new (or
   * its claim is ignored as unbacked); undefined: no status yet, or a claim of more work than our
   * best header whose headers are still to come.
   * @example sync.isAhead('12D3KooW…') // true once its better chain's headers are ours
   */
  isAhead(peer: string): boolean | undefined {
    const p = this.#peers.get(peer);
    const chain = this.#chain;
    if (!p?.status || !chain) return undefined;
    if (p.newTip === undefined) return false;
    const entry = chain.headers.get(p.newTip);
    if (entry) return entry.status !== 'invalid';
    const finding = this.#helpful(p) && equalBytes(p.status.tipHash, p.newTip) && p.status.chainwork > chain.headers.bestTip().chainwork;
    return finding ? undefined : false;
  }

  /** Starts the periodic status poll. @example sync.start() */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    const every = this.#opts.statusEveryMs ?? 10_000;
    this.#timer = setInterval(() => {
      for (const p of this.#peers.values()) p.stale = true;
      this.kick();
    }, every);
    (this.#timer as { unref?: () => void }).unref?.();
    this.#updateSynced();
  }

  /** Stops polling; the loop ends after its current request. @example await sync.stop() */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    await this.#loop;
  }

  /** A peer that speaks the sync protocol connected. @example sync.addPeer(peerId) */
  addPeer(id: PeerId): void {
    this.#libp2pPeers.add(id.toString());
    this.#add(id, true);
  }

  /** `real`: a libp2p PeerId (dialable), which replaces a virtual peer's stand-in. */
  #add(id: PeerId, real: boolean): void {
    const key = id.toString();
    const known = this.#peers.get(key);
    if (known) {
      known.stale = true;
      if (real) known.id = id;
    } else this.#peers.set(key, { id, stale: true, failures: 0 });
    this.kick();
  }

  /**
   * A "virtual" peer whose sync requests go over a {@link SyncClient} (any SyncPort: the
   * same-browser tab mesh's BroadcastChannel) instead of a libp2p stream; the same sync logic
   * drives both. Remove it with {@link removePeer}.
   * @example sync.addVirtualPeer(meshId, new SyncClient(port))
   */
  addVirtualPeer(id: string, client: SyncClient): void {
    this.#virtual.set(id, client);
    this.#add({ toString: () => id } as PeerId, false);
  }

  /**
   * A virtual peer left. A peer reached both ways (a tab of this browser that is also a WebRTC
   * peer) stays while the other carrier does.
   * @example sync.removeVirtualPeer(meshId)
   */
  removeVirtualPeer(peer: string): void {
    this.#virtual.delete(peer);
    if (!this.#libp2pPeers.has(peer) && this.#peers.delete(peer)) this.#updateSynced();
  }

  /** A peer disconnected (or was banned). @example sync.removePeer('12D3KooW...') */
  removePeer(peer: string): void {
    this.#libp2pPeers.delete(peer);
    if (this.#virtual.has(peer) && !this.#opts.gate.denies(peer)) return; // still reached over the mesh
    this.#virtual.delete(peer);
    if (this.#peers.delete(peer)) this.#updateSynced();
  }

  /** The carrier of a peer's requests: its virtual client, or the libp2p sync service. */
  #service(p: PeerSync): Pick<TabchainLibp2p['services']['sync'], 'getStatus' | 'getHeaders' | 'getBlocks'> {
    const v = this.#virtual.get(p.id.toString());
    if (!v) return this.#opts.libp2p.services.sync;
    return {
      getStatus: () => v.getStatus(),
      getHeaders: (_peer, locator, opts) => v.getHeaders(locator, opts),
      getBlocks: (_peer, hashes) => v.getBlocks(hashes),
    };
  }

  /** Peers known to speak the sync protocol. @example sync.peerIds() */
  peerIds(): string[] {
    return [...this.#peers.keys()];
  }

  /**
   * Asks this peer for its status again and syncs from it if it is ahead (e.g. it gossiped a block
   * whose parent we lack).
   * @example sync.requestFrom(peerId)
   */
  requestFrom(peer: string): void {
    const p = this.#peers.get(peer);
    if (p) p.stale = true;
    this.kick();
  }

  /** Our chain changed (new tip): re-evaluate `synced`. @example node.events.on('tip', () => sync.chainChanged()) */
  chainChanged(): void {
    this.#updateSynced();
  }

  /**
   * Wakes the driver loop (it runs once more if it is already running).
   * @example sync.kick()
   */
  kick(): void {
    if (this.#stopped || !this.#chain) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Resolves when the loop is idle. @example await sync.idle() */
  async idle(): Promise<void> {
    while (this.#running) await this.#loop;
  }

  async #run(): Promise<void> {
    try {
      do {
        this.#again = false;
        await this.#refreshStatuses();
        if (this.#stopped) break;
        await this.#headersPhase();
        if (this.#stopped) break;
        await this.#blocksPhase();
        this.#comeBackForBusyPeers();
        this.#updateSynced();
      } while (this.#again && !this.#stopped);
    } catch (e) {
      this.#opts.log?.(`sync: ${errorText(e)}`);
    } finally {
      // Cleared in the same turn as the last look at #again: a kick can never fall in between.
      this.#running = false;
    }
  }

  // --- status ----------------------------------------------------------------------------------

  async #refreshStatuses(): Promise<void> {
    const stale = [...this.#peers.values()].filter((p) => p.stale);
    await Promise.all(stale.map((p) => this.#refreshStatus(p)));
    this.#updateSynced();
  }

  async #refreshStatus(p: PeerSync): Promise<void> {
    const chain = this.#chain!;
    const key = p.id.toString();
    if (this.#refreshing.has(key)) return;
    this.#refreshing.add(key);
    p.askedAt = Date.now();
    let status: SyncStatus;
    try {
      status = await this.#service(p).getStatus(p.id);
    } catch (e) {
      // Not yet serving (BUSY), gone, or it timed out (the sync service charged it already).
      if (!(e instanceof RemoteSyncError)) this.#opts.log?.(`sync: status of ${key} failed: ${errorText(e)}`);
      if ((e as Error).name === 'UnsupportedProtocolError') this.#peers.delete(key);
      // It stays stale: ask again rather than at the next status poll (it may be the only peer
      // ahead of us) — at once the first time (over whatever connection is open then: the one
      // that failed may be gone), then after RETRY_MS.
      else if (isBusy(e)) this.#pauseBusy(p);
      else if (p.failures++ === 0) this.kick();
      else this.#kickLater(RETRY_MS);
      return;
    } finally {
      this.#refreshing.delete(key);
    }
    if (!this.#peers.has(key)) return; // removed meanwhile
    if (status.network !== chain.params.name || status.chainId !== chain.params.chainId || !equalBytes(status.genesisHash, chain.params.genesisHash)) {
      this.#opts.log?.(`sync: ${key} runs another chain (${status.network}, genesis ${hashToHex(status.genesisHash)}): banned`);
      this.#peers.delete(key);
      this.#opts.gate.ban(key, 'another chain');
      return;
    }
    p.failures = 0;
    if (p.unhelpful !== undefined && p.unhelpful.tip !== hashToHex(status.tipHash)) p.unhelpful = undefined;
    if (!chain.headers.get(status.tipHash)) p.newTip = status.tipHash;
    p.status = status;
    p.stale = false;
    this.events.emit('status', { peer: key, status });
  }

  #helpful(p: PeerSync): boolean {
    return p.unhelpful === undefined || Date.now() >= p.unhelpful.until;
  }

  /** Whether a peer may be asked now (it has not answered BUSY a moment ago). */
  #available(p: PeerSync): boolean {
    return p.busyUntil === undefined || Date.now() >= p.busyUntil;
  }

  /** The peer answered BUSY: pass it over for BUSY_RETRY_MS, then run the loop again. */
  #pauseBusy(p: PeerSync): void {
    p.busyUntil = Date.now() + BUSY_RETRY_MS;
    this.#kickLater(BUSY_RETRY_MS);
  }

  /**
   * A run that ends while a peer is still passed over comes back when its pause ends (a timer may
   * fire a millisecond before Date.now() reaches the pause's end: the run it starts skips the peer).
   */
  #comeBackForBusyPeers(): void {
    const now = Date.now();
    let next = Infinity;
    for (const p of this.#peers.values()) if (p.busyUntil !== undefined && p.busyUntil > now) next = Math.min(next, p.busyUntil);
    if (next !== Infinity) this.#kickLater(next - now);
  }

  #markUnhelpful(p: PeerSync, ms = UNHELPFUL_MS): void {
    if (!p.status) return;
    p.unhelpful = { tip: hashToHex(p.status.tipHash), until: Date.now() + ms };
    // Come back to it as soon as a short pause is over, not at the next status poll. A little
    // after: a timer may fire a millisecond before Date.now() reaches `until` (timers run on a
    // monotonic clock with ms rounding), and a kick that finds the peer still unhelpful ends the
    // loop with nothing left to wake it before the next poll.
    if (ms < UNHELPFUL_MS) this.#kickLater(ms + KICK_SLACK_MS);
  }

  /** Runs the loop again in `ms` (one such timer at a time, the earliest asked for; stop() clears it). */
  #kickLater(ms: number): void {
    if (this.#stopped) return;
    const at = Date.now() + ms;
    if (this.#retryTimer !== undefined) {
      if (this.#retryAt <= at) return;
      clearTimeout(this.#retryTimer);
    }
    this.#retryAt = at;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.kick();
    }, ms);
    (this.#retryTimer as { unref?: () => void }).unref?.();
  }

  /**
   * Whether a peer may have the block of `entry`: it is an ancestor of the tip the peer claims
   * (when we know that tip), or at least the peer claims as much work (when we do not).
   */
  #mayHave(p: PeerSync, entry: HeaderEntry | undefined): boolean {
    if (!entry || !p.status) return true;
    const tip = this.#chain!.headers.get(p.status.tipHash);
    if (tip) return this.#chain!.headers.isAncestor(entry, tip);
    return entry.chainwork <= p.status.chainwork;
  }

  #updateSynced(): void {
    const chain = this.#chain;
    if (!chain) return;
    const tipWork = chain.tip().chainwork;
    let synced = true;
    for (const p of this.#peers.values()) {
      if (p.status && this.#helpful(p) && p.status.chainwork > tipWork) {
        synced = false;
        break;
      }
    }
    if (synced === this.#synced) return;
    this.#synced = synced;
    chain.setSynced(synced);
    this.events.emit('synced', { synced });
  }

  // --- headers ---------------------------------------------------------------------------------

  /**
   * The peer claiming the most work above `work`, among the helpful ones; of those claiming the
   * same, one reached directly (a WebRTC or WebSocket connection, or the tab mesh) rather than
   * only through a relay: a request over a relayed connection crosses the relay server (and,
   * for blocks, first waits for a direct one to open: libp2p-sync.ts).
   */
  #bestPeerAbove(work: bigint): PeerSync | undefined {
    let best: PeerSync | undefined;
    let bestDirect = false;
    for (const p of this.#peers.values()) {
      if (!p.status || !this.#helpful(p) || !this.#available(p) || p.status.chainwork <= work) continue;
      if (best === undefined || p.status.chainwork > best.status!.chainwork) {
        best = p;
        bestDirect = this.#direct(p);
      } else if (p.status.chainwork === best.status!.chainwork && !bestDirect && this.#direct(p)) {
        best = p;
        bestDirect = true;
      }
    }
    return best;
  }

  /** Whether we reach a peer other than only through a relay: over the tab mesh, or an open unlimited libp2p connection. */
  #direct(p: PeerSync): boolean {
    if (this.#virtual.has(p.id.toString())) return true;
    const libp2p = this.#opts.libp2p;
    if (typeof libp2p.getConnections !== 'function') return false;
    return libp2p.getConnections(p.id).some((c) => c.status === 'open' && c.limits === undefined);
  }

  async #headersPhase(): Promise<void> {
    const chain = this.#chain!;
    for (let round = 0; !this.#stopped && round < 64; round++) {
      const best = this.#bestPeerAbove(chain.headers.bestTip().chainwork);
      if (!best) return;
      const outcome = await this.#headersFrom(best);
      // All its request slots are taken (bodies in flight): the next run asks again.
      if (outcome === 'busy') return;
      // It answered BUSY: it is passed over for a moment; the next peer, if any, is asked.
      if (outcome === 'paused') continue;
      // A first failed request in a row: the next round asks again at once — this peer, over
      // whatever connection is open then, or another peer claiming more work.
      if (outcome === 'failed' && best.failures === 1) continue;
      // Its headers did not bring us up to the work it claims: ignore its claim for a while (a
      // short while if only a request failed) and try the next peer.
      if (this.#peers.get(best.id.toString()) === best && chain.headers.bestTip().chainwork < best.status!.chainwork) {
        this.#markUnhelpful(best, outcome === 'failed' ? RETRY_MS : UNHELPFUL_MS);
      }
    }
  }

  /**
   * Walks a peer's headers from our best header (then from the last one it sent), validating each
   * batch. 'failed': a request failed; 'busy': no request slot was free; 'paused': it answered
   * BUSY; 'done' otherwise.
   */
  async #headersFrom(p: PeerSync): Promise<'done' | 'failed' | 'busy' | 'paused'> {
    const chain = this.#chain!;
    const key = p.id.toString();
    const claimed = p.status!;
    const startHeight = chain.headers.bestTip().height;
    const total = Math.max(0, claimed.height - startHeight);
    const known = chain.headers.get(claimed.tipHash);
    if (known?.status === 'invalid') {
      this.#opts.gate.penalize(key, 'invalidBlock', `its tip ${hashToHex(claimed.tipHash)} is on an invalid chain`);
      return 'done';
    }
    let from: HeaderEntry = chain.headers.bestTip();
    let added = 0;
    // Headers of a branch that has not reached the anti-DoS work yet (antiDosWorkThreshold): held
    // here, proof of work checked, until the branch gets there — then validated and stored with
    // the rest — or dropped when it ends short of it (Bitcoin Core's PRESYNC, without the
    // commitments: we keep at most MAX_LOW_WORK_HEADERS of them instead).
    const held = new HeldHeaders(MAX_LOW_WORK_HEADERS);
    let heldWork = 0n;
    this.#progress('headers', 0, total, true);
    for (;;) {
      if (this.#stopped || !this.#peers.has(key)) return 'done';
      if (!this.#opts.gate.scores.tryBeginRequest(key)) return 'busy';
      let headers;
      const locator = chain.headers.locator(from);
      if (held.lastHash) locator.unshift(held.lastHash);
      try {
        headers = await this.#service(p).getHeaders(p.id, locator, { max: MAX_HEADERS_PER_REQUEST });
      } catch (e) {
        this.#opts.log?.(`sync: headers from ${key} failed: ${errorText(e)}`);
        if (isBusy(e)) {
          this.#pauseBusy(p);
          return 'paused';
        }
        p.failures++;
        return 'failed';
      } finally {
        this.#opts.gate.scores.endRequest(key);
      }
      p.failures = 0;
      if (headers.length === 0) break;
      // The work the branch has at the end of this batch (from its parent: held back or indexed).
      const continuesHeld = held.lastHash !== undefined && equalBytes(headers[0].prevHash, held.lastHash);
      if (held.length > 0 && !continuesHeld) {
        held.clear(); // it answered from elsewhere on the locator: start over from there
        heldWork = 0n;
      }
      const parentWork = continuesHeld ? heldWork : chain.headers.get(headers[0].prevHash)?.chainwork;
      if (parentWork !== undefined) {
        let work = parentWork;
        for (const h of headers) work += workForBits(h.bits);
        if (work < antiDosWorkThreshold(chain.tip())) {
          const bad = headers.find((h) => !hasProofOfWork(h, chain.params.powLimit));
          if (bad) {
            this.#opts.gate.penalize(key, 'invalidBlock', `header ${hashToHex(blockHash(bad))}: HIGH_HASH`);
            return 'done';
          }
          if (headers.length < MAX_HEADERS_PER_REQUEST || held.length + headers.length > MAX_LOW_WORK_HEADERS) {
            // The branch ends (or runs on too long) below the work it must reach: nothing stored.
            this.#opts.log?.(`sync: ${held.length + headers.length} low-work headers from ${key} dropped`);
            return 'done';
          }
          held.push(headers);
          heldWork = work;
          continue;
        }
      }
      const batch = held.length > 0 ? [...held.headers(), ...headers] : headers;
      held.clear();
      heldWork = 0n;
      const v = await chain.processHeaders(batch);
      added += v.added;
      if (v.invalid) {
        this.#opts.gate.penalize(key, 'invalidBlock', `header ${v.invalid.hash}: ${v.invalid.code}`);
        return 'done';
      }
      if (v.unconnected) {
        this.#opts.gate.penalize(key, 'unsolicited', `headers that do not connect (${v.unconnected})`);
        return 'done';
      }
      const last = chain.headers.get(blockHash(headers[headers.length - 1]));
      this.#progress('headers', Math.min(total, Math.max(0, chain.headers.bestTip().height - startHeight)), total, false);
      if (v.held || !last) break;
      from = last;
      if (headers.length < MAX_HEADERS_PER_REQUEST) break;
    }
    this.#progress('headers', Math.max(0, chain.headers.bestTip().height - startHeight), total, true);
    if (added > 0) this.#opts.log?.(`sync: ${added} headers from ${key}`);
    return 'done';
  }

  // --- bodies ----------------------------------------------------------------------------------

  /** The bodies phase: one {@link BlockDownload} over the peers that may be asked now. */
  async #blocksPhase(): Promise<void> {
    const chain = this.#chain!;
    const gate = this.#opts.gate;
    const download = new BlockDownload({
      chain,
      gate,
      window: this.#window,
      perRequest: this.#perRequest,
      stallMs: STALL_MS,
      stopped: () => this.#stopped,
      // Peers that connected meanwhile join in as soon as their status is known.
      eachRound: () =>
        [...this.#peers.values()]
          .filter((p) => p.stale && !this.#refreshing.has(p.id.toString()) && Date.now() - (p.askedAt ?? 0) > 1000)
          .map((p) => this.#refreshStatus(p)),
      peers: () =>
        [...this.#peers.values()]
          .filter((p) => p.status && this.#helpful(p) && this.#available(p) && !gate.denies(p.id.toString()))
          .map((p) => this.#downloadPeer(p)),
      progress: (done, total, force) => this.#progress('blocks', done, total, force),
      log: this.#opts.log,
    });
    await download.run();
  }

  /** A peer as the block download sees it. */
  #downloadPeer(p: PeerSync): DownloadPeer {
    const headers = this.#chain!.headers;
    return {
      key: p.id.toString(),
      mayHave: (entry) => this.#mayHave(p, entry),
      claims: (entry) => {
        const tip = p.status && headers.get(p.status.tipHash);
        return tip !== undefined && entry !== undefined && headers.isAncestor(entry, tip);
      },
      getBlocks: (hashes) => this.#service(p).getBlocks(p.id, hashes),
      busy: () => this.#pauseBusy(p),
      unhelpful: () => this.#markUnhelpful(p),
    };
  }

  #progress(phase: 'headers' | 'blocks', done: number, total: number, force: boolean): void {
    const now = Date.now();
    if (!force && now - this.#lastProgress < (this.#opts.progressEveryMs ?? 100)) return;
    this.#lastProgress = now;
    this.events.emit('sync-progress', { phase, done, total });
  }
}
