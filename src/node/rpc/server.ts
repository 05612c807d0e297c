/**
 * The headless node's JSON-RPC 2.0 server over HTTP (`npm run node -- --rpc [HOST:]PORT`), and its
 * Prometheus metrics. Framing, ids, notifications and error objects are the `json-rpc-2.0`
 * package's; this module adds what an HTTP endpoint facing hostile callers needs, each bounded:
 *
 * - authentication first (rpc/auth.ts: the cookie file or a configured user), 401 otherwise —
 *   nothing of the body is read for an unauthenticated request;
 * - the body: `POST /` only, at most {@link RPC_MAX_BODY_BYTES}, refused with 413 from its
 *   Content-Length or, while streaming, as soon as the bytes read pass the cap (never buffered);
 * - a batch of at most {@link RPC_MAX_BATCH} requests (an Invalid Request error past that);
 * - at most {@link RPC_MAX_CONNECTIONS} sockets at once (the server's `maxConnections`: more are
 *   closed on arrival), headers within 10 s, the request body within 30 s;
 * - method arguments checked for count and type (rpc/methods.ts) before the API checks their
 *   values; every failure an error object with the code table of rpc/errors.ts, never a crash.
 *
 * `GET /metrics`: the node's registry (rpc/metrics.ts) in Prometheus' text format, behind the same
 * authentication (Prometheus' `basic_auth`). The address is 127.0.0.1 unless the operator names
 * another: the RPC moves the wallet's coins.
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JSONRPCServer, createJSONRPCErrorResponse, type JSONRPCResponse } from 'json-rpc-2.0';
import type { Registry } from 'prom-client';
import { toApiError } from '../errors.ts';
import { authChecker, type RpcCredentials } from './auth.ts';
import { JSONRPC_INVALID_REQUEST, JSONRPC_PARSE_ERROR, rpcCodeOf } from './errors.ts';
import { RPC_METHODS, checkParams, type RpcContext } from './methods.ts';

/** Largest request body, bytes: a batch of 100 raw transactions (16 KiB of hex each) fits with room. */
export const RPC_MAX_BODY_BYTES = 1024 * 1024;
/** Most requests in one batch: each runs a method; more would let one POST queue unbounded work. */
export const RPC_MAX_BATCH = 100;
/** Most sockets open at once: an operator's tools, not the public. */
export const RPC_MAX_CONNECTIONS = 32;
/** Time for a request's headers to arrive, ms (slowloris). */
const RPC_HEADERS_TIMEOUT_MS = 10_000;
/** Time for a whole request (headers and body) to arrive, ms; the answer may take longer (waitForHeight). */
const RPC_REQUEST_TIMEOUT_MS = 30_000;

export interface RpcServerOptions {
  host: string;
  /** 0 = any free port. */
  port: number;
  /** Accepted credentials (the cookie's, a configured user's). At least one. */
  credentials: readonly RpcCredentials[];
  context: RpcContext;
  /** Served at GET /metrics when given. */
  metrics?: Registry;
  /** Unexpected failures (INTERNAL errors) are reported here. */
  log?: (msg: string) => void;
  maxBodyBytes?: number;
  maxBatch?: number;
  maxConnections?: number;
}

/** A listening RPC server. */
export interface RpcServer {
  server: Server;
  /** `http://host:port` it listens on. */
  url: string;
  close(): Promise<void>;
}

/** Builds the JSON-RPC dispatcher: every method of rpc/methods.ts, errors mapped to rpc/errors.ts. */
export function createDispatcher(context: RpcContext, log: (msg: string) => void = () => undefined): JSONRPCServer {
  const rpc = new JSONRPCServer({
    // The library reports each error a method threw; only unexpected ones are worth a line.
    errorListener: (message, data) => {
      if (toApiError(data).code === 'INTERNAL') log(`rpc: ${message} ${toApiError(data).message}`);
    },
  });
  for (const [name, m] of RPC_METHODS) rpc.addMethod(name, (params: unknown) => m.call(context, checkParams(name, m, params)));
  rpc.mapErrorToJSONRPCErrorResponse = (id, error: unknown) => {
    const e = toApiError(error);
    return createJSONRPCErrorResponse(id, rpcCodeOf(e.code), e.message, { code: e.code });
  };
  return rpc;
}

/**
 * One request to the library. Anything but an object with a string `method` is an Invalid Request
 * here: the library reads `request.method` before it checks the request's shape (which throws for
 * null) and answers a non-string method as not found.
 */
function receiveOne(rpc: JSONRPCServer, r: unknown): PromiseLike<JSONRPCResponse | null> {
  if (typeof r !== 'object' || r === null || Array.isArray(r) || typeof (r as { method?: unknown }).method !== 'string') {
    return Promise.resolve(createJSONRPCErrorResponse(null, JSONRPC_INVALID_REQUEST, 'Invalid Request: a request is an object { jsonrpc, method, params, id }', { code: 'BAD_INPUT' }));
  }
  return rpc.receive(r as never);
}

/**
 * Answers one JSON-RPC body (a request or a batch), already parsed; null when it held only
 * notifications. A batch of more than `maxBatch` requests is refused whole.
 * @example const answer = await dispatch(rpc, JSON.parse(body))
 */
export async function dispatch(rpc: JSONRPCServer, body: unknown, maxBatch = RPC_MAX_BATCH): Promise<JSONRPCResponse | JSONRPCResponse[] | null> {
  if (!Array.isArray(body)) return receiveOne(rpc, body);
  if (body.length === 0) return createJSONRPCErrorResponse(null, JSONRPC_INVALID_REQUEST, 'Invalid Request: an empty batch', { code: 'BAD_INPUT' });
  if (body.length > maxBatch) {
    return createJSONRPCErrorResponse(null, JSONRPC_INVALID_REQUEST, `Invalid Request: a batch of ${body.length} requests is over the limit of ${maxBatch}`, { code: 'BAD_INPUT' });
  }
  // One receive per element (the library answers a batch of one with a bare object, not an array).
  const answers = (await Promise.all(body.map((r: unknown) => receiveOne(rpc, r)))).filter((a): a is JSONRPCResponse => a !== null);
  return answers.length > 0 ? answers : null;
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', ...headers });
  res.end(body);
}

/** Refuses an oversized body: answered, then the socket closed (the rest is not read). */
function tooLarge(req: IncomingMessage, res: ServerResponse, max: number): void {
  send(res, 413, JSON.stringify({ error: `request body over ${max} bytes` }), { Connection: 'close' });
  res.once('finish', () => req.destroy());
}

/**
 * Reads a request body up to `max` bytes; resolves null (after answering 413) past it, or when the
 * client went away. Chunks are kept only while the total stays within the cap.
 */
function readBody(req: IncomingMessage, res: ServerResponse, max: number): Promise<Buffer | null> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) {
    tooLarge(req, res, max);
    return Promise.resolve(null);
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (v: Buffer | null) => {
      if (done) return;
      done = true;
      resolve(v);
    };
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > max) {
        chunks.length = 0;
        req.pause();
        tooLarge(req, res, max);
        finish(null);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => finish(Buffer.concat(chunks)));
    req.on('error', () => finish(null));
    req.on('close', () => finish(null));
  });
}

/**
 * Starts the RPC server; resolves once it listens.
 * @example
 * ```ts
 * const rpc = await startRpcServer({ host: '127.0.0.1', port: 8339, credentials: [cookie], context: { api } });
 * console.log(rpc.url);
 * ```
 */
export async function startRpcServer(opts: RpcServerOptions): Promise<RpcServer> {
  if (opts.credentials.length === 0) throw new Error('the RPC server needs credentials');
  const maxBody = opts.maxBodyBytes ?? RPC_MAX_BODY_BYTES;
  const maxBatch = opts.maxBatch ?? RPC_MAX_BATCH;
  const log = opts.log ?? (() => undefined);
  const authorized = authChecker(opts.credentials);
  const rpc = createDispatcher(opts.context, log);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (!authorized(req.headers.authorization)) {
      // Nothing of the body is read; the connection is closed after the answer.
      send(res, 401, JSON.stringify({ error: 'authentication required: HTTP Basic with the cookie file or the configured user' }), {
        'WWW-Authenticate': 'Basic realm="tabchain-rpc"',
        Connection: 'close',
      });
      return;
    }
    if (path === '/metrics') {
      if (req.method !== 'GET' || !opts.metrics) {
        send(res, opts.metrics ? 405 : 404, JSON.stringify({ error: opts.metrics ? 'GET /metrics' : 'no metrics here' }));
        return;
      }
      const text = await opts.metrics.metrics();
      res.writeHead(200, { 'Content-Type': opts.metrics.contentType, 'Cache-Control': 'no-store' });
      res.end(text);
      return;
    }
    if (path !== '/') {
      send(res, 404, JSON.stringify({ error: 'JSON-RPC is at POST /, metrics at GET /metrics' }));
      return;
    }
    if (req.method !== 'POST') {
      send(res, 405, JSON.stringify({ error: 'JSON-RPC takes POST' }), { Allow: 'POST' });
      return;
    }
    const body = await readBody(req, res, maxBody);
    if (body === null) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch (e) {
      send(res, 200, JSON.stringify(createJSONRPCErrorResponse(null, JSONRPC_PARSE_ERROR, `Parse error: ${(e as Error).message}`, { code: 'BAD_INPUT' })));
      return;
    }
    const answer = await dispatch(rpc, parsed, maxBatch);
    if (answer === null) {
      res.writeHead(204).end();
      return;
    }
    send(res, 200, JSON.stringify(answer));
  };

  const server = createServer({ headersTimeout: RPC_HEADERS_TIMEOUT_MS, requestTimeout: RPC_REQUEST_TIMEOUT_MS }, (req, res) => {
    handle(req, res).catch((e: unknown) => {
      log(`rpc: ${(e as Error).message}`);
      send(res, 500, JSON.stringify({ error: 'internal error' }));
    });
  });
  server.maxConnections = opts.maxConnections ?? RPC_MAX_CONNECTIONS;
  server.on('clientError', (_e, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    server,
    url: `http://${host}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
