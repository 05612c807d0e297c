/**
 * NodeState: everything the page shows about this tab's node, as Svelte 5 runes, kept current by
 * the node's events (through the API's `subscribe`) plus a light poll for what has no event
 * (peers, online, storage). Views read its fields and call {@link NodeState.act} for actions, which
 * turns any failure into a readable message and refreshes afterwards.
 * @module
 */
import type { MinerStatus } from '../miner/service.ts';
import type { ApiTxIntent, ApiTxPreview, TabchainApiExtended } from '../node/api.ts';
import type { ApiChainInfo, ApiEvent, ApiItem, ApiOfferView, ApiWalletTx } from '../node/explorer.ts';
import { errorMessage, type ErrorContext } from './format.ts';

export type Status = Awaited<ReturnType<TabchainApiExtended['status']>>;
export type Account = Awaited<ReturnType<TabchainApiExtended['account']>>;
export type InventoryRow = Awaited<ReturnType<TabchainApiExtended['inventory']>>[number];
export type Peer = Status['peers'][number];
export type Fees = Awaited<ReturnType<TabchainApiExtended['fees']>>;

/** A reorg as the chain view lists it. */
export interface ReorgNote {
  at: number; // ms since epoch
  forkHeight: number;
  disconnected: number;
  connected: number;
  dropped: number;
}

/** A message at the top of the page (node errors that belong to no click). */
export interface Notice {
  id: number;
  text: string;
}

/** Result of {@link NodeState.act}. */
export type ActResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** Hashrate samples kept for the chart: one per poll (2 s) → 5 minutes. */
export const HASHRATE_SAMPLES = 150;
const POLL_MS = 2000;
const STORAGE_POLL_MS = 20_000;
/** Blocks scanned for received transactions in the wallet list. */
const WALLET_SCAN_BLOCKS = 100;

/**
 * @example
 * ```ts
 * const node = new NodeState(window.tabchain);
 * await node.start();
 * node.status?.height
 * ```
 */
export class NodeState {
  phase = $state<'loading' | 'running' | 'failed'>('loading');
  startError = $state('');
  status = $state<Status | null>(null);
  chain = $state<ApiChainInfo | null>(null);
  account = $state<Account | null>(null);
  walletTxs = $state<ApiWalletTx[]>([]);
  inventory = $state<InventoryRow[]>([]);
  items = $state<ApiItem[]>([]);
  offers = $state<ApiOfferView[]>([]);
  storage = $state<{ usage: number; quota: number } | null>(null);
  /** Hashrate samples, oldest first (0 while not mining). */
  hashrates = $state<number[]>([]);
  miner = $state<MinerStatus | null>(null);
  /** Blocks our miner added to the chain during this visit. */
  blocksFound = $state(0);
  reorgs = $state<ReorgNote[]>([]);
  notices = $state<Notice[]>([]);
  /** Our txids a reorg sent back to pending (until confirmed again). */
  reorged = $state<Record<string, true>>({});
  /** Bumps on every tip change or reorg: views that fetch their own data re-fetch. */
  tipVersion = $state(0);
  /** The "Isolate this tab" teaching switch is on (no peers at all). */
  isolated = $state(false);
  /** The minimum fee of each wallet call (api.fees()), for the forms before anything is typed. */
  fees = $state<Fees | null>(null);

  /** Item metadata by itemId. */
  itemsById = $derived(new Map(this.items.map((i) => [i.itemId, i])));
  /** What a transaction sent now can spend (the node's figure: the next block's maturing reward in, pending spends out). */
  available = $derived(this.account ? this.account.available : null);
  /** What the tab knows of its network: connecting, alone or connected. */
  connection = $derived(this.status?.connection ?? 'connecting');

  readonly api: TabchainApiExtended;
  #unsubscribe: (() => void) | null = null;
  #timers: ReturnType<typeof setInterval>[] = [];
  #refreshTimer: ReturnType<typeof setTimeout> | null = null;
  #refreshing: Promise<void> | null = null;
  #lastRefresh = 0;
  #noticeId = 0;
  #destroyed = false;

  constructor(api: TabchainApiExtended) {
    this.api = api;
  }

  /** Waits for the node, subscribes and loads everything. Never rejects: a failed start sets `phase`. */
  async start(): Promise<void> {
    try {
      await this.api.ready;
    } catch (e) {
      this.phase = 'failed';
      this.startError = errorMessage(e);
      return;
    }
    if (this.#destroyed) return;
    this.#unsubscribe = await this.api.subscribe((e) => this.#onEvent(e));
    await this.refresh();
    try {
      this.fees = await this.api.fees();
    } catch {
      // an API without fees(): the forms say the fee once previewTx knows it
    }
    this.phase = 'running';
    this.#timers.push(setInterval(() => void this.#poll(), POLL_MS));
    this.#timers.push(setInterval(() => void this.#pollStorage(), STORAGE_POLL_MS));
    void this.#pollStorage();
  }

  /** Stops listening and polling. */
  destroy(): void {
    this.#destroyed = true;
    this.#unsubscribe?.();
    for (const t of this.#timers) clearInterval(t);
    if (this.#refreshTimer) clearTimeout(this.#refreshTimer);
  }

  #onEvent(e: ApiEvent): void {
    switch (e.type) {
      case 'tip':
        // The header shows the new tip at once; the rest follows with the (coalesced) refresh.
        if (this.status) this.status = { ...this.status, height: e.payload.height, tip: e.payload.hash };
        this.tipVersion++;
        this.#schedule();
        break;
      case 'block':
        if (e.payload.source === 'miner' && (e.payload.result.status === 'extended' || e.payload.result.status === 'reorged')) this.blocksFound++;
        break;
      case 'reorg': {
        const p = e.payload;
        this.reorgs = [{ at: Date.now(), forkHeight: p.fork.height, disconnected: p.disconnected.length, connected: p.connected.length, dropped: p.dropped.length }, ...this.reorgs].slice(0, 20);
        const mine = new Set(this.walletTxs.filter((t) => t.direction === 'out').map((t) => t.txid));
        const back = p.readmitted.filter((id) => mine.has(id));
        if (back.length) this.reorged = { ...this.reorged, ...Object.fromEntries(back.map((id) => [id, true as const])) };
        this.tipVersion++;
        this.#schedule();
        break;
      }
      case 'outbox': {
        const { txid, state } = e.payload;
        const before = this.walletTxs.find((t) => t.txid === txid);
        if (state === 'pending' && before?.state === 'confirmed') this.reorged = { ...this.reorged, [txid]: true };
        if (state === 'confirmed' && this.reorged[txid]) {
          const { [txid]: _, ...rest } = this.reorged;
          this.reorged = rest;
        }
        this.#schedule();
        break;
      }
      case 'miner':
        this.miner = e.payload;
        break;
      case 'mempool':
      case 'synced':
      case 'txRemoved':
        this.#schedule();
        break;
      case 'error':
        this.notify(e.payload.code ? `${e.payload.message} (${e.payload.code})` : e.payload.message);
        break;
      default:
        break;
    }
  }

  /** Shows a message at the top of the page. @example node.notify('Backup saved') */
  notify(text: string): void {
    // The same news twice (a full disk refusing one write after another) is shown once.
    if (this.notices.some((n) => n.text === text)) return;
    this.notices = [...this.notices, { id: ++this.#noticeId, text }].slice(-3);
  }

  /** Hides a message. */
  dismiss(id: number): void {
    this.notices = this.notices.filter((n) => n.id !== id);
  }

  /** Coalesces refreshes: at most one a second, never two at once. */
  #schedule(): void {
    if (this.#refreshTimer || this.#destroyed) return;
    const wait = Math.max(100, 1000 - (Date.now() - this.#lastRefresh));
    this.#refreshTimer = setTimeout(() => {
      this.#refreshTimer = null;
      void this.refresh();
    }, wait);
  }

  /** Reloads everything from the API now. */
  async refresh(): Promise<void> {
    if (this.#refreshing) {
      await this.#refreshing;
      return this.#schedule();
    }
    this.#lastRefresh = Date.now();
    this.#refreshing = (async () => {
      try {
        const [status, chain, account, walletTxs, inventory, items, offers] = await Promise.all([
          this.api.status(),
          this.api.chainInfo(),
          this.api.account(),
          this.api.walletTxs({ blocks: WALLET_SCAN_BLOCKS, rewards: true }),
          this.api.inventory(),
          this.api.allItems(),
          this.api.offerViews(),
        ]);
        Object.assign(this, { status, chain, account, walletTxs, inventory, items, offers });
      } catch (e) {
        this.notify(`Could not read the node: ${errorMessage(e)}`);
      }
    })();
    try {
      await this.#refreshing;
    } finally {
      this.#refreshing = null;
    }
  }

  async #poll(): Promise<void> {
    try {
      const seen = this.tipVersion;
      const s = await this.api.status();
      // A tip event that came while this poll was out is newer than its answer.
      if (this.tipVersion === seen) this.status = s;
      this.hashrates = [...this.hashrates, s.mining ? s.hashrate : 0].slice(-HASHRATE_SAMPLES);
    } catch {
      // The next poll tries again; a dead node shows through events and actions.
    }
    try {
      this.isolated = await this.api.isolated(); // also set from the console
    } catch {
      // an API without the switch
    }
  }

  async #pollStorage(): Promise<void> {
    try {
      this.storage = await this.api.storage();
    } catch {
      this.storage = null;
    }
  }

  /**
   * Turns the isolate switch on or off (api.setIsolated).
   * @example await node.setIsolated(true)
   */
  async setIsolated(on: boolean): Promise<ActResult<void>> {
    const r = await this.act(() => this.api.setIsolated(on));
    if (r.ok) this.isolated = on;
    return r;
  }

  /**
   * Runs an action; a failure becomes a readable message instead of an exception. Refreshes after.
   * @example
   * ```ts
   * const r = await node.act(() => node.api.send(to, amount));
   * if (!r.ok) error = r.error;
   * ```
   */
  async act<T>(fn: () => Promise<T>, ctx?: ErrorContext): Promise<ActResult<T>> {
    try {
      const value = await fn();
      return { ok: true, value };
    } catch (e) {
      return { ok: false, error: errorMessage(e, { items: this.itemsById, ...ctx }) };
    } finally {
      void this.refresh();
    }
  }

  /**
   * A wallet call tried without sending (api.previewTx): its fee and the refusal it would meet.
   * @example const r = await node.preview({ kind: 'send', to, amount })
   */
  async preview(intent: ApiTxIntent): Promise<ActResult<ApiTxPreview>> {
    try {
      return { ok: true, value: await this.api.previewTx(intent) };
    } catch (e) {
      return { ok: false, error: errorMessage(e, { items: this.itemsById }) };
    }
  }

  /**
   * Makes the API call an intent names; resolves to the txid (an offer's id for createOffer).
   * @example const txid = await node.submit({ kind: 'send', to, amount })
   */
  async submit(i: ApiTxIntent): Promise<string> {
    switch (i.kind) {
      case 'send':
        return this.api.send(i.to, i.amount);
      case 'createItem':
        return (await this.api.createItem(i.sku, i.name, i.quantity)).txid;
      case 'mintItem':
        return this.api.mintItem(i.itemId, i.quantity);
      case 'transferItem':
        return this.api.transferItem(i.itemId, i.to, i.quantity);
      case 'burnItem':
        return this.api.burnItem(i.itemId, i.quantity);
      case 'createOffer':
        return this.api.createOfferUntil(i);
      case 'acceptOffer':
        return this.api.acceptOffer(i.offerId, i.lots);
      case 'cancelOffer':
        return this.api.cancelOffer(i.offerId);
    }
  }
}
