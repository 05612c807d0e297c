/**
 * The asking side of the sync protocol, independent of the carrier.
 *
 * A {@link SyncPort} is anything that carries whole messages both ways: a MessagePort, a
 * BroadcastChannel, a WebRTC data channel, an in-memory pair in tests. {@link SyncClient} sends
 * requests over one, each with its own id and a timeout (`AbortSignal.timeout`), and matches
 * answers by id; {@link serveSyncPort} answers requests arriving on one. Both ignore the other
 * direction's messages, so a single port can carry requests both ways. (libp2p, which opens a
 * stream per request, uses {@link checkResponse} directly: see libp2p-sync.ts.)
 *
 * Answers are checked before anyone sees them ({@link checkResponse}): the right type, no more
 * headers than asked and linked into a chain, only blocks that were asked for, in order. A peer
 * breaking these rules is reported through `onOffence` with the offence to charge. Sizes are
 * checked before decoding, as over libp2p: a request over MAX_REQUEST_BYTES, or an answer over
 * the largest honest answer to its request (maxAnswerBytes), is an `oversizedFrame`.
 * @module
 */
import { blockHash, decodeHeader, equalBytes, hashToHex, HEADER_BYTES, type BlockHeader } from '../chain/index.ts';
import { FrameTooLargeError, offenceOf, RemoteSyncError, SyncProtocolError, SyncTimeoutError, SyncUnavailableError } from './errors.ts';
import {
  decodeMessage,
  encodeMessage,
  isRequest,
  isRequestTag,
  MAX_HEADERS_PER_REQUEST,
  MAX_REQUEST_BYTES,
  maxAnswerBytes,
  RESPONSE_TYPE_OF,
  type SyncRequest,
  type SyncResponse,
  type SyncStatus,
} from './messages.ts';
import type { Offence } from './peer-score.ts';
import { handleSyncRequest, type ChainView } from './sync-server.ts';

/** A carrier of whole messages, both ways. */
export interface SyncPort {
  send(message: Uint8Array): void;
  /** Calls `handler` for every message received until the returned function is called. */
  subscribe(handler: (message: Uint8Array) => void): () => void;
}

/** Default time an answer may take, ms. */
export const DEFAULT_SYNC_TIMEOUT_MS = 10_000;

/** A block of a `getBlocks` answer with the hash it was checked against. */
export interface ReceivedBlock {
  hash: Uint8Array;
  bytes: Uint8Array;
}

/** A checked `getBlocks` answer. */
export interface BlocksResult {
  /** Bodies received, in request order. Each one's header hashes to `hash`. */
  blocks: ReceivedBlock[];
  /** Hashes the peer says it does not have. */
  notFound: Uint8Array[];
  /** Hashes left out (the answer was full): ask again. */
  missing: Uint8Array[];
}

/** A request without its id (the client assigns ids). */
export type SyncRequestBody = SyncRequest extends infer R ? (R extends SyncRequest ? Omit<R, 'id'> : never) : never;

/** The checked result of each request type. */
export interface SyncResultOf {
  getStatus: SyncStatus;
  getHeaders: BlockHeader[];
  getBlocks: BlocksResult;
}

/**
 * Checks an answer against its request and returns its content; throws RemoteSyncError for an
 * `error` answer and SyncProtocolError (with the offence to charge) for an answer that breaks the
 * protocol.
 * @example
 * ```ts
 * const headers = checkResponse(req, decodeResponse(frame)); // for a getHeaders req
 * ```
 */
export function checkResponse<R extends SyncRequest>(req: R, res: SyncResponse): SyncResultOf[R['type']];
export function checkResponse(req: SyncRequest, res: SyncResponse): SyncResultOf[SyncRequest['type']] {
  if (res.id !== req.id) throw new SyncProtocolError(`answer id ${res.id} for request ${req.id}`, 'unsolicited');
  if (res.type === 'error') throw new RemoteSyncError(res.code, res.message);
  if (res.type !== RESPONSE_TYPE_OF[req.type]) throw new SyncProtocolError(`${res.type} answer to ${req.type}`);
  if (req.type === 'getStatus' && res.type === 'status') return res.status;
  if (req.type === 'getHeaders' && res.type === 'headers') {
    const { headers } = res;
    if (headers.length > Math.min(req.max, MAX_HEADERS_PER_REQUEST)) throw new SyncProtocolError(`${headers.length} headers, asked for ${req.max}`);
    for (let i = 1; i < headers.length; i++) {
      if (!equalBytes(headers[i].prevHash, blockHash(headers[i - 1]))) throw new SyncProtocolError(`headers do not link up at ${i}`);
    }
    return headers;
  }
  if (req.type === 'getBlocks' && res.type === 'blocks') {
    // Walk the request in order: each received block must be the next requested hash not listed
    // as notFound. Anything else was not asked for (or is out of order).
    const notFoundKeys = new Set(res.notFound.map(hashToHex));
    const requested = new Set(req.hashes.map(hashToHex));
    for (const k of notFoundKeys) if (!requested.has(k)) throw new SyncProtocolError('notFound lists a hash not asked for', 'unsolicited');
    const blocks: ReceivedBlock[] = [];
    let next = 0;
    for (const bytes of res.blocks) {
      if (bytes.length < HEADER_BYTES) throw new SyncProtocolError('block shorter than a header');
      const hash = blockHash(decodeHeader(bytes.subarray(0, HEADER_BYTES)));
      while (next < req.hashes.length && (notFoundKeys.has(hashToHex(req.hashes[next])) || !equalBytes(req.hashes[next], hash))) next++;
      if (next === req.hashes.length) throw new SyncProtocolError(`block ${hashToHex(hash)} not asked for (or out of order)`, 'unsolicited');
      blocks.push({ hash, bytes });
      next++;
    }
    const got = new Set(blocks.map((b) => hashToHex(b.hash)));
    const missing = req.hashes.filter((h) => !got.has(hashToHex(h)) && !notFoundKeys.has(hashToHex(h)));
    return { blocks, notFound: res.notFound, missing };
  }
  throw new SyncProtocolError(`${res.type} answer to ${req.type}`);
}

export interface SyncClientOptions {
  /** Time each answer may take, ms (default 10 s). */
  timeoutMs?: number;
  /** Requests in flight at once; more are refused with SyncUnavailableError (default 4). */
  maxPending?: number;
  /** Told whenever the peer misbehaves (bad answer, unsolicited data, timeout). */
  onOffence?: (offence: Offence, err: Error) => void;
}

interface Pending {
  req: SyncRequest;
  resolve: (res: SyncResponse) => void;
  reject: (err: unknown) => void;
}

/**
 * Sends sync requests over a {@link SyncPort} and matches answers by id.
 * @example
 * ```ts
 * const client = new SyncClient(port, { onOffence: (o) => scores.penalize(peer, o) });
 * const status = await client.getStatus();
 * const headers = await client.getHeaders(index.locator());
 * const { blocks } = await client.getBlocks(headers.slice(0, 16).map(blockHash));
 * ```
 */
export class SyncClient {
  private readonly port: SyncPort;
  private readonly timeoutMs: number;
  private readonly maxPending: number;
  private readonly onOffence: (offence: Offence, err: Error) => void;
  private readonly pending = new Map<number, Pending>();
  private readonly unsubscribe: () => void;
  private nextId = 1;
  private closed = false;

  constructor(port: SyncPort, opts: SyncClientOptions = {}) {
    this.port = port;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_SYNC_TIMEOUT_MS;
    this.maxPending = opts.maxPending ?? 4;
    this.onOffence = opts.onOffence ?? (() => {});
    this.unsubscribe = port.subscribe((m) => this.receive(m));
  }

  /** Requests waiting for an answer. @example client.inFlight // 0 */
  get inFlight(): number {
    return this.pending.size;
  }

  private receive(bytes: Uint8Array): void {
    if (bytes.length >= 5 && !isRequestTag(bytes[0])) {
      // An answer: its id (bytes 1..4, u32 little-endian) names the request, whose type bounds it.
      const id = new DataView(bytes.buffer, bytes.byteOffset + 1, 4).getUint32(0, true);
      const p = this.pending.get(id);
      const max = p && maxAnswerBytes(p.req);
      if (p && max !== undefined && bytes.length > max) {
        const err = new FrameTooLargeError(bytes.length, max);
        this.pending.delete(id);
        this.onOffence(err.offence, err);
        p.reject(err);
        return;
      }
    }
    let msg;
    try {
      msg = decodeMessage(bytes);
    } catch (err) {
      this.onOffence('malformedFrame', err as Error);
      return;
    }
    if (isRequest(msg)) return; // the other direction: for serveSyncPort
    const p = this.pending.get(msg.id);
    if (!p) {
      this.onOffence('unsolicited', new SyncProtocolError(`unsolicited ${msg.type} (id ${msg.id})`, 'unsolicited'));
      return;
    }
    this.pending.delete(msg.id);
    p.resolve(msg);
  }

  /**
   * Sends a request and resolves with its checked result. Rejects with SyncTimeoutError after
   * `timeoutMs`, with `signal.reason` if the caller aborts, RemoteSyncError on an error answer,
   * SyncProtocolError on a bad answer, SyncUnavailableError if too many requests are in flight or
   * the client is closed.
   * @example
   * ```ts
   * const headers = await client.request({ type: 'getHeaders', locator, stopHash: null, max: 2000 });
   * ```
   */
  async request<B extends SyncRequestBody>(body: B, opts: { signal?: AbortSignal } = {}): Promise<SyncResultOf[B['type']]> {
    if (this.closed) throw new SyncUnavailableError('sync client closed');
    if (this.pending.size >= this.maxPending) throw new SyncUnavailableError(`${this.pending.size} requests already in flight`);
    const id = this.allocateId();
    const req = { ...body, id } as SyncRequest;
    const bytes = encodeMessage(req); // TypeError for a malformed request: our bug, thrown as is
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    signal.throwIfAborted();
    const answer = new Promise<SyncResponse>((resolve, reject) => {
      this.pending.set(id, { req, resolve, reject });
    });
    const onAbort = () => {
      const p = this.pending.get(id);
      if (!p) return;
      this.pending.delete(id);
      if (timeout.aborted) {
        const err = new SyncTimeoutError(`${req.type} got no answer in ${this.timeoutMs} ms`);
        this.onOffence('timeout', err);
        p.reject(err);
      } else p.reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      this.port.send(bytes);
      const res = await answer;
      return checkResponse(req, res) as SyncResultOf[B['type']];
    } catch (err) {
      // Timeouts and oversized answers were charged where they were detected.
      const offence = offenceOf(err);
      if (offence && offence !== 'timeout' && !(err instanceof FrameTooLargeError) && err instanceof Error) this.onOffence(offence, err);
      throw err;
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.pending.delete(id);
    }
  }

  private allocateId(): number {
    for (;;) {
      const id = this.nextId;
      this.nextId = this.nextId >= 0xffffffff ? 1 : this.nextId + 1;
      if (!this.pending.has(id)) return id;
    }
  }

  /** The peer's status. @example const { height, chainwork } = await client.getStatus() */
  getStatus(opts: { signal?: AbortSignal } = {}): Promise<SyncStatus> {
    return this.request({ type: 'getStatus' }, opts);
  }

  /**
   * Headers after the fork point of `locator` on the peer's chain (checked: ≤ max, linked).
   * @example const headers = await client.getHeaders(index.locator(), { max: 2000 })
   */
  getHeaders(locator: Uint8Array[], opts: { max?: number; stopHash?: Uint8Array | null; signal?: AbortSignal } = {}): Promise<BlockHeader[]> {
    return this.request({ type: 'getHeaders', locator, stopHash: opts.stopHash ?? null, max: opts.max ?? MAX_HEADERS_PER_REQUEST }, opts);
  }

  /**
   * Block bodies by hash (≤ 16), checked against the hashes asked for.
   * @example const { blocks, missing } = await client.getBlocks(hashes)
   */
  getBlocks(hashes: Uint8Array[], opts: { signal?: AbortSignal } = {}): Promise<BlocksResult> {
    return this.request({ type: 'getBlocks', hashes }, opts);
  }

  /** Stops listening and rejects every pending request with SyncUnavailableError. @example client.close() */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    for (const p of this.pending.values()) p.reject(new SyncUnavailableError('sync client closed'));
    this.pending.clear();
  }
}

export interface ServeSyncPortOptions {
  /** Requests answered at once; more get a BUSY answer (default 4). */
  maxConcurrent?: number;
  /** Told when the peer sends a request that is oversized or does not decode. */
  onOffence?: (offence: Offence, err: Error) => void;
  /** Told when the chain view fails (the peer gets an INTERNAL answer). */
  onError?: (err: unknown) => void;
}

/**
 * Answers sync requests arriving on a port from `view`. Returns a function that stops serving.
 * Answers are ignored (they belong to a SyncClient on the same port); undecodable messages are
 * reported as offences and dropped.
 * @example
 * ```ts
 * const stop = serveSyncPort(port, chainViewOf({ params, index, getBlocksBytes }));
 * ```
 */
export function serveSyncPort(port: SyncPort, view: ChainView, opts: ServeSyncPortOptions = {}): () => void {
  const maxConcurrent = opts.maxConcurrent ?? 4;
  let active = 0;
  let stopped = false;
  const unsubscribe = port.subscribe((bytes) => {
    // Requests are small (MAX_REQUEST_BYTES); answers on the same port are the client's business.
    if (isRequestTag(bytes[0]) && bytes.length > MAX_REQUEST_BYTES) {
      opts.onOffence?.('oversizedFrame', new FrameTooLargeError(bytes.length, MAX_REQUEST_BYTES));
      return;
    }
    let msg;
    try {
      msg = decodeMessage(bytes);
    } catch (err) {
      opts.onOffence?.('malformedFrame', err as Error);
      return;
    }
    if (!isRequest(msg)) return;
    if (active >= maxConcurrent) {
      port.send(encodeMessage({ type: 'error', id: msg.id, code: 'BUSY', message: `${active} requests in progress` }));
      return;
    }
    active++;
    void handleSyncRequest(msg, view, opts.onError)
      .then((res) => {
        if (!stopped) port.send(encodeMessage(res));
      })
      .catch((err) => opts.onError?.(err))
      .finally(() => active--);
  });
  return () => {
    stopped = true;
    unsubscribe();
  };
}
