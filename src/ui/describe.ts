/**
 * Sentences for assets and transactions ("Sent 5 TAB to tabdev1…", "Bought 2 × Blue mug for
 * 6 TAB"), for the review step before anything is sent ("You are sending 1.5 TAB to tabdev1…, fee
 * 0.0000153 TAB") and for what happened after; shared by the wallet, items, market and explorer.
 * @module
 */
import type { ApiConnection, ApiTxIntent } from '../node/api.ts';
import type { ApiAssetAmount, ApiItem, ApiOfferView, ApiTxView, ApiWalletTx } from '../node/explorer.ts';
import { formatTab, formatWait, shortAddress, shortHash } from './format.ts';

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

/** `a` times `n` (an offer's per-lot amount times lots). */
function times(a: ApiAssetAmount, n: number): ApiAssetAmount {
  return { asset: a.asset, amount: (BigInt(a.amount) * BigInt(n)).toString() };
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
      if (t.to === me) return t.amount ? `Mining reward: ${formatTab(t.amount)} (block ${t.height})` : 'Mining reward';
      return `Mining reward to ${shortAddress(t.to)}`;
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
    case 'offer.accept': {
      const lots = t.lots ?? 1;
      const ofLots = `${lots} lot${lots === 1 ? '' : 's'}`;
      if (t.give && t.want && (mine || t.maker === me)) {
        // The taker pays want × lots and gets give × lots; the maker the other way round.
        const [got, paid] = mine ? [times(t.give, lots), times(t.want, lots)] : [times(t.want, lots), times(t.give, lots)];
        const other = mine ? t.maker : (t.from ?? undefined);
        const party = (word: string) => (other ? ` ${word} ${shortAddress(other)}` : '');
        const tail = ` (${ofLots} of offer ${shortHash(t.offerId)})`;
        if (got.asset !== 'coin' && paid.asset === 'coin') return `Bought ${amountText(got, items)} for ${amountText(paid, items)}${party('from')}${tail}`;
        if (got.asset === 'coin' && paid.asset !== 'coin') return `Sold ${amountText(paid, items)} for ${amountText(got, items)}${party('to')}${tail}`;
        return `Swapped ${amountText(paid, items)} for ${amountText(got, items)}${party('with')}${tail}`;
      }
      return mine ? `Took ${ofLots} of offer ${shortHash(t.offerId)}` : `${shortAddress(t.from)} took ${ofLots} of ${t.offerId ? `offer ${shortHash(t.offerId)}` : 'an offer'}`;
    }
    case 'offer.cancel':
      return `${mine ? 'Cancelled' : `${shortAddress(t.from)} cancelled`} offer ${shortHash(t.offerId)}`;
  }
}

/** Consecutive mining rewards of the wallet history, shown as one line. */
export interface RewardGroup {
  kind: 'rewards';
  /** Key for the list: the newest reward's txid. */
  txid: string;
  count: number;
  /** Base units, all of them. */
  total: string;
  /** Base units still maturing. */
  maturing: string;
  /** Blocks until the soonest maturing one is spendable (0 when none is maturing). */
  nextIn: number;
  fromHeight: number;
  toHeight: number;
}

/**
 * The wallet history with each run of consecutive mining rewards folded into one line (a mining
 * tab earns one every block; fifty lines of "Mining reward" would push everything else away).
 * @example groupRewards(walletTxs).filter((r) => r.kind === 'rewards')
 */
export function groupRewards(rows: readonly ApiWalletTx[]): (ApiWalletTx | RewardGroup)[] {
  const out: (ApiWalletTx | RewardGroup)[] = [];
  for (const t of rows) {
    if (t.kind !== 'coinbase') {
      out.push(t);
      continue;
    }
    const amount = BigInt(t.amount ?? '0');
    const maturing = (t.maturesIn ?? 0) > 0 ? amount : 0n;
    const height = t.blockHeight ?? t.height ?? 0;
    const last = out[out.length - 1];
    if (last?.kind === 'rewards') {
      last.count++;
      last.total = (BigInt(last.total) + amount).toString();
      last.maturing = (BigInt(last.maturing) + maturing).toString();
      if (maturing > 0n) last.nextIn = last.nextIn === 0 ? t.maturesIn! : Math.min(last.nextIn, t.maturesIn!);
      last.fromHeight = Math.min(last.fromHeight, height);
      last.toHeight = Math.max(last.toHeight, height);
    } else {
      out.push({ kind: 'rewards', txid: t.txid, count: 1, total: amount.toString(), maturing: maturing.toString(), nextIn: maturing > 0n ? t.maturesIn! : 0, fromHeight: height, toHeight: height });
    }
  }
  return out;
}

/** What a review panel shows before anything is sent. */
export interface Review {
  /** The sentence to check, with amounts, names, the counterpart and the fee. */
  lines: string[];
  /** A full address to compare with the one intended (sends and shipments). */
  address?: string;
  /** Things that are probably a mistake but allowed (sending to yourself). */
  warnings: string[];
}

/** What a review needs to know besides the intent. */
export interface ReviewContext {
  me: string;
  items: ReadonlyMap<string, ApiItem>;
  offers?: readonly ApiOfferView[];
}

/**
 * The review sentence of a wallet call with its fee (from previewTx).
 * @example reviewOf({ kind: 'send', to, amount: '150000000' }, '1530', ctx).lines[0] // 'You are sending 1.5 TAB to tabdev1…xr2x, fee 0.0000153 TAB.'
 */
export function reviewOf(i: ApiTxIntent, fee: string, ctx: ReviewContext): Review {
  const f = `fee ${formatTab(fee)}`;
  const q = (n: number) => n.toLocaleString('en');
  const name = (id: string) => itemName(id, ctx.items);
  const self = (to: string) => to.trim().toLowerCase() === ctx.me.toLowerCase();
  switch (i.kind) {
    case 'send': {
      const total = BigInt(i.amount) + BigInt(fee);
      return {
        lines: [`You are sending ${formatTab(i.amount)} to ${shortAddress(i.to.trim())}, ${f}.`, `In all ${formatTab(total)} leaves your wallet.`],
        address: i.to.trim(),
        warnings: self(i.to) ? [`This is your own address: the ${formatTab(i.amount)} come back to you and only the fee is spent.`] : [],
      };
    }
    case 'createItem':
      return { lines: [`You are creating ${q(i.quantity)} × ${i.name} (SKU ${i.sku}), ${f}.`, 'Only you can restock it later; the SKU cannot be changed.'], warnings: [] };
    case 'mintItem':
      return { lines: [`You are adding ${q(i.quantity)} × ${name(i.itemId)} to your stock, ${f}.`], warnings: [] };
    case 'transferItem':
      return {
        lines: [`You are shipping ${q(i.quantity)} × ${name(i.itemId)} to ${shortAddress(i.to.trim())}, ${f}.`],
        address: i.to.trim(),
        warnings: self(i.to) ? ['This is your own address: the items stay with you and only the fee is spent.'] : [],
      };
    case 'burnItem':
      return { lines: [`You are using up ${q(i.quantity)} × ${name(i.itemId)} for good: they leave the chain's stock. ${f[0].toUpperCase()}${f.slice(1)}.`], warnings: [] };
    case 'createOffer': {
      const lots = `${q(i.lots)} lot${i.lots === 1 ? '' : 's'}`;
      return {
        lines: [
          `You offer ${lots}. Each lot: you give ${amountText(i.give, ctx.items)} and get ${amountText(i.want, ctx.items)}. ${f[0].toUpperCase()}${f.slice(1)}.`,
          `${amountText(times(i.give, i.lots), ctx.items)} is held in escrow until the lots are taken or you cancel; if every lot is taken you receive ${amountText(times(i.want, i.lots), ctx.items)}.`,
        ],
        warnings: [],
      };
    }
    case 'acceptOffer': {
      const o = ctx.offers?.find((x) => x.offerId === i.offerId);
      const lots = `${q(i.lots)} lot${i.lots === 1 ? '' : 's'}`;
      if (!o) return { lines: [`You are taking ${lots} of offer ${shortHash(i.offerId)}, ${f}.`], warnings: [] };
      return { lines: [`You take ${lots}: you get ${amountText(times(o.give, i.lots), ctx.items)} and pay ${amountText(times(o.want, i.lots), ctx.items)} to ${shortAddress(o.maker)}, ${f}.`], warnings: [] };
    }
    case 'cancelOffer': {
      const o = ctx.offers?.find((x) => x.offerId === i.offerId);
      const back = o ? ` What is left in escrow, ${amountText(times(o.give, o.lotsLeft), ctx.items)}, comes back to you.` : '';
      return { lines: [`You are cancelling your offer ${o ? `of ${amountText(o.give, ctx.items)} for ${amountText(o.want, ctx.items)}` : shortHash(i.offerId)}, ${f}.${back}`], warnings: [] };
    }
  }
}

/**
 * What the page says once a call went through: sent (a peer will carry it) or queued (no peer
 * yet: it leaves when one is reachable; a block this tab mines includes it too), and when it
 * takes effect.
 * @example doneText({ kind: 'send', to, amount }, 'connected') // 'Sent. It is pending until the next block includes it.'
 */
export function doneText(i: ApiTxIntent, connection: ApiConnection | undefined, ctx?: ReviewContext): string {
  const head = connection === 'connected' ? 'Sent.' : 'Queued: it leaves when a peer is reachable (a block you mine includes it too).';
  switch (i.kind) {
    case 'send':
      return `${head} It is pending until a block includes it.`;
    case 'createItem':
      return `${head} ${i.name} (${i.sku}) appears under “My items” once a block includes it — keep mining, or wait for someone else's block.`;
    case 'createOffer':
      return `${head} The offer opens on the market with the next block.`;
    case 'acceptOffer': {
      const o = ctx?.offers?.find((x) => x.offerId === i.offerId);
      const what = o ? ` You get ${amountText(times(o.give, i.lots), ctx!.items)} for ${amountText(times(o.want, i.lots), ctx!.items)}:` : '';
      return what ? `${head}${what} the swap happens in the next block.` : `${head} The swap happens in the next block.`;
    }
    case 'cancelOffer':
      return `${head} The offer closes and its escrow comes back to you with the next block.`;
    default:
      return `${head} It takes effect with the next block.`;
  }
}

/**
 * A mining-reward line's state: "spendable" or "spendable in 1 block (about 2 s)".
 * @example rewardState(1, 2) // 'spendable in 1 block (about 2 s)'
 */
export function rewardState(blocks: number, targetSpacing: number): string {
  return blocks <= 0 ? 'spendable' : `spendable ${formatWait(blocks, blocks * targetSpacing)}`;
}
