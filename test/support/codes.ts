/**
 * The error code a test expects, read one way everywhere: a RuleError's code from a synchronous
 * call, a StorageError's code from a promise.
 */
import { RuleError, type RuleCode } from '../../src/chain/errors.ts';
import { StorageError } from '../../src/storage/errors.ts';

/**
 * The RuleError code `fn` throws, or 'OK' when it returns; any other error is rethrown.
 * @example expect(ruleCodeOf(() => checkTxSanity(tx, params))).toBe('BAD_SIGNATURE')
 */
export function ruleCodeOf(fn: () => unknown): RuleCode | 'OK' {
  try {
    fn();
  } catch (e) {
    if (e instanceof RuleError) return e.code;
    throw e;
  }
  return 'OK';
}

/**
 * The StorageError code `p` rejects with, or null when it resolves (another error: a string that
 * says so, which no expected code equals).
 * @example expect(await storageCodeOf(store.open())).toBe('CORRUPT')
 */
export function storageCodeOf(p: Promise<unknown>): Promise<string | null> {
  return p.then(
    () => null,
    (e: unknown) => (e instanceof StorageError ? e.code : `not a StorageError: ${String(e)}`),
  );
}
