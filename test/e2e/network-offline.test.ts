/**
 * A tab never waits for the network: the built app served by a plain static server (no relay),
 * once with a `/bootstrap.json` whose relay does not answer and once with none at all. The node
 * starts (`ready`), reports itself offline with no peers, and mines on its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';
import { ensureDist, startE2e, type E2e } from './harness.ts';
import { Tab, waitReady } from './net-harness.ts';

const MIME: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json', '.svg': 'image/svg+xml', '.webmanifest': 'application/manifest+json', '.png': 'image/png' };

/** Serves `dir`; `/bootstrap.json` answers `bootstrap` (or 404 when null). */
function serveStatic(dir: string, bootstrap: () => unknown): Promise<Server> {
  const server = createServer(async (req, res) => {
    const path = normalize(new URL(req.url ?? '/', 'http://x').pathname);
    if (path === '/bootstrap.json') {
      const body = bootstrap();
      if (body === null) return void res.writeHead(404).end('not found');
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    }
    const file = join(dir, path.endsWith('/') ? 'index.html' : path);
    if (!file.startsWith(dir)) return void res.writeHead(403).end();
    try {
      res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream' }).end(await readFile(file));
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// A relay peer id that nobody runs, at a port where nothing listens (port 9 is "discard": closed here).
const GHOST = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN';
let bootstrap: unknown = null;
let e2e: E2e | undefined;
let server: Server | undefined;
let base = '';

describe('a tab starts without any network', () => {
  beforeAll(async () => {
    e2e = await startE2e({ network: 'dev' }); // Chromium, and this run's turn among e2e files
    server = await serveStatic(await ensureDist(), () => bootstrap);
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  }, 300_000);

  afterAll(async () => {
    server?.close();
    await e2e?.close();
  });

  async function open(path: string): Promise<Tab> {
    const context = await e2e!.browser.newContext();
    const page = await context.newPage();
    await page.goto(base + path);
    const tab = new Tab('offline', context, page);
    await waitReady(tab, 30_000);
    return tab;
  }

  it('with a relay that does not answer: ready, offline, no peers, and it still mines', async () => {
    bootstrap = { network: 'dev', peerId: GHOST, multiaddrs: [`/ip4/127.0.0.1/tcp/9/ws/p2p/${GHOST}`] };
    const tab = await open('');
    const s = await tab.status();
    expect(s.network).toBe('dev');
    expect(s.online).toBe(false);
    expect(s.peers).toEqual([]);
    const [hash] = await tab.call<string[]>('mineBlocks', 1);
    expect((await tab.status()).tip).toBe(hash);
    expect(tab.errors).toEqual([]);
    await tab.context.close();
  });

  it('with no /bootstrap.json at all (static hosting): ready on the network the URL names, offline', async () => {
    bootstrap = null;
    const tab = await open('?network=dev');
    const s = await tab.status();
    expect(s.network).toBe('dev');
    expect(s.online).toBe(false);
    expect(s.peers).toEqual([]);
    expect(await tab.call<string[]>('mineBlocks', 1)).toHaveLength(1);
    expect(tab.errors).toEqual([]);
    await tab.context.close();
  });
});
