/**
 * docs/DEMO.md, walked through: three tabs of one browser (Tab A, B, C), the "Isolate this tab"
 * switch clicked in the Network view, the fork tree and reorg log read from the Chain view, the
 * transaction states from the Wallet view. Mining and trading go through window.tabchain (their
 * clicks are covered by ui.test.ts); what a class is told to look at is checked on the page.
 * - Before class: the tabs meet as 'tab' peers and share one chain; every tab has mined.
 * - Scenario 1: a fork and its reorg, seen in the fork tree.
 * - Scenario 3: an offer with one lot taken on two islands; after the merge one acceptance stands
 *   and the other is reported rejected with its reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openPage, pageStatus, startE2e, untilStatus, waitInPage, type E2e, type PageStatus } from './harness.ts';

let e2e: E2e;
let A: Page, B: Page, C: Page;
const pageErrors: string[] = [];

type Status = PageStatus;
const status = pageStatus;
const mine = (page: Page, n: number) => page.evaluate((k) => window.tabchain.mineBlocks(k), n);

const until = untilStatus;

/** Ticks or unticks "Isolate this tab" in the page's Network view, as the class is told to. */
async function isolate(page: Page, on: boolean): Promise<void> {
  await page.evaluate(() => (location.hash = '#network'));
  const box = page.getByTestId('isolate-switch');
  if (on) await box.check();
  else await box.uncheck();
  if (on) await page.getByTestId('isolated-badge').waitFor();
  else await page.getByTestId('isolated-badge').waitFor({ state: 'detached' });
}

const tabPeers = (s: Status) => s.peers.filter((p) => p.transport === 'tab').length;

beforeAll(async () => {
  e2e = await startE2e();
  const { context, page } = await e2e.visit();
  A = page;
  A.on('pageerror', (e) => pageErrors.push(e.message));
  B = (await openPage(context, e2e.url, pageErrors)).page;
  C = (await openPage(context, e2e.url, pageErrors)).page;
}, 600_000);

afterAll(async () => {
  await e2e?.close();
});

describe('docs/DEMO.md in one browser', { timeout: 300_000 }, () => {
  it('before class: the three tabs are "Same browser" peers on one chain, and each has mined', async () => {
    for (const p of [A, B, C]) await until(p, (s) => tabPeers(s) === 2, 'both other tabs as Same browser peers');
    await A.evaluate(() => (location.hash = '#network'));
    expect(await A.getByTestId('peers-table').textContent()).toContain('Same browser');
    await mine(A, 5);
    await mine(B, 3);
    await mine(C, 3); // Tab C needs coins of its own for scenario 3
    const tip = (await status(C)).tip;
    for (const p of [A, B]) await until(p, (s) => s.tip === tip, 'one chain in all tabs');
    for (const p of [A, B, C]) expect(BigInt(await p.evaluate(() => window.tabchain.balance()))).toBeGreaterThan(0n);
  });

  it('scenario 1: a fork and its reorg, seen in the fork tree', async () => {
    await isolate(A, true);
    await until(A, (s) => s.peers.length === 0, 'Tab A alone');
    const h = (await status(A)).height;
    const [lost] = await mine(A, 1);
    await mine(B, 2);
    expect((await status(A)).height).toBe(h + 1);
    const bTip = (await until(C, (s) => s.height === h + 2, 'Tab C follows Tab B')).tip;
    await A.evaluate(() => (location.hash = '#chain'));
    await A.getByTestId('fork-tree').waitFor();
    expect(await A.locator('[data-testid=fork-tree] a[aria-label$="side branch"]').count()).toBe(0);

    await isolate(A, false);
    await until(A, (s) => s.tip === bTip, "Tab A switching to Tab B's branch");
    await A.evaluate(() => (location.hash = '#chain'));
    // Tab A's block is on a side branch next to the active chain; the reorg is in the log.
    await A.locator(`[data-testid=fork-tree] a[href*="${lost}"][aria-label$="side branch"]`).waitFor();
    expect(await A.getByTestId('reorg-log').textContent()).toMatch(new RegExp(`At height ${h + 1}:\\s*1 block replaced by 2`));
    await A.waitForFunction((height) => document.querySelector('[data-testid=height]')?.textContent === String(height), h + 2);
    await e2e.screenshot(A, 'demo-1-fork-tree');
  });

  it('scenario 3: an offer taken on two islands — one acceptance stands, the other is rejected with its reason', async () => {
    const { itemId } = await A.evaluate(() => window.tabchain.createItem('APPLE', 'Apple', 10));
    await mine(A, 1);
    const offerId = await A.evaluate((id) => window.tabchain.createOffer({ give: { asset: id, amount: '10' }, want: { asset: 'coin', amount: '500000000' }, lots: 1 }), itemId);
    await mine(A, 1);
    for (const p of [B, C]) await waitInPage(p, async (id) => (await window.tabchain.offers()).some((o) => o.offerId === id), offerId, { what: 'the apple offer', timeout: 60_000 });

    await isolate(B, true);
    await until(B, (s) => s.peers.length === 0, 'Tab B alone');
    const bTake = await B.evaluate((id) => window.tabchain.acceptOffer(id, 1), offerId);
    await mine(B, 1);
    expect(await B.evaluate((id) => window.tabchain.txStatus(id), bTake)).toMatchObject({ state: 'confirmed' });
    const cTake = await C.evaluate((id) => window.tabchain.acceptOffer(id, 1), offerId);
    await mine(C, 2);

    await isolate(B, false);
    const cTip = (await status(C)).tip;
    await until(B, (s) => s.tip === cTip, "Tab B switching to the {A, C} chain");
    // B's acceptance comes back rejected, with the reason; the apples are C's everywhere.
    await waitInPage(B, async (id) => (await window.tabchain.txStatus(id)).state === 'rejected', bTake, { what: "B's acceptance rejected", timeout: 60_000 });
    expect(await B.evaluate((id) => window.tabchain.txStatus(id), bTake)).toMatchObject({ state: 'rejected', error: 'OFFER_NOT_FOUND' });
    expect(await C.evaluate((id) => window.tabchain.txStatus(id), cTake)).toMatchObject({ state: 'confirmed' });
    const holdings = async (p: Page) => (await p.evaluate(() => window.tabchain.inventory())).filter((i) => i.itemId === itemId).map((i) => i.quantity);
    expect(await holdings(B)).toEqual([]);
    expect(await holdings(C)).toEqual([10]);
    // What the class sees in Tab B: the transaction marked rejected with its reason, and the reorg.
    await B.evaluate(() => (location.hash = '#wallet'));
    const row = B.locator(`[data-testid=tx-row][data-txid="${bTake}"]`);
    await row.and(B.locator('[data-state=rejected]')).waitFor();
    expect(await row.textContent()).toContain('That offer is no longer open: it was taken, cancelled or has expired.');
    await e2e.screenshot(B, 'demo-3-rejected-take');
    await B.evaluate(() => (location.hash = '#chain'));
    expect(await B.getByTestId('reorg-log').textContent()).toMatch(/1 block replaced by/);
    expect(pageErrors).toEqual([]);
  });
});
