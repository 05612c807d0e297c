/**
 * Plain formatting and input parsing for the page: coin amounts (TAB ↔ base units), short hashes,
 * rates, durations, sizes, and readable messages for API errors. No DOM, no state: easy to test.
 * @module
 */
import { COIN, decodeAddress } from '../chain/index.ts';

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

/**
 * "1.5" (TAB, up to 8 decimals) → base units as a decimal string. Throws InputError.
 * @example parseTab('1.5') // '150000000'
 */
export function parseTab(text: string): string {
  const t = text.trim().replace(/,/g, '');
  if (t === '') throw new InputError('Enter an amount.');
  const m = /^(\d{0,19})(?:\.(\d*))?$/.exec(t);
  if (!m || (m[1] === '' && !m[2])) throw new InputError('Enter a number like 2 or 0.5.');
  const frac = m[2] ?? '';
  if (frac.length > DECIMALS) throw new InputError(`At most ${DECIMALS} decimal places.`);
  const units = BigInt(m[1] || '0') * COIN + BigInt(frac.padEnd(DECIMALS, '0') || '0');
  if (units <= 0n) throw new InputError('The amount must be more than 0.');
  if (units >= 1n << 63n) throw new InputError('That amount is too large.');
  return units.toString();
}

/**
 * A whole positive count (items, lots). Throws InputError.
 * @example parseCount('3', 'Quantity') // 3
 */
export function parseCount(text: string | number, what = 'The number', max = Number.MAX_SAFE_INTEGER): number {
  const t = String(text).trim();
  if (!/^\d+$/.test(t)) throw new InputError(`${what} must be a whole number.`);
  const n = Number(t);
  if (n < 1) throw new InputError(`${what} must be at least 1.`);
  if (n > max) throw new InputError(`${what} must be at most ${max.toLocaleString('en')}.`);
  return n;
}

/**
 * Why an address is not usable, or null when it is (bech32m checksum and network prefix).
 * @example addressProblem('tabdev1…', 'tabdev') // null
 */
export function addressProblem(text: string, prefix: string): string | null {
  const t = text.trim();
  if (t === '') return 'Enter an address.';
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

/** Plain sentences for the error codes people meet. */
const PLAIN: Record<string, string> = {
  INSUFFICIENT_FUNDS: 'Not enough spendable coins for this (amount plus fee). Freshly mined coins need a few more blocks before they can be spent.',
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

/**
 * A readable sentence for a failed call: the plain explanation, then the API's detail.
 * @example errorMessage(new Error('LOTS_EXCEEDED: 6 > 5')) // 'The offer has fewer lots left … (LOTS_EXCEEDED)'
 */
export function errorMessage(e: unknown): string {
  if (e instanceof InputError) return e.message;
  const raw = e instanceof Error ? e.message : String(e);
  // A code alone (as the outbox keeps a rejection's reason) or at the start: 'CODE: detail'.
  const code = (e as { code?: unknown } | null)?.code ?? /^([A-Z][A-Z0-9_]+)(?::|$)/.exec(raw)?.[1];
  const detail = typeof code === 'string' ? raw.replace(new RegExp(`^${code}:?\\s*`), '') : raw;
  if (typeof code === 'string' && PLAIN[code]) return `${PLAIN[code]} (${code})`;
  if (typeof code === 'string') return detail ? `${detail} (${code})` : code;
  return detail || 'Something went wrong.';
}
