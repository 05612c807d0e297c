/**
 * The signature worker's protocol and handler, independent of the transport: the Web Worker and
 * worker_threads entry (sig-worker.ts) and the same-thread fallback (sig-pool.ts) run this.
 *
 * Protocol: the pool sends `verify` requests, each a batch of fixed-size records
 * (public key 32 ‖ message 32 ‖ signature 64 — a transaction's signing hash is 32 bytes); the
 * worker answers each with exactly one `verified` (one byte per record: 1 = accepted by the
 * native-first construction's fast half, P ∧ N — a YES of our verifier; 0 = no verdict) or
 * `error`. A worker never says NO: a 0 leaves the signature to consensus code, which verifies it
 * with the pure-JS verifier as it always did (src/chain/sig-precheck.ts).
 * @module
 */
import { acceptedNatively, acceptedNativelySync, type NativeVerify } from '../chain/index.ts';
import { platformEd25519, syncNativeOf } from './native-ed25519.ts';

/** Bytes of one record: public key, 32-byte message, signature. */
export const SIG_RECORD_BYTES = 128;
/**
 * Writes record `k` of `records`: pub ‖ msg ‖ sig (32 + 32 + 64 bytes).
 * @example writeRecord(records, 0, { pub, msg, sig })
 */
export function writeRecord(records: Uint8Array, k: number, item: { pub: Uint8Array; msg: Uint8Array; sig: Uint8Array }): void {
  const o = k * SIG_RECORD_BYTES;
  records.set(item.pub, o);
  records.set(item.msg, o + 32);
  records.set(item.sig, o + 64);
}

/** Record `i` of `records` as views, in the argument order of the verifiers: sig, msg, pub. */
function recordAt(records: Uint8Array, i: number): [sig: Uint8Array, msg: Uint8Array, pub: Uint8Array] {
  const o = i * SIG_RECORD_BYTES;
  return [records.subarray(o + 64, o + 128), records.subarray(o + 32, o + 64), records.subarray(o, o + 32)];
}

/** Most records in one request (a block holds at most 10,000 transactions). */
export const MAX_SIG_RECORDS = 10_000;

/** Pool → worker: verify these records. */
export interface VerifyRequest {
  type: 'verify';
  id: number;
  /** n × {@link SIG_RECORD_BYTES}: pub ‖ msg ‖ sig. */
  records: Uint8Array;
}

/** Worker → pool: one byte per record, 1 = accepted (P ∧ N), 0 = no verdict. */
export interface VerifiedReply {
  type: 'verified';
  id: number;
  accepted: Uint8Array;
}

/** Worker → pool: the request failed as a whole (its records get no verdict). */
export interface VerifyError {
  type: 'error';
  id: number;
  message: string;
}

export type ToSigWorker = VerifyRequest;
export type FromSigWorker = VerifiedReply | VerifyError;

/**
 * P ∧ N for each record of `records` (module doc): one after the other with a synchronous
 * verifier (node:crypto: no promise per record), else all native verifications in flight at once.
 * Throws RangeError on a malformed batch.
 * @example const accepted = await acceptRecords(records, native);
 */
export async function acceptRecords(records: Uint8Array, native: NativeVerify): Promise<Uint8Array> {
  if (!(records instanceof Uint8Array) || records.length % SIG_RECORD_BYTES !== 0) throw new RangeError('signature batch: not a whole number of records');
  const n = records.length / SIG_RECORD_BYTES;
  if (n > MAX_SIG_RECORDS) throw new RangeError(`signature batch: ${n} records > ${MAX_SIG_RECORDS}`);
  const sync = syncNativeOf(native);
  if (sync) {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = acceptedNativelySync(...recordAt(records, i), sync) ? 1 : 0;
    return out;
  }
  const verdicts = await Promise.all(
    Array.from({ length: n }, (_, i) => acceptedNatively(...recordAt(records, i), native)),
  );
  return Uint8Array.from(verdicts, (v) => (v ? 1 : 0));
}

/**
 * The handler of a signature worker; `post` sends replies to the pool. The native verifier is
 * created on the first request (`native` overrides it: tests); without one, every record gets 0.
 * @example
 * ```ts
 * const handle = createSigWorkerHandler((m) => postMessage(m));
 * onmessage = (e) => handle(e.data);
 * ```
 */
export function createSigWorkerHandler(post: (msg: FromSigWorker) => void, native?: Promise<NativeVerify | null>): (msg: ToSigWorker) => Promise<void> {
  let verifier: Promise<NativeVerify | null> | undefined = native;
  return async (msg) => {
    const id = typeof msg?.id === 'number' ? msg.id : -1;
    try {
      if (msg?.type !== 'verify') throw new Error(`unknown message ${(msg as { type?: unknown })?.type}`);
      const v = await (verifier ??= platformEd25519());
      const accepted = v ? await acceptRecords(msg.records, v) : new Uint8Array(msg.records.length / SIG_RECORD_BYTES);
      post({ type: 'verified', id, accepted });
    } catch (err) {
      post({ type: 'error', id, message: err instanceof Error ? err.message : String(err) });
    }
  };
}
