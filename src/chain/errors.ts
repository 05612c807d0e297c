/**
 * Consensus and decoding errors with stable codes.
 *
 * Every consensus rule that fails raises a {@link RuleError} whose `code` never changes between
 * releases: peers, the UI and tests match on it (like btcd's `ErrorCode` / Bitcoin Core's reject
 * reasons). Decoders raise {@link DecodeError}, which is a RuleError with code `MALFORMED`.
 * @module
 */

/** Stable rule-violation codes. Adding a code is fine; renaming one is a breaking change. */
export const RULE_CODES = [
  'BAD_POW',
  'BAD_BITS',
  'TIME_TOO_OLD',
  'TIME_TOO_NEW',
  'BAD_MERKLE',
  'DUPLICATE_TX',
  'BAD_SIGNATURE',
  'BAD_NONCE',
  'INSUFFICIENT_FUNDS',
  'UNKNOWN_ITEM',
  'NOT_ISSUER',
  'OFFER_NOT_FOUND',
  'OFFER_EXPIRED',
  'LOTS_EXCEEDED',
  'BAD_COINBASE',
  'BLOCK_TOO_LARGE',
  'TX_TOO_LARGE',
  'WRONG_CHAIN',
  'MALFORMED',
  // Codes beyond the first specification's nineteen above, each for a rule that list did not name
  // (docs/ARCHITECTURE.md §Validation tiers and rule errors lists them all).
  'BAD_PREV', // header's parent is unknown or invalid (header context)
  'BAD_VERSION', // unsupported header version
  'ITEM_EXISTS', // item.create for a (issuer, sku) that already exists
  'BAD_AMOUNT', // zero/negative/overflowing amount, quantity or lots
  'BAD_FEE', // fee below the minimum or overflowing
  'BAD_ADDRESS', // address string fails bech32m / prefix checks
  'NOT_MAKER', // offer.cancel by someone other than the maker
  'SELF_TRADE', // offer.accept by the offer's own maker
  'IMMATURE', // spends more than the mature balance (coinbase maturity)
] as const;

export type RuleCode = (typeof RULE_CODES)[number];

/**
 * A consensus rule was violated.
 * @example
 * ```ts
 * throw new RuleError('BAD_POW', 'hash above target');
 * ```
 */
export class RuleError extends Error {
  override readonly name: string = 'RuleError';
  readonly code: RuleCode;
  constructor(code: RuleCode, message?: string) {
    super(message ? `${code}: ${message}` : code);
    this.code = code;
  }
}

/**
 * Bytes that are not a canonical encoding: truncated, trailing data, a length over its bound, a
 * non-minimal varint, an unknown tag. Always code `MALFORMED`.
 * @example
 * ```ts
 * try { decodeTx(bytes) } catch (e) { if (e instanceof DecodeError) peer.penalise() }
 * ```
 */
export class DecodeError extends RuleError {
  override readonly name: string = 'DecodeError';
  constructor(message: string) {
    super('MALFORMED', message);
  }
}

/** Shorthand for `throw new RuleError(code, message)` in expression position. */
export function fail(code: RuleCode, message?: string): never {
  throw new RuleError(code, message);
}
