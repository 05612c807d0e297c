/**
 * Profiles and wallet backups through the Profile view, as a person does it: name this profile,
 * export a backup (a real download), open a new profile, restore the backup file into it, switch
 * back to the first profile — its chain, name and wallet exactly as left — and delete the other.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startE2e, type E2e } from './harness.ts';

let e2e: E2e;
let page: Page;
const pageErrors: string[] = [];

type Status = Awaited<ReturnType<Window['tabchain']['status']>>;
const status = (): Promise<Status> => page.evaluate(async () => (await window.tabchain.ready, window.tabchain.status()));
const nav = (view: string) => page.evaluate((v) => (location.hash = `#${v}`), view);

beforeAll(async () => {
  e2e = await startE2e();
  ({ page } = await e2e.visit());
  page.on('pageerror', (e) => pageErrors.push(e.message));
}, 600_000);

afterAll(async () => {
  await e2e?.close();
});

describe('profiles and backups', { timeout: 240_000 }, () => {
  it('name, export, new profile, restore the file there, switch back, delete the other', async () => {
    await page.evaluate(() => window.tabchain.mineBlocks(3));
    const first = await status();

    // Name this profile.
    await nav('profile');
    await page.getByLabel('Name').fill('Shop till');
    await page.getByRole('button', { name: 'Save name' }).click();
    await page.getByRole('region', { name: 'Profiles in this browser' }).getByText('Shop till').waitFor();

    // Export a backup: a real download.
    const exportForm = page.getByRole('region', { name: 'Back up this wallet' });
    await exportForm.getByLabel('Passphrase', { exact: true }).fill('correct horse');
    await exportForm.getByLabel('Passphrase again').fill('correct horse');
    const [download] = await Promise.all([page.waitForEvent('download'), exportForm.getByRole('button', { name: 'Export backup' }).click()]);
    expect(download.suggestedFilename()).toBe(`tabchain-wallet-dev-${first.address.slice(-8)}.json`);
    const file = await download.path();
    expect(JSON.parse(await readFile(file, 'utf8'))).toBeTypeOf('object');
    await exportForm.getByRole('status').waitFor();

    // A new profile: another node and wallet in this tab.
    await page.getByRole('link', { name: 'New profile' }).click();
    await page.waitForURL((u) => u.search === ''); // the page took its new profile (?profile=new is gone)
    const second = await status();
    expect(second.profile).not.toBe(first.profile);
    expect(second.address).not.toBe(first.address);

    // Restore the downloaded file into it: the first wallet's address here.
    await nav('profile');
    const restore = page.getByRole('region', { name: 'Restore a wallet' });
    await restore.getByLabel('Backup file').setInputFiles(file);
    await restore.getByLabel('Passphrase').fill('correct horse');
    await restore.getByLabel("Replace this profile's wallet").check();
    await restore.getByRole('button', { name: 'Restore wallet' }).click();
    await restore.getByRole('status').waitFor({ timeout: 60_000 });
    expect((await status()).address).toBe(first.address);

    // Switch back: the first profile exactly as it was left.
    const list = page.getByRole('region', { name: 'Profiles in this browser' });
    await list.getByRole('listitem').filter({ hasText: 'Shop till' }).getByRole('link', { name: 'Switch' }).click();
    await page.waitForURL((u) => u.search === '');
    const back = await status();
    expect(back).toMatchObject({ profile: first.profile, address: first.address, height: first.height, tip: first.tip });

    // Delete the second profile (with the confirmation step).
    await nav('profile');
    const other = list.getByRole('listitem').filter({ hasText: second.profile });
    await other.getByRole('button', { name: 'Delete' }).click();
    await other.getByRole('button', { name: 'Delete for good' }).click();
    await expect.poll(() => page.evaluate(async () => (await (window.tabchain as unknown as { profiles(): Promise<{ id: string }[]> }).profiles()).map((p) => p.id))).toEqual([first.profile]);
    await e2e.screenshot(page, 'profiles');
    expect(pageErrors).toEqual([]);
  });
});
