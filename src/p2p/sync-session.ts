/**
 * Sync sessions: many requests on one stream, `/tabchain/<network>/sync/2` (protocol.ts
 * `syncSession`), the same messages (messages.ts) and frames (frames.ts) as `sync/1`.
 *
 * Why: over WebRTC every libp2p stream is a new data channel, negotiated (multistream-select) and
 * closed with its own round trips; at one `getBlocks` of 16 bodies per stream that cost more than
 * the bodies (bench/p2p-browser.bench.ts prints where the time goes). A session opens one stream
 * per connection and keeps it.
 *
 * Rules (both sides enforce them):
 * - The asker sends request frames, at most {@link SESSION_DEPTH} unanswered at once; the answerer
 *   answers each with one frame, **in order**, one at a time. A request that arrives while
 *   {@link SESSION_DEPTH} are already unanswered breaks the protocol: the stream is aborted and the
 *   peer charged (`malformedFrame`), so a peer can never queue more than that on us.
 * - Each request is admitted by the serving budget on its own, exactly as on `sync/1`: BUSY when
 *   over it. Each request frame ≤ MAX_REQUEST_BYTES and each answer frame ≤ the largest honest
 *   answer to ITS request (`maxAnswerBytes`), both refused at the length prefix.
 * - Time: each answer must be built and written within the request timeout; a request frame must
 *   complete within it once begun; an asker whose oldest request is unanswered for the timeout
 *   aborts the session and charges `timeout`. A session idle for {@link SESSION_IDLE_MS} is closed
 *   (by the answerer; the asker closes its own after {@link ASKER_IDLE_MS}), charging nothing.
 * - Any violation ends the session; requests pending on it fail (not charged again) and the asker
 *   opens a new one for the next request.
 * @module
 */
import type { Stream, StreamMessageEvent } from '@libp2p/interface';
import { FrameTruncatedError, SyncProtocolError, SyncTimeoutError, SyncUnavailableError } from './errors.ts';
import { encodeFrame, FrameDecoder } from './frames.ts';
import { decodeRequest, decodeResponse, encodeMessage, MAX_REQUEST_BYTES, maxAnswerBytes, type SyncRequest, type SyncResponse } from './messages.ts';

/** Requests a session may have unanswered at once (sent and not yet answered). */
export const SESSION_DEPTH = 4;
/** An answerer closes a session that carried no request for this long, ms. */
export const SESSION_IDLE_MS = 30_000;
/** An asker closes its session after this long without a request (before the answerer's idle limit), ms. */
export const ASKER_IDLE_MS = 20_000;

function chunkOf(evt: StreamMessageEvent): Uint8Array {
  return evt.data instanceof Uint8Array ? evt.data : evt.data.subarray();
}

/** Writes bytes, waiting while the stream's send buffer is full. */
async function send(stream: Stream, bytes: Uint8Array, signal: AbortSignal): Promise<void> {
  if (!stream.send(bytes)) await stream.onDrain({ signal });
}

// --- answering ----------------------------------------------------------------------------------

export interface ServeSessionOptions {
  /** Time to build and write one answer, and to receive a request once its first byte came, ms. */
  timeoutMs: number;
  /** Close after this long without a request, ms (default {@link SESSION_IDLE_MS}). */
  idleMs?: number;
  /** Builds the answer to one request (budget, chain view); its errors are ours, not the peer's. */
  answer: (req: SyncRequest, signal: AbortSignal) => Promise<{ res: SyncResponse; charge?: (bytes: number) => void; release?: () => void }>;
  /** The peer broke the session's rules or stalled it: charge it (the stream is aborted). */
  onViolation: (err: Error) => void;
  /** Our own failure while answering (the stream is aborted, nobody charged). */
  onError?: (err: unknown) => void;
}

/**
 * Serves one inbound session stream until the peer closes it, it idles out, or a rule is broken.
 * Resolves when the session is over (never rejects).
 * @example
 * ```ts
 * registrar.handle(ids.syncSession, (stream, conn) => serveSession(stream, { timeoutMs, answer, onViolation }));
 * ```
 */
export function serveSession(stream: Stream, opts: ServeSessionOptions): Promise<void> {
  const idleMs = opts.idleMs ?? SESSION_IDLE_MS;
  const decoder = new FrameDecoder(MAX_REQUEST_BYTES);
  const queue: SyncRequest[] = [];
  let answering = false;
  let ended = false; // the peer closed its writing end
  let done = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let resolveDone!: () => void;
  const finished = new Promise<void>((r) => (resolveDone = r));

  const finish = (err?: Error, blame?: 'peer' | 'us') => {
    if (done) return;
    done = true;
    if (timer !== undefined) clearTimeout(timer);
    stream.removeEventListener('message', onMessage);
    stream.removeEventListener('remoteCloseWrite', onEnd);
    stream.removeEventListener('close', onClose);
    if (err) {
      if (blame === 'peer') opts.onViolation(err);
      else if (blame === 'us') opts.onError?.(err);
      stream.abort(err);
    } else {
      void stream.close().catch(() => undefined);
    }
    resolveDone();
  };
  /** Idle: nothing queued or being answered. Re-armed on every byte received and every answer sent. */
  const arm = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (done || answering || queue.length > 0) return;
    if (decoder.buffered > 0) {
      timer = setTimeout(() => finish(new SyncTimeoutError('sync session: request not received in time'), 'peer'), opts.timeoutMs);
    } else if (ended) {
      finish();
    } else {
      timer = setTimeout(() => finish(), idleMs);
    }
  };
  const pump = async () => {
    if (answering || done) return;
    answering = true;
    arm();
    while (queue.length > 0 && !done) {
      const req = queue[0];
      const timeout = AbortSignal.timeout(opts.timeoutMs);
      let built: Awaited<ReturnType<ServeSessionOptions['answer']>> | undefined;
      try {
        built = await opts.answer(req, timeout);
      } catch (err) {
        finish(err instanceof Error ? err : new Error(String(err)), 'us');
        return;
      }
      try {
        const frame = encodeFrame(encodeMessage(built.res));
        built.charge?.(frame.length);
        await send(stream, frame, timeout);
      } catch (err) {
        finish(timeout.aborted ? new SyncTimeoutError('sync session: answer not taken in time') : err instanceof Error ? err : new Error(String(err)), 'peer');
        return;
      } finally {
        built.release?.();
      }
      queue.shift();
    }
    answering = false;
    arm();
  };
  const onMessage = (evt: StreamMessageEvent) => {
    if (done) return;
    try {
      for (const frame of decoder.push(chunkOf(evt))) {
        // The one being answered stays in the queue until written: it counts.
        if (queue.length >= SESSION_DEPTH) throw new SyncProtocolError(`more than ${SESSION_DEPTH} requests unanswered on one sync session`);
        queue.push(decodeRequest(frame));
      }
    } catch (err) {
      finish(err as Error, 'peer');
      return;
    }
    if (queue.length > 0) void pump();
    else arm();
  };
  const onEnd = () => {
    ended = true;
    if (decoder.buffered > 0) finish(new FrameTruncatedError('sync session ended inside a request'), 'peer');
    else arm();
  };
  const onClose = () => finish();
  stream.addEventListener('message', onMessage);
  stream.addEventListener('remoteCloseWrite', onEnd);
  stream.addEventListener('close', onClose);
  arm();
  return finished;
}

// --- asking ---------------------------------------------------------------------------------------

interface Asked {
  req: SyncRequest;
  resolve: (res: SyncResponse) => void;
  reject: (err: unknown) => void;
  /** The caller gave up (its own signal): the answer is read and dropped. */
  abandoned: boolean;
}

export interface SyncSessionOptions {
  /** Closes after this long without a request, ms (default {@link ASKER_IDLE_MS}). */
  idleMs?: number;
  /** The session ended (closed, aborted, failed): forget it. */
  onClose?: () => void;
}

/**
 * The asking end of one session stream. {@link SyncSession.request} sends a request and resolves
 * with its (unchecked: see sync-client.ts `checkResponse`) answer; at most {@link SESSION_DEPTH}
 * are on the wire at once, more wait their turn here.
 * @example
 * ```ts
 * const session = new SyncSession(await connection.newStream(ids.syncSession));
 * const res = await session.request({ type: 'getStatus', id: 1 }, AbortSignal.timeout(10_000));
 * ```
 */
export class SyncSession {
  readonly stream: Stream;
  readonly #opts: SyncSessionOptions;
  /** Sent and not answered yet, oldest first: answers come in this order. */
  readonly #asked: Asked[] = [];
  /** Callers waiting for a free place on the wire. */
  readonly #waiting: (() => void)[] = [];
  readonly #decoder: FrameDecoder;
  /** Answers received (the decoder's frame count): the index of #asked[0]'s answer. */
  #answered = 0;
  #closed: Error | undefined;
  #idle: ReturnType<typeof setTimeout> | undefined;

  constructor(stream: Stream, opts: SyncSessionOptions = {}) {
    this.stream = stream;
    this.#opts = opts;
    // The n-th answer is bounded by the n-th request (answers come in order); nothing asked: nothing may come.
    this.#decoder = new FrameDecoder((n) => {
      const asked = this.#asked[n - this.#answered];
      return asked ? maxAnswerBytes(asked.req) : 0;
    });
    stream.addEventListener('message', this.#onMessage);
    stream.addEventListener('remoteCloseWrite', this.#onEnd);
    stream.addEventListener('close', this.#onClose);
    this.#armIdle();
  }

  /** Whether the session still takes requests. @example if (!session.open) session = await openNew() */
  get open(): boolean {
    return this.#closed === undefined;
  }

  /** Requests sent and not answered yet. @example session.inFlight // ≤ SESSION_DEPTH */
  get inFlight(): number {
    return this.#asked.length;
  }

  /**
   * Sends `req` (after earlier ones, at most SESSION_DEPTH on the wire) and resolves with its
   * answer. Rejects with `signal.reason` once the signal aborts: if it is a timeout while the
   * answer is due, the session is aborted (a SyncTimeoutError; the caller charges the peer),
   * otherwise the answer is only dropped when it comes. Rejects with SyncUnavailableError when the
   * session ended (not the peer's fault to charge again), with the peer's violation otherwise.
   * @example const res = await session.request(req, signal)
   */
  async request(req: SyncRequest, signal: AbortSignal): Promise<SyncResponse> {
    if (this.#closed) throw new SyncUnavailableError(`sync session closed: ${this.#closed.message}`);
    while (this.#asked.length >= SESSION_DEPTH) {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          const i = this.#waiting.indexOf(go);
          if (i >= 0) this.#waiting.splice(i, 1);
          reject(signal.reason);
        };
        const go = () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        };
        if (signal.aborted) return onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
        this.#waiting.push(go);
      });
      const closed = this.#closed as Error | undefined; // set meanwhile?
      if (closed) throw new SyncUnavailableError(`sync session closed: ${closed.message}`);
    }
    signal.throwIfAborted();
    const frame = encodeFrame(encodeMessage(req));
    let asked!: Asked;
    const answer = new Promise<SyncResponse>((resolve, reject) => {
      asked = { req, resolve, reject, abandoned: false };
    });
    this.#asked.push(asked);
    this.#armIdle();
    const onAbort = () => {
      if (asked.abandoned) return;
      asked.abandoned = true;
      const reason: unknown = signal.reason;
      const timedOut = (reason as Error | undefined)?.name === 'TimeoutError';
      // A peer that does not answer in time stalls everything behind: end the session.
      if (timedOut) this.abort(new SyncTimeoutError(`${req.type} got no answer in time on a sync session`));
      asked.reject(timedOut ? new SyncTimeoutError(`${req.type} got no answer in time`) : reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await send(this.stream, frame, signal);
      return await answer;
    } catch (err) {
      asked.abandoned = true;
      throw err;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Ends the session at once: every pending request fails with SyncUnavailableError. @example session.abort(err) */
  abort(err: Error): void {
    if (this.#end(err)) this.stream.abort(err);
  }

  /** Ends the session politely (nothing pending is lost: call when idle). @example session.close() */
  close(): void {
    if (this.#end(new Error('closed'))) void this.stream.close().catch(() => undefined);
  }

  /** Marks the session over and fails whatever waits; false if it was already over. */
  #end(err: Error): boolean {
    if (this.#closed) return false;
    this.#closed = err;
    if (this.#idle !== undefined) clearTimeout(this.#idle);
    this.stream.removeEventListener('message', this.#onMessage);
    this.stream.removeEventListener('remoteCloseWrite', this.#onEnd);
    this.stream.removeEventListener('close', this.#onClose);
    const failed = new SyncUnavailableError(`sync session ended: ${err.message}`);
    for (const a of this.#asked.splice(0)) if (!a.abandoned) a.reject(failed);
    for (const go of this.#waiting.splice(0)) go();
    this.#opts.onClose?.();
    return true;
  }

  /** Fails the oldest live request with `err` (the peer's violation, for the caller to charge), then ends. */
  #violate(err: Error): void {
    const first = this.#asked.find((a) => !a.abandoned);
    if (first) {
      first.abandoned = true;
      first.reject(err);
    }
    this.abort(err);
  }

  #armIdle(): void {
    if (this.#idle !== undefined) clearTimeout(this.#idle);
    this.#idle = undefined;
    if (this.#closed || this.#asked.length > 0) return;
    this.#idle = setTimeout(() => this.close(), this.#opts.idleMs ?? ASKER_IDLE_MS);
    (this.#idle as { unref?: () => void }).unref?.();
  }

  readonly #onMessage = (evt: StreamMessageEvent): void => {
    if (this.#closed) return;
    let frames: Uint8Array[];
    try {
      if (this.#asked.length === 0) throw new SyncProtocolError('data on a sync session with nothing asked', 'unsolicited');
      frames = this.#decoder.push(chunkOf(evt));
    } catch (err) {
      this.#violate(err as Error);
      return;
    }
    for (const frame of frames) {
      const asked = this.#asked.shift();
      this.#answered++;
      if (!asked) return this.#violate(new SyncProtocolError('an answer on a sync session with nothing asked', 'unsolicited'));
      let res: SyncResponse;
      try {
        res = decodeResponse(frame);
        if (res.id !== asked.req.id) throw new SyncProtocolError(`answer id ${res.id} for request ${asked.req.id}`, 'unsolicited');
      } catch (err) {
        this.#asked.unshift(asked);
        return this.#violate(err as Error);
      }
      if (!asked.abandoned) asked.resolve(res);
      this.#waiting.shift()?.();
    }
    this.#armIdle();
  };

  readonly #onEnd = (): void => {
    if (this.#asked.some((a) => !a.abandoned)) this.#violate(new FrameTruncatedError('sync session ended with requests unanswered'));
    else this.close();
  };

  readonly #onClose = (evt: Event): void => {
    const err = (evt as Event & { error?: Error }).error;
    if (this.#asked.some((a) => !a.abandoned)) this.#violate(err ?? new FrameTruncatedError('sync session closed with requests unanswered'));
    else this.#end(err ?? new Error('closed'));
  };
}
