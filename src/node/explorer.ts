/**
 * The read-only "explorer" part of the extended automation API: what the page's explorer, chain
 * view, market and header bar need beyond the core `TabchainApi` (api.ts; docs/ARCHITECTURE.md
 * §The window.tabchain API) — blocks by hash or height with their header fields and
 * transactions, transaction detail, an address view, the recent header tree including side
 * branches (from the node's HeaderIndex), difficulty and the expected work per block, every item
 * on the chain, the mempool, search, an event subscription and the browser's profile list.
 *
 * Same conventions as api.ts: JSON-serialisable results, ids in display hex, u64 amounts and
 * quantities as decimal strings, failures as ApiError (bad input: BAD_ID / BAD_ADDRESS /
 * BAD_INPUT; "not found" is `null`, not an error, as an explorer's lookups are).
 * @module
 */
import {
  bitsToTarget,
  blockReward,
  blockSize,
  bytesToHex,
  decodeAddress,
  encodeAddress,
  equalBytes,
  hashToHex,
  hexToBytes,
  hexToHash,
  isAddress,
  nextBits,
  txid as txidOf,
  txSize,
  workForBits,
  type AssetAmount,
  type Block,
  type ChainState,
  type HeaderEntry,
  type HeaderIndex,
  type Mempool,
  type NetworkParams,
  type Offer,
  type Transaction,
} from '../chain/index.ts';
import { ApiError, showValue, toApiError } from './errors.ts';
import type { Emitter, NodeEvents } from './events.ts';
import type { OutboxEntry } from './outbox.ts';
import type {
  ApiAssetAmount,
  ApiTxView,
  ApiBlockSummary,
  ApiOfferView,
  ApiAddressView,
  ApiTreeEntry,
  ApiSearchHit,
  ApiWalletTx,
  ApiSearchResult,
  ApiEvent,
  ExplorerApi,
} from './explorer-types.ts';

export type * from './explorer-types.ts';

/** What an offer swaps and who made it. */
interface OfferTerms {
  maker: Uint8Array;
  give: AssetAmount;
  want: AssetAmount;
}

/** Offers whose terms the explorer keeps in memory for describing acceptances. */
const OFFER_TERMS_CACHE = 10_000;

// ---------------------------------------------------------------------------------------------
// Dependencies.

/** What the explorer reads of the node (FullNode provides it). */
export interface ExplorerNode {
  readonly params: NetworkParams;
  readonly state: ChainState;
  readonly headers: HeaderIndex;
  readonly mempool: Mempool;
  readonly tip: HeaderEntry;
  readonly height: number;
  readonly events: Pick<Emitter<NodeEvents>, 'on'>;
  readonly orphanCount?: number;
  readonly heldCount?: number;
  getBlock(hash: Uint8Array | string): Promise<Block | null>;
  findTx(txid: string): Promise<{ state: 'pending' | 'confirmed'; blockHash?: string; height?: number; tx?: Transaction } | null>;
}

/** The profile list (storage/profiles.ts ProfileManager provides it). */
export interface ExplorerProfiles {
  list(): Promise<{ id: string; label?: string; createdAt: number; lastUsed: number; locked: boolean; current: boolean }[]>;
  deleteProfile(id: string): Promise<void>;
  setLabel(id: string, label: string): Promise<void>;
}

/** Everything {@link createExplorerApi} needs. */
export interface ExplorerDeps {
  node: ExplorerNode;
  /** The outbox (change feed and records). */
  outbox?: { onChange(fn: (e: OutboxEntry) => void): () => void; list(): OutboxEntry[] };
  /** This profile's key (walletTxs). */
  wallet?: { readonly publicKey: Uint8Array };
  profiles?: ExplorerProfiles;
}

// ---------------------------------------------------------------------------------------------

const HEX_ID = /^[0-9a-fA-F]{64}$/;
/** Blocks searched for a transaction or an address by short id (no index holds them). */
export const SEARCH_BLOCKS = 500;
/** Fewest hex digits a short id must have (fewer match too much to be of use). */
export const SEARCH_MIN_PREFIX = 6;
/** Most hits searchAll returns. */
export const SEARCH_MAX_HITS = 20;
/** A short id as typed or copied from the page: a hex head, optionally "…" (or "...") and a tail. */
const SHORT_ID = /^([0-9a-f]{6,64})(?:(?:…|\.\.\.)([0-9a-f]{1,58}))?$/;

function checkId(s: unknown, what: string): string {
  if (typeof s !== 'string' || !HEX_ID.test(s)) throw new ApiError('BAD_ID', `${what} must be 64 hex characters, got ${showValue(s)}`);
  return s.toLowerCase();
}

function boundedInt(v: unknown, what: string, min: number, max: number, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new ApiError('BAD_INPUT', `${what} must be an integer in ${min}..${max}`);
  return v;
}

/** bits → 8 hex digits. @example bitsHex(0x207fffff) // '207fffff' */
export function bitsHex(bits: number): string {
  return (bits >>> 0).toString(16).padStart(8, '0');
}

/**
 * powLimit / target as a float (Bitcoin Core's GetDifficulty, relative to this network's easiest
 * target instead of Bitcoin's difficulty-1 target).
 * @example difficultyOf(params.powLimit, params.powLimitBits) // 1
 */
export function difficultyOf(powLimit: bigint, bits: number): number {
  const target = bitsToTarget(bits);
  // Scale to keep 15 significant digits through the float division.
  const SCALE = 1_000_000_000_000n;
  return Number((powLimit * SCALE) / target) / Number(SCALE);
}

/**
 * A transaction flattened for display.
 * @example txView(block.txs[0], 'tab').kind // 'coinbase'
 */
export function txView(tx: Transaction, prefix: string): ApiTxView {
  const addr = (pub: Uint8Array) => encodeAddress(pub, prefix);
  const amount = (a: AssetAmount): ApiAssetAmount => ({ asset: a.asset.type === 'coin' ? 'coin' : hashToHex(a.asset.itemId), amount: a.amount.toString() });
  const id = hashToHex(txidOf(tx));
  const base: ApiTxView = {
    txid: id,
    kind: tx.kind,
    from: tx.kind === 'coinbase' ? null : addr(tx.from),
    nonce: tx.nonce,
    fee: tx.fee.toString(),
    size: txSize(tx),
  };
  switch (tx.kind) {
    case 'coinbase':
      return { ...base, to: addr(tx.miner), height: tx.height };
    case 'transfer':
      return { ...base, to: addr(tx.to), amount: tx.amount.toString() };
    case 'item.create':
      return { ...base, sku: tx.sku, name: tx.name, quantity: tx.quantity.toString() };
    case 'item.mint':
    case 'item.burn':
      return { ...base, itemId: hashToHex(tx.itemId), quantity: tx.quantity.toString() };
    case 'item.transfer':
      return { ...base, itemId: hashToHex(tx.itemId), to: addr(tx.to), quantity: tx.quantity.toString() };
    case 'offer.create':
      return { ...base, give: amount(tx.give), want: amount(tx.want), lots: tx.lots, expiresAtHeight: tx.expiresAtHeight, offerId: id };
    case 'offer.accept':
      return { ...base, offerId: hashToHex(tx.offerId), lots: tx.lots };
    case 'offer.cancel':
      return { ...base, offerId: hashToHex(tx.offerId) };
  }
}

function touches(tx: Transaction, pub: Uint8Array, offerMaker: (offerId: Uint8Array) => Uint8Array | undefined): boolean {
  if (tx.kind === 'coinbase') return equalBytes(tx.miner, pub);
  if (equalBytes(tx.from, pub)) return true;
  if ((tx.kind === 'transfer' || tx.kind === 'item.transfer') && equalBytes(tx.to, pub)) return true;
  if (tx.kind === 'offer.accept') {
    const maker = offerMaker(tx.offerId);
    return maker !== undefined && equalBytes(maker, pub);
  }
  return false;
}

/**
 * Builds the explorer methods over a node (and optionally the outbox and profile list).
 * @example
 * ```ts
 * const explorer = createExplorerApi({ node, outbox, profiles });
 * const tip = await explorer.block(node.height);
 * ```
 */
export function createExplorerApi(deps: ExplorerDeps): ExplorerApi {
  const { node } = deps;
  const params = node.params;
  const prefix = params.addressPrefix;
  const addr = (pub: Uint8Array) => encodeAddress(pub, prefix);

  const api =
    <A extends unknown[], R>(fn: (...args: A) => R | Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await fn(...args);
      } catch (e) {
        throw toApiError(e);
      }
    };

  const onActive = (e: HeaderEntry) => node.headers.ancestorAt(node.tip, e.height) === e;

  const offerView = (o: Offer): ApiOfferView => ({
    offerId: hashToHex(o.offerId),
    maker: addr(o.maker),
    give: { asset: o.give.asset.type === 'coin' ? 'coin' : hashToHex(o.give.asset.itemId), amount: o.give.amount.toString() },
    want: { asset: o.want.asset.type === 'coin' ? 'coin' : hashToHex(o.want.asset.itemId), amount: o.want.amount.toString() },
    lotsLeft: o.lotsLeft,
    lotsTotal: o.lotsTotal,
    expiresAtHeight: o.expiresAtHeight,
    createdHeight: o.createdHeight,
  });
  const isOpen = (o: Offer) => o.lotsLeft > 0 && (o.expiresAtHeight === null || o.expiresAtHeight >= node.height + 1);

  /**
   * Terms of offers seen in scanned blocks (by internal-hex offerId), so that a settled offer's
   * acceptances can still name their maker and what changed hands. Bounded: the oldest go first.
   */
  const offerTerms = new Map<string, OfferTerms>();
  const rememberOffer = (t: Transaction) => {
    if (t.kind !== 'offer.create') return;
    const key = bytesToHex(txidOf(t));
    offerTerms.delete(key);
    offerTerms.set(key, { maker: t.from, give: t.give, want: t.want });
    if (offerTerms.size > OFFER_TERMS_CACHE) offerTerms.delete(offerTerms.keys().next().value as string);
  };
  /** Maker of an offer: open ones from state; settled ones from their offer.create on the chain. */
  const makerOf = (offerId: Uint8Array): Uint8Array | undefined => node.state.getOffer(offerId)?.maker ?? offerTerms.get(bytesToHex(offerId))?.maker;
  /** An offer's terms: open → state; settled → the cache, else its offer.create through the node's transaction index. */
  const termsOf = async (offerId: Uint8Array): Promise<OfferTerms | undefined> => {
    const open = node.state.getOffer(offerId);
    if (open) return { maker: open.maker, give: open.give, want: open.want };
    const known = offerTerms.get(bytesToHex(offerId));
    if (known) return known;
    const found = await node.findTx(hashToHex(offerId));
    if (found?.tx?.kind !== 'offer.create') return undefined;
    rememberOffer(found.tx);
    return offerTerms.get(bytesToHex(offerId));
  };
  const assetAmount = (a: AssetAmount): ApiAssetAmount => ({ asset: a.asset.type === 'coin' ? 'coin' : hashToHex(a.asset.itemId), amount: a.amount.toString() });
  /** An offer.accept's view with its offer's maker and terms (when the offer can be found). */
  const withTerms = async <V extends ApiTxView>(v: V): Promise<V> => {
    if (v.kind !== 'offer.accept' || !v.offerId) return v;
    const t = await termsOf(hexToHash(v.offerId));
    return t ? { ...v, maker: addr(t.maker), give: assetAmount(t.give), want: assetAmount(t.want) } : v;
  };

  const entryOf = (hashOrHeight: string | number): HeaderEntry | undefined => {
    if (typeof hashOrHeight === 'number') {
      if (!Number.isSafeInteger(hashOrHeight) || hashOrHeight < 0) throw new ApiError('BAD_INPUT', `height must be a non-negative integer, got ${hashOrHeight}`);
      return node.headers.ancestorAt(node.tip, hashOrHeight);
    }
    return node.headers.get(checkId(hashOrHeight, 'block hash'));
  };

  /** {@link ExplorerApi.searchAll}: exact forms first (as `search` always answered), then short ids, then items by SKU and name. */
  const searchAll = async (query: string): Promise<ApiSearchResult> => {
    if (typeof query !== 'string') throw new ApiError('BAD_INPUT', 'search takes a string');
    const q = query.trim();
    const hits: ApiSearchHit[] = [];
    const keys = new Set<string>();
    const add = (h: ApiSearchHit) => {
      const key = JSON.stringify(h);
      if (hits.length < SEARCH_MAX_HITS && !keys.has(key)) {
        keys.add(key);
        hits.push(h);
      }
    };
    const scannedFromHeight = Math.max(0, node.height - SEARCH_BLOCKS + 1);
    if (q === '' || q.length > 200) return { hits, scannedFromHeight };
    if (/^[0-9]{1,10}$/.test(q)) {
      const e = node.headers.ancestorAt(node.tip, Number(q));
      if (e) add({ type: 'block', hash: hashToHex(e.hash), height: e.height });
    }
    if (HEX_ID.test(q)) {
      const id = q.toLowerCase();
      const e = node.headers.get(id);
      if (e) add({ type: 'block', hash: id, height: e.height });
      if (node.state.getOffer(hexToHash(id))) add({ type: 'offer', offerId: id });
      if (await node.findTx(id)) add({ type: 'tx', txid: id });
      if (node.state.getItem(hexToHash(id))) add({ type: 'item', itemId: id });
    }
    if (isAddress(q, prefix)) add({ type: 'address', address: q.toLowerCase() });

    const lower = q.toLowerCase();
    const short = SHORT_ID.exec(lower);
    const sep = lower.lastIndexOf('1');
    const shortAddr = sep > 0 && lower.slice(0, sep) === prefix ? /^([a-z0-9]+)(?:…|\.\.\.)([a-z0-9]+)$/.exec(lower) : null;
    if ((short && !HEX_ID.test(lower)) || shortAddr) {
      const [head, tail] = short ? [short[1], short[2] ?? ''] : [shortAddr![1], shortAddr![2]];
      const matches = (text: string) => text.length > head.length + tail.length && text.startsWith(head) && text.endsWith(tail);
      const seenAddr = new Set<string>();
      const address = (pub: Uint8Array) => {
        if (!shortAddr) return;
        const a = addr(pub);
        if (!seenAddr.has(a) && matches(a)) {
          seenAddr.add(a);
          add({ type: 'address', address: a });
        }
      };
      if (short) {
        for (const e of node.headers.entries()) {
          const h = hashToHex(e.hash);
          if (e.hasBody && matches(h)) add({ type: 'block', hash: h, height: e.height });
        }
        for (const i of node.state.items()) if (matches(hashToHex(i.itemId))) add({ type: 'item', itemId: hashToHex(i.itemId) });
        for (const o of node.state.offers()) if (matches(hashToHex(o.offerId))) add({ type: 'offer', offerId: hashToHex(o.offerId) });
        for (const m of node.mempool.all()) if (matches(m.id)) add({ type: 'tx', txid: m.id });
        for (const o of deps.outbox?.list() ?? []) if (matches(o.txid)) add({ type: 'tx', txid: o.txid });
      } else {
        address(deps.wallet?.publicKey ?? new Uint8Array(0));
        for (const i of node.state.items()) address(i.issuer);
        for (const o of node.state.offers()) address(o.maker);
      }
      for (let h = node.height; h >= scannedFromHeight && hits.length < SEARCH_MAX_HITS; h--) {
        const e = node.headers.ancestorAt(node.tip, h);
        const b = e && (await node.getBlock(e.hash));
        if (!b) continue;
        for (const t of b.txs) {
          if (short) {
            const id = hashToHex(txidOf(t));
            if (matches(id)) add({ type: 'tx', txid: id });
          } else if (t.kind === 'coinbase') address(t.miner);
          else {
            address(t.from);
            if (t.kind === 'transfer' || t.kind === 'item.transfer') address(t.to);
          }
        }
      }
    }

    // Items: a SKU typed exactly (any case) first, then names and SKUs that contain the text.
    if (lower.length >= 2) {
      const items = node.state.items();
      for (const i of items) if (i.sku.toLowerCase() === lower) add({ type: 'item', itemId: hashToHex(i.itemId) });
      for (const i of items) if (i.name.toLowerCase().includes(lower) || i.sku.toLowerCase().includes(lower)) add({ type: 'item', itemId: hashToHex(i.itemId) });
    }
    return { hits, scannedFromHeight };
  };

  const summary = (e: HeaderEntry, b: Block): ApiBlockSummary => {
    const cb = b.txs[0];
    return { hash: hashToHex(e.hash), height: e.height, time: e.header.time, txCount: b.txs.length, size: blockSize(b), miner: cb?.kind === 'coinbase' ? addr(cb.miner) : null };
  };

  return {
    chainInfo: api(async () => {
      const tip = node.tip;
      const block1 = node.headers.ancestorAt(tip, 1);
      const bits = nextBits(params, { height: tip.height, time: tip.header.time }, block1?.header.time);
      return {
        network: params.name,
        height: tip.height,
        tip: hashToHex(tip.hash),
        bestHeaderHeight: Math.max(tip.height, node.headers.bestTip().height),
        nextBits: bitsHex(bits),
        difficulty: difficultyOf(params.powLimit, bits),
        expectedHashes: workForBits(bits).toString(),
        targetSpacing: params.targetSpacing,
        coinbaseMaturity: params.coinbaseMaturity,
        nextReward: blockReward(params, tip.height + 1).toString(),
        tipTime: tip.header.time,
        mempoolBytes: node.mempool.bytes,
        orphans: node.orphanCount ?? 0,
        held: node.heldCount ?? 0,
        addressPrefix: prefix,
      };
    }),

    block: api(async (hashOrHeight: string | number) => {
      const e = entryOf(hashOrHeight);
      if (!e) return null;
      const b = await node.getBlock(e.hash);
      if (!b) return null;
      const active = onActive(e);
      const nextEntry = active ? node.headers.ancestorAt(node.tip, e.height + 1) : undefined;
      const cb = b.txs[0];
      return {
        hash: hashToHex(e.hash),
        height: e.height,
        active,
        confirmations: active ? node.height - e.height + 1 : 0,
        status: e.status,
        header: {
          version: e.header.version,
          prevHash: hashToHex(e.header.prevHash),
          merkleRoot: hashToHex(e.header.merkleRoot),
          time: e.header.time,
          bits: bitsHex(e.header.bits),
          nonce: e.header.nonce,
        },
        chainwork: e.chainwork.toString(16).padStart(64, '0'),
        difficulty: difficultyOf(params.powLimit, e.header.bits),
        size: blockSize(b),
        txCount: b.txs.length,
        miner: cb?.kind === 'coinbase' ? addr(cb.miner) : null,
        txs: await Promise.all(b.txs.map((t) => (rememberOffer(t), withTerms(txView(t, prefix))))),
        next: nextEntry ? hashToHex(nextEntry.hash) : null,
      };
    }),

    latestBlocks: api(async (count?: number) => {
      const n = boundedInt(count, 'count', 1, 100, 10);
      const out: ApiBlockSummary[] = [];
      for (let h = node.height; h >= 0 && out.length < n; h--) {
        const e = node.headers.ancestorAt(node.tip, h);
        if (!e) break;
        const b = await node.getBlock(e.hash);
        if (b) out.push(summary(e, b));
      }
      return out;
    }),

    tx: api(async (txid: string) => {
      const id = checkId(txid, 'txid');
      const found = await node.findTx(id);
      if (!found?.tx) return null;
      const view = await withTerms(txView(found.tx, prefix));
      if (found.state === 'pending') return { ...view, state: 'pending' as const, blockHash: null, blockHeight: null, confirmations: 0 };
      const height = found.height ?? (found.blockHash ? node.headers.get(found.blockHash)?.height : undefined) ?? null;
      return {
        ...view,
        state: 'confirmed' as const,
        blockHash: found.blockHash ?? null,
        blockHeight: height,
        confirmations: height === null ? 1 : Math.max(1, node.height - height + 1),
      };
    }),

    addressView: api(async (address: string, opts?: { blocks?: number }) => {
      if (typeof address !== 'string' || !isAddress(address, prefix)) throw new ApiError('BAD_ADDRESS', `not a ${prefix} address: ${showValue(address)}`);
      const pub = decodeAddress(address, prefix);
      const blocks = boundedInt(opts?.blocks, 'blocks', 1, 1000, 200);
      const acc = node.state.account(pub);
      const holdings = node.state.holdingsOf(pub).flatMap((h) => {
        const item = node.state.getItem(hexToBytes(h.itemId));
        return item ? [{ itemId: hashToHex(item.itemId), sku: item.sku, name: item.name, issuer: addr(item.issuer), quantity: h.quantity.toString() }] : [];
      });
      const offers = node.state.offers().filter((o) => isOpen(o) && equalBytes(o.maker, pub)).map(offerView);
      const txs: ApiAddressView['txs'] = [];
      for (const m of node.mempool.all()) if (touches(m.tx, pub, makerOf)) txs.push({ ...txView(m.tx, prefix), blockHeight: null });
      const from = Math.max(0, node.height - blocks + 1);
      for (let h = node.height; h >= from && txs.length < 500; h--) {
        const e = node.headers.ancestorAt(node.tip, h);
        const b = e && (await node.getBlock(e.hash));
        if (!b) continue;
        for (const t of b.txs) rememberOffer(t);
        for (const t of b.txs) if (t.kind === 'offer.accept' && !makerOf(t.offerId)) await termsOf(t.offerId);
        for (const t of b.txs) if (touches(t, pub, makerOf)) txs.push({ ...txView(t, prefix), blockHeight: h });
      }
      return { address: addr(pub), balance: acc.balance.toString(), immature: acc.immature.toString(), nonce: acc.nonce, holdings, offers, txs: await Promise.all(txs.map(withTerms)), scannedFromHeight: from };
    }),

    headerTree: api(async (depth?: number) => {
      const d = boundedInt(depth, 'depth', 1, 200, 24);
      const tip = node.tip;
      const fromHeight = Math.max(0, tip.height - d + 1);
      const entries: ApiTreeEntry[] = [];
      // The index is small (one entry per header); a full pass is cheaper than keeping a by-height map.
      for (const e of node.headers.entries()) {
        if (e.height < fromHeight || e.height > tip.height + d) continue;
        entries.push({
          hash: hashToHex(e.hash),
          prevHash: hashToHex(e.header.prevHash),
          height: e.height,
          time: e.header.time,
          status: e.status,
          hasBody: e.hasBody,
          active: onActive(e),
        });
        if (entries.length >= 2000) break;
      }
      entries.sort((a, b) => a.height - b.height || Number(b.active) - Number(a.active));
      return { tip: hashToHex(tip.hash), height: tip.height, fromHeight, entries };
    }),

    allItems: api(async () =>
      node.state
        .items()
        .map((i) => ({
          itemId: hashToHex(i.itemId),
          sku: i.sku,
          name: i.name,
          issuer: addr(i.issuer),
          supply: i.supply.toString(),
          createdHeight: i.createdHeight,
          holders: node.state.holdersOf(i.itemId).length,
        }))
        .sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : a.itemId < b.itemId ? -1 : 1)),
    ),

    offerViews: api(async () =>
      node.state
        .offers()
        .filter(isOpen)
        .sort((a, b) => a.createdHeight - b.createdHeight || (hashToHex(a.offerId) < hashToHex(b.offerId) ? -1 : 1))
        .map(offerView),
    ),

    mempoolTxs: api(async (limit?: number) => {
      const n = boundedInt(limit, 'limit', 1, 1000, 50);
      const views = node.mempool
        .all()
        .sort((a, b) => b.feeRate - a.feeRate || a.seq - b.seq)
        .slice(0, n)
        .map((m) => txView(m.tx, prefix));
      return Promise.all(views.map(withTerms));
    }),

    search: api(async (query: string) => (await searchAll(query)).hits[0] ?? null),

    searchAll: api((query: string) => searchAll(query)),

    walletTxs: api(async (opts?: { blocks?: number; rewards?: boolean }) => {
      const blocks = boundedInt(opts?.blocks, 'blocks', 1, 1000, 200);
      const rewards = opts?.rewards === true;
      const out: ApiWalletTx[] = [];
      const seen = new Set<string>();
      for (const e of deps.outbox?.list() ?? []) {
        seen.add(e.txid);
        const height = e.height ?? (e.blockHash ? node.headers.get(e.blockHash)?.height : undefined) ?? null;
        out.push({
          ...txView(e.decoded, prefix),
          direction: 'out',
          state: e.state,
          ...(e.error === undefined ? {} : { error: e.error }),
          confirmations: e.confirmations,
          blockHash: e.blockHash ?? null,
          blockHeight: e.state === 'confirmed' ? height : null,
          createdAt: e.createdAt,
        });
      }
      const pub = deps.wallet?.publicKey;
      if (pub) {
        const received = (t: Transaction) => t.kind !== 'coinbase' && !equalBytes(t.from, pub) && touches(t, pub, makerOf);
        for (const m of node.mempool.all()) {
          if (!seen.has(m.id) && received(m.tx)) {
            seen.add(m.id);
            out.push({ ...txView(m.tx, prefix), direction: 'in', state: 'pending', confirmations: 0, blockHash: null, blockHeight: null, createdAt: null });
          }
        }
        const from = Math.max(0, node.height - blocks + 1);
        for (let h = node.height; h >= from; h--) {
          const e = node.headers.ancestorAt(node.tip, h);
          const b = e && (await node.getBlock(e.hash));
          if (!e || !b) continue;
          for (const t of b.txs) rememberOffer(t);
          // An acceptance of an offer that has closed since: its maker comes from the offer's own
          // transaction (older, so not scanned yet on the way down).
          for (const t of b.txs) if (t.kind === 'offer.accept' && !makerOf(t.offerId)) await termsOf(t.offerId);
          const where = { direction: 'in' as const, state: 'confirmed' as const, confirmations: node.height - h + 1, blockHash: hashToHex(e.hash), blockHeight: h, createdAt: null };
          for (const t of b.txs) {
            if (t.kind === 'coinbase') {
              if (!rewards || h === 0 || !equalBytes(t.miner, pub)) continue;
              // A reward of block h is spendable in block h + coinbaseMaturity; a tx sent now goes in tip + 1.
              const amount = blockReward(params, h) + b.txs.reduce((sum, x) => sum + (x.kind === 'coinbase' ? 0n : x.fee), 0n);
              out.push({ ...txView(t, prefix), amount: amount.toString(), ...where, maturesIn: Math.max(0, h + params.coinbaseMaturity - (node.height + 1)) });
              continue;
            }
            if (!received(t)) continue;
            const v = txView(t, prefix);
            if (seen.has(v.txid)) continue;
            seen.add(v.txid);
            out.push({ ...v, ...where });
          }
        }
      }
      // Newest first: pending/rejected (by send time), then by height; a block's reward below its transactions.
      const rank = (t: ApiWalletTx) => (t.blockHeight ?? Number.MAX_SAFE_INTEGER);
      const sorted = out.sort((a, b) => rank(b) - rank(a) || Number(a.kind === 'coinbase') - Number(b.kind === 'coinbase') || (b.createdAt ?? 0) - (a.createdAt ?? 0) || b.nonce - a.nonce);
      return Promise.all(sorted.map(withTerms));
    }),

    subscribe: api(async (listener: (e: ApiEvent) => void) => {
      if (typeof listener !== 'function') throw new ApiError('BAD_INPUT', 'subscribe takes a function');
      const types: (keyof NodeEvents)[] = ['tip', 'block', 'reorg', 'tx', 'txRemoved', 'mempool', 'synced', 'miner', 'error'];
      const offs = types.map((type) => node.events.on(type, (payload) => listener({ type, payload } as ApiEvent)));
      if (deps.outbox) {
        offs.push(
          deps.outbox.onChange((e) => listener({ type: 'outbox', payload: { txid: e.txid, state: e.state, ...(e.error === undefined ? {} : { error: e.error }) } })),
        );
      }
      return () => {
        for (const off of offs.splice(0)) off();
      };
    }),

    profiles: api(async () =>
      deps.profiles
        ? (await deps.profiles.list()).map((p) => ({ id: p.id, label: p.label ?? null, createdAt: p.createdAt, lastUsed: p.lastUsed, locked: p.locked, current: p.current }))
        : [],
    ),

    deleteProfile: api(async (id: string) => {
      if (!deps.profiles) throw new ApiError('BAD_INPUT', 'this node has no profile list');
      await deps.profiles.deleteProfile(id);
    }),

    labelProfile: api(async (id: string, label: string) => {
      if (!deps.profiles) throw new ApiError('BAD_INPUT', 'this node has no profile list');
      if (typeof label !== 'string' || label.length > 40) throw new ApiError('BAD_INPUT', 'a profile label is text of at most 40 characters');
      await deps.profiles.setLabel(id, label.trim());
    }),
  };
}
