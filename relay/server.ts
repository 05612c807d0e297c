/**
 * The tabchain relay: serves the built app over HTTP. It holds no chain and validates nothing.
 * The libp2p relay (circuit relay v2, gossip, peer discovery) joins this process in the P2P issue.
 *
 * Environment: PORT (default 8080), HOST (default 0.0.0.0), NETWORK (main | dev, default main).
 */
import { createServer, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import sirv from 'sirv';

export interface RelayOptions {
  port: number;
  host: string;
  network: 'main' | 'dev';
  distDir: string;
}

export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): RelayOptions {
  const port = env.PORT === undefined ? 8080 : Number(env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be 0..65535, got ${env.PORT}`);
  const network = env.NETWORK ?? 'main';
  if (network !== 'main' && network !== 'dev') throw new Error(`NETWORK must be main or dev, got ${network}`);
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  return { port, host: env.HOST ?? '0.0.0.0', network, distDir: join(root, 'dist') };
}

/** Starts the HTTP server; resolves once it listens. */
export async function startRelay(opts: RelayOptions): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  if (!existsSync(join(opts.distDir, 'index.html'))) {
    throw new Error(`No built app in ${opts.distDir}: run "npm run build" first (npm start does it for you).`);
  }
  const serveStatic = sirv(opts.distDir, { etag: true, gzip: true, single: false });
  const server = createServer((req, res) => {
    if (req.url === '/health') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify({ ok: true, network: opts.network }));
      return;
    }
    serveStatic(req, res, () => {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  const shownHost = opts.host === '0.0.0.0' || opts.host === '::' ? 'localhost' : opts.host;
  return {
    server,
    url: `http://${shownHost}:${port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const relay = await startRelay(optionsFromEnv());
  console.log(`tabchain relay (${optionsFromEnv().network}) serving the app at ${relay.url}`);
  const stop = () => {
    void relay.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
