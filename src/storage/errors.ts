/**
 * Storage errors with stable codes.
 *
 * Every failure of a {@link ChainStore} surfaces as a {@link StorageError} whose `code` the node and
 * the UI match on (the same idea as RuleError for consensus). Backend errors (IndexedDB
 * DOMExceptions, LevelDB errors) are translated once, here, by {@link toStorageError}, so callers
 * never see a raw `QuotaExceededError` or `LEVEL_LOCKED`.
 * @module
 */

/** Stable storage failure codes. Adding a code is fine; renaming one is a breaking change. */
export const STORAGE_CODES = [
  'QUOTA_EXCEEDED', // browser storage full (QuotaExceededError) or disk full (ENOSPC)
  'CLOSED', // store not opened yet, closed, or closed by another tab (upgrade/delete)
  'CORRUPT', // stored data does not decode or the schema is incomplete
  'SCHEMA_TOO_NEW', // written by a newer tabchain; refusing to downgrade
  'LOCKED', // held by another tab/process (Web Lock, LevelDB LOCK file, blocked upgrade)
  'WRONG_NETWORK', // the database belongs to another network
  'INVALID', // a caller bug: bad argument or a write that does not fit the stored tip
  'NOT_FOUND', // a record the operation needs does not exist
  'UNAVAILABLE', // no IndexedDB / storage API in this environment
  'IO', // any other backend failure
] as const;

export type StorageCode = (typeof STORAGE_CODES)[number];

/**
 * A storage operation failed. `tipHeight`, when known, is the height of the stored tip after the
 * failure (the chain is never left half-written, so it is the tip from before the failed write).
 * @example
 * ```ts
 * try { await store.connectBlock(args) }
 * catch (e) { if (e instanceof StorageError && e.code === 'QUOTA_EXCEEDED') ui.alert(e.message) }
 * ```
 */
export class StorageError extends Error {
  override readonly name: string = 'StorageError';
  readonly code: StorageCode;
  readonly tipHeight: number | undefined;
  constructor(code: StorageCode, message: string, opts: { cause?: unknown; tipHeight?: number } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.tipHeight = opts.tipHeight;
  }
}

/** Whether `e` is a "storage is full" error from IndexedDB (any browser) or from the file system. */
export function isQuotaError(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const { name, code, message, cause } = e as { name?: unknown; code?: unknown; message?: unknown; cause?: unknown };
  // Chromium/WebKit: DOMException 'QuotaExceededError' (legacy code 22); old Firefox:
  // 'NS_ERROR_DOM_QUOTA_REACHED' (legacy code 1014).
  if (name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED') return true;
  if (name !== undefined && (code === 22 || code === 1014) && String(name).includes('Quota')) return true;
  // Node/LevelDB: ENOSPC, surfaced by LevelDB as "IO error: ... No space left on device".
  if (code === 'ENOSPC' || (typeof message === 'string' && /No space left on device|ENOSPC/i.test(message))) return true;
  return cause !== undefined && cause !== e && isQuotaError(cause);
}

/** Where the failed operation ran, for a message a person can act on. */
export interface ErrorContext {
  /** What was being done, e.g. 'connectBlock 1234'. */
  op: string;
  /** Height of the stored tip after the failure (-1 = empty chain). */
  tipHeight?: number;
  /** 'browser' for IndexedDB profiles, 'disk' for a --data directory. */
  medium?: 'browser' | 'disk' | 'memory';
}

/**
 * Translates any error thrown by a backend into a {@link StorageError} (a StorageError passes
 * through unchanged).
 * @example
 * ```ts
 * catch (e) { throw toStorageError(e, { op: 'connectBlock', tipHeight: 41, medium: 'browser' }) }
 * ```
 */
export function toStorageError(e: unknown, ctx: ErrorContext): StorageError {
  if (e instanceof StorageError) return e;
  const tip = ctx.tipHeight;
  const where = tip === undefined ? '' : tip < 0 ? '; the chain is still empty' : `; the chain was left at block ${tip}`;
  if (isQuotaError(e)) {
    const message =
      ctx.medium === 'disk'
        ? `Disk is full: free space on the data directory's disk${where}`
        : `Browser storage is full: free space or delete an old profile${where}`;
    return new StorageError('QUOTA_EXCEEDED', message, { cause: e, tipHeight: tip });
  }
  const { name, code } = (typeof e === 'object' && e !== null ? e : {}) as { name?: unknown; code?: unknown; cause?: { code?: unknown } };
  const causeCode = (e as { cause?: { code?: unknown } } | null)?.cause?.code;
  const detail = e instanceof Error ? e.message : String(e);
  if (code === 'LEVEL_LOCKED' || causeCode === 'LEVEL_LOCKED')
    return new StorageError('LOCKED', `${ctx.op}: the data directory is in use by another tabchain process`, { cause: e, tipHeight: tip });
  if (name === 'VersionError')
    return new StorageError('SCHEMA_TOO_NEW', `${ctx.op}: this profile was written by a newer tabchain; update the app`, { cause: e, tipHeight: tip });
  if (name === 'DataCloneError' || name === 'DataError')
    return new StorageError('INVALID', `${ctx.op}: a value cannot be stored (${detail})`, { cause: e, tipHeight: tip });
  if (name === 'InvalidStateError' || code === 'LEVEL_DATABASE_NOT_OPEN')
    return new StorageError('CLOSED', `${ctx.op}: the database is closed (${detail})`, { cause: e, tipHeight: tip });
  if (name === 'NotFoundError')
    return new StorageError('CORRUPT', `${ctx.op}: the database schema is incomplete (${detail})`, { cause: e, tipHeight: tip });
  if (code === 'LEVEL_DECODE_ERROR' || code === 'LEVEL_CORRUPTION')
    return new StorageError('CORRUPT', `${ctx.op}: stored data is corrupt (${detail})`, { cause: e, tipHeight: tip });
  return new StorageError('IO', `${ctx.op}: ${detail}${where}`, { cause: e, tipHeight: tip });
}
