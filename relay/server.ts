/**
 * The tabchain relay: serves the built app over HTTP(S), tells pages how to reach its libp2p node
 * (`GET /bootstrap.json`), and runs that node (relay/libp2p.ts: circuit relay v2, gossip-based
 * peer discovery). It holds no chain and validates nothing.
 *
 * One port: WebSocket upgrade requests on the HTTP port are passed through to the libp2p WebSocket
 * listener (which @libp2p/websockets always runs on its own socket), so a page reaches the relay
 * on the very host and port it was loaded from — through TLS too (`wss:` on an HTTPS relay), and
 * through a firewall that opens only PORT. The listener's own port is advertised as a second
 * address on plain HTTP.
 *
 * Environment: PORT (default 8080), HOST (default 0.0.0.0), NETWORK (main | dev, default main),
 * WS_PORT (libp2p WebSocket listener, default 0 = any free port), TLS_CERT / TLS_KEY (PEM files:
 * serve HTTPS), DATA_DIR or `--data DIR` (the relay key; default .data/relay-<network>), DIST_DIR
 * (the built app; default dist/).
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { existsSync, readFileSync } from 'node:fs';
import { connect, isIPv4, isIPv6, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import sirv from 'sirv';
import { loadOrCreateKey } from './keys.ts';
import { createRelayNode, type RelayLimits, type RelayNode } from './libp2p.ts';

export interface RelayOptions {
  port: number;
  host: string;
  network: 'main' | 'dev';
  distDir: string;
  /** Where the relay key lives. */
  dataDir: string;
  /** Port of the libp2p WebSocket listener (0 = any free port). */
  wsPort: number;
  /** PEM certificate and key: serve HTTPS (and wss: through the same port). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  limits?: Partial<RelayLimits>;
  /** `npm run dev`: serve the app from vite's dev server (live reload) instead of dist/. */
  dev?: boolean;
}

export interface Relay {
  server: Server;
  /** The page's URL as printed. */
  url: string;
  node: RelayNode;
  peerId: string;
  /** Port the HTTP server listens on. */
  port: number;
  /** Port of the libp2p WebSocket listener. */
  wsPort: number;
  /** `/bootstrap.json` as seen by a page loaded from `host` (a Host header value). */
  bootstrap(host?: string): Bootstrap;
  close(): Promise<void>;
}

/** The body of `GET /bootstrap.json`. */
export interface Bootstrap {
  network: string;
  peerId: string;
  multiaddrs: string[];
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
  return { port, host: env.HOST ?? '0.0.0.0', network, distDir, dataDir, wsPort, tls, dev: argv.includes('--dev') };
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

/** Passes a WebSocket upgrade on the HTTP port through to the libp2p listener. */
function proxyUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, target: { host: string; port: number }, open: Set<Duplex>): void {
  if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    return;
  }
  const upstream: Socket = connect({ host: target.host, port: target.port });
  open.add(socket);
  open.add(upstream);
  const drop = () => {
    socket.destroy();
    upstream.destroy();
    open.delete(socket);
    open.delete(upstream);
  };
  socket.on('error', drop);
  upstream.on('error', drop);
  socket.on('close', drop);
  upstream.on('close', drop);
  upstream.on('connect', () => {
    upstream.setNoDelay(true);
    (socket as Socket).setNoDelay?.(true);
    const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    upstream.write(lines.join('\r\n') + '\r\n\r\n');
    if (head.length > 0) upstream.write(head);
    socket.pipe(upstream).pipe(socket);
  });
}

/** Starts the libp2p node and the HTTP server; resolves once both listen. */
export async function startRelay(opts: RelayOptions): Promise<Relay> {
  if (!opts.dev && !existsSync(join(opts.distDir, 'index.html'))) {
    throw new Error(`No built app in ${opts.distDir}: run "npm run build" first (npm start does it for you).`);
  }
  const privateKey = await loadOrCreateKey(opts.dataDir);
  // The libp2p listener binds the same interface as HTTP (HOST), unless HOST is a name.
  const listenHost = isIPv4(opts.host) || isIPv6(opts.host) ? opts.host : '127.0.0.1';
  const node = await createRelayNode({ privateKey, network: opts.network, listenHost, listenPort: opts.wsPort, limits: opts.limits });
  const peerId = node.peerId.toString();
  // multiaddr 13 has no toOptions(): read the tcp component.
  const tcpPort = node.getMultiaddrs().flatMap((ma) => ma.getComponents()).find((c) => c.name === 'tcp')?.value;
  if (tcpPort === undefined) {
    await node.stop();
    throw new Error('relay: libp2p WebSocket listener has no address');
  }
  const wsPort = Number(tcpPort);
  // Where the pass-through connects: the listener itself (loopback if it listens everywhere).
  const upstreamHost = listenHost === '0.0.0.0' ? '127.0.0.1' : listenHost === '::' ? '::1' : listenHost;

  const secure = opts.tls !== undefined;
  let httpPort = opts.port;
  const fallbackHost = opts.host === '0.0.0.0' || opts.host === '::' ? 'localhost' : opts.host;

  const bootstrap = (hostHeader?: string): Bootstrap => {
    const parsed = parseHostHeader(hostHeader) ?? { name: fallbackHost, port: httpPort };
    const prefix = hostMultiaddr(parsed.name);
    const pagePort = parsed.port ?? (secure ? 443 : 80);
    const multiaddrs = [`${prefix}/tcp/${pagePort}/${secure ? 'tls/ws' : 'ws'}/p2p/${peerId}`];
    // A secure page may not open ws:, so the listener's own port is only offered over plain HTTP.
    if (!secure) multiaddrs.push(`${prefix}/tcp/${wsPort}/ws/p2p/${peerId}`);
    return { network: opts.network, peerId, multiaddrs };
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
  const server: Server = opts.tls ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, handler) : createHttpServer(handler);
  const upgraded = new Set<Duplex>();
  server.on('upgrade', (req, socket, head) => proxyUpgrade(req, socket, head, { host: upstreamHost, port: wsPort }, upgraded));

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    await node.stop();
    throw e;
  }
  const addr = server.address();
  httpPort = typeof addr === 'object' && addr ? addr.port : opts.port;
  const url = `${secure ? 'https' : 'http'}://${fallbackHost.includes(':') ? `[${fallbackHost}]` : fallbackHost}:${httpPort}/`;

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const httpClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const s of upgraded) s.destroy();
      await node.stop();
      await vite?.close();
      await httpClosed;
    })());

  return { server, url, node, peerId, port: httpPort, wsPort, bootstrap, close };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const opts = optionsFromEnv();
  const relay = await startRelay(opts);
  console.log(`tabchain relay (${opts.network}) serving the app at ${relay.url}`);
  console.log(`  peer id ${relay.peerId}; libp2p WebSocket on port ${relay.wsPort} and through ${relay.url}; key in ${opts.dataDir}`);
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
