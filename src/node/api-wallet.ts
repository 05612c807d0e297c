/**
 * The wallet's part of window.tabchain (api.ts): the calls that make transactions — coins, items,
 * offers — their preview and fees, our account and outbox, and the key's backups. Each call parses
 * its input strictly (api-input.ts), builds the transaction with the wallet (wallet.ts: minimum
 * fee, checked against the rules before it is submitted) and answers in the API's conventions.
 * @module
 */
import { bytesToHex, equalBytes, hashToHex, txSize, type TxPayload } from '../chain/index.ts';
import { ApiError, showValue } from './errors.ts';
import type { ApiContext, ApiOutboxEntry, ApiTxIntent, TabchainApiExtended } from './api.ts';
import {
  apiMethod as api,
  parseAddress,
  parseAmount,
  parseAssetAmount,
  parseId,
  parseItemName,
  parseLots,
  parseQuantity,
  parseSku,
  U32_MAX,
} from './api-input.ts';
import { maturingOf } from './wallet.ts';

type WalletMethods = Pick<
  TabchainApiExtended,
  | 'address'
  | 'send'
  | 'createItem'
  | 'mintItem'
  | 'transferItem'
  | 'burnItem'
  | 'createOffer'
  | 'createOfferUntil'
  | 'acceptOffer'
  | 'cancelOffer'
  | 'account'
  | 'previewTx'
  | 'fees'
  | 'outbox'
  | 'rebroadcast'
  | 'exportWallet'
  | 'importWallet'
>;

/** createOffer's argument → its payload (BAD_* on bad input). */
function offerPayload(o: { give: unknown; want: unknown; lots: unknown; expiresAtHeight?: unknown }): Extract<TxPayload, { kind: 'offer.create' }> {
  if (typeof o !== 'object' || o === null) throw new ApiError('BAD_INPUT', 'createOffer takes { give, want, lots }');
  const give = parseAssetAmount(o.give, 'give');
  const want = parseAssetAmount(o.want, 'want');
  const lots = parseLots(o.lots);
  let expires: number | null = null;
  if (o.expiresAtHeight !== undefined && o.expiresAtHeight !== null) {
    if (typeof o.expiresAtHeight !== 'number' || !Number.isInteger(o.expiresAtHeight) || o.expiresAtHeight < 0 || o.expiresAtHeight > U32_MAX) {
      throw new ApiError('BAD_INPUT', 'expiresAtHeight must be a height (integer ≥ 0) or null');
    }
    expires = o.expiresAtHeight;
  }
  if (give.asset.type === 'coin' && want.asset.type === 'coin') throw new ApiError('BAD_INPUT', 'an offer swaps two different assets');
  if (give.asset.type === 'item' && want.asset.type === 'item' && bytesToHex(give.asset.itemId) === bytesToHex(want.asset.itemId)) {
    throw new ApiError('BAD_INPUT', 'an offer swaps two different assets');
  }
  return { kind: 'offer.create', give, want, lots, expiresAtHeight: expires };
}

/** An intent of previewTx → the payload its API method would submit, checked as that method checks it. */
function intentPayload(i: ApiTxIntent, prefix: string): TxPayload {
  if (typeof i !== 'object' || i === null) throw new ApiError('BAD_INPUT', 'previewTx takes { kind, …the arguments of that call }');
  switch (i.kind) {
    case 'send':
      return { kind: 'transfer', to: parseAddress(i.to, prefix), amount: parseAmount(i.amount) };
    case 'createItem':
      return { kind: 'item.create', sku: parseSku(i.sku), name: parseItemName(i.name), quantity: parseQuantity(i.quantity) };
    case 'mintItem':
      return { kind: 'item.mint', itemId: parseId(i.itemId, 'itemId'), quantity: parseQuantity(i.quantity) };
    case 'transferItem':
      return { kind: 'item.transfer', itemId: parseId(i.itemId, 'itemId'), to: parseAddress(i.to, prefix), quantity: parseQuantity(i.quantity) };
    case 'burnItem':
      return { kind: 'item.burn', itemId: parseId(i.itemId, 'itemId'), quantity: parseQuantity(i.quantity) };
    case 'createOffer':
      return offerPayload(i);
    case 'acceptOffer':
      return { kind: 'offer.accept', offerId: parseId(i.offerId, 'offerId'), lots: parseLots(i.lots) };
    case 'cancelOffer':
      return { kind: 'offer.cancel', offerId: parseId(i.offerId, 'offerId') };
    default:
      throw new ApiError('BAD_INPUT', `previewTx: unknown kind ${showValue((i as { kind?: unknown }).kind)}`);
  }
}

/**
 * The wallet's methods over a context (api.ts createTabchainApi composes them).
 * @example const api = { ...walletMethods(ctx), ...chainMethods(ctx) }
 */
export function walletMethods(ctx: ApiContext): WalletMethods {
  const { node, wallet, outbox, deps, params, prefix, addressOf, pubOr } = ctx;

  const createOfferUntil = api(async (o: { give: unknown; want: unknown; lots: unknown; expiresAtHeight?: unknown }) => {
    const p = offerPayload(o);
    const { txid } = await wallet.createOffer(p.give, p.want, p.lots, p.expiresAtHeight);
    return txid;
  });

  return {
    address: api(async () => wallet.address),

    send: api(async (to: string, amount: string) => {
      const toPub = parseAddress(to, prefix);
      const value = parseAmount(amount);
      return (await wallet.transfer(toPub, value)).txid;
    }),

    createItem: api(async (sku: string, name: string, quantity: number) => {
      const { txid, itemId } = await wallet.createItem(parseSku(sku), parseItemName(name), parseQuantity(quantity));
      return { txid, itemId: hashToHex(itemId) };
    }),

    mintItem: api(async (itemId: string, quantity: number) => {
      const id = parseId(itemId, 'itemId');
      const q = parseQuantity(quantity);
      return (await wallet.mintItem(id, q)).txid;
    }),

    transferItem: api(async (itemId: string, to: string, quantity: number) => {
      const id = parseId(itemId, 'itemId');
      const toPub = parseAddress(to, prefix);
      const q = parseQuantity(quantity);
      return (await wallet.transferItem(id, toPub, q)).txid;
    }),

    burnItem: api(async (itemId: string, quantity: number) => (await wallet.burnItem(parseId(itemId, 'itemId'), parseQuantity(quantity))).txid),

    createOffer: (o) => createOfferUntil({ ...o, expiresAtHeight: null }),
    createOfferUntil,

    acceptOffer: api(async (offerId: string, lots: number) => {
      const id = parseId(offerId, 'offerId');
      const n = parseLots(lots);
      return (await wallet.acceptOffer(id, n)).txid;
    }),

    cancelOffer: api(async (offerId: string) => (await wallet.cancelOffer(parseId(offerId, 'offerId'))).txid),

    account: api(async (address?: string) => {
      const pub = pubOr(address);
      const own = bytesToHex(pub) === bytesToHex(wallet.publicKey);
      const acc = node.state.account(pub);
      let pendingOut = 0n;
      if (own) {
        for (const tx of wallet.pendingChain()) {
          pendingOut += tx.fee;
          if (tx.kind === 'transfer') pendingOut += tx.amount;
          if (tx.kind === 'offer.create' && tx.give.asset.type === 'coin') pendingOut += tx.give.amount * BigInt(tx.lots);
          if (tx.kind === 'offer.accept') {
            const offer = node.state.getOffer(tx.offerId);
            if (offer?.want.asset.type === 'coin') pendingOut += offer.want.amount * BigInt(tx.lots);
          }
        }
      }
      const maturing = maturingOf(node.state, params, node.height, pub);
      // Another address: its balance plus the reward the next block releases to it (ours is wallet.available()).
      const releasedNext = acc.immature - maturing.reduce((sum, r) => sum + r.amount, 0n);
      const available = own ? wallet.available() : acc.balance + releasedNext;
      let incoming = 0n;
      for (const m of node.mempool.all()) {
        if (m.tx.kind === 'transfer' && !equalBytes(m.tx.from, pub) && equalBytes(m.tx.to, pub)) incoming += m.tx.amount;
      }
      return {
        address: addressOf(pub),
        balance: acc.balance.toString(),
        immature: acc.immature.toString(),
        nonce: acc.nonce,
        pendingOut: pendingOut.toString(),
        available: available.toString(),
        maturing: maturing.map((r) => ({ height: r.height, amount: r.amount.toString(), blocksLeft: r.blocksLeft, seconds: r.blocksLeft * params.targetSpacing })),
        incoming: incoming.toString(),
      };
    }),

    previewTx: api(async (intent: ApiTxIntent) => {
      const { tx, error } = await wallet.dryRun(intentPayload(intent, prefix));
      return {
        fee: tx.fee.toString(),
        size: txSize(tx),
        error: error ? { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) } : null,
      };
    }),

    fees: api(async () => {
      // The smallest encoding of each call: a fee is minFeePerByte × size, and only createItem's
      // size depends on what is typed (SKU and name; one character each here).
      const me = wallet.publicKey;
      const id = new Uint8Array(32);
      const fee = (p: TxPayload) => wallet.build(p, { nonce: 1 }).fee.toString();
      return {
        send: fee({ kind: 'transfer', to: me, amount: 1n }),
        createItem: fee({ kind: 'item.create', sku: 'A', name: 'A', quantity: 1n }),
        mintItem: fee({ kind: 'item.mint', itemId: id, quantity: 1n }),
        transferItem: fee({ kind: 'item.transfer', itemId: id, to: me, quantity: 1n }),
        burnItem: fee({ kind: 'item.burn', itemId: id, quantity: 1n }),
        createOffer: fee({ kind: 'offer.create', give: { asset: { type: 'item', itemId: id }, amount: 1n }, want: { asset: { type: 'coin' }, amount: 1n }, lots: 1, expiresAtHeight: null }),
        acceptOffer: fee({ kind: 'offer.accept', offerId: id, lots: 1 }),
        cancelOffer: fee({ kind: 'offer.cancel', offerId: id }),
      };
    }),

    outbox: api(async () =>
      outbox.list().map((e) => {
        const row: ApiOutboxEntry = {
          txid: e.txid,
          kind: e.decoded.kind,
          nonce: e.decoded.nonce,
          fee: e.decoded.fee.toString(),
          state: e.state,
          confirmations: e.confirmations,
          createdAt: e.createdAt,
        };
        if (e.error !== undefined) row.error = e.error;
        if (e.blockHash !== undefined) row.blockHash = e.blockHash;
        return row;
      }),
    ),

    rebroadcast: api(() => outbox.rebroadcastPending()),

    exportWallet: api(async (passphrase: string) => JSON.stringify(await wallet.exportBackup(passphrase, deps.backupKdf && { kdf: deps.backupKdf }), null, 2)),

    importWallet: api(async (backup: string, passphrase: string, opts: { confirm: boolean }) => {
      const result = await wallet.importBackup(backup, passphrase, { confirm: opts?.confirm === true });
      node.setMinerPubKey(wallet.publicKey);
      return result;
    }),
  };
}
