/**
 * Errors of the network layer. Each names what went wrong and, when the remote peer is to blame,
 * the {@link Offence} to charge it with (see peer-score.ts), so that callers can write
 * `const o = offenceOf(err); if (o) scores.penalize(peer, o)` once for every failure.
 * @module
 */
import { DecodeError } from '../chain/index.ts';
import type { Offence } from './peer-score.ts';

/**
 * A frame announced a length above the maximum. Raised as soon as the length prefix is read,
 * before any of the payload is buffered.
 * @example
 * ```ts
 * try { decoder.push(chunk) } catch (e) { if (e instanceof FrameTooLargeError) stream.abort(e) }
 * ```
 */
export class FrameTooLargeError extends Error {
  override readonly name: string = 'FrameTooLargeError';
  readonly offence: Offence = 'oversizedFrame';
  constructor(
    readonly length: number,
    readonly max: number,
  ) {
    super(`frame of ${length} bytes over the maximum ${max}`);
  }
}

/**
 * The byte stream ended inside a frame (or a frame was expected and none came).
 * @example
 * ```ts
 * decoder.end(); // throws FrameTruncatedError if half a frame is buffered
 * ```
 */
export class FrameTruncatedError extends Error {
  override readonly name: string = 'FrameTruncatedError';
  readonly offence: Offence = 'malformedFrame';
}

/**
 * A request got no answer in time.
 * @example
 * ```ts
 * catch (e) { if (e instanceof SyncTimeoutError) scores.penalize(peer, 'timeout') }
 * ```
 */
export class SyncTimeoutError extends Error {
  override readonly name: string = 'SyncTimeoutError';
  readonly offence: Offence = 'timeout';
}

/**
 * The peer broke the sync protocol: an answer of the wrong type or id, more items than asked,
 * headers that do not link up, data nobody asked for.
 * @example
 * ```ts
 * throw new SyncProtocolError('headers do not connect', 'malformedFrame');
 * ```
 */
export class SyncProtocolError extends Error {
  override readonly name: string = 'SyncProtocolError';
  constructor(
    message: string,
    readonly offence: Offence = 'malformedFrame',
  ) {
    super(message);
  }
}

/**
 * The peer answered with an error message (it is busy, or found the request bad). Not an offence
 * in itself: the peer behaved correctly by saying so.
 * @example
 * ```ts
 * catch (e) { if (e instanceof RemoteSyncError && e.code === 'BUSY') retryLater() }
 * ```
 */
export class RemoteSyncError extends Error {
  override readonly name: string = 'RemoteSyncError';
  readonly offence: Offence | undefined = undefined;
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/**
 * Our side refused to send: too many requests to that peer are already waiting, or the client is
 * closed. Never the peer's fault.
 * @example
 * ```ts
 * catch (e) { if (e instanceof SyncUnavailableError) pickAnotherPeer() }
 * ```
 */
export class SyncUnavailableError extends Error {
  override readonly name: string = 'SyncUnavailableError';
  readonly offence: Offence | undefined = undefined;
}

/**
 * The offence a failure charges the remote peer with, if any: DecodeError (bytes that do not
 * decode) is a malformed frame; our errors carry their own; anything else (a local bug, an
 * aborted dial) charges nothing.
 * @example
 * ```ts
 * const offence = offenceOf(err);
 * if (offence) scores.penalize(peerId, offence);
 * ```
 */
export function offenceOf(err: unknown): Offence | undefined {
  if (err instanceof DecodeError) return 'malformedFrame';
  if (
    err instanceof FrameTooLargeError ||
    err instanceof FrameTruncatedError ||
    err instanceof SyncTimeoutError ||
    err instanceof SyncProtocolError ||
    err instanceof RemoteSyncError ||
    err instanceof SyncUnavailableError
  ) {
    return err.offence;
  }
  return undefined;
}

/** How deep {@link errorText} follows inner errors (AggregateError's, `cause`): a cycle or a hostile chain ends there. */
const ERROR_TEXT_DEPTH = 3;
/** How many of an AggregateError's inner errors {@link errorText} names. */
const ERROR_TEXT_INNER = 4;
/** Longest text {@link errorText} returns: a peer's words can end up in a thrown message. */
const ERROR_TEXT_MAX = 500;

/**
 * Words for anything thrown: an Error's message (an AggregateError's inner messages too, and the
 * `cause` when there is one), or for what is not an Error — a browser WebSocket rejects a failed
 * dial with its `error` Event, whose `.message` is undefined — its type; an object's `name` and
 * `message` when it has them. Never `undefined`, at most {@link ERROR_TEXT_MAX} characters. For logs.
 * @example errorText(new Event('error')) // 'error event (Event)'
 * @example errorText(new AggregateError([new Error('a'), new Error('b')], 'All promises were rejected')) // 'All promises were rejected (a; b)'
 */
export function errorText(e: unknown): string {
  const text = describe(e, ERROR_TEXT_DEPTH);
  return text.length > ERROR_TEXT_MAX ? `${text.slice(0, ERROR_TEXT_MAX - 1)}…` : text;
}

function describe(e: unknown, depth: number): string {
  if (e instanceof Error) {
    const text = e.message || e.name || 'Error';
    if (depth <= 0) return text;
    const inner = e instanceof AggregateError && Array.isArray(e.errors) ? e.errors.slice(0, ERROR_TEXT_INNER).map((x) => describe(x, depth - 1)) : [];
    const more = e instanceof AggregateError && Array.isArray(e.errors) && e.errors.length > ERROR_TEXT_INNER ? [`${e.errors.length - ERROR_TEXT_INNER} more`] : [];
    const parts = [...inner, ...more];
    const withInner = parts.length > 0 ? `${text} (${parts.join('; ')})` : text;
    return e.cause !== undefined && e.cause !== e ? `${withInner}, caused by ${describe(e.cause, depth - 1)}` : withInner;
  }
  if (typeof Event !== 'undefined' && e instanceof Event) return `${e.type} event (${e.constructor.name})`;
  if (typeof e === 'object' && e !== null) {
    // Not an Error, but shaped like one (a DOMException from another realm, a library's error object).
    const { name, message } = e as { name?: unknown; message?: unknown };
    const words = [name, message].filter((x): x is string => typeof x === 'string' && x.length > 0);
    if (words.length > 0) return words.join(': ');
    const ctor = (e as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof ctor === 'string' && ctor !== 'Object' ? `a ${ctor} without a message` : 'an object without a message';
  }
  if (e === undefined) return 'no reason given (undefined)';
  return String(e);
}
