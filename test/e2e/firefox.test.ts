/**
 * Firefox ESR, end to end, beside Chromium: the built app served by the real relay (NETWORK=dev;
 * harness.ts), two Firefox visitors (F1, F2: separate user contexts, so separate storage, profiles
 * and peer ids) and one Chromium visitor (C). Firefox is Debian's firefox-esr driven by
 * puppeteer-core over WebDriver BiDi (scripts/firefox.ts, installed when missing as Chromium is).
 *
 * One scenario, in order, each step building on the last: load, with the peer id known as `ready`
 * resolves → direct WebRTC Firefox↔Firefox and Firefox↔Chromium → mining with the worker pool in
 * Firefox, blocks travelling Firefox→Chromium and Chromium→Firefox → an item offer made in Firefox
 * taken from Chromium, every tab agreeing → a reload in Firefox keeps the profile and reconnects →
 * with the relay gone and the page offline, a second Firefox tab of F1's browser starts from the
 * service worker and meets the first over the tab mesh.
 *
 * One Firefox and one Chromium for the whole file (a few minutes in all). Pages are windows: Firefox
 * throttles background tabs' timers. Waits are generous but finite; nothing asserts on time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser as PwBrowser, Page as PwPage } from 'playwright-core';
import type { Browser as PpBrowser, BrowserContext as PpContext, Page as PpPage } from 'puppeteer-core';
import { launchChromium } from '../../scripts/chromium.ts';
import { launchFirefox } from '../../scripts/firefox.ts';
import { e2eSlot, ensureDist, startRelay, type RelayProcess } from './harness.ts';
import { hasWebrtcTo, sleep, type TabStatus as NetTabStatus } from './net-harness.ts';

/** `window.tabchain.status()`, with the miner's part. */
type TabStatus = NetTabStatus & { mining: boolean; workers: number; hashrate: number };

/** Firefox's report of a WebSocket that could not connect (see openFirefox). */
const FIREFOX_SOCKET_REFUSED = /^Firefox can.t establish a connection to the server at wss?:\/\/127\.0\.0\.1:\d+\/?\.$/;

const READY_WAIT_MS = 60_000;
const PEER_WAIT_MS = 90_000;
const HEIGHT_WAIT_MS = 60_000;

/** One visitor's page, whichever browser: calls `window.tabchain` in it. */
interface Visitor {
  name: string;
  /** `window.tabchain[method](...args)`, awaited in the page; rejects with the page's error. */
  call<T = unknown>(method: string, ...args: unknown[]): Promise<T>;
  /** Uncaught page errors seen so far. */
  errors: string[];
}

/** Runs in the page: awaits `ready`, calls the method, returns its value or its error's words. */
async function inPage([method, args]: readonly [string, unknown[]]): Promise<{ ok: true; value: unknown } | { ok: false; message: string }> {
  const api = (window as unknown as { tabchain: Record<string, (...x: unknown[]) => Promise<unknown>> & { ready: Promise<void> } }).tabchain;
  try {
    await api.ready;
    return { ok: true, value: await api[method](...args) };
  } catch (e) {
    const err = e as { code?: string; message?: string };
    return { ok: false, message: `${err.code ?? ''} ${err.message ?? String(e)}` };
  }
}

function visitor(name: string, evaluate: (arg: readonly [string, unknown[]]) => Promise<Awaited<ReturnType<typeof inPage>>>, errors: string[]): Visitor {
  return {
    name,
    errors,
    async call<T>(method: string, ...args: unknown[]): Promise<T> {
      const r = await evaluate([method, args]);
      if (!r.ok) throw new Error(`${name}: ${method} failed: ${r.message}`);
      return r.value as T;
    },
  };
}

/** Waits (up to `ms`) for `window.tabchain.ready` in a Firefox page. */
async function firefoxReady(page: PpPage, ms = READY_WAIT_MS): Promise<void> {
  await page.waitForFunction(() => typeof (window as unknown as { tabchain?: unknown }).tabchain === 'object', { timeout: ms });
  await page.evaluate((t) => Promise.race([window.tabchain.ready, new Promise((_, no) => setTimeout(() => no(new Error(`ready not resolved within ${t} ms`)), t))]), ms);
}

interface FirefoxVisitor extends Visitor {
  context: PpContext;
  page: PpPage;
  /** `status()` read the moment `ready` resolved. */
  atReady: TabStatus;
}

/** Opens the app in a Firefox page (a window) of `context` and waits for its node. */
async function openFirefox(name: string, context: PpContext, url: string, opts: { offline?: boolean } = {}): Promise<FirefoxVisitor> {
  const page = await context.newPage({ type: 'window' });
  const errors: string[] = [];
  page.on('pageerror', (e) => {
    const message = (e as Error).message;
    // Firefox reports a refused WebSocket (the stopped relay, redialled) as a page error, where
    // Chromium logs it to the console; it is the network's word, not an exception of the app.
    if (!FIREFOX_SOCKET_REFUSED.test(message)) errors.push(`pageerror: ${message}`);
  });
  if (opts.offline) await page.setOfflineMode(true);
  await page.goto(url);
  await firefoxReady(page);
  const v = visitor(name, (arg) => page.evaluate(inPage, arg), errors);
  return { ...v, context, page, atReady: await v.call<TabStatus>('status') };
}

let releaseSlot: (() => Promise<void>) | undefined;
let relay: RelayProcess | undefined;
let firefox: PpBrowser | undefined;
let chromium: PwBrowser | undefined;
let f1: FirefoxVisitor;
let f2: FirefoxVisitor;
let c: Visitor & { page: PwPage };
const all = (): Visitor[] => [f1, f2, c];

const status = (v: Visitor) => v.call<TabStatus>('status');

/** Waits until `v`'s status satisfies `pred`; the error says what was awaited and where it stood. */
async function until(v: Visitor, what: string, pred: (s: TabStatus) => boolean, ms = HEIGHT_WAIT_MS): Promise<TabStatus> {
  const end = Date.now() + ms;
  for (;;) {
    const s = await status(v);
    if (pred(s)) return s;
    if (Date.now() > end) throw new Error(`${v.name}: ${what} not reached within ${ms} ms: ${JSON.stringify({ height: s.height, tip: s.tip, peers: s.peers })}`);
    await sleep(250);
  }
}

/** Every visitor at `height` or above with one tip; returns it. */
async function allAt(height: number, who: Visitor[] = all()): Promise<string> {
  await Promise.all(who.map((v) => v.call('waitForHeight', height, HEIGHT_WAIT_MS)));
  // The highest of them is where all must meet (a tab that mined on may be ahead).
  const top = Math.max(...(await Promise.all(who.map(status))).map((s) => s.height));
  const tips = await Promise.all(who.map((v) => until(v, `height ${top}`, (s) => s.height >= top).then((s) => s.tip)));
  expect(new Set(tips).size, `tips ${tips.join(', ')}`).toBe(1);
  return tips[0];
}

/** Waits until every visitor has a direct WebRTC connection to each other one. */
async function fullWebrtcMesh(): Promise<TabStatus[]> {
  const end = Date.now() + PEER_WAIT_MS;
  for (;;) {
    const statuses = await Promise.all(all().map(status));
    const ids = statuses.map((s) => s.peerId);
    if (ids.every((id) => id !== '') && statuses.every((s, i) => hasWebrtcTo(s, ids.filter((_, j) => j !== i)))) return statuses;
    if (Date.now() > end) {
      const view = statuses.map((s, i) => `${all()[i].name} ${s.peerId || '(no peer id)'}: ${s.peers.map((p) => `${p.id.slice(-6)}/${p.transport}`).join(' ')}`);
      throw new Error(`no full WebRTC mesh within ${PEER_WAIT_MS} ms:\n${view.join('\n')}`);
    }
    await sleep(250);
  }
}

beforeAll(async () => {
  releaseSlot = await e2eSlot();
  relay = await startRelay(await ensureDist(), 'dev');
  firefox = await launchFirefox();
  chromium = await launchChromium();
  f1 = await openFirefox('F1', await firefox.createBrowserContext(), relay.url);
  f2 = await openFirefox('F2', await firefox.createBrowserContext(), relay.url);
  const page = await (await chromium.newContext()).newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  await page.goto(relay.url);
  await page.evaluate(() => window.tabchain.ready);
  c = { ...visitor('C', (arg) => page.evaluate(inPage, arg), errors), page };
}, 600_000);

afterAll(async () => {
  await firefox?.close().catch(() => undefined);
  await chromium?.close().catch(() => undefined);
  await relay?.stop();
  await releaseSlot?.();
});

describe('Firefox ESR beside Chromium, over the real relay', { timeout: 180_000 }, () => {
  it('Firefox loads the app, and knows its peer id as soon as ready resolves', async () => {
    for (const f of [f1, f2]) {
      expect(await f.page.evaluate(() => navigator.userAgent), f.name).toMatch(/Firefox\//);
      expect(f.atReady.network).toBe('dev');
      expect(f.atReady.peerId, `${f.name}: status().peerId right after ready`).toMatch(/^12D3KooW/);
      expect(f.atReady.address).toMatch(/^tabdev1/);
    }
    expect(f1.atReady.peerId).not.toBe(f2.atReady.peerId);
  });

  it('direct WebRTC between the Firefox tabs, and between Firefox and Chromium', async () => {
    const statuses = await fullWebrtcMesh();
    // The peer id shown before the network ran is the one the network has.
    expect(statuses[0].peerId).toBe(f1.atReady.peerId);
    expect(statuses[1].peerId).toBe(f2.atReady.peerId);
    expect(new Set(statuses.map((s) => s.peerId)).size).toBe(3);
  });

  it('Firefox mines with a pool of two workers; blocks travel to Chromium and back', async () => {
    const start = (await status(f1)).height;
    await f1.call('startMining', { workers: 2 });
    try {
      const s = await until(f1, '3 blocks mined by the pool', (x) => x.height >= start + 3);
      expect(s.mining).toBe(true);
      expect(s.workers).toBe(2);
    } finally {
      await f1.call('stopMining');
    }
    expect((await status(f1)).mining).toBe(false);
    await allAt((await status(f1)).height);
    // Chromium → Firefox.
    const hashes = await c.call<string[]>('mineBlocks', 3);
    expect(await allAt((await status(c)).height)).toBe(hashes[2]);
  });

  it('an item offer made in Firefox is taken from Chromium; all three agree', async () => {
    const addrF1 = (await status(f1)).address;
    const addrC = (await status(c)).address;
    // C's coinbases of the last test mature with these (maturity 2 on dev).
    await c.call('mineBlocks', 2);
    await allAt((await status(c)).height);
    const { itemId } = await f1.call<{ itemId: string }>('createItem', 'FOX-1', 'Firefox mug', 40);
    await f1.call('mineBlocks', 1);
    await allAt((await status(f1)).height);
    const offerId = await f1.call<string>('createOffer', { give: { asset: itemId, amount: '4' }, want: { asset: 'coin', amount: '700' }, lots: 5 });
    await f1.call('mineBlocks', 1);
    await allAt((await status(f1)).height);
    for (const v of all()) expect((await v.call<{ offerId: string; lotsLeft: number }[]>('offers')).find((o) => o.offerId === offerId)?.lotsLeft, v.name).toBe(5);

    const accept = await c.call<string>('acceptOffer', offerId, 3);
    // F2 mines it: the accept came from Chromium to Firefox as a gossiped transaction.
    await until(f2, 'the accept in its mempool', (s) => s.mempool >= 1);
    await f2.call('mineBlocks', 1);
    await allAt((await status(f2)).height);
    expect((await c.call<{ state: string }>('txStatus', accept)).state).toBe('confirmed');

    const views = await Promise.all(
      all().map(async (v) => ({
        invF1: await v.call('inventory', addrF1),
        invC: await v.call<{ itemId: string; quantity: number }[]>('inventory', addrC),
        balF1: await v.call('balance', addrF1),
        balC: await v.call('balance', addrC),
        offers: await v.call('offers'),
      })),
    );
    for (const v of views) expect(v).toEqual(views[0]);
    expect(views[0].invC.find((i) => i.itemId === itemId)?.quantity).toBe(12);
  });

  it('a reload in Firefox keeps the profile and peer id, and reconnects over WebRTC', async () => {
    const before = await status(f2);
    const balance = await f2.call('balance');
    await f2.page.reload();
    await firefoxReady(f2.page);
    const after = await status(f2);
    expect({ address: after.address, profile: after.profile, peerId: after.peerId }).toEqual({ address: before.address, profile: before.profile, peerId: before.peerId });
    expect(after.height).toBeGreaterThanOrEqual(before.height);
    expect(await f2.call('balance')).toBe(balance);
    await fullWebrtcMesh();
    const hashes = await f2.call<string[]>('mineBlocks', 1);
    expect(await allAt(after.height + 1)).toBe(hashes[0]);
  });

  it('offline, a second Firefox tab starts from the service worker and meets the first over the tab mesh', async () => {
    // A worker controls the page only once installed, and it installs only with the app precached
    // (the "ready to work offline" notice said so minutes ago, and has gone since).
    await f1.page.waitForFunction(() => navigator.serviceWorker.controller !== null, { timeout: 60_000 });
    await relay!.stop();
    const second = await openFirefox('F1b', f1.context, relay!.url, { offline: true });
    expect(await second.page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
    expect(second.atReady.profile).not.toBe(f1.atReady.profile); // another tab, another profile
    const s2 = await until(second, "a 'tab' peer", (s) => s.peers.some((p) => p.transport === 'tab'));
    expect(s2.peers.find((p) => p.transport === 'tab')?.id).toBe(f1.atReady.peerId);
    const tip = (await status(f1)).tip;
    await until(second, "the first tab's tip", (s) => s.tip === tip);
    // And back: a block mined in the offline tab reaches the first over the mesh.
    const [mined] = await second.call<string[]>('mineBlocks', 1);
    await until(f1, 'the block mined in the offline tab', (s) => s.tip === mined);
    expect([...f1.errors, ...f2.errors, ...second.errors, ...c.errors]).toEqual([]);
  });
});
