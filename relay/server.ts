/**
 * The tabchain relay: serves the built app over HTTP(S), tells pages how to reach its libp2p node
 * (`GET /bootstrap.json`), and runs that node (relay/libp2p.ts: circuit relay v2, gossip-based
 * peer discovery). It holds no chain and validates nothing.
 *
 * One port: WebSocket upgrade requests on the HTTP port are passed through to the libp2p WebSocket
 * listener (which @libp2p/websockets always runs on its own socket), so a page reaches the relay
 * on the very host and port it was loaded from — through TLS too (`wss:` on an HTTPS relay), and
 * through a firewall that opens only PORT. A second, WebSocket-only port (WS_PORT) is advertised
 * as a second address on plain HTTP.
 *
 * The front door: every socket from outside arrives at one of these two servers, never at libp2p's
 * listener, which listens on loopback only — its sockets are out of reach (no connection cap, no
 * per-client accounting before the WebSocket handshake, 60 s header timeout). Here each socket is
 * charged to its client (relay/clients.ts): at most `maxSocketsPerIp` sockets and
 * `maxConnectionsPerIp` WebSocket connections, `inboundConnectionThreshold` new ones a second, and
 * `maxSockets` sockets per port in all; headers must arrive within `headersTimeout` (TLS handshakes
 * too). A refused socket is closed at once; a refused upgrade is answered 429. Since libp2p then
 * sees every connection from 127.0.0.1, the pass-through remembers which client is behind each
 * upstream socket's port (`clientOf`), for the node's per-client reservation cap.
 *
 * Environment: PORT (default 8080), HOST (default 0.0.0.0), NETWORK (main | dev, default main),
 * WS_PORT (the WebSocket-only port, plain ws:, default 0 = any free port), TLS_CERT / TLS_KEY (PEM
 * files: serve HTTPS), DATA_DIR or `--data DIR` (the relay key; default .data/relay-<network>),
 * DIST_DIR (the built app; default dist/), RELAY_PEERS (the other relays of this network,
 * comma-separated multiaddrs as their /bootstrap.json lists them), STUN_PORT (the STUN server's UDP port, relay/stun.ts;
 * default the HTTP port's number, `off` or 0: none), METRICS_TOKEN (at least 16 characters: serve
 * Prometheus metrics at /metrics to `Authorization: Bearer <token>`, relay/metrics.ts; unset: none).
 * Limits: relay/limits.ts.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { existsSync, readFileSync } from 'node:fs';
import { connect, isIPv4, isIPv6, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import sirv from 'sirv';
import { multiaddr } from '@multiformats/multiaddr';
import { loadOrCreateKey } from './keys.ts';
import { ClientLedger, clientKey } from './clients.ts';
import { createRelayNode, type RelayNode } from './libp2p.ts';
import { DEFAULT_RELAY_LIMITS, type RelayLimits } from './limits.ts';
import { startStun, type RelayStun } from './stun.ts';
import { bearerMatches, parseMetricsToken, relayMetrics, type RelayMetrics } from './metrics.ts';

export interface RelayOptions {
  port: number;
  host: string;
  network: 'main' | 'dev';
  distDir: string;
  /** Where the relay key lives. */
  dataDir: string;
  /** The WebSocket-only port (0 = any free port). */
  wsPort: number;
  /** PEM certificate and key: serve HTTPS (and wss: through the same port). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  limits?: Partial<RelayLimits>;
  /** `npm run dev`: serve the app from vite's dev server (live reload) instead of dist/. */
  dev?: boolean;
  /**
   * UDP port of the relay's STUN server (relay/stun.ts): a number (0 = any free port), `null` for
   * none; default the HTTP port's number (if that UDP port is taken, the relay runs without STUN).
   */
  stunPort?: number | null;
  /**
   * The other relays of this network (multiaddrs ending in `/p2p/<id>`, as their /bootstrap.json
   * lists them): kept connected, sent every discovery message, and listed in our /bootstrap.json
   * after our own addresses, so a tab holds reservations on several relays.
   */
  relayPeers?: string[];
  /**
   * METRICS_TOKEN: serve `GET /metrics` (relay/metrics.ts) to `Authorization: Bearer <token>`;
   * none (the default): no metrics, /metrics is not found.
   */
  metricsToken?: string;
}

/** Other relays a relay may be told of (`RELAY_PEERS`). */
export const MAX_RELAY_PEERS = 8;

/**
 * `RELAY_PEERS`: comma-separated multiaddrs, each ending in `/p2p/<peer id>`.
 * @example parseRelayPeers('/dns4/relay2.example.org/tcp/443/tls/ws/p2p/12D3KooW…')
 */
export function parseRelayPeers(value: string | undefined): string[] {
  const list = (value ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (list.length > MAX_RELAY_PEERS) throw new Error(`RELAY_PEERS names ${list.length} relays, at most ${MAX_RELAY_PEERS}`);
  for (const a of list) {
    let ma;
    try {
      ma = multiaddr(a);
    } catch (e) {
      throw new Error(`RELAY_PEERS: ${a} is not a multiaddr (${(e as Error).message})`, { cause: e });
    }
    const last = ma.getComponents().at(-1);
    if (last?.name !== 'p2p') throw new Error(`RELAY_PEERS: ${a} does not end in /p2p/<peer id>`);
    if (!ma.getComponents().some((c) => c.name === 'ws' || c.name === 'wss' || c.name === 'tls')) throw new Error(`RELAY_PEERS: ${a} is not a WebSocket address (relays and pages speak WebSockets)`);
  }
  return list;
}

export interface Relay {
  server: Server;
  /** The page's URL as printed. */
  url: string;
  node: RelayNode;
  peerId: string;
  /** Port the HTTP server listens on. */
  port: number;
  /** The WebSocket-only port. */
  wsPort: number;
  /** The STUN server's UDP port, or null when the relay runs none. */
  stunPort: number | null;
  /** `/bootstrap.json` as seen by a page loaded from `host` (a Host header value). */
  bootstrap(host?: string): Bootstrap;
  close(): Promise<void>;
}

/** The body of `GET /bootstrap.json`. */
export interface Bootstrap {
  network: string;
  peerId: string;
  multiaddrs: string[];
  /** ICE servers for the page's WebRTC: the relay's own STUN server (`stun:<host>:<port>`), if any. */
  iceServers?: string[];
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

function argValue(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  if (i >= 0) {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${name} needs a value`);
    return v;
  }
  const eq = argv.find((a) => a.startsWith(`${name}=`));
  return eq?.slice(name.length + 1);
}

function portFrom(name: string, value: string | undefined, fallback: number): number {
  const port = value === undefined || value === '' ? fallback : Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${name} must be 0..65535, got ${value}`);
  return port;
}

/** Options from the environment and command line (see the module comment). */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env, argv: readonly string[] = process.argv.slice(2)): RelayOptions {
  const port = portFrom('PORT', env.PORT, 8080);
  const wsPort = portFrom('WS_PORT', env.WS_PORT, 0);
  const network = env.NETWORK ?? 'main';
  if (network !== 'main' && network !== 'dev') throw new Error(`NETWORK must be main or dev, got ${network}`);
  const dataDir = resolve(argValue(argv, '--data') ?? env.DATA_DIR ?? join(ROOT, '.data', `relay-${network}`));
  if ((env.TLS_CERT === undefined) !== (env.TLS_KEY === undefined)) throw new Error('TLS_CERT and TLS_KEY go together');
  const tls = env.TLS_CERT && env.TLS_KEY ? { cert: readFileSync(env.TLS_CERT), key: readFileSync(env.TLS_KEY) } : undefined;
  const distDir = resolve(env.DIST_DIR ?? join(ROOT, 'dist'));
  const stunPort = env.STUN_PORT === 'off' || env.STUN_PORT === '0' ? null : env.STUN_PORT === undefined || env.STUN_PORT === '' ? undefined : portFrom('STUN_PORT', env.STUN_PORT, 0);
  const relayPeers = parseRelayPeers(env.RELAY_PEERS);
  const metricsToken = parseMetricsToken(env.METRICS_TOKEN);
  return { port, host: env.HOST ?? '0.0.0.0', network, distDir, dataDir, wsPort, tls, dev: argv.includes('--dev'), stunPort, relayPeers, metricsToken };
}

/**
 * The Content-Security-Policy of the app's HTML. Scripts only from our origin, plus
 * 'wasm-unsafe-eval' so the miner may compile its WebAssembly (no JS eval); workers from our
 * origin or blob:; connections to our origin and to WebSocket relays (ws:/wss:, any host: a page
 * may be pointed at another relay). Styles allow 'unsafe-inline' because Svelte components set
 * style attributes; styles cannot run code.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self' blob:",
  "connect-src 'self' ws: wss:",
  "img-src 'self' data: blob:",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self'",
  "manifest-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The Permissions-Policy of the app's HTML: no powerful feature the app never uses, so a script
 * injected despite the CSP cannot ask for them either. The app needs none of these (WebRTC data
 * channels need no permission); it copies to the clipboard, whose default ('self') stays.
 */
export const PERMISSIONS_POLICY = [
  // Features Chromium knows (an unknown one costs a console warning on every page load).
  'accelerometer',
  'camera',
  'display-capture',
  'geolocation',
  'gyroscope',
  'hid',
  'idle-detection',
  'magnetometer',
  'microphone',
  'midi',
  'payment',
  'serial',
  'usb',
  'xr-spatial-tracking',
]
  .map((feature) => `${feature}=()`)
  .join(', ');

/**
 * HSTS over TLS: a year, and no includeSubDomains — the relay's host name may be one among
 * siblings the operator does not serve over HTTPS. Not to localhost: browsers would force https
 * onto every port of the developer's machine (IP addresses are ignored by browsers anyway).
 */
const STRICT_TRANSPORT_SECURITY = 'max-age=31536000';

/** Vite's content-hashed output: `assets/name-<8+ chars of hash>.ext`. Safe to cache forever. */
const HASHED_ASSET = /^\/assets\/.+-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/;

function isHtmlPath(pathname: string): boolean {
  const last = pathname.slice(pathname.lastIndexOf('/') + 1);
  return last === '' || /\.html?$/.test(last) || !last.includes('.');
}

function staticHeaders(res: ServerResponse, pathname: string): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  if (isHtmlPath(pathname)) {
    res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    res.setHeader('Permissions-Policy', PERMISSIONS_POLICY);
    // A window this page opens (or that opened it) from another origin gets no handle on it. The
    // app's own tabs share the origin, and talk over BroadcastChannel anyway.
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cache-Control', 'no-cache');
  } else if (HASHED_ASSET.test(pathname)) {
    res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
  } else {
    // Unhashed files (service worker, manifest, icons): revalidate so updates reach everyone.
    res.setHeader('Cache-Control', 'no-cache');
  }
}

/** Host name (no brackets) and port of a Host header, or undefined if it is not a sane one. */
export function parseHostHeader(host: string | undefined): { name: string; port?: number } | undefined {
  if (!host || host.length > 255) return undefined;
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(host);
  if (!m) return undefined;
  const name = m[1].startsWith('[') ? m[1].slice(1, -1) : m[1];
  if (m[1].startsWith('[') && !isIPv6(name)) return undefined;
  const port = m[2] === undefined ? undefined : Number(m[2]);
  if (port !== undefined && port > 65535) return undefined;
  return { name, port };
}

/**
 * The multiaddr prefix for reaching `name`: /ip4/…, /ip6/… or, for a DNS name such as
 * localhost, /dns4/….
 * @example hostMultiaddr('localhost') // '/dns4/localhost'
 */
export function hostMultiaddr(name: string): string {
  if (isIPv4(name)) return `/ip4/${name}`;
  if (isIPv6(name)) return `/ip6/${name}`;
  return `/dns4/${name}`;
}

/** Answers a refused upgrade and closes the socket once the answer is out. */
function refuseUpgrade(socket: Duplex, status: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () => socket.destroy());
}

/**
 * Where libp2p's WebSocket listener is, and who is behind each socket the pass-through opened to
 * it: key `address:port` of the upstream socket's local end — what libp2p sees as the connection's
 * remote address — to the client whose upgrade it carries.
 */
interface Upstream {
  host: string;
  port: number;
  clients: Map<string, { client: string }>;
  /** Every socket of a pass-through, to destroy on close. */
  open: Set<Duplex>;
}

/** Passes a WebSocket upgrade through to the libp2p listener. */
function proxyUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, client: string, target: Upstream): void {
  const upstream: Socket = connect({ host: target.host, port: target.port });
  const entry = { client };
  let at: string | undefined;
  target.open.add(socket);
  target.open.add(upstream);
  const drop = () => {
    socket.destroy();
    upstream.destroy();
    target.open.delete(socket);
    target.open.delete(upstream);
    // The port may already carry a newer pass-through: remove only our own entry.
    if (at !== undefined && target.clients.get(at) === entry) target.clients.delete(at);
  };
  socket.on('error', drop);
  upstream.on('error', drop);
  socket.on('close', drop);
  upstream.on('close', drop);
  upstream.on('connect', () => {
    at = `${upstream.localAddress}:${upstream.localPort}`;
    target.clients.set(at, entry);
    upstream.setNoDelay(true);
    (socket as Socket).setNoDelay?.(true);
    const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    upstream.write(lines.join('\r\n') + '\r\n\r\n');
    if (head.length > 0) upstream.write(head);
    socket.pipe(upstream).pipe(socket);
  });
}

/**
 * The front door of one listening server: caps its sockets in all and per client, and passes
 * WebSocket upgrades within the client's connection budget through to libp2p.
 */
function guard(server: Server, ledger: ClientLedger, limits: RelayLimits, upstream: Upstream, metrics: RelayMetrics | undefined, name: 'http' | 'ws'): void {
  server.maxConnections = limits.maxSockets;
  // Node closes a socket past maxConnections itself, before 'connection'; it says so with 'drop'.
  server.on('drop', () => metrics?.refused('server-full'));
  // Before the HTTP (or TLS) layer sees it: a refused socket costs no parser.
  server.prependListener('connection', (socket: Socket) => {
    const client = clientKey(socket.remoteAddress ?? '');
    if (!ledger.openSocket(client)) {
      metrics?.refused('too-many-sockets');
      socket.destroy();
      return;
    }
    metrics?.socketOpened(name);
    socket.once('close', () => {
      ledger.closeSocket(client);
      metrics?.socketClosed(name);
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
      metrics?.refused('not-websocket');
      refuseUpgrade(socket, '400 Bad Request');
      return;
    }
    const client = clientKey(req.socket.remoteAddress ?? '');
    const refusal = ledger.openConnection(client);
    if (refusal !== undefined) {
      metrics?.refused(refusal);
      refuseUpgrade(socket, '429 Too Many Requests');
      return;
    }
    metrics?.websocketOpened();
    socket.once('close', () => {
      ledger.closeConnection(client);
      metrics?.websocketClosed();
    });
    proxyUpgrade(req, socket, head, client, upstream);
  });
}

/** Node's HTTP server options for the limits (also valid for https.createServer). */
function serverOptions(limits: RelayLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeout,
    requestTimeout: limits.requestTimeout,
    keepAliveTimeout: limits.keepAliveTimeout,
    // Node looks for expired headers and requests only this often (default 30 s, which would
    // hold a slowloris socket up to 40 s with a 10 s headersTimeout).
    connectionsCheckingInterval: Math.min(1_000, limits.headersTimeout),
  };
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}

/** Starts the libp2p node and the two servers (HTTP(S) and WebSocket-only); resolves once all listen. */
export async function startRelay(opts: RelayOptions): Promise<Relay> {
  if (!opts.dev && !existsSync(join(opts.distDir, 'index.html'))) {
    throw new Error(`No built app in ${opts.distDir}: run "npm run build" first (npm start does it for you).`);
  }
  const privateKey = await loadOrCreateKey(opts.dataDir);
  const limits: RelayLimits = { ...DEFAULT_RELAY_LIMITS, ...opts.limits };
  const ledger = new ClientLedger(limits);
  // libp2p listens on loopback only: everyone else comes in through the front door (guard).
  const upstream: Upstream = { host: '127.0.0.1', port: 0, clients: new Map(), open: new Set() };
  const clientOf = (host: string, port: number) => upstream.clients.get(`${host}:${port}`)?.client ?? clientKey(host);
  const relayPeers = opts.relayPeers ?? [];
  const metricsToken = opts.metricsToken === undefined ? undefined : parseMetricsToken(opts.metricsToken);
  const metrics = metricsToken === undefined ? undefined : relayMetrics();
  const node = await createRelayNode({ privateKey, network: opts.network, listenHost: upstream.host, listenPort: 0, limits, clientOf, relayPeers, metrics });
  const peerId = node.peerId.toString();
  // multiaddr 13 has no toOptions(): read the tcp component.
  const tcpPort = node.getMultiaddrs().flatMap((ma) => ma.getComponents()).find((c) => c.name === 'tcp')?.value;
  if (tcpPort === undefined) {
    await node.stop();
    throw new Error('relay: libp2p WebSocket listener has no address');
  }
  upstream.port = Number(tcpPort);

  const secure = opts.tls !== undefined;
  let httpPort = opts.port;
  let wsPort = opts.wsPort;
  let stun: RelayStun | undefined;
  const fallbackHost = opts.host === '0.0.0.0' || opts.host === '::' ? 'localhost' : opts.host;

  const bootstrap = (hostHeader?: string): Bootstrap => {
    const parsed = parseHostHeader(hostHeader) ?? { name: fallbackHost, port: httpPort };
    const prefix = hostMultiaddr(parsed.name);
    const pagePort = parsed.port ?? (secure ? 443 : 80);
    const multiaddrs = [`${prefix}/tcp/${pagePort}/${secure ? 'tls/ws' : 'ws'}/p2p/${peerId}`];
    // A secure page may not open ws:, so the WebSocket-only port is only offered over plain HTTP.
    if (!secure) multiaddrs.push(`${prefix}/tcp/${wsPort}/ws/p2p/${peerId}`);
    // The other relays, as configured: a tab keeps a reservation on two of them.
    for (const a of relayPeers) if (!a.endsWith(`/p2p/${peerId}`)) multiaddrs.push(a);
    const iceHost = parsed.name.includes(':') ? `[${parsed.name}]` : parsed.name;
    return { network: opts.network, peerId, multiaddrs, ...(stun ? { iceServers: [`stun:${iceHost}:${stun.port}`] } : {}) };
  };

  // Development: vite's dev server as middleware on this same origin, so the page, /bootstrap.json
  // and the libp2p WebSocket upgrade share one host and port exactly as in production. Loaded
  // lazily: `npm start` never imports vite at run time.
  const vite = opts.dev
    ? await (await import('vite')).createServer({ root: ROOT, server: { middlewareMode: true }, appType: 'spa' })
    : undefined;
  const serveStatic = vite ? vite.middlewares : sirv(opts.distDir, { etag: true, gzip: true, single: false, setHeaders: staticHeaders });
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    if (secure) {
      const host = parseHostHeader(req.headers.host)?.name.toLowerCase();
      if (host !== 'localhost' && !host?.endsWith('.localhost')) res.setHeader('Strict-Transport-Security', STRICT_TRANSPORT_SECURITY);
    }
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/health') {
      // Up or not, nothing more: the peer id is in /bootstrap.json, and counts are for operators.
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify({ ok: true }));
      return;
    }
    if (path === '/metrics' && metrics && metricsToken !== undefined) {
      if (!bearerMatches(req.headers.authorization, metricsToken)) {
        res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer realm="tabchain-relay-metrics"', 'cache-control': 'no-store' });
        res.end('Authorization: Bearer <METRICS_TOKEN> required');
        return;
      }
      metrics.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' });
          res.end(text);
        },
        (e: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`metrics failed: ${(e as Error).message}`);
        },
      );
      return;
    }
    if (path === '/bootstrap.json') {
      res.writeHead(200, {
        'content-type': 'application/json',
        'cache-control': 'no-store',
        // Public information; lets a page served elsewhere (vite dev server) find this relay.
        'access-control-allow-origin': '*',
      });
      res.end(JSON.stringify(bootstrap(req.headers.host)));
      return;
    }
    serveStatic(req, res, () => {
      if (res.headersSent) return;
      res.writeHead(404, { 'content-type': 'text/plain', 'x-content-type-options': 'nosniff' });
      res.end('not found');
    });
  };
  const options = serverOptions(limits);
  const server: Server = opts.tls
    ? // A TLS handshake that never ends is a slowloris too (Node's default handshakeTimeout: 120 s).
      createHttpsServer({ ...options, cert: opts.tls.cert, key: opts.tls.key, handshakeTimeout: limits.headersTimeout }, handler)
    : createHttpServer(options, handler);
  const wsServer: Server = createHttpServer(options, (_req, res) => {
    res.writeHead(400, { 'content-type': 'text/plain' });
    res.end('Only WebSocket connections are supported');
  });
  guard(server, ledger, limits, upstream, metrics, 'http');
  guard(wsServer, ledger, limits, upstream, metrics, 'ws');

  const closeServers = () => {
    const closed = Promise.all(
      [server, wsServer].map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))),
    );
    server.closeAllConnections();
    wsServer.closeAllConnections();
    for (const s of upstream.open) s.destroy();
    return closed;
  };
  try {
    httpPort = await listen(server, opts.port, opts.host);
    wsPort = await listen(wsServer, opts.wsPort, opts.host);
    if (opts.stunPort !== null) {
      try {
        stun = await startStun({ port: opts.stunPort ?? httpPort, host: opts.host });
      } catch (e) {
        // Asked for explicitly: an error. By default (the HTTP port's number): run without.
        if (opts.stunPort !== undefined) throw e;
        console.warn(`relay: no STUN server (UDP port ${httpPort}: ${(e as Error).message}); set STUN_PORT to choose another`);
      }
    }
  } catch (e) {
    await stun?.close();
    await closeServers();
    await node.stop();
    await vite?.close();
    throw e;
  }
  const url = `${secure ? 'https' : 'http'}://${fallbackHost.includes(':') ? `[${fallbackHost}]` : fallbackHost}:${httpPort}/`;

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const closed = closeServers();
      await stun?.close();
      await node.stop();
      await vite?.close();
      await closed;
    })());

  return { server, url, node, peerId, port: httpPort, wsPort, stunPort: stun?.port ?? null, bootstrap, close };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const opts = optionsFromEnv();
  const relay = await startRelay(opts);
  console.log(`tabchain relay (${opts.network}) serving the app at ${relay.url}`);
  console.log(`  peer id ${relay.peerId}; libp2p over WebSocket through ${relay.url} and on port ${relay.wsPort}; key in ${opts.dataDir}`);
  console.log(`  STUN ${relay.stunPort === null ? 'off' : `on UDP port ${relay.stunPort}`}`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping the relay`);
    const force = setTimeout(() => process.exit(1), 5_000);
    force.unref();
    void relay.close().then(
      () => process.exit(0),
      (e: unknown) => {
        console.error(e);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
