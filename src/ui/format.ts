/**
 * Plain formatting and input parsing for the page: coin amounts (TAB ↔ base units), short hashes,
 * rates, durations, sizes, and readable messages for API errors. No DOM, no state: easy to test.
 * @module
 */
import { COIN, MAX_NAME_BYTES, decodeAddress, isValidItemName } from '../chain/index.ts';
import type { ApiErrorDetails } from '../node/errors.ts';
import type { ApiItem } from '../node/explorer.ts';

const DECIMALS = 8;

/**
 * Base units → "12.5 TAB" (trailing zeros dropped, thousands grouped).
 * @example formatTab('150000000') // '1.5 TAB'
 */
export function formatTab(units: string | bigint | null | undefined, opts: { unit?: boolean } = {}): string {
  if (units === null || units === undefined || units === '') return '…';
  const n = BigInt(units);
  const neg = n < 0n;
  const abs = neg ? -n : n;
  const whole = (abs / COIN).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const frac = (abs % COIN).toString().padStart(DECIMALS, '0').replace(/0+$/, '');
  return `${neg ? '−' : ''}${whole}${frac ? '.' + frac : ''}${opts.unit === false ? '' : ' TAB'}`;
}

/** A user input that cannot be used, with the sentence to show. */
export class InputError extends Error {
  override readonly name = 'InputError';
}

/** The largest amount the chain's fields hold, base units (2^63 − 1). */
const MAX_UNITS = (1n << 63n) - 1n;

/** Most items or lots the page lets one transaction move (the chain allows more; nobody types that). */
export const MAX_ITEM_COUNT = 1_000_000_000;
/** Most lots the page lets one offer have. */
export const MAX_LOTS = 1_000_000;

/** Why a text with a comma is not an amount: said so, never read by dropping the comma. */
function commaProblem(t: string): string {
  // "1,000" reads as a thousand in English and as one in German: refuse, and say both ways.
  if (/^\d{1,3}(,\d{3})+$/.test(t)) return `“${t}” could mean ${t.replace(/,/g, '')} or ${t.replace(/,/g, '.')}: write the amount without commas, with a dot for decimals (e.g. ${t.replace(/,/g, '')} or 1.5).`;
  if (/^\d*,\d+$/.test(t)) return `Use a dot for decimals: write ${t.startsWith(',') ? '0' : ''}${t.replace(',', '.')}.`;
  return 'Use a dot for decimals and no commas, e.g. 1.5.';
}

/**
 * "1.5" (TAB, up to 8 decimals) → base units as a decimal string. Strict: every character counts
 * — a comma, a space, a sign or an exponent is refused with the reason, never dropped (a dropped
 * comma once sent 15 TAB for "1,5"). Throws InputError.
 * @example parseTab('1.5') // '150000000'
 */
export function parseTab(text: string): string {
  const t = text.trim();
  if (t === '') throw new InputError('Enter an amount.');
  if (/^[-−–]/.test(t)) throw new InputError('The amount cannot be negative.');
  if (t.includes(',')) throw new InputError(commaProblem(t));
  if (/^[+]?\d*\.?\d*e[+-]?\d+$/i.test(t)) throw new InputError('Write the amount in plain digits, e.g. 2 or 0.5 (no exponent such as 1e3).');
  if (/\s/.test(t)) throw new InputError('Remove the spaces inside the amount, e.g. 1000.');
  const m = /^(\d*)(?:\.(\d*))?$/.exec(t);
  if (!m || (m[1] === '' && !m[2])) throw new InputError('Enter a number like 2 or 0.5.');
  const frac = m[2] ?? '';
  if (frac.length > DECIMALS) throw new InputError(`TAB has at most ${DECIMALS} decimal places: the smallest amount is 0.00000001.`);
  const tooLarge = `That is too large: an amount can be at most ${formatTab(MAX_UNITS)}.`;
  if (m[1].replace(/^0+/, '').length > 12) throw new InputError(tooLarge);
  const units = BigInt(m[1] || '0') * COIN + BigInt(frac.padEnd(DECIMALS, '0') || '0');
  if (units <= 0n) throw new InputError('The amount must be more than 0.');
  if (units > MAX_UNITS) throw new InputError(tooLarge);
  return units.toString();
}

/**
 * A whole positive count (items, lots), up to `max`. Strict like {@link parseTab}. Throws InputError.
 * @example parseCount('3', 'Quantity') // 3
 */
export function parseCount(text: string | number, what = 'The number', max = MAX_ITEM_COUNT): number {
  const t = String(text).trim();
  const limit = `${what} must be at most ${max.toLocaleString('en')}.`;
  if (t === '') throw new InputError(`${what} is empty: enter a whole number, e.g. 3.`);
  if (/^[-−–]/.test(t)) throw new InputError(`${what} cannot be negative.`);
  if (/^[+]?\d*\.?\d*e[+-]?\d+$/i.test(t)) throw new InputError(`${what} must be written in plain digits, e.g. 3 (no exponent such as 1e3).`);
  if (/^\d{1,3}(,\d{3})+$/.test(t)) throw new InputError(`Write ${what.toLowerCase()} without commas, e.g. ${t.replace(/,/g, '')}.`);
  if (/^\d*[.,]\d+$/.test(t)) throw new InputError(`${what} must be a whole number: items and lots come in whole units.`);
  if (!/^\d+$/.test(t)) throw new InputError(`${what} must be a whole number, e.g. 3.`);
  if (t.replace(/^0+/, '').length > 15) throw new InputError(limit);
  const n = Number(t);
  if (n < 1) throw new InputError(`${what} must be at least 1.`);
  if (n > max) throw new InputError(limit);
  return n;
}

/**
 * How many bytes of the chain's 64 an item name takes (UTF-8: é is 2, an emoji 4).
 * @example nameBytes('Blue mug') // 8
 */
export function nameBytes(name: string): number {
  return new TextEncoder().encode(name).length;
}

/**
 * Why an item name cannot be used, or null.
 * @example nameProblem('Blue mug') // null
 */
export function nameProblem(name: string): string | null {
  const t = name.trim();
  if (t === '') return 'Give the item a name, e.g. “Blue mug”.';
  const used = nameBytes(t);
  if (used > MAX_NAME_BYTES) return `The name is too long: it uses ${used} of ${MAX_NAME_BYTES} characters (letters such as é count as 2, emoji as 4).`;
  // The chain refuses control and text-direction characters in names (they spoof how a line reads).
  if (!isValidItemName(t)) return 'The name holds an invisible control or text-direction character (often pasted along with text): type the name again.';
  return null;
}

/**
 * Why an address is not usable, or null when it is (bech32m checksum and network prefix).
 * @example addressProblem('tabdev1…', 'tabdev') // null
 */
export function addressProblem(text: string, prefix: string): string | null {
  const t = text.trim();
  if (t === '') return 'Enter an address.';
  // Never read around a space: a pasted address broken over lines is said to be broken.
  if (/\s/.test(t)) return 'The address has spaces or line breaks in it: an address is one word. Copy it again in full.';
  const sep = t.lastIndexOf('1');
  if (sep > 0 && t.slice(0, sep).toLowerCase() !== prefix) {
    return `This is not an address of this network: addresses here start with ${prefix}1.`;
  }
  try {
    decodeAddress(t, prefix);
    return null;
  } catch {
    return sep > 0
      ? 'This address has a typo: its checksum does not match. Copy it again in full.'
      : `This is not an address: addresses here start with ${prefix}1.`;
  }
}

/**
 * "00000a1b…9f2c" for a 64-hex id.
 * @example shortHash('00'.repeat(32)) // '00000000…0000'
 */
export function shortHash(h: string | null | undefined, head = 8, tail = 4): string {
  if (!h) return '—';
  if (h.length <= head + tail + 1) return h;
  return tail > 0 ? `${h.slice(0, head)}…${h.slice(-tail)}` : `${h.slice(0, head)}…`;
}

/**
 * "tabdev1qy3…x7ke" for an address.
 * @example shortAddress('tabdev1qqqq…') // 'tabdev1qqqq…qqqq'
 */
export function shortAddress(a: string | null | undefined): string {
  if (!a) return '—';
  const sep = a.lastIndexOf('1');
  return shortHash(a, sep + 6, 4);
}

/**
 * Hashes per second with a unit.
 * @example formatHashrate(1_250_000) // '1.25 MH/s'
 */
export function formatHashrate(h: number): string {
  if (!Number.isFinite(h) || h <= 0) return '0 H/s';
  const units = ['H/s', 'kH/s', 'MH/s', 'GH/s', 'TH/s'];
  let i = 0;
  while (h >= 1000 && i < units.length - 1) {
    h /= 1000;
    i++;
  }
  return `${h >= 100 ? h.toFixed(0) : h >= 10 ? h.toFixed(1) : h.toFixed(2)} ${units[i]}`;
}

/**
 * A rough duration: "about 12 seconds", "about 3 minutes".
 * @example formatDuration(90) // 'about 2 minutes'
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds < 1) return 'under a second';
  if (seconds < 90) return `about ${Math.round(seconds)} second${Math.round(seconds) === 1 ? '' : 's'}`;
  if (seconds < 90 * 60) return `about ${Math.round(seconds / 60)} minutes`;
  if (seconds < 36 * 3600) return `about ${Math.round(seconds / 3600)} hours`;
  return `about ${Math.round(seconds / 86400)} days`;
}

/**
 * "2 min ago" for a unix-seconds time.
 * @example timeAgo(Date.now() / 1000 - 30) // '30 s ago'
 */
export function timeAgo(unixSeconds: number, nowMs: number = Date.now()): string {
  const s = Math.round(nowMs / 1000 - unixSeconds);
  // Block times may run up to two minutes ahead of this clock (the future-time rule allows it).
  if (s < -150) return 'in the future';
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/**
 * Bytes with a unit.
 * @example formatBytes(1536) // '1.5 KB'
 */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n >= 10 ? n.toFixed(0) : n.toFixed(1)} ${units[i]}`;
}

/**
 * A large number compactly: 12,345 → "12.3 k".
 * @example formatCompact(2_500_000) // '2.5 M'
 */
export function formatCompact(n: number): string {
  if (!Number.isFinite(n)) return '—';
  if (n < 1000) return n.toLocaleString('en', { maximumFractionDigits: 2 });
  const units = ['k', 'M', 'G', 'T', 'P', 'E'];
  let i = -1;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n.toFixed(n >= 100 ? 0 : 1)} ${units[i]}`;
}

/**
 * A wait in blocks as people say it: "in 1 block (about 2 s)".
 * @example formatWait(7, 70) // 'in 7 blocks (about 70 s)'
 */
export function formatWait(blocks: number, seconds: number): string {
  const time = seconds < 90 ? `about ${Math.max(1, Math.round(seconds))} s` : formatDuration(seconds);
  return `in ${blocks} block${blocks === 1 ? '' : 's'} (${time})`;
}

/** A maturing reward as account().maturing lists it. */
export interface MaturingLine {
  amount: string;
  blocksLeft: number;
  seconds: number;
}

/**
 * When maturing rewards become spendable: "50 TAB in 1 block (about 2 s), 50 TAB in 2 blocks (about 4 s)".
 * Rewards unlocking at the same block are summed; more than three are summed into the last line.
 * @example maturingText([{ amount: '5000000000', blocksLeft: 1, seconds: 2 }]) // '50 TAB in 1 block (about 2 s)'
 */
export function maturingText(lines: readonly MaturingLine[]): string {
  const parts: string[] = [];
  const sorted = [...lines].sort((a, b) => a.blocksLeft - b.blocksLeft);
  for (let i = 0; i < sorted.length; ) {
    let sum = 0n;
    const last = parts.length === 2 ? sorted.length - 1 : sorted.findLastIndex((l) => l.blocksLeft === sorted[i].blocksLeft);
    for (let j = i; j <= last; j++) sum += BigInt(sorted[j].amount);
    const at = sorted[last];
    const spans = at.blocksLeft !== sorted[i].blocksLeft;
    parts.push(`${formatTab(sum)} ${spans ? 'more, the last ' : ''}${formatWait(at.blocksLeft, at.seconds)}`);
    i = last + 1;
  }
  return parts.join(', ');
}

/** Plain sentences for the error codes people meet. */
const PLAIN: Record<string, string> = {
  INSUFFICIENT_FUNDS: 'Not enough spendable coins or items for this (fee included).',
  IMMATURE: 'Your mining rewards are not spendable yet: each needs a few more blocks.',
  BAD_ADDRESS: 'That address is not valid. Check that it was copied in full.',
  BAD_AMOUNT: 'That amount or quantity is not valid.',
  LOTS_EXCEEDED: 'The offer has fewer lots left than you asked for.',
  OFFER_NOT_FOUND: 'That offer is no longer open: it was taken, cancelled or has expired.',
  OFFER_EXPIRED: 'That offer has expired.',
  SELF_TRADE: 'This is your own offer. You can cancel it instead.',
  NOT_MAKER: 'Only the person who made this offer can cancel it.',
  NOT_ISSUER: 'Only the creator of an item can restock it.',
  ITEM_EXISTS: 'You already created an item with this SKU. Restock it instead.',
  UNKNOWN_ITEM: 'This item is not on the chain yet. Wait until its creation is confirmed in a block.',
  BAD_NONCE: 'This conflicts with another of your transactions.',
  BAD_FEE: 'The fee is below the network minimum.',
  LOCKED: 'This profile is open in another tab. Close that tab or pick another profile.',
  QUOTA_EXCEEDED: 'Browser storage is full. Free some space or delete old profiles.',
  BAD_PASSPHRASE: 'Wrong passphrase for this backup.',
  BAD_BACKUP: 'This file is not a tabchain wallet backup, or it is damaged.',
  CONFIRM_REQUIRED: 'Please confirm that you want to replace this wallet.',
  TIMEOUT: 'This took too long. Try again.',
  NOT_READY: 'The node did not start.',
  NO_MINER_KEY: 'The wallet is not ready yet.',
};

/** What {@link errorMessage} may use to word a refusal's details. */
export interface ErrorContext {
  /** Item names for item shortfalls. */
  items?: ReadonlyMap<string, ApiItem>;
  /** What the transaction takes, in words, for an item shortfall: '5 lots' gives "5 lots need 5", 'shipping 5' "shipping 5 needs 5". Default 'this'. */
  needsWhat?: string;
}

/** A refusal's numbers as a sentence in TAB and item names. */
function detailsMessage(d: ApiErrorDetails, ctx: ErrorContext): string {
  if (d.type === 'lots') return `The offer has only ${d.left} lot${d.left === 1 ? '' : 's'} left; you asked for ${d.asked}.`;
  if (d.asset !== 'coin') {
    const item = ctx.items?.get(d.asset);
    const name = item ? item.name : `item ${shortHash(d.asset)}`;
    const what = ctx.needsWhat ?? 'this';
    return `You hold ${BigInt(d.have).toLocaleString('en')} ${name}; ${what} ${/ lots$/.test(what) ? 'need' : 'needs'} ${BigInt(d.need).toLocaleString('en')}.`;
  }
  // An item's creation or a cancellation takes only its fee.
  const need = d.need === d.fee ? `this needs its ${formatTab(d.fee)} fee` : `this needs ${formatTab(d.need)} (the ${formatTab(d.fee)} fee included)`;
  if (d.enoughIn) {
    return `Not enough spendable TAB yet: ${need} and you can spend ${formatTab(d.have)} now. Your mining rewards of ${formatTab(d.maturing)} are still maturing: enough for this ${formatWait(d.enoughIn.blocks, d.enoughIn.seconds)}.`;
  }
  const maturing = d.maturing !== '0' ? ` (${formatTab(d.maturing)} more is maturing, not enough either)` : '';
  return `Not enough TAB: ${need} and you can spend ${formatTab(d.have)}${maturing}.`;
}

/**
 * A readable sentence for a failed call: the refusal's numbers in words when the API gave them
 * (`details`: "You hold 2 Blue mug; 5 lots need 5"), else the plain explanation of its code with
 * the code, else the API's detail.
 * @example errorMessage(new Error('LOTS_EXCEEDED: 6 > 5')) // 'The offer has fewer lots left … (LOTS_EXCEEDED)'
 */
export function errorMessage(e: unknown, ctx: ErrorContext = {}): string {
  if (e instanceof InputError) return e.message;
  const details = (e as { details?: ApiErrorDetails } | null)?.details;
  if (details && typeof details === 'object') return detailsMessage(details, ctx);
  const raw = e instanceof Error ? e.message : typeof (e as { message?: unknown } | null)?.message === 'string' ? (e as { message: string }).message : String(e);
  // A code alone (as the outbox keeps a rejection's reason) or at the start: 'CODE: detail'.
  const code = (e as { code?: unknown } | null)?.code ?? /^([A-Z][A-Z0-9_]+)(?::|$)/.exec(raw)?.[1];
  const detail = typeof code === 'string' ? raw.replace(new RegExp(`^${code}:?\\s*`), '') : raw;
  if (typeof code === 'string' && PLAIN[code]) return `${PLAIN[code]} (${code})`;
  if (typeof code === 'string') return detail ? `${detail} (${code})` : code;
  return detail || 'Something went wrong.';
}
