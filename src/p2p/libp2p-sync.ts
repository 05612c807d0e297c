/**
 * The sync protocol over libp2p streams, as a libp2p service:
 * `services: { sync: tabchainSync({ network, chainView }) }`.
 *
 * One request per stream: the asker opens a stream on `/tabchain/<network>/sync/1`, sends one
 * frame (frames.ts) holding one request (messages.ts) and closes its writing end; the answerer
 * reads exactly one frame, answers with one frame and closes. Streams are cheap on yamux and this
 * keeps both sides stateless: no pipelining, no ordering, no head-of-line blocking between a big
 * `blocks` answer and a `status` ping; the request id is still checked.
 *
 * Limits: at most `maxInboundStreams` sync streams per connection at once (the registrar refuses
 * more); a request frame over {@link MAX_REQUEST_BYTES} (4 KiB) and an answer frame over the
 * largest honest answer to its request ({@link maxAnswerBytes}: 265 bytes for a status, 160 KB for
 * 2,000 headers, 2 MiB only for blocks) rejected at its length prefix, before any payload is
 * buffered; every request and answer under a timeout (`AbortSignal.timeout`); the stream aborted
 * on any violation and the peer reported through `onOffence` (wire it to PeerScores). Serving is
 * metered by a {@link ServeBudget} (requests and bytes per second per peer and for all peers,
 * answers in progress at once): a request over budget is answered `BUSY` without reading the
 * chain, and charges nothing. Runs on limited (relayed) connections by default, so two tabs that
 * only reach each other through the relay can still sync; offences count there as anywhere.
 * @module
 */
import type { AbortOptions, Connection, DialTarget, PeerId, Startable, Stream, StreamHandler, StreamHandlerOptions, StreamMessageEvent } from '@libp2p/interface';
import type { BlockHeader } from '../chain/index.ts';
import { FrameTruncatedError, offenceOf, SyncProtocolError, SyncTimeoutError } from './errors.ts';
import { encodeFrame, FrameDecoder, MAX_FRAME_BYTES } from './frames.ts';
import { decodeRequest, decodeResponse, encodeMessage, MAX_HEADERS_PER_REQUEST, MAX_REQUEST_BYTES, maxAnswerBytes, type SyncRequest, type SyncResponse, type SyncStatus } from './messages.ts';
import type { Offence } from './peer-score.ts';
import { protocolIds } from './protocol.ts';
import { ServeBudget, type Admission } from './serve-budget.ts';
import { serveSession, SyncSession } from './sync-session.ts';
import { checkResponse, DEFAULT_SYNC_TIMEOUT_MS, type BlocksResult, type SyncRequestBody, type SyncResultOf } from './sync-client.ts';
import { handleSyncRequest, type ChainView } from './sync-server.ts';

/** What the service needs from libp2p (a subset of its internal components). */
export interface TabchainSyncComponents {
  registrar: {
    handle(protocol: string, handler: StreamHandler, options?: StreamHandlerOptions): Promise<void>;
    unhandle(protocol: string, options?: AbortOptions): Promise<void>;
  };
  connectionManager: {
    openConnection(peer: DialTarget, options?: AbortOptions): Promise<Connection>;
    /** Open connections (to one peer). Used to ask over a direct connection we already have. */
    getConnections?(peer?: PeerId): Connection[];
  };
  /** libp2p's event bus: a direct connection that opens while we dial is used at once. */
  events?: Pick<EventTarget, 'addEventListener' | 'removeEventListener'>;
}

export interface TabchainSyncInit {
  /** Network name: the protocol id is `/tabchain/<network>/sync/1`. */
  network: string;
  /** The chain to serve. Without one (or until {@link TabchainSync.setChainView}) requests get a BUSY answer. */
  chainView?: ChainView;
  /** Time a request (dial + answer) or the answering of one may take, ms. Default 10 s. */
  timeoutMs?: number;
  /** Sync streams a peer may have open to us at once, per connection. Default 4. */
  maxInboundStreams?: number;
  /** Sync streams we open to a peer at once, per connection. Default 8. */
  maxOutboundStreams?: number;
  /** Ask over `sync/2` sessions (many requests on one stream, sync-session.ts) when the peer speaks it. Default true; false asks `sync/1` only (benchmarks compare both). */
  sessions?: boolean;
  /** Sessions a peer may have open to us at once, per connection. Default 2. */
  maxInboundSessions?: number;
  /** Serve and ask over relayed (limited) connections. Default true. */
  runOnLimitedConnection?: boolean;
  /** What serving may cost, per peer and for all peers (default: a ServeBudget with its defaults). */
  budget?: ServeBudget;
  /** A peer misbehaved (malformed or oversized frame, bad answer, timeout): charge it. */
  onOffence?: (peer: PeerId, offence: Offence, err: Error) => void;
  /** Our own failures while serving (chain view errors), for logging. */
  onError?: (err: unknown) => void;
}

/** The service's public face (`libp2p.services.sync`). */
export interface TabchainSync {
  readonly protocol: string;
  /** Sets (or replaces) the chain served to peers. */
  setChainView(view: ChainView | undefined): void;
  /** Sends one request to a peer and returns its checked result (see sync-client.ts `checkResponse`). */
  request<B extends SyncRequestBody>(peer: DialTarget, body: B, opts?: AbortOptions): Promise<SyncResultOf[B['type']]>;
  getStatus(peer: DialTarget, opts?: AbortOptions): Promise<SyncStatus>;
  getHeaders(peer: DialTarget, locator: Uint8Array[], opts?: AbortOptions & { max?: number; stopHash?: Uint8Array | null }): Promise<BlockHeader[]>;
  getBlocks(peer: DialTarget, hashes: Uint8Array[], opts?: AbortOptions): Promise<BlocksResult>;
  /** Where the time of our requests went so far (cumulative; see {@link SyncTimings}). */
  readonly timings: SyncTimings;
}

/**
 * Cumulative time of our requests by step, ms (summed over requests, which overlap: compare the
 * shares, not the sums with the wall clock). Read by the sync manager's phase summary and the bench.
 */
export interface SyncTimings {
  /** Requests sent (answered or not). */
  requests: number;
  /** Streams opened: one per request on `sync/1`, one per session on `sync/2`. */
  streams: number;
  /** Finding or dialling the connection. */
  connectMs: number;
  /** Opening streams (a WebRTC data channel, protocol negotiation). */
  openMs: number;
  /** From the request's first byte sent to its answer's last byte received (includes queueing behind earlier requests of a session). */
  exchangeMs: number;
  /** Decoding and checking answers. */
  checkMs: number;
}

/**
 * Reads exactly one frame from a stream. Rejects with FrameTooLargeError as soon as an oversized
 * length arrives, SyncProtocolError if more than one frame's bytes arrive together, and
 * FrameTruncatedError if the stream ends first; `signal` aborts the wait.
 * @example
 * ```ts
 * const payload = await readOneFrame(stream, AbortSignal.timeout(10_000));
 * ```
 */
export function readOneFrame(stream: Stream, signal: AbortSignal, max: number = MAX_FRAME_BYTES): Promise<Uint8Array> {
  return new Promise<Uint8Array>((resolve, reject) => {
    const decoder = new FrameDecoder(max);
    let done = false;
    const finish = (err: unknown, frame?: Uint8Array) => {
      if (done) return;
      done = true;
      stream.removeEventListener('message', onMessage);
      stream.removeEventListener('end', onEnd);
      stream.removeEventListener('close', onClose);
      signal.removeEventListener('abort', onAbort);
      if (frame) resolve(frame);
      else reject(err);
    };
    const onMessage = (evt: StreamMessageEvent) => {
      try {
        const chunk = evt.data instanceof Uint8Array ? evt.data : evt.data.subarray();
        const frames = decoder.push(chunk);
        if (frames.length > 1 || (frames.length === 1 && decoder.buffered > 0)) {
          finish(new SyncProtocolError('more than one message on a sync stream'));
        } else if (frames.length === 1) finish(undefined, frames[0]);
      } catch (err) {
        finish(err);
      }
    };
    const onEnd = () => {
      try {
        decoder.end();
        finish(new FrameTruncatedError('stream ended before a message arrived'));
      } catch (err) {
        finish(err);
      }
    };
    const onClose = (evt: Event) => finish((evt as Event & { error?: Error }).error ?? new FrameTruncatedError('stream closed before a message arrived'));
    const onAbort = () => finish(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    stream.addEventListener('message', onMessage);
    stream.addEventListener('end', onEnd);
    stream.addEventListener('close', onClose);
    if (stream.readableEnded) onEnd();
  });
}

/**
 * Writes bytes and waits until the stream's send buffer drained (`send` returning false means
 * full: wait for `onDrain`).
 * @example
 * ```ts
 * await writeAll(stream, encodeFrame(bytes), signal);
 * ```
 */
export async function writeAll(stream: Stream, bytes: Uint8Array, signal: AbortSignal): Promise<void> {
  if (!stream.send(bytes)) await stream.onDrain({ signal });
}

/** How long a request waits for a direct connection when only a relayed one exists, ms. */
const DIRECT_WAIT_MS = 2000;

/** Whether a dial target is a PeerId (not a multiaddr or a list of them). */
function isPeerId(target: DialTarget): target is PeerId {
  return !Array.isArray(target) && typeof (target as PeerId).toMultihash === 'function';
}

/** Settles like `promise`, or rejects with `signal.reason` once the signal aborts. */
function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Turns an aborted timeout signal's reason into our SyncTimeoutError. */
function timeoutAware(err: unknown, timeout: AbortSignal, what: string): unknown {
  return timeout.aborted && (err === timeout.reason || (err as Error)?.name === 'TimeoutError' || (err as Error)?.name === 'AbortError')
    ? new SyncTimeoutError(`${what} timed out`)
    : err;
}

class TabchainSyncService implements TabchainSync, Startable {
  readonly protocol: string;
  readonly sessionProtocol: string;
  readonly timings: SyncTimings = { requests: 0, streams: 0, connectMs: 0, openMs: 0, exchangeMs: 0, checkMs: 0 };
  /** Our open session per connection (or its opening); null: the peer speaks only `sync/1`. */
  private readonly sessions = new WeakMap<Connection, Promise<SyncSession | null>>();
  readonly [Symbol.toStringTag] = '@tabchain/sync';
  private readonly components: TabchainSyncComponents;
  private readonly init: TabchainSyncInit;
  private readonly timeoutMs: number;
  private readonly budget: ServeBudget;
  private chainView: ChainView | undefined;
  private nextId = 1;
  private started = false;

  constructor(components: TabchainSyncComponents, init: TabchainSyncInit) {
    this.components = components;
    this.init = init;
    this.protocol = protocolIds(init.network).sync;
    this.sessionProtocol = protocolIds(init.network).syncSession;
    this.timeoutMs = init.timeoutMs ?? DEFAULT_SYNC_TIMEOUT_MS;
    this.budget = init.budget ?? new ServeBudget();
    this.chainView = init.chainView;
  }

  isStarted(): boolean {
    return this.started;
  }

  async start(): Promise<void> {
    await this.components.registrar.handle(this.sessionProtocol, (stream, connection) => this.onSession(stream, connection), {
      maxInboundStreams: this.init.maxInboundSessions ?? 2,
      maxOutboundStreams: this.init.maxOutboundStreams ?? 8,
      runOnLimitedConnection: this.init.runOnLimitedConnection ?? true,
    });
    await this.components.registrar.handle(this.protocol, (stream, connection) => this.onStream(stream, connection), {
      maxInboundStreams: this.init.maxInboundStreams ?? 4,
      maxOutboundStreams: this.init.maxOutboundStreams ?? 8,
      runOnLimitedConnection: this.init.runOnLimitedConnection ?? true,
    });
    this.started = true;
  }

  async stop(): Promise<void> {
    await this.components.registrar.unhandle(this.protocol);
    await this.components.registrar.unhandle(this.sessionProtocol);
    this.started = false;
  }

  setChainView(view: ChainView | undefined): void {
    this.chainView = view;
  }

  private report(connection: Connection, err: unknown): void {
    const offence = offenceOf(err);
    if (!offence || !(err instanceof Error)) return;
    // A connection that is closing (either side hung up: a ban, isolation, a node stopping, or a
    // relay that cut a relayed connection at its data or time limit) ends its streams mid-frame;
    // nobody misbehaved. On an open connection — relayed or not — a stream left silent is the
    // peer's doing: were relayed timeouts free, a peer would hold our streams through the relay
    // at no cost.
    if (connection.status !== 'open') return;
    // A stream cut short on an open connection is what an honest peer does when its own timeout
    // fires or it shuts down: charged like a timeout, not like garbage bytes.
    this.init.onOffence?.(connection.remotePeer, err instanceof FrameTruncatedError ? 'timeout' : offence, err);
  }

  /**
   * The answer to one request, from the chain view if the budget admits it, BUSY otherwise;
   * `charge` bills the answer's bytes once built, `release` frees its slot once written (an answer
   * waiting in a send buffer is memory held for that peer).
   */
  private async answerOne(req: SyncRequest, connection: Connection, signal: AbortSignal): Promise<{ res: SyncResponse; charge?: (bytes: number) => void; release?: () => void }> {
    const view = this.chainView;
    if (!view) return { res: { type: 'error', id: req.id, code: 'BUSY', message: 'not serving yet' } };
    const admission: Admission = this.budget.admit(connection.remotePeer.toString());
    if (!admission.ok) return { res: { type: 'error', id: req.id, code: 'BUSY', message: admission.why } };
    try {
      const res = await raceSignal(handleSyncRequest(req, view, this.init.onError), signal);
      return { res, charge: (bytes) => admission.charge(bytes), release: () => admission.release() };
    } catch (err) {
      admission.release();
      throw err;
    }
  }

  /**
   * Answers one request on an inbound `sync/1` stream: read it (at most MAX_REQUEST_BYTES), ask
   * the budget, answer from the chain view or with BUSY, write the answer.
   */
  private async onStream(stream: Stream, connection: Connection): Promise<void> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    // Who is to blame if time runs out: the peer while we wait for its request or while it does
    // not take our answer; we ourselves while our chain view computes the answer.
    let phase: 'reading' | 'answering' | 'writing' = 'reading';
    let built: Awaited<ReturnType<TabchainSyncService['answerOne']>> | undefined;
    try {
      const req = decodeRequest(await readOneFrame(stream, timeout, MAX_REQUEST_BYTES));
      phase = 'answering';
      built = await this.answerOne(req, connection, timeout);
      phase = 'writing';
      const frame = encodeFrame(encodeMessage(built.res));
      built.charge?.(frame.length);
      await writeAll(stream, frame, timeout);
      await stream.close({ signal: timeout });
    } catch (e) {
      const err = timeoutAware(e, timeout, `sync stream (${phase})`);
      if (phase === 'answering') this.init.onError?.(err);
      else this.report(connection, err);
      stream.abort(err instanceof Error ? err : new Error(String(err)));
    } finally {
      built?.release?.();
    }
  }

  /** Serves an inbound `sync/2` session: many requests, each admitted and charged like one of `sync/1`. */
  private onSession(stream: Stream, connection: Connection): Promise<void> {
    return serveSession(stream, {
      timeoutMs: this.timeoutMs,
      answer: (req, signal) => this.answerOne(req, connection, signal),
      onViolation: (err) => this.report(connection, err),
      onError: this.init.onError,
    });
  }

  async request<B extends SyncRequestBody>(peer: DialTarget, body: B, opts: AbortOptions = {}): Promise<SyncResultOf[B['type']]> {
    const id = this.nextId;
    this.nextId = this.nextId >= 0xffffffff ? 1 : this.nextId + 1;
    const req = { ...body, id } as SyncRequest;
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    const t = this.timings;
    t.requests++;
    let at = performance.now();
    // Status and headers are small: they go over a relayed connection at once, so a new tab
    // knows the chain and holds its headers by the time its direct connection opens; blocks wait
    // for the direct one (see connectionTo).
    const connection = await this.connectionTo(peer, signal, body.type === 'getBlocks');
    t.connectMs += performance.now() - at;
    let stream: Stream | undefined;
    let session: SyncSession | null = null;
    try {
      if (this.init.sessions !== false) {
        at = performance.now();
        session = await this.sessionOn(connection, signal);
        t.openMs += performance.now() - at;
      }
      let res: SyncResponse;
      at = performance.now();
      if (session) {
        res = await session.request(req, signal);
        t.exchangeMs += performance.now() - at;
      } else {
        stream = await this.openStream(connection, [this.protocol], signal);
        t.openMs += performance.now() - at;
        at = performance.now();
        await writeAll(stream, encodeFrame(encodeMessage(req)), signal);
        await stream.close({ signal }); // our writing end: the answerer may answer now
        const frame = await readOneFrame(stream, signal, maxAnswerBytes(req));
        t.exchangeMs += performance.now() - at;
        at = performance.now();
        res = decodeResponse(frame);
      }
      at = performance.now();
      const result = checkResponse(req, res) as SyncResultOf[B['type']];
      t.checkMs += performance.now() - at;
      return result;
    } catch (e) {
      const err = timeoutAware(e, timeout, `${req.type} to ${connection.remotePeer.toString()}`);
      // Only a stream that got as far as opening can be the peer's fault; a session failure
      // after it ended (SyncUnavailableError) was charged once, where it happened.
      if (stream || session) this.report(connection, err);
      stream?.abort(err instanceof Error ? err : new Error(String(err)));
      if (session && offenceOf(err)) session.abort(err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
  }

  private async openStream(connection: Connection, protocols: string[], signal: AbortSignal): Promise<Stream> {
    const stream = await connection.newStream(protocols, {
      signal,
      runOnLimitedConnection: this.init.runOnLimitedConnection ?? true,
      maxOutboundStreams: this.init.maxOutboundStreams ?? 8,
    });
    this.timings.streams++;
    return stream;
  }

  /**
   * Our session on a connection, opened on first use (offering `sync/2`, then `sync/1`); null when
   * the peer speaks only `sync/1` (remembered for the connection: its requests go one per stream).
   */
  private async sessionOn(connection: Connection, signal: AbortSignal): Promise<SyncSession | null> {
    for (;;) {
      const known = this.sessions.get(connection);
      if (known) {
        const session = await raceSignal(known, signal).catch(() => undefined);
        if (session === null) return null;
        if (session?.open) return session;
        if (this.sessions.get(connection) === known) this.sessions.delete(connection);
        signal.throwIfAborted();
        continue;
      }
      const opening = this.openStream(connection, [this.sessionProtocol, this.protocol], signal).then((stream) => {
        if (stream.protocol !== this.sessionProtocol) {
          // An old peer: this stream, already negotiated, is of no use for a session.
          void stream.close().catch(() => stream.abort(new Error('not needed')));
          return null;
        }
        const session: SyncSession = new SyncSession(stream, {
          onClose: () => {
            if (this.sessions.get(connection) === opening) this.sessions.delete(connection);
          },
        });
        return session;
      });
      this.sessions.set(connection, opening);
      opening.catch(() => {
        if (this.sessions.get(connection) === opening) this.sessions.delete(connection);
      });
      return opening;
    }
  }

  /**
   * A connection to ask over: an open direct (unlimited) one if we have it; when we only have a
   * relayed connection, a direct one is awaited for a moment if `waitForDirect` (block downloads:
   * bulk that belongs on the direct path), then the relayed one is used; small requests take the
   * relayed one at once (a newcomer's status and headers crossed the relay ~0.3 s before its
   * WebRTC connection opened, and waited for it).
   * Without any, libp2p's openConnection, which dials — raced against a direct connection from the
   * peer opening meanwhile. Why the wait: two tabs meet through the relay and identify each
   * other over the relayed signalling connection a moment before the WebRTC connection it is
   * signalling for is up; dialling then starts a second WebRTC dial in the opposite direction,
   * which may take many seconds, and the request would wait for it.
   */
  private async connectionTo(peer: DialTarget, signal: AbortSignal, waitForDirect: boolean): Promise<Connection> {
    const cm = this.components.connectionManager;
    const events = this.components.events;
    if (!isPeerId(peer) || !events || typeof cm.getConnections !== 'function') return cm.openConnection(peer, { signal });
    const connectionsOf = cm.getConnections.bind(cm);
    const open = connectionsOf(peer).filter((c) => c.status === 'open');
    const direct = open.find((c) => c.limits === undefined);
    if (direct) return direct;
    if (!waitForDirect && open.length > 0) return open[0];
    return new Promise<Connection>((resolve, reject) => {
      const dial = new AbortController();
      let settled = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const finish = (err: unknown, conn?: Connection) => {
        if (settled) return;
        settled = true;
        if (timer !== undefined) clearTimeout(timer);
        events.removeEventListener('connection:open', onOpen);
        signal.removeEventListener('abort', onAbort);
        if (conn) resolve(conn);
        else reject(err);
      };
      const onOpen = (evt: Event) => {
        const conn = (evt as CustomEvent<Connection>).detail;
        if (conn.limits === undefined && conn.status === 'open' && conn.remotePeer.equals(peer)) {
          finish(undefined, conn);
          dial.abort(new Error('a direct connection opened meanwhile'));
        }
      };
      const onAbort = () => finish(signal.reason);
      const openNow = () => {
        if (settled) return;
        // No direct connection came: ask over the relayed one. openConnection would dial instead
        // (it ignores limited connections), and between tabs that is a WebRTC dial, which behind
        // a symmetric NAT never connects: every request to such a peer timed out, though the
        // relayed connection carried it fine.
        const relayed = connectionsOf(peer).find((c) => c.status === 'open');
        if (relayed) {
          finish(undefined, relayed);
          return;
        }
        cm.openConnection(peer, { signal: AbortSignal.any([signal, dial.signal]) }).then(
          (conn) => finish(undefined, conn),
          (err: unknown) => finish(err),
        );
      };
      events.addEventListener('connection:open', onOpen);
      signal.addEventListener('abort', onAbort, { once: true });
      if (open.length > 0) timer = setTimeout(openNow, DIRECT_WAIT_MS);
      else openNow();
    });
  }

  getStatus(peer: DialTarget, opts: AbortOptions = {}): Promise<SyncStatus> {
    return this.request(peer, { type: 'getStatus' }, opts);
  }

  getHeaders(peer: DialTarget, locator: Uint8Array[], opts: AbortOptions & { max?: number; stopHash?: Uint8Array | null } = {}): Promise<BlockHeader[]> {
    return this.request(peer, { type: 'getHeaders', locator, stopHash: opts.stopHash ?? null, max: opts.max ?? MAX_HEADERS_PER_REQUEST }, opts);
  }

  getBlocks(peer: DialTarget, hashes: Uint8Array[], opts: AbortOptions = {}): Promise<BlocksResult> {
    return this.request(peer, { type: 'getBlocks', hashes }, opts);
  }
}

/**
 * The libp2p service factory.
 * @example
 * ```ts
 * const node = await createLibp2p({
 *   // transports, encrypters, muxers...
 *   services: { sync: tabchainSync({ network: 'main', chainView, onOffence: (p, o) => scores.penalize(p.toString(), o) }) },
 * });
 * const status = await node.services.sync.getStatus(peerId);
 * ```
 */
export function tabchainSync(init: TabchainSyncInit): (components: TabchainSyncComponents) => TabchainSync {
  protocolIds(init.network); // fail at configuration time on a bad network name
  return (components) => new TabchainSyncService(components, init);
}
