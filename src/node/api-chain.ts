/**
 * The node's part of window.tabchain (api.ts): its status, mining, what the chain holds (balances,
 * inventories, open offers, where a transaction is), waiting for a height, storage and the
 * isolate switch. Reads answer from the node's tip; nothing here makes a transaction.
 * @module
 */
import { hashToHex, hexToBytes, type Offer } from '../chain/index.ts';
import { ApiError } from './errors.ts';
import type { ApiContext, TabchainApiExtended } from './api.ts';
import { apiMethod as api, formatAssetAmount, parseId, toNumber } from './api-input.ts';

type ChainMethods = Pick<
  TabchainApiExtended,
  | 'ready'
  | 'status'
  | 'startMining'
  | 'stopMining'
  | 'mineBlocks'
  | 'waitForHeight'
  | 'balance'
  | 'inventory'
  | 'offers'
  | 'txStatus'
  | 'storage'
  | 'verifyChain'
  | 'setIsolated'
  | 'isolated'
>;

/** Most blocks one mineBlocks call may ask for. */
const MAX_API_MINE_BLOCKS = 10_000;

/**
 * The node's methods over a context (api.ts createTabchainApi composes them).
 * @example const api = { ...chainMethods(ctx), ...walletMethods(ctx) }
 */
export function chainMethods(ctx: ApiContext): ChainMethods {
  const { node, wallet, outbox, deps, params, addressOf, pubOr } = ctx;
  /** The isolate switch's state while no network is wired (set before it starts). */
  let isolatedWish = false;
  const isOpen = (o: Offer) => o.lotsLeft > 0 && (o.expiresAtHeight === null || o.expiresAtHeight >= node.height + 1);

  return {
    ready: Promise.resolve(),

    status: api(async () => {
      const miner = node.miner.minerStatus();
      const nav = globalThis.navigator as Navigator | undefined;
      return {
        network: params.name,
        profile: deps.profile,
        peerId: deps.peerId?.() ?? '',
        address: wallet.address,
        height: node.height,
        tip: hashToHex(node.tip.hash),
        // As Bitcoin Core's getblockchaininfo: 64 hex digits, big-endian.
        chainwork: node.tip.chainwork.toString(16).padStart(64, '0'),
        synced: node.synced,
        online: deps.online ? deps.online() : (nav?.onLine ?? true),
        mining: miner.started || miner.mining,
        workers: miner.workers,
        hashrate: miner.hashrate,
        mempool: node.mempool.size,
        peers: deps.peers?.() ?? [],
        connection: deps.connection?.() ?? 'alone',
      };
    }),

    startMining: api(async (opts?: { workers?: number }) => {
      const workers = opts?.workers;
      if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1 && workers <= 256)) {
        throw new ApiError('BAD_INPUT', 'workers must be an integer in 1..256');
      }
      node.setMinerPubKey(wallet.publicKey);
      await node.miner.startMining(workers === undefined ? undefined : { workers });
    }),

    stopMining: api(() => node.miner.stopMining()),

    mineBlocks: api(async (n: number) => {
      if (!Number.isInteger(n) || n < 1 || n > MAX_API_MINE_BLOCKS) throw new ApiError('BAD_INPUT', `n must be an integer in 1..${MAX_API_MINE_BLOCKS}`);
      node.setMinerPubKey(wallet.publicKey);
      return await node.miner.mineBlocks(n);
    }),

    waitForHeight: api((height: number, timeoutMs?: number) => {
      if (!Number.isSafeInteger(height) || height < 0) throw new ApiError('BAD_INPUT', 'height must be a non-negative integer');
      const ms = timeoutMs ?? deps.defaultTimeoutMs ?? 60_000;
      if (typeof ms !== 'number' || !(ms >= 0)) throw new ApiError('BAD_INPUT', 'timeoutMs must be a non-negative number');
      if (node.height >= height) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          off();
          reject(new ApiError('TIMEOUT', `height ${height} not reached within ${ms} ms (at ${node.height})`));
        }, ms);
        const off = node.events.on('tip', (e) => {
          if (e.height >= height || node.height >= height) {
            clearTimeout(timer);
            off();
            resolve();
          }
        });
      });
    }),

    balance: api(async (address?: string) => node.state.account(pubOr(address)).balance.toString()),

    inventory: api(async (address?: string) => {
      const owner = pubOr(address);
      const out: { itemId: string; sku: string; name: string; issuer: string; quantity: number }[] = [];
      for (const h of node.state.holdingsOf(owner)) {
        const idBytes = hexToBytes(h.itemId); // state keys hold internal order
        const item = node.state.getItem(idBytes);
        if (!item) continue; // a holding always has its item; guard anyway
        out.push({ itemId: hashToHex(idBytes), sku: item.sku, name: item.name, issuer: addressOf(item.issuer), quantity: toNumber(h.quantity) });
      }
      return out.sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : a.itemId < b.itemId ? -1 : 1));
    }),

    offers: api(async () =>
      node.state
        .offers()
        .filter(isOpen)
        .sort((a, b) => a.createdHeight - b.createdHeight || (hashToHex(a.offerId) < hashToHex(b.offerId) ? -1 : 1))
        .map((o) => ({
          offerId: hashToHex(o.offerId),
          maker: addressOf(o.maker),
          give: formatAssetAmount(o.give),
          want: formatAssetAmount(o.want),
          lotsLeft: o.lotsLeft,
        })),
    ),

    txStatus: api(async (txid: string) => {
      const id = hashToHex(parseId(txid, 'txid'));
      const where = await node.findTx(id);
      if (where?.state === 'confirmed') {
        const height = where.height ?? (where.blockHash ? node.headers.get(where.blockHash)?.height : undefined);
        const confirmations = height === undefined ? (where.confirmations ?? 1) : Math.max(1, node.height - height + 1);
        return { state: 'confirmed' as const, confirmations };
      }
      if (where?.state === 'pending') return { state: 'pending' as const, confirmations: 0 };
      const mine = outbox.get(id);
      if (mine?.state === 'rejected') return { state: 'rejected' as const, confirmations: 0, error: mine.error ?? 'INVALID' };
      // Ours and not settled (e.g. waiting to be resubmitted after a reorg).
      if (mine) return { state: 'pending' as const, confirmations: 0 };
      return { state: 'unknown' as const, confirmations: 0 };
    }),

    storage: api(async () => (deps.storage ? await deps.storage() : null)),

    verifyChain: api(async () => {
      const v = await node.verifyStore();
      return { height: v.tipHeight, tip: v.tipHash === null ? null : hashToHex(hexToBytes(v.tipHash)), replayed: v.replayed, discrepancies: v.discrepancies };
    }),

    setIsolated: api(async (on: boolean) => {
      if (typeof on !== 'boolean') throw new ApiError('BAD_INPUT', 'setIsolated: on must be a boolean');
      if (deps.isolation) deps.isolation.set(on);
      else isolatedWish = on;
    }),

    isolated: api(async () => (deps.isolation ? deps.isolation.get() : isolatedWish)),
  };
}
