/**
 * Sentences for assets and transactions ("Sent 5 TAB to tabdev1…", "Offered 1 × Desk lamp for
 * 2 TAB"), shared by the wallet, market and explorer views.
 * @module
 */
import type { ApiAssetAmount, ApiItem, ApiTxView } from '../node/explorer.ts';
import { formatTab, shortAddress, shortHash } from './format.ts';

/**
 * 'TAB' or the item's name (SKU) for an asset id.
 * @example assetName('coin', items) // 'TAB'
 */
export function assetName(asset: string, items: ReadonlyMap<string, ApiItem>): string {
  if (asset === 'coin') return 'TAB';
  const item = items.get(asset);
  return item ? `${item.name} (${item.sku})` : `item ${shortHash(asset)}`;
}

/**
 * An amount of an asset as words: '2 TAB' or '3 × Desk lamp'.
 * @example amountText({ asset: 'coin', amount: '200000000' }, items) // '2 TAB'
 */
export function amountText(a: ApiAssetAmount, items: ReadonlyMap<string, ApiItem>): string {
  if (a.asset === 'coin') return formatTab(a.amount);
  const item = items.get(a.asset);
  return `${BigInt(a.amount).toLocaleString('en')} × ${item ? item.name : `item ${shortHash(a.asset)}`}`;
}

/** Name of an item by id for sentences. */
function itemName(id: string | undefined, items: ReadonlyMap<string, ApiItem>): string {
  if (!id) return 'item';
  return items.get(id)?.name ?? `item ${shortHash(id)}`;
}

/**
 * What a transaction did, from the point of view of `me` (an address).
 * @example describeTx(tx, myAddress, items) // 'Sent 5 TAB to tabdev1qy…x7ke'
 */
export function describeTx(t: ApiTxView, me: string, items: ReadonlyMap<string, ApiItem>): string {
  const mine = t.from === me;
  const q = (s: string | undefined) => BigInt(s ?? '0').toLocaleString('en');
  switch (t.kind) {
    case 'coinbase':
      return t.to === me ? 'Mining reward' : `Mining reward to ${shortAddress(t.to)}`;
    case 'transfer':
      if (mine && t.to === me) return `Sent ${formatTab(t.amount)} to yourself`;
      return mine ? `Sent ${formatTab(t.amount)} to ${shortAddress(t.to)}` : t.to === me ? `Received ${formatTab(t.amount)} from ${shortAddress(t.from)}` : `${shortAddress(t.from)} sent ${formatTab(t.amount)} to ${shortAddress(t.to)}`;
    case 'item.create':
      return `${mine ? 'Created' : `${shortAddress(t.from)} created`} ${q(t.quantity)} × ${t.name} (${t.sku})`;
    case 'item.mint':
      return `${mine ? 'Restocked' : `${shortAddress(t.from)} restocked`} ${q(t.quantity)} × ${itemName(t.itemId, items)}`;
    case 'item.transfer':
      return mine
        ? `Shipped ${q(t.quantity)} × ${itemName(t.itemId, items)} to ${shortAddress(t.to)}`
        : t.to === me
          ? `Received ${q(t.quantity)} × ${itemName(t.itemId, items)} from ${shortAddress(t.from)}`
          : `${shortAddress(t.from)} shipped ${q(t.quantity)} × ${itemName(t.itemId, items)} to ${shortAddress(t.to)}`;
    case 'item.burn':
      return `${mine ? 'Used up' : `${shortAddress(t.from)} used up`} ${q(t.quantity)} × ${itemName(t.itemId, items)}`;
    case 'offer.create':
      return `${mine ? 'Offered' : `${shortAddress(t.from)} offered`} ${t.give ? amountText(t.give, items) : '?'} for ${t.want ? amountText(t.want, items) : '?'} (${t.lots} lot${t.lots === 1 ? '' : 's'})`;
    case 'offer.accept':
      return mine ? `Took ${t.lots} lot${t.lots === 1 ? '' : 's'} of offer ${shortHash(t.offerId)}` : `${shortAddress(t.from)} took ${t.lots} lot${t.lots === 1 ? '' : 's'} of ${t.offerId ? `offer ${shortHash(t.offerId)}` : 'an offer'}`;
    case 'offer.cancel':
      return `${mine ? 'Cancelled' : `${shortAddress(t.from)} cancelled`} offer ${shortHash(t.offerId)}`;
  }
}
