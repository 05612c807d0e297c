/**
 * A tab whose browser storage fills up, for real: Chromium's quota for the page's origin is cut
 * (DevTools protocol `Storage.overrideQuotaForOrigin`) to just above what it uses, and the tab
 * mines until IndexedDB refuses a write. The user is told in words (the Mine view and the API say
 * QUOTA_EXCEEDED), the chain stays exactly as last stored — a reload opens at the same block —
 * and once there is room again the same tab mines on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2e, type E2e } from './harness.ts';

let e2e: E2e;

beforeAll(async () => {
  e2e = await startE2e();
}, 600_000);

afterAll(async () => {
  await e2e?.close();
});

type Status = { height: number; tip: string; profile: string };
type Failure = { code?: string; message: string } | null;

describe('storage full', { timeout: 300_000 }, () => {
  it('says so, keeps the chain as stored across a reload, and mines on once there is room', async () => {
    const { page } = await e2e.visit();
    const status = () => page.evaluate(async () => (await window.tabchain.ready, window.tabchain.status()) as Promise<Status>);
    const mineSome = () =>
      page.evaluate(async (): Promise<Failure> => {
        try {
          await window.tabchain.mineBlocks(5);
          return null;
        } catch (e) {
          return { code: (e as { code?: string }).code, message: (e as Error).message };
        }
      });
    expect(await mineSome()).toBeNull();
    const before = await status();

    // Only a little room left for this origin.
    const cdp = await page.context().newCDPSession(page);
    const origin = new URL(e2e.url).origin;
    const usage = await page.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: usage + 16 * 1024 });

    let failure: Failure = null;
    for (let i = 0; i < 400 && failure === null; i++) failure = await mineSome();
    expect(failure).toMatchObject({ code: 'QUOTA_EXCEEDED' });
    expect(failure!.message).toMatch(/storage is full.*left at block \d+/);
    const full = await status();
    expect(full.height).toBeGreaterThan(before.height);
    expect(full.height).toBe(Number(/left at block (\d+)/.exec(failure!.message)![1]));

    // The Mine view explains it in plain words.
    await page.evaluate(() => (location.hash = '#mine'));
    await page.click('[data-testid=mine-one]');
    await page.getByTestId('miner-error').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('miner-error').textContent()).toContain('Browser storage is full. Free some space or delete old profiles.');
    // The page-wide notice says where the chain stands, once however many writes were refused.
    const notices = await page.getByTestId('notice').allTextContents();
    expect(notices.filter((t) => t.includes(`storage is full`))).toEqual([expect.stringContaining(`the chain was left at block ${full.height}`)]);
    await e2e.screenshot(page, 'storage-full');

    // A reload opens the same profile at the very block the chain was left at.
    await page.reload();
    const reopened = await status();
    expect(reopened).toMatchObject({ profile: full.profile, height: full.height, tip: full.tip });

    // Room again (the override lifted): the same tab mines on from there.
    await cdp.send('Storage.overrideQuotaForOrigin', { origin });
    expect(await mineSome()).toBeNull();
    expect((await status()).height).toBeGreaterThan(full.height);
  });
});
