/**
 * Errors of the node's public surface (wallet, outbox, `window.tabchain`).
 *
 * Every failure a caller of the API sees is an {@link ApiError} with a stable `code`: the
 * RuleError code when a consensus rule refused the transaction (`INSUFFICIENT_FUNDS`,
 * `LOTS_EXCEEDED`, …), the StorageError code when storage failed (`QUOTA_EXCEEDED`, `LOCKED`, …), or one of
 * the API's own {@link API_CODES} for bad input and wallet conditions. The code is also the first
 * word of the message (`"BAD_AMOUNT: …"`), because an Error that crosses a structured-clone
 * boundary (Playwright's `page.evaluate`, a worker) keeps its message but loses extra fields.
 * @module
 */
import { RuleError, type RuleCode } from '../chain/index.ts';
import { StorageError } from '../storage/index.ts';

/** Codes the API itself raises (beyond RuleError and StorageError codes). */
export const API_CODES = [
  'BAD_AMOUNT', // amount string / quantity / lots not a strict positive integer in range (also a RuleCode)
  'BAD_ADDRESS', // address fails bech32m checksum or prefix (also a RuleCode)
  'BAD_ID', // itemId / offerId / txid is not 64 hex characters
  'BAD_INPUT', // any other malformed argument (wrong type, bad sku, bad option)
  'BAD_PASSPHRASE', // wallet backup could not be decrypted with this passphrase
  'BAD_BACKUP', // wallet backup is not a backup of a supported version, or is corrupt
  'CONFIRM_REQUIRED', // a destructive call (replace the wallet key) lacks its explicit confirm flag
  'TIMEOUT', // waitForHeight ran out of time
  'NOT_READY', // node not started (or start failed)
  'STOPPED', // node stopped while the call waited
  'INTERNAL', // an unexpected error; the message says what
] as const;

export type ApiCode = (typeof API_CODES)[number];

/** Any code an API failure can carry (node errors bring their own, e.g. 'STOPPED', 'NO_MINER_KEY'). */
export type ApiErrorCode = ApiCode | RuleCode | StorageError['code'] | (string & {});

/**
 * What a refused transaction lacked, for wording the refusal (the page says "You hold 2 Blue mug;
 * 5 lots need 5" instead of the rule's raw message). Amounts are decimal strings in the asset's
 * units (base units for coins, a count for items).
 */
export interface ShortfallDetails {
  type: 'shortfall';
  /** 'coin' or the display itemId of the asset that ran short. */
  asset: string;
  /** What the transaction takes of it (coins: the fee included). */
  need: string;
  /** What a new transaction can use now: spendable at the next block, after our pending ones. */
  have: string;
  /** The fee (base units), part of `need` when the asset is 'coin'. */
  fee: string;
  /** Coins only: our mining rewards still maturing (base units), 0 if none. */
  maturing: string;
  /** Coins only, when maturing rewards will cover the shortfall: after how many blocks, and about how long that is. */
  enoughIn?: { blocks: number; seconds: number };
}

/** An offer asked for more lots than it has left. */
export interface LotsDetails {
  type: 'lots';
  asked: number;
  left: number;
}

/** Structured facts of a refusal, for wording (see {@link ApiError.details}). */
export type ApiErrorDetails = ShortfallDetails | LotsDetails;

/**
 * A failure of an API call. `code` is stable; `message` starts with it. `details`, when present,
 * carries the numbers behind a refusal (it survives only within the page: a structured clone such
 * as Playwright's `page.evaluate` keeps the message alone).
 * @example
 * ```ts
 * throw new ApiError('BAD_AMOUNT', `'${s}' is not a decimal string of base units`);
 * ```
 */
export class ApiError extends Error {
  override readonly name: string = 'ApiError';
  readonly code: ApiErrorCode;
  readonly details?: ApiErrorDetails;
  constructor(code: ApiErrorCode, message?: string, opts?: { cause?: unknown; details?: ApiErrorDetails }) {
    super(message ? (message.startsWith(`${code}:`) ? message : `${code}: ${message}`) : code, opts);
    this.code = code;
    if (opts?.details) this.details = opts.details;
  }
}

/**
 * A caller's value as text for a refusal's message, never throwing: JSON.stringify throws for a
 * bigint or a circular object, and String for a null-prototype object, so printing the value
 * must not turn a BAD_AMOUNT into a TypeError. Strings are quoted.
 * @example showValue(5n) // '5n'
 */
export function showValue(v: unknown): string {
  try {
    if (typeof v === 'string') return JSON.stringify(v);
    if (typeof v === 'bigint') return `${v}n`;
    if (typeof v !== 'object' || v === null) return String(v);
    return JSON.stringify(v) ?? String(v);
  } catch {
    try {
      return Object.prototype.toString.call(v);
    } catch {
      return `a value of type ${typeof v}`;
    }
  }
}

/**
 * Converts anything thrown below the API into an ApiError, keeping the code of a RuleError, a
 * StorageError or any error with an UPPER_CASE string `code`; anything else becomes `INTERNAL`.
 * @example
 * ```ts
 * try { await work() } catch (e) { throw toApiError(e) }
 * ```
 */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof RuleError || e instanceof StorageError) return new ApiError(e.code, e.message, { cause: e });
  const message = e instanceof Error ? e.message : String(e);
  // Errors of the node and miner carry a stable string code of their own (FullNode's nodeError).
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(code)) return new ApiError(code, message, { cause: e });
  return new ApiError('INTERNAL', message, { cause: e });
}

/**
 * An Error with a stable `code`, for node failures that are not rule violations (STOPPED,
 * CORRUPT, NO_MINER_KEY, …).
 * @example throw nodeError('STOPPED', 'the node is stopped')
 */
export function nodeError(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}
