/**
 * Input checks of the window.tabchain API (api.ts): strict, because a typo must fail loudly and
 * never move a different amount. Each parser turns what a caller passed into the chain's value or
 * throws an {@link ApiError} with the API's code (BAD_AMOUNT, BAD_ID, BAD_ADDRESS, BAD_INPUT).
 * Also {@link apiMethod}, the wrapper that makes every failure of a method an ApiError.
 * @module
 */
import { decodeAddress, hashToHex, hexToHash, isValidItemName, isValidSku, type Asset, type AssetAmount } from '../chain/index.ts';
import { ApiError, showValue, toApiError } from './errors.ts';

/**
 * Wraps an API method so every failure is an {@link ApiError} (its message starting with the code).
 * @example const send = apiMethod(async (to: string, amount: string) => wallet.transfer(…))
 */
export function apiMethod<A extends unknown[], R>(fn: (...args: A) => R | Promise<R>): (...args: A) => Promise<R> {
  return async (...args: A): Promise<R> => {
    try {
      return await fn(...args);
    } catch (e) {
      throw toApiError(e);
    }
  };
}

/**
 * An item's SKU as the chain takes it (BAD_INPUT otherwise).
 * @example parseSku('MUG-BLUE') // 'MUG-BLUE'
 */
export function parseSku(sku: unknown): string {
  if (typeof sku !== 'string' || !isValidSku(sku)) throw new ApiError('BAD_INPUT', 'sku must be 1..32 printable ASCII characters');
  return sku;
}

/**
 * An item's name as the chain takes it (BAD_INPUT otherwise).
 * @example parseItemName('Blue mug') // 'Blue mug'
 */
export function parseItemName(name: unknown): string {
  if (typeof name !== 'string' || !isValidItemName(name)) {
    throw new ApiError('BAD_INPUT', 'name must be text of at most 64 UTF-8 bytes, without control or bidirectional-formatting characters');
  }
  return name;
}

const MAX_AMOUNT = (1n << 63n) - 1n;
export const U32_MAX = 0xffffffff;
const HEX_ID = /^[0-9a-fA-F]{64}$/;

/**
 * A decimal string of base units → bigint: digits only, no sign, no leading zero, 1 ≤ n < 2^63.
 * @example parseAmount('150000000') // 150000000n
 */
export function parseAmount(s: unknown, what = 'amount'): bigint {
  if (typeof s !== 'string' || !/^[1-9][0-9]{0,18}$/.test(s)) {
    throw new ApiError('BAD_AMOUNT', `${what} must be a decimal string of base units (digits only, 1 to 2^63-1), got ${showValue(s)}`);
  }
  const n = BigInt(s);
  if (n > MAX_AMOUNT) throw new ApiError('BAD_AMOUNT', `${what} ${s} is not below 2^63`);
  return n;
}

/**
 * A quantity (item count) → bigint: a positive safe integer number.
 * @example parseQuantity(10) // 10n
 */
export function parseQuantity(n: unknown, what = 'quantity'): bigint {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) throw new ApiError('BAD_AMOUNT', `${what} must be a positive integer, got ${showValue(n)}`);
  return BigInt(n);
}

/** lots → number in 1..2^32−1. @example parseLots(3) // 3 */
export function parseLots(n: unknown): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > U32_MAX) throw new ApiError('BAD_AMOUNT', `lots must be an integer in 1..${U32_MAX}, got ${showValue(n)}`);
  return n;
}

/**
 * A 64-hex-character id in display order → internal bytes.
 * @example parseId(offerIdHex, 'offerId')
 */
export function parseId(s: unknown, what: string): Uint8Array {
  if (typeof s !== 'string' || !HEX_ID.test(s)) throw new ApiError('BAD_ID', `${what} must be 64 hex characters, got ${showValue(s)}`);
  return hexToHash(s.toLowerCase());
}

/** An address of this network → 32-byte public key (BAD_ADDRESS). @example parseAddress(addr, 'tab') */
export function parseAddress(s: unknown, prefix: string): Uint8Array {
  try {
    return decodeAddress(s as string, prefix);
  } catch (e) {
    throw toApiError(e);
  }
}

/** 'coin' or an itemId → Asset. @example parseAsset('coin') // { type: 'coin' } */
export function parseAsset(s: unknown, what: string): Asset {
  if (s === 'coin') return { type: 'coin' };
  return { type: 'item', itemId: parseId(s, `${what} asset (an itemId or 'coin')`) };
}

/** Asset → 'coin' or display-hex itemId. @example formatAsset({ type: 'coin' }) // 'coin' */
export function formatAsset(a: Asset): string {
  return a.type === 'coin' ? 'coin' : hashToHex(a.itemId);
}

/** An asset amount as the API shows it. @example formatAssetAmount(o.give) // { asset: 'coin', amount: '100' } */
export function formatAssetAmount(a: AssetAmount): { asset: string; amount: string } {
  return { asset: formatAsset(a.asset), amount: a.amount.toString() };
}

/** `{ asset, amount }` from a caller → AssetAmount (BAD_INPUT, BAD_ID, BAD_AMOUNT). @example parseAssetAmount({ asset: 'coin', amount: '5' }, 'give') */
export function parseAssetAmount(o: unknown, what: string): AssetAmount {
  if (typeof o !== 'object' || o === null) throw new ApiError('BAD_INPUT', `${what} must be { asset, amount }`);
  const { asset, amount } = o as { asset?: unknown; amount?: unknown };
  return { asset: parseAsset(asset, what), amount: parseAmount(amount, `${what} amount`) };
}

/** A bigint that fits a JS number exactly, as a number (quantities in inventory()). @example toNumber(5n) // 5 */
export function toNumber(n: bigint): number {
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : Number.MAX_SAFE_INTEGER;
}
