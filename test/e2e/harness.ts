/**
 * e2e harness: the real app in real Chromium, served by the real relay.
 *
 * - builds the app once per vitest run (vite build into a temp dir; the first e2e file that needs
 *   it builds, the others wait on a lock and reuse it — see global-setup.ts);
 * - starts relay/server.ts as a child process (`node --import tsx`, PORT=0, HOST=127.0.0.1, a temp
 *   data dir, the network asked for) and waits for the URL it prints;
 * - launches Chromium (scripts/chromium.ts: system Chromium, installed when missing and root);
 * - makes isolated browser contexts (each its own storage: a different person's browser);
 * - saves screenshots to test/e2e/artifacts/ (git-ignored) for people to look at.
 *
 * e2e files run one at a time (a per-run lock taken in {@link startE2e}) so they do not fight
 * over the machine's cores, whatever vitest's file parallelism.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { inject } from 'vitest';
import { launchChromium } from '../../scripts/chromium.ts';
import { e2eRunDirs } from './run-dirs.ts';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const ARTIFACTS = join(ROOT, 'test/e2e/artifacts');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Takes a directory lock (mkdir is atomic); returns its release. */
async function lock(path: string, timeoutMs: number): Promise<() => Promise<void>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      await mkdir(path);
      return () => rm(path, { recursive: true, force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (Date.now() > until) throw new Error(`e2e: timed out waiting for lock ${path}`);
      await sleep(200);
    }
  }
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

function runId(): string {
  try {
    return inject('e2eRunId') ?? `solo-${process.pid}`;
  } catch {
    return `solo-${process.pid}`;
  }
}

/** Builds the app once for this run; returns the dist directory. */
export async function ensureDist(id: string = runId()): Promise<string> {
  const dirs = e2eRunDirs(id);
  const release = await lock(dirs.buildLock, 600_000);
  try {
    if (await exists(join(dirs.dist, 'index.html'))) return dirs.dist;
    const { build } = await import('vite');
    await build({
      root: ROOT,
      configFile: join(ROOT, 'vite.config.ts'),
      logLevel: 'error',
      build: { outDir: dirs.dist, emptyOutDir: true },
    });
    return dirs.dist;
  } finally {
    await release();
  }
}

/** A relay child process serving the app. */
export interface RelayProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Options of {@link startRelay}. */
export interface StartRelayOptions {
  /** Environment on top of the defaults (PORT=0, HOST=127.0.0.1, …): RELAY_PEERS, a fixed PORT. */
  env?: Record<string, string>;
  /** The relay's data directory (its key); default a fresh temp directory. Removed on stop. */
  dataDir?: string;
  /** A command the relay runs under, e.g. `['ip', 'netns', 'exec', 'ns1']`. */
  wrap?: string[];
}

/** Starts relay/server.ts serving `distDir` on a free port. */
export async function startRelay(distDir: string, network: 'dev' | 'main' = 'dev', opts: StartRelayOptions = {}): Promise<RelayProcess> {
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'tabchain-e2e-relay-')));
  const argv = [process.execPath, '--import', 'tsx', 'relay/server.ts', '--data', dataDir];
  const [command, ...args] = [...(opts.wrap ?? []), ...argv];
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', NETWORK: network, DIST_DIR: distDir, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`relay did not start within 60 s:\n${out}`)), 60_000);
    const check = () => {
      const m = /serving the app at (https?:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1].replace(/\/?$/, '/'));
      }
    };
    child.stdout!.on('data', check);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`relay exited early:\n${out}`));
    });
  });
  return {
    url,
    child,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await Promise.race([exited, sleep(10_000).then(() => child.kill('SIGKILL'))]);
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** One person's browser: an isolated context with one page on the app. */
export interface Visitor {
  context: BrowserContext;
  page: Page;
  /** Uncaught page errors and console errors seen so far. */
  errors: string[];
}

/** A running e2e environment. */
export interface E2e {
  url: string;
  browser: Browser;
  relay: RelayProcess;
  /** Opens the app in a new isolated browser context (a new visitor) and waits for the node. */
  visit(opts?: { path?: string; viewport?: { width: number; height: number }; colorScheme?: 'light' | 'dark' }): Promise<Visitor>;
  /** Saves a full-page screenshot as test/e2e/artifacts/<name>.png. */
  screenshot(page: Page, name: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * Waits for this run's browser slot (e2e files, and other suites that drive browsers, run one at a
 * time); returns its release.
 * @example const release = await e2eSlot(); try { … } finally { await release() }
 */
export function e2eSlot(): Promise<() => Promise<void>> {
  return lock(e2eRunDirs(runId()).slotLock, 1_800_000);
}

/**
 * Builds (once), starts the relay and Chromium. Waits its turn behind other e2e files.
 * @example
 * ```ts
 * const e2e = await startE2e();
 * const { page } = await e2e.visit();
 * await e2e.close();
 * ```
 */
export async function startE2e(opts: { network?: 'dev' | 'main'; relay?: StartRelayOptions } = {}): Promise<E2e> {
  const id = runId();
  const releaseSlot = await lock(e2eRunDirs(id).slotLock, 1_800_000);
  let relay: RelayProcess | undefined;
  let browser: Browser | undefined;
  try {
    const dist = await ensureDist(id);
    relay = await startRelay(dist, opts.network ?? 'dev', opts.relay);
    browser = await launchChromium();
  } catch (e) {
    await relay?.stop();
    await releaseSlot();
    throw e;
  }
  await mkdir(ARTIFACTS, { recursive: true });
  const contexts: BrowserContext[] = [];
  const b = browser;
  const r = relay;
  return {
    url: r.url,
    browser: b,
    relay: r,
    async visit(v = {}) {
      const context = await b.newContext({ viewport: v.viewport ?? { width: 1280, height: 900 }, colorScheme: v.colorScheme ?? 'light' });
      contexts.push(context);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(`console: ${m.text()}`);
      });
      await page.goto(new URL(v.path ?? '', r.url).toString());
      await page.evaluate(() => window.tabchain.ready);
      return { context, page, errors };
    },
    async screenshot(page, name) {
      const path = join(ARTIFACTS, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => undefined);
      await b.close().catch(() => undefined);
      await r.stop();
      await releaseSlot();
    },
  };
}

/**
 * Polls `predicate` in the page (awaiting it) until it returns true. Use it for anything that
 * asks `window.tabchain`: Playwright's `page.waitForFunction` does NOT await a returned promise —
 * an async predicate is a truthy Promise, so it would pass at once (the lint forbids that).
 * @example await waitInPage(page, (id) => window.tabchain.txStatus(id).then((s) => s.state === 'confirmed'), txid, { what: 'confirmed' })
 */
export async function waitInPage<A>(page: Page, predicate: (arg: A) => Promise<boolean> | boolean, arg: A, opts: { what: string; timeout?: number }): Promise<void> {
  const timeout = opts.timeout ?? 30_000;
  const end = Date.now() + timeout;
  for (;;) {
    if (await page.evaluate(predicate as (arg: unknown) => Promise<boolean> | boolean, arg as unknown)) return;
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${opts.what}`);
    await sleep(100);
  }
}

/** What `window.tabchain.status()` answers. */
export type PageStatus = Awaited<ReturnType<Window['tabchain']['status']>>;

/** The page's `window.tabchain.status()`. @example (await pageStatus(page)).height */
export function pageStatus(page: Page): Promise<PageStatus> {
  return page.evaluate(() => window.tabchain.status());
}

/**
 * Polls the page's status until `pred` holds; the error says what was awaited and where it stood.
 * @example await untilStatus(page, (s) => s.height >= 5, 'height 5')
 */
export async function untilStatus(page: Page, pred: (s: PageStatus) => boolean, what: string, ms = 60_000): Promise<PageStatus> {
  const end = Date.now() + ms;
  for (;;) {
    const s = await pageStatus(page);
    if (pred(s)) return s;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify({ height: s.height, tip: s.tip, peers: s.peers })}`);
    await sleep(250);
  }
}

/**
 * Opens another page of `context` at `url` and waits for its node (`tabchain.ready`); its uncaught
 * errors go to `errors` (a fresh list unless one is given, e.g. a whole test's).
 * @example const { page, errors } = await openPage(visitor.context, e2e.url)
 */
export async function openPage(context: BrowserContext, url: string, errors: string[] = []): Promise<{ page: Page; errors: string[] }> {
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.evaluate(() => window.tabchain.ready);
  return { page, errors };
}
