/**
 * Errors of the node's public surface (wallet, outbox, `window.tabchain`).
 *
 * Every failure a caller of the API sees is an {@link ApiError} with a stable `code`: the
 * RuleError code when a consensus rule refused the transaction (`INSUFFICIENT_FUNDS`,
 * `LOTS_EXCEEDED`, …), the StorageError code when storage failed (`QUOTA`, `LOCKED`, …), or one of
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
 * A failure of an API call. `code` is stable; `message` starts with it.
 * @example
 * ```ts
 * throw new ApiError('BAD_AMOUNT', `'${s}' is not a decimal string of base units`);
 * ```
 */
export class ApiError extends Error {
  override readonly name: string = 'ApiError';
  readonly code: ApiErrorCode;
  constructor(code: ApiErrorCode, message?: string, opts?: { cause?: unknown }) {
    super(message ? (message.startsWith(`${code}:`) ? message : `${code}: ${message}`) : code, opts);
    this.code = code;
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
