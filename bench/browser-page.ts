/**
 * Shared plumbing of the Chromium benchmarks (bench/miner.bench.ts, bench/storage-browser.bench.ts):
 * build a bench page with vite's build API into a temp dir, serve it on 127.0.0.1 with a tiny
 * static server, open it in headless Chromium (Debian's chromium via playwright-core, see
 * scripts/chromium.ts) and collect the result the page leaves in `window[<name>]` (or the error in
 * `window[<name>Error]`). Build output never leaves tmpdir.
 * @module
 */
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';

const MIME: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css', '.json': 'application/json' };

function serve(dir: string): Promise<Server> {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(dir, path.endsWith('/') ? `${path}index.html` : path);
    if (!file.startsWith(dir)) return void res.writeHead(403).end();
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/**
 * Builds the vite page in `root` (an index.html plus its modules) into a temp dir, serves it on
 * 127.0.0.1 for the duration of `fn`, and removes the build afterwards. `fn` gets the base URL
 * (`http://127.0.0.1:<port>/`); the origin stays the same for the whole call, so IndexedDB data
 * written by one visit is seen by the next.
 * @example
 * ```ts
 * await withBuiltPage({ root: 'bench/miner-page', tmpPrefix: 'x-' }, async (base) => …);
 * ```
 */
export async function withBuiltPage<T>(opts: { root: string; tmpPrefix: string }, fn: (baseUrl: string) => Promise<T>): Promise<T> {
  const { build } = await import('vite');
  const out = await mkdtemp(join(tmpdir(), opts.tmpPrefix));
  let server: Server | undefined;
  try {
    await build({
      root: opts.root,
      configFile: false,
      logLevel: 'warn',
      base: './',
      build: { outDir: out, emptyOutDir: true, target: 'es2022', minify: true },
      worker: { format: 'es' },
    });
    server = await serve(out);
    const { port } = server.address() as AddressInfo;
    return await fn(`http://127.0.0.1:${port}/`);
  } finally {
    server?.close();
    await rm(out, { recursive: true, force: true });
  }
}

/** A launched headless Chromium: pages, and one close for everything. */
export interface ChromiumSession {
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/**
 * Launches headless Chromium. Without `userDataDir`, pages live in playwright's default
 * off-the-record contexts (Chromium keeps their IndexedDB in memory); with it, in a persistent
 * on-disk profile at that path — the storage a real user's tab has — which a later launch on the
 * same path (same origin) sees again.
 * @example
 * ```ts
 * const chromium = await launchSession({ userDataDir: dir });
 * const page = await chromium.newPage();
 * await chromium.close();
 * ```
 */
export async function launchSession(opts: { userDataDir?: string } = {}): Promise<ChromiumSession> {
  const { launchChromium, ensureChromium, CHROMIUM_ARGS } = await import('../scripts/chromium.ts');
  if (opts.userDataDir === undefined) {
    const browser: Browser = await launchChromium();
    return { newPage: () => browser.newPage(), close: () => browser.close() };
  }
  // launchChromium() has no persistent variant; this mirrors it (Debian's /usr/bin/chromium is a
  // shell wrapper around /usr/lib/chromium/chromium, which playwright must launch directly).
  let executablePath = await realpath(ensureChromium());
  if (executablePath === '/usr/bin/chromium') {
    const inner = '/usr/lib/chromium/chromium';
    executablePath = await realpath(inner).catch(() => executablePath);
  }
  const { chromium } = await import('playwright-core');
  const context: BrowserContext = await chromium.launchPersistentContext(opts.userDataDir, { headless: true, executablePath, args: [...CHROMIUM_ARGS] });
  return { newPage: () => context.newPage(), close: () => context.close() };
}

/**
 * Opens `url` in `page` and waits (up to `timeoutMs`) until the page sets `window[name]` (the
 * result, returned) or `window[name + 'Error']` (a string, thrown as "chromium bench failed: …").
 * @example const r = await pageResult<MyResult>(page, `${base}index.html`, 'minerBench', 300_000);
 */
export async function pageResult<T>(page: Page, url: string, name: string, timeoutMs: number): Promise<T> {
  await page.goto(url);
  await page.waitForFunction(
    (key) => {
      const w = window as unknown as Record<string, unknown>;
      return w[key] !== undefined || w[`${key}Error`] !== undefined;
    },
    name,
    { timeout: timeoutMs, polling: 500 },
  );
  const { result, error } = await page.evaluate((key) => {
    const w = window as unknown as Record<string, unknown>;
    return { result: w[key], error: w[`${key}Error`] as string | undefined };
  }, name);
  if (error) throw new Error(`chromium bench failed: ${error}`);
  return result as T;
}
