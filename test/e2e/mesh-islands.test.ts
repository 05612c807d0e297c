/**
 * Two offline islands merge, end to end (Chromium, the built app, a relay of our own so that it
 * can come back on the same port): two browser contexts ("computers"), each with two tabs that
 * meet over the tab mesh only. Offline, each island mines its own chain; island Y confirms a
 * transaction of its own. Then the relay comes back and the contexts go online: all four tabs
 * converge on the chain with the most work (island X's), and Y's transaction — whose fee was
 * paid from y1's island-Y mining rewards, which do not exist on X's chain — is reported rejected
 * with its reason (INSUFFICIENT_FUNDS), never silently lost.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { startRelay as startRelayInProcess, type Relay } from '../../relay/server.ts';
import { ensureDist, openPage, pageStatus, startE2e, untilStatus, waitInPage, type E2e, type PageStatus } from './harness.ts';

let e2e: E2e;
let relay: Relay | undefined;
let dataDir = '';
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  e2e = await startE2e();
  dataDir = await mkdtemp(join(tmpdir(), 'tabchain-e2e-islands-relay-'));
}, 600_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await relay?.close();
  await e2e?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

type Status = PageStatus;
const status = pageStatus;

const until = (page: Page, pred: (s: Status) => boolean, what: string, ms = 90_000) => untilStatus(page, pred, what, ms);

const open = async (context: BrowserContext, url: string): Promise<Page> => (await openPage(context, url, pageErrors)).page;

describe('two offline islands merge', { timeout: 420_000 }, () => {
  it('each island mines on its own; back online all four tabs converge on the most-work chain', async () => {
    const distDir = await ensureDist();
    const relayOn = (port: number) => startRelayInProcess({ port, host: '127.0.0.1', network: 'dev', distDir, dataDir, wsPort: 0 });
    relay = await relayOn(0);
    const port = relay.port;
    const origin = `http://127.0.0.1:${port}/`;

    // Each "computer" installs the app once (service worker, precache), then goes offline.
    const islands: Page[][] = [];
    for (let i = 0; i < 2; i++) {
      const context = await e2e.browser.newContext({ viewport: { width: 1280, height: 900 } });
      contexts.push(context);
      const page = await open(context, origin);
      await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 60_000 });
      await page.waitForSelector('[data-testid=pwa-offline-ready]', { timeout: 60_000 });
      await page.close(); // no connection survives between the computers
    }
    await relay.close();
    relay = undefined;
    for (const c of contexts) await c.setOffline(true);
    for (const c of contexts) islands.push([await open(c, origin), await open(c, origin)]);
    const [[x1, x2], [y1, y2]] = islands;
    for (const [a, b] of islands) {
      const bId = (await until(b, (s) => s.peerId !== '', 'a peer id')).peerId;
      await until(a, (s) => s.peers.some((p) => p.transport === 'tab' && p.id === bId), 'the island partner as a tab peer');
    }

    // Island Y: mines, then confirms a transaction of its own (an item of y1's).
    await y1.evaluate(() => window.tabchain.mineBlocks(3));
    const { txid } = await y1.evaluate(() => window.tabchain.createItem('ISLAND-Y', 'Island apple', 3));
    await waitInPage(y2, async (id) => (await window.tabchain.txStatus(id)).state !== 'unknown', txid, { what: 'the transaction known on y2', timeout: 60_000 });
    await y2.evaluate(() => window.tabchain.mineBlocks(1));
    await waitInPage(y1, async (id) => (await window.tabchain.txStatus(id)).state === 'confirmed', txid, { what: 'the transaction confirmed on y1', timeout: 60_000 });
    const yTip = (await status(y2)).tip;
    // Island X: more blocks, so more work (same difficulty on dev).
    await x1.evaluate(() => window.tabchain.mineBlocks(5));
    await x2.evaluate(() => window.tabchain.mineBlocks(3));
    const xTip = (await until(x1, (s) => s.height === 8, 'island X at height 8')).tip;
    expect((await status(y1)).tip).toBe(yTip); // the islands did not meet

    // The network comes back: the relay on the same port, the computers online.
    relay = await relayOn(port);
    for (const c of contexts) await c.setOffline(false);
    for (const p of [x1, x2, y1, y2]) await until(p, (s) => s.tip === xTip || s.height > 8, 'convergence on the most-work chain', 180_000);
    // One more block on the merged chain carries Y's transaction if it is still valid.
    const [merged] = await x1.evaluate(() => window.tabchain.mineBlocks(1));
    for (const p of [x1, x2, y1, y2]) await until(p, (s) => s.tip === merged, 'the block mined after the merge', 120_000);
    // y1 has no coins on X's chain: its transaction cannot come back and says why.
    expect(await y1.evaluate((id) => window.tabchain.txStatus(id), txid)).toMatchObject({ state: 'rejected', error: 'INSUFFICIENT_FUNDS' });
    expect(await y1.evaluate(() => window.tabchain.balance())).toBe('0');
    // A tab reached both over WebRTC and the mesh is listed once per carrier.
    await y1.evaluate(() => (location.hash = '#network'));
    await y1.getByTestId('peers-table').waitFor();
    await e2e.screenshot(y1, 'mesh-islands-merged');
    expect(pageErrors).toEqual([]);
  });
});
