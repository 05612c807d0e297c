/**
 * Offline-first, end to end (Chromium, the built app with its Workbox service worker, the real
 * relay; harness.ts):
 *
 * 1. A first visit installs the service worker, which takes control of the page and precaches the
 *    app shell, the lazy chunks and the miner worker; the page says it is ready to work offline.
 *    The relay serves the worker's script uncached and allowed by the page's CSP.
 * 2. With the relay stopped and the browser context offline, a second page of the same browser
 *    loads from the cache, starts its node on the network the relay had named (dev), is offline,
 *    and mines; the first page keeps working. `/bootstrap.json` is never answered from the cache.
 * 3. A new deployment: the relay comes back on the same origin with a rebuilt app; the page
 *    offers "A new version of tabchain is ready — Reload", and Reload brings the new version up.
 *
 * Screenshots: test/e2e/artifacts/offline-*.png. The two-tab trade over the tab mesh while offline
 * comes with that mesh.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startRelay as startRelayInProcess, type Relay } from '../../relay/server.ts';
import { ensureDist, openPage, ROOT, startE2e, type E2e, type Visitor } from './harness.ts';

let e2e: E2e;
let first: Visitor;
const temps: string[] = [];

beforeAll(async () => {
  e2e = await startE2e();
  first = await e2e.visit();
}, 600_000);

afterAll(async () => {
  await e2e?.close();
  for (const t of temps) await rm(t, { recursive: true, force: true });
});

async function tempDir(prefix: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  temps.push(d);
  return d;
}

/** Waits until a service worker controls `page`; returns its script URL. */
async function controlled(page: Page): Promise<string> {
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 60_000 });
  return page.evaluate(() => navigator.serviceWorker.controller!.scriptURL);
}

/** Paths of everything in the page's Cache Storage. */
function cachedPaths(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    const out: string[] = [];
    for (const name of await caches.keys()) {
      for (const req of await (await caches.open(name)).keys()) out.push(new URL(req.url).pathname);
    }
    return out;
  });
}

describe('offline start (service worker)', { timeout: 180_000 }, () => {
  it('a first visit installs the service worker: it controls the page and precaches the app, the worker and its chunks', async () => {
    const script = await controlled(first.page);
    expect(new URL(script).pathname).toBe('/sw.js');
    await first.page.waitForSelector('[data-testid=pwa-offline-ready]', { timeout: 60_000 });
    expect(await first.page.textContent('[data-testid=pwa-offline-ready]')).toContain('Ready to work offline');

    const cached = await cachedPaths(first.page);
    const scripts = await first.page.evaluate(() => [...document.querySelectorAll('script[type=module][src]')].map((s) => new URL((s as HTMLScriptElement).src).pathname));
    expect(cached).toEqual(expect.arrayContaining(['/index.html', '/manifest.webmanifest', '/pwa-192.png', ...scripts]));
    // The miner's worker (its WebAssembly inlined) and libp2p's lazy chunk.
    expect(cached.some((p) => /^\/assets\/worker-.+\.js$/.test(p))).toBe(true);
    expect(cached.some((p) => /^\/assets\/browser-[^/]+\.js$/.test(p))).toBe(true);
    expect(cached).not.toContain('/bootstrap.json');

    // The relay serves the worker fresh on every check (updates reach everyone), as JavaScript.
    const sw = await fetch(new URL('/sw.js', e2e.url));
    expect(sw.headers.get('cache-control')).toBe('no-cache');
    expect(sw.headers.get('content-type')).toMatch(/javascript/);
    const manifest = await fetch(new URL('/manifest.webmanifest', e2e.url));
    expect(manifest.headers.get('content-type')).toMatch(/^application\/manifest\+json/);
    expect(await manifest.json()).toMatchObject({ name: 'tabchain', display: 'standalone', start_url: '/' });
  });

  it('with the relay stopped and the browser offline, a second page loads from the cache, starts its node, and mines', async () => {
    const before = (await first.page.evaluate(() => window.tabchain.status())).height;
    await e2e.relay.stop();
    await first.context.setOffline(true);

    const second = await openPage(first.context, e2e.url);
    expect(await second.page.evaluate(() => navigator.onLine)).toBe(false);
    expect(await second.page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
    const s = await second.page.evaluate(() => window.tabchain.status());
    // The network the relay named on the first visit, remembered: not the default (main).
    expect(s).toMatchObject({ network: 'dev', online: false, height: 0 });
    await second.page.waitForSelector('[data-testid=online]:has-text("Offline")');

    const mined = await second.page.evaluate(() => window.tabchain.mineBlocks(1));
    expect(mined).toHaveLength(1);
    expect(await second.page.evaluate(() => window.tabchain.status())).toMatchObject({ height: 1, tip: mined[0] });
    // The relay's live endpoint is never answered from the cache.
    expect(await second.page.evaluate(() => fetch('/bootstrap.json').then((r) => `HTTP ${r.status}`, () => 'failed'))).toBe('failed');
    await e2e.screenshot(second.page, 'offline-second-page');

    // The first page still works. (It may have received the second page's block over the tab
    // mesh first — test/e2e/mesh.test.ts — so its height grew by one or two.)
    const [hash] = await first.page.evaluate(() => window.tabchain.mineBlocks(1));
    const after = await first.page.evaluate(() => window.tabchain.status());
    expect(after.tip).toBe(hash);
    expect(after.height).toBeGreaterThan(before);
    expect([...first.errors.filter((e) => e.startsWith('pageerror')), ...second.errors]).toEqual([]);
  });

  it('a new deployment is offered with a Reload prompt, and Reload brings the new version up', async () => {
    // A relay of our own, so that the new version comes back on the very same origin.
    const dataDir = await tempDir('tabchain-e2e-offline-relay-');
    const v1 = await ensureDist();
    const relayOn = (distDir: string, port: number): Promise<Relay> =>
      startRelayInProcess({ port, host: '127.0.0.1', network: 'dev', distDir, dataDir, wsPort: 0 });
    let relay = await relayOn(v1, 0);
    const origin = `http://127.0.0.1:${relay.port}/`;
    const context = await e2e.browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const { page, errors } = await openPage(context, origin);
      await controlled(page);
      await page.waitForSelector('[data-testid=pwa-offline-ready]', { timeout: 60_000 });

      // Deploy a new version: the same app rebuilt with a marker in its page.
      const v2 = await tempDir('tabchain-e2e-offline-v2-');
      const { build } = await import('vite');
      await build({
        root: ROOT,
        configFile: join(ROOT, 'vite.config.ts'),
        logLevel: 'error',
        build: { outDir: v2, emptyOutDir: true },
        plugins: [{ name: 'e2e-new-version', transformIndexHtml: (html: string) => html.replace('</head>', '<meta name="tabchain-build" content="v2"></head>') }],
      });
      const port = relay.port;
      await relay.close();
      relay = await relayOn(v2, port);

      await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.update());
      await page.waitForSelector('[data-testid=pwa-update]', { timeout: 60_000 });
      expect(await page.textContent('[data-testid=pwa-update]')).toContain('A new version of tabchain is ready');
      // Nothing changes until the user says so.
      expect(await page.evaluate(() => document.querySelector('meta[name=tabchain-build]'))).toBeNull();
      await e2e.screenshot(page, 'offline-update-prompt');

      const reloaded = page.waitForEvent('load', { timeout: 60_000 });
      await page.click('[data-testid=pwa-reload]');
      await reloaded;
      await page.evaluate(() => window.tabchain.ready);
      expect(await page.evaluate(() => document.querySelector('meta[name=tabchain-build]')?.getAttribute('content'))).toBe('v2');
      expect(await page.isVisible('[data-testid=pwa-update]')).toBe(false);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
      await relay.close();
    }
  });
});
