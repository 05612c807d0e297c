/**
 * The app through its real page, as a newcomer uses it: clicks and form input in Chromium,
 * served by the real relay (dev network). One visitor (profile) does everything the page offers
 * without the network; a second isolated visitor provides a second wallet key. Screenshots of the
 * main views are saved to test/e2e/artifacts/.
 *
 * Taking an offer needs a key other than the maker's: the second visitor (its own browser context,
 * connected to the first through the relay) takes a lot through its own page; then its key is
 * also restored on the first page from a wallet backup (Profile → Restore a wallet), which shows a
 * refused take (not enough coins) and a successful one on the same page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { encodeAddress, publicKeyOf } from '../../src/chain/index.ts';
import { startE2e, waitInPage, type E2e, type Visitor } from './harness.ts';

let e2e: E2e;
let A: Visitor;
let B: Visitor;
let page: Page;

beforeAll(async () => {
  e2e = await startE2e();
  [A, B] = [await e2e.visit(), await e2e.visit()];
  page = A.page;
}, 600_000);

afterAll(async () => {
  await e2e?.close();
});

const status = (p: Page = page) => p.evaluate(() => window.tabchain.status());
const nav = (view: string) => page.click(`[data-testid=nav-${view}]`);
const headerHeight = () => page.evaluate(() => Number((document.querySelector('[data-testid=height]')?.textContent ?? '-1').replace(/,/g, '')));

/** Clicks "Mine just one block" and waits until the page shows the new height. */
async function mineOne(): Promise<void> {
  const h = (await status()).height;
  await nav('mine');
  await page.click('[data-testid=mine-one]');
  await page.waitForFunction((h) => Number((document.querySelector('[data-testid=height]')?.textContent ?? '0').replace(/,/g, '')) > h, h, { timeout: 60_000 });
}

async function fill(selector: string, value: string): Promise<void> {
  await page.fill(selector, value);
}

describe('the page, first visit to trading', { timeout: 180_000 }, () => {
  it('starts offline, explains the three steps, and never mines until asked', async () => {
    const s = await status();
    expect(s).toMatchObject({ network: 'dev', height: 0, mining: false });
    const intro = page.getByRole('region', { name: 'How this works' });
    await expect(intro.getByRole('heading', { level: 3 }).allTextContents()).resolves.toEqual(['Mine', 'You get coins', 'Create an item or trade']);
    expect(await page.textContent('[data-testid=network]')).toBe('dev');
    expect(await page.textContent('[data-testid=miner-state]')).toContain('never mines until you ask');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await e2e.screenshot(page, '01-first-visit');
  });

  it('mines from the Mine view: start, live hashrate and blocks found, stop', async () => {
    await page.click('[data-testid=start-mining]');
    await page.waitForFunction(() => Number((document.querySelector('[data-testid=height]')?.textContent ?? '0').replace(/,/g, '')) >= 4, null, { timeout: 90_000 });
    await page.waitForFunction(() => document.querySelector('[data-testid=hashrate]')?.textContent !== '0 H/s', null, { timeout: 30_000 });
    expect((await status()).mining).toBe(true);
    expect(Number(await page.textContent('[data-testid=blocks-found]').then((t) => t?.split(' ')[0]))).toBeGreaterThan(0);
    await e2e.screenshot(page, '02-mining');
    await page.click('[data-testid=stop-mining]');
    await page.waitForSelector('[data-testid=start-mining]');
    expect(await page.textContent('[data-testid=miner-state]')).toContain('Stopped');
    expect((await status()).mining).toBe(false);
    // The intro ticks off "Mine" and "You get coins".
    expect(await page.getByRole('region', { name: 'How this works' }).getByText('(done)').count()).toBe(2);
  });

  it('wallet: address with QR code, readable errors for bad input, send coins, pending → confirmed', async () => {
    await nav('wallet');
    const s = await status();
    expect(await page.textContent('[data-testid=address]')).toBe(s.address);
    await expect(page.getByRole('img', { name: 'QR code of your address' }).count()).resolves.toBe(1);

    // A typo (one character changed) fails the bech32m checksum: the page says so, nothing is sent.
    const last = s.address.at(-1)!;
    const typo = s.address.slice(0, -1) + (last === 'q' ? 'p' : 'q');
    await fill('[data-testid=send-to]', typo);
    await fill('[data-testid=send-amount]', '1');
    await page.click('[data-testid=send-submit]');
    expect(await page.textContent('[data-testid=send-to-error]')).toContain('checksum does not match');
    // An address of another network.
    await fill('[data-testid=send-to]', encodeAddress(publicKeyOf(new Uint8Array(32).fill(9)), 'tab'));
    await page.click('[data-testid=send-submit]');
    expect(await page.textContent('[data-testid=send-to-error]')).toContain('addresses here start with tabdev1');
    expect((await status()).mempool).toBe(0);
    // More than the balance.
    const bAddress = (await status(B.page)).address;
    await fill('[data-testid=send-to]', bAddress);
    await fill('[data-testid=send-amount]', '99999999');
    await page.click('[data-testid=send-submit]');
    await page.getByText('You can send at most').waitFor();
    expect((await status()).mempool).toBe(0);

    await fill('[data-testid=send-amount]', '10');
    await page.click('[data-testid=send-submit]');
    // Nothing leaves the tab before the review is confirmed.
    expect(await page.textContent('[data-testid=send-review]')).toContain('You are sending 10 TAB to');
    expect((await status()).mempool).toBe(0);
    await page.click('[data-testid=send-review-confirm]');
    await page.waitForSelector('[data-testid=send-ok]');
    const row = page.locator('[data-testid=tx-row]').first();
    expect(await row.getAttribute('data-state')).toBe('pending');
    expect(await row.textContent()).toContain('Sent 10 TAB to');
    await e2e.screenshot(page, '03-wallet-pending');

    await mineOne();
    await nav('wallet');
    await page.waitForSelector('[data-testid=tx-row][data-state=confirmed]');
    expect(await page.locator('[data-testid=tx-row]').first().textContent()).toContain('Confirmed (1)');
    expect(await page.evaluate((b) => window.tabchain.balance(b), bAddress)).toBe('1000000000');
    await e2e.screenshot(page, '04-wallet');
  });

  it('items: create an item, see it once a block has it, restock it; a duplicate SKU is explained', async () => {
    await nav('items');
    await fill('[data-testid=item-sku]', 'MUG-BLUE');
    await fill('[data-testid=item-name]', 'Blue mug');
    await fill('[data-testid=item-quantity]', '20');
    await page.click('[data-testid=item-create]');
    await page.click('[data-testid=item-review-confirm]');
    await page.waitForSelector('[data-testid=item-ok]');
    await page.getByText('Waiting for a block').waitFor();
    await mineOne();
    await nav('items');
    const mug = page.locator('[data-testid=my-item][data-sku=MUG-BLUE]');
    await mug.waitFor();
    expect(await mug.locator('[data-testid=my-item-qty]').textContent()).toBe('20');

    await mug.getByRole('button', { name: 'Restock' }).click();
    await page.getByRole('form', { name: 'Item action' }).getByLabel('Quantity').fill('5');
    await page.getByRole('form', { name: 'Item action' }).getByRole('button', { name: 'Review' }).click();
    await page.getByRole('form', { name: 'Item action' }).getByRole('button', { name: 'Restock' }).click();
    await page.waitForSelector('[data-testid=item-action-ok]');
    await mineOne();
    await nav('items');
    await page.waitForFunction(() => document.querySelector('[data-sku=MUG-BLUE] [data-testid=my-item-qty]')?.textContent === '25');

    await fill('[data-testid=item-sku]', 'MUG-BLUE');
    await fill('[data-testid=item-name]', 'Another mug');
    await fill('[data-testid=item-quantity]', '1');
    await page.click('[data-testid=item-create]');
    expect(await page.textContent('[data-testid=item-error]')).toContain('You already created an item with this SKU');
    expect(await page.locator('[data-testid=all-items] tbody tr').count()).toBe(1);
    await e2e.screenshot(page, '05-items');
  });

  it('market: make offers and cancel one', async () => {
    const [{ itemId }] = await page.evaluate(() => window.tabchain.inventory());
    const makeOffer = async (wantTab: string, lots: string) => {
      await page.selectOption('[data-testid=offer-give-asset]', itemId);
      await fill('[data-testid=offer-give-amount]', '1');
      await page.selectOption('[data-testid=offer-want-asset]', 'coin');
      await fill('[data-testid=offer-want-amount]', wantTab);
      await fill('[data-testid=offer-lots-total]', lots);
      await page.click('[data-testid=offer-create]');
      await page.click('[data-testid=offer-form-review-confirm]');
      await page.waitForSelector('[data-testid=offer-form-ok]');
    };
    await nav('market');
    await makeOffer('4', '3');
    await makeOffer('100', '1');
    await mineOne();
    await nav('market');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=offer-row]').length === 2);
    const cheap = page.locator('[data-testid=offer-row]', { hasText: '4 TAB each' });
    expect(await cheap.textContent()).toContain('3 of 3');
    expect(await page.locator('[data-testid=offer-take]').count()).toBe(0); // both are ours: cancel only

    await page.locator('[data-testid=offer-row]', { hasText: '100 TAB each' }).getByRole('button', { name: 'Cancel offer' }).click();
    await page.click('[data-testid=offer-review-confirm]');
    await page.waitForSelector('[data-testid=offer-ok]');
    await mineOne();
    await nav('market');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=offer-row]').length === 1);
    await e2e.screenshot(page, '06-market');
  });

  it('a second tab takes a lot of the offer through its own page, over the network', async () => {
    // B is another visitor (its own browser context and profile) connected to A through the relay.
    const b = B.page;
    await b.click('[data-testid=nav-market]');
    const offer = b.locator('[data-testid=offer-row]', { hasText: '4 TAB each' });
    await offer.locator('[data-testid=offer-take]').waitFor({ timeout: 90_000 }); // B has synced A's chain
    await offer.locator('[data-testid=offer-lots]').fill('1');
    await offer.locator('[data-testid=offer-take]').click();
    await offer.locator('[data-testid=offer-review-confirm]').click();
    await b.waitForSelector('[data-testid=offer-ok]');
    // A's node hears of the transaction and mines it.
    await waitInPage(page, async () => (await window.tabchain.status()).mempool > 0, null, { what: "B's transaction in A's mempool", timeout: 60_000 });
    await mineOne();
    await nav('market');
    await page.waitForFunction(() => document.querySelector('[data-testid=offer-row]')?.textContent?.includes('2 of 3'));
    await b.click('[data-testid=nav-items]');
    await b.waitForFunction(() => document.querySelector('[data-sku=MUG-BLUE] [data-testid=my-item-qty]')?.textContent === '1', null, { timeout: 60_000 });
    await e2e.screenshot(b, '07-second-tab-bought');
  });

  it('the second key restored from a backup on the first page: a readable refusal, then a take', async () => {
    // The second visitor's key comes to this page through a wallet backup (Profile → Restore).
    const backup = await B.page.evaluate(() => (window.tabchain as unknown as { exportWallet(p: string): Promise<string> }).exportWallet('correct horse battery'));
    const bAddress = (await status(B.page)).address;
    await nav('profile');
    await page.getByLabel('…or paste it').fill(backup);
    await page.getByRole('region', { name: 'Restore a wallet' }).getByLabel('Passphrase').fill('correct horse battery');
    await page.getByLabel("Replace this profile's wallet").check();
    await page.getByRole('button', { name: 'Restore wallet' }).click();
    await page.getByText('Wallet restored').waitFor({ timeout: 60_000 });
    expect((await status()).address).toBe(bAddress);

    // Now the offer is someone else's: it can be taken. 2 lots × 4 TAB > the ~6 TAB this key has left.
    await nav('market');
    const offer = page.locator('[data-testid=offer-row]', { hasText: '4 TAB each' });
    await offer.locator('[data-testid=offer-take]').waitFor();
    await offer.locator('[data-testid=offer-lots]').fill('2');
    await offer.locator('[data-testid=offer-take]').click();
    expect(await page.textContent('[data-testid=offer-error]')).toMatch(/^Not enough TAB: this needs 8\.\d+ TAB/);
    expect((await status()).mempool).toBe(0);
    await offer.locator('[data-testid=offer-lots]').fill('1');
    await offer.locator('[data-testid=offer-take]').click();
    await offer.locator('[data-testid=offer-review-confirm]').click();
    await page.waitForSelector('[data-testid=offer-ok]');
    await mineOne();
    await nav('market');
    await page.waitForFunction(() => document.querySelector('[data-testid=offer-row]')?.textContent?.includes('1 of 3'));
    await nav('items');
    await page.waitForFunction(() => document.querySelector('[data-sku=MUG-BLUE] [data-testid=my-item-qty]')?.textContent === '2');
    await e2e.screenshot(page, '08-items-bought');
  });

  it('explorer: search by height, block and transaction detail; an unknown search says so', async () => {
    await nav('explorer');
    await page.waitForSelector('[data-testid=latest-blocks] tbody tr');
    await e2e.screenshot(page, '09-explorer');
    await fill('[data-testid=explorer-search]', '2');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Block 2' }).waitFor();
    const detail = page.locator('[data-testid=block-detail]');
    expect(await detail.textContent()).toContain('Merkle root');
    await detail.locator('ul a.mono').first().click();
    await page.waitForSelector('[data-testid=tx-detail]');
    expect(await page.textContent('[data-testid=tx-detail]')).toContain('Mining reward');
    // The message takes the focus one frame after it appears; a search typed within that frame
    // keeps it (its Enter once went to the message on a loaded machine). Frames are held here so
    // the typing lands inside the frame every run.
    await page.evaluate(() => {
      const w = window as unknown as { __held: FrameRequestCallback[] | null; requestAnimationFrame: typeof requestAnimationFrame };
      const raf = w.requestAnimationFrame.bind(window);
      w.__held = [];
      w.requestAnimationFrame = (cb) => (w.__held ? (w.__held.push(cb), 0) : raf(cb));
    });
    await fill('[data-testid=explorer-search]', 'no-such-thing');
    await page.keyboard.press('Enter');
    expect(await page.textContent('[data-testid=search-message]')).toContain('Nothing found');
    await fill('[data-testid=explorer-search]', (await status()).address);
    await page.evaluate(() => {
      const w = window as unknown as { __held: FrameRequestCallback[] | null };
      const held = w.__held ?? [];
      w.__held = null;
      for (const cb of held) cb(performance.now());
    });
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=address-detail]');
    expect(await page.textContent('[data-testid=address-detail]')).toContain('Blue mug');
    await e2e.screenshot(page, '10-explorer-address');
  });

  it('chain, network and profile views', async () => {
    await nav('chain');
    await page.waitForSelector('[data-testid=fork-tree] circle');
    expect(await page.locator('[data-testid=fork-tree] circle').count()).toBeGreaterThan(5);
    await e2e.screenshot(page, '11-chain');
    await nav('network');
    // The panel shows exactly what status().peers says (the relay and other tabs once connected),
    // each peer with its score (a clean record is 0).
    await waitInPage(page, async () => {
      const peers = (await window.tabchain.status()).peers;
      const rows = document.querySelectorAll('[data-testid=peers-table] tbody tr').length;
      const scores = [...document.querySelectorAll('[data-testid=peer-score]')].map((td) => td.textContent);
      return peers.length === 0
        ? document.querySelector('[data-testid=no-peers]') !== null
        : rows === peers.length && scores.every((t) => /^-?\d+$/.test(t ?? ''));
    }, null, { what: 'the peers table showing status().peers with scores' });
    await e2e.screenshot(page, '12-network');
    await nav('profile');
    expect(await page.textContent('[data-testid=profile-id]')).toBe((await status()).profile);
    await e2e.screenshot(page, '13-profile');
  });

  it('window.tabchain: mineBlocks returns the new tip; a reload keeps chain, wallet and inventory', async () => {
    const hashes = await page.evaluate(() => window.tabchain.mineBlocks(2));
    const before = await status();
    expect(before.tip).toBe(hashes[1]);
    const inventory = await page.evaluate(() => window.tabchain.inventory());
    const balance = await page.evaluate(() => window.tabchain.balance());
    await page.reload();
    await page.evaluate(() => window.tabchain.ready);
    const after = await status();
    expect(after).toMatchObject({ profile: before.profile, address: before.address, height: before.height, tip: before.tip, mining: false });
    expect(await page.evaluate(() => window.tabchain.inventory())).toEqual(inventory);
    expect(await page.evaluate(() => window.tabchain.balance())).toBe(balance);
    await page.waitForFunction((h) => document.querySelector('[data-testid=height]')?.textContent === String(h), before.height);
    expect(await headerHeight()).toBe(before.height);
  });

  it('dark theme and a phone-sized screen', async () => {
    await nav('wallet');
    await page.getByRole('button', { name: 'Switch to dark theme' }).click();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    await e2e.screenshot(page, '14-wallet-dark');
    const phone = await e2e.visit({ path: '#wallet', viewport: { width: 390, height: 844 } });
    await phone.page.waitForSelector('[data-testid=address]');
    await e2e.screenshot(phone.page, '15-phone-wallet');
    const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0); // nothing wider than the screen
  });

  it('a start-up failure is explained on the page (the profile is open in another tab)', async () => {
    const { profile } = await status();
    const second = await A.context.newPage();
    await second.goto(new URL(`?profile=${profile}`, e2e.url).toString());
    const ready = await second.evaluate(() => window.tabchain.ready.then(() => 'ready', (e: Error) => e.message));
    expect(ready).toMatch(/^LOCKED: /);
    await second.getByText('The node could not start.').waitFor();
    expect(await second.getByRole('alert').textContent()).toContain('open in another tab');
    await e2e.screenshot(second, '16-start-failed');
    await second.close();
  });

  it('no uncaught errors on any page', () => {
    for (const v of [A, B]) expect(v.errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
  });
});
