/**
 * The same-browser tab mesh, end to end (Chromium, the built app with its service worker, the
 * real relay; harness.ts): one browser context; the first page installs the service worker; then
 * the relay stops and the context goes offline; a second page of the same browser loads from the
 * cache, reaches ready, meets the first over the BroadcastChannel mesh (a 'tab' peer), syncs its
 * chain, and the two trade (an item created in one is visible in the other) and mine on one chain.
 * The isolate switch then makes the second page an island of one, and switching it off rejoins.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPage, pageStatus, startE2e, untilStatus, waitInPage, type E2e, type Visitor } from './harness.ts';
import type { TabchainApiExtended } from '../../src/node/api.ts';

let e2e: E2e;
let first: Visitor;

beforeAll(async () => {
  e2e = await startE2e();
  first = await e2e.visit();
}, 600_000);

afterAll(async () => {
  await e2e?.close();
});

const status = pageStatus;

/** Polls `page`'s status until `pred` holds (generous but finite). */
const until = untilStatus;

describe('tab mesh (offline, one browser)', { timeout: 240_000 }, () => {
  it('a second page loaded offline meets the first as a tab peer, syncs, trades and mines on one chain', async () => {
    await first.page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 60_000 });
    await first.page.waitForSelector('[data-testid=pwa-offline-ready]', { timeout: 60_000 });
    await first.page.evaluate(() => window.tabchain.mineBlocks(3));
    await e2e.relay.stop();
    await first.context.setOffline(true);

    const second = await openPage(first.context, e2e.url);
    expect(await second.page.evaluate(() => navigator.onLine)).toBe(false);
    const s2 = await until(second.page, (s) => s.peers.some((p) => p.transport === 'tab'), "a 'tab' peer");
    expect(s2.online).toBe(false);
    const firstId = (await status(first.page)).peerId;
    expect(s2.peers.find((p) => p.transport === 'tab')?.id).toBe(firstId);

    // The second page syncs the first's chain over the mesh.
    const s1 = await status(first.page);
    expect(s1.height).toBeGreaterThanOrEqual(3);
    await until(second.page, (s) => s.tip === s1.tip, "the first page's tip");

    // Trade: the second page's miner earns coins, creates an item; the first sees it.
    await second.page.evaluate(() => window.tabchain.mineBlocks(4));
    const { txid: itemTx } = await second.page.evaluate(() => window.tabchain.createItem('MESH-1', 'Mesh apple', 5));
    expect(typeof itemTx).toBe('string');
    // First mines the item's transaction (it came over the mesh into its mempool).
    await waitInPage(first.page, async (txid) => (await window.tabchain.txStatus(txid)).state !== 'unknown', itemTx, { what: 'the item transaction known to the first page', timeout: 60_000 });
    await first.page.evaluate(() => window.tabchain.mineBlocks(1));
    const tip = (await status(first.page)).tip;
    await until(second.page, (s) => s.tip === tip, "the block the first page mined");
    await waitInPage(second.page, async (txid) => (await window.tabchain.txStatus(txid)).state === 'confirmed', itemTx, { what: 'the item transaction confirmed on the second page', timeout: 60_000 });
    const items = await first.page.evaluate(() => (window.tabchain as unknown as TabchainApiExtended).allItems());
    expect(JSON.stringify(items)).toContain('MESH-1');
    await e2e.screenshot(second.page, 'mesh-second-page');

    // Isolate the second page: it drops the first; blocks mined on the first no longer arrive.
    await second.page.evaluate(() => (location.hash = '#network'));
    await second.page.getByTestId('isolate-switch').check();
    await second.page.getByTestId('isolated-badge').waitFor();
    expect(await second.page.evaluate(() => (window.tabchain as unknown as TabchainApiExtended).isolated())).toBe(true);
    await until(second.page, (s) => !s.peers.some((p) => p.transport === 'tab'), 'no tab peer while isolated');
    await until(first.page, (s) => !s.peers.some((p) => p.transport === 'tab'), 'the first page sees it leave');
    const [islandTip] = await first.page.evaluate(() => window.tabchain.mineBlocks(1));
    await second.page.waitForTimeout(1000);
    expect((await status(second.page)).tip).not.toBe(islandTip);
    // Switched off: they meet again and the second catches up.
    await e2e.screenshot(second.page, 'mesh-isolated');
    await second.page.getByTestId('isolate-switch').uncheck();
    await second.page.getByTestId('isolated-badge').waitFor({ state: 'detached' });
    await until(second.page, (s) => s.tip === islandTip, 'catch-up after the isolation');
    expect([...first.errors.filter((e) => e.startsWith('pageerror')), ...second.errors]).toEqual([]);
  });
});
