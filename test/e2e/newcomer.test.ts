/**
 * Issue 12: a first-time user never loses coins or goods by a misunderstanding, on a laptop or a
 * phone. Each numbered finding of the issue is walked through the real page, by clicks and
 * typing, at a desktop size (1280×800) and a phone size (390×844): two visitors (their own
 * browser contexts and wallets) on the dev network, connected through the relay. Setup that is not
 * under test (mining coins, creating the goods to trade) goes through window.tabchain; what a
 * newcomer sees and does goes through the page. Screenshots of every view at both sizes go to
 * test/e2e/artifacts/newcomer-*.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { openPage, pageStatus, startE2e, untilStatus, waitInPage, type E2e } from './harness.ts';

interface Person {
  name: 'desktop' | 'phone';
  context: BrowserContext;
  page: Page;
  errors: string[];
}

const SIZES = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;

let e2e: E2e;
let D: Person;
let P: Person;
const people = () => [D, P];

/**
 * Records every text the header's sync badge shows, with the peer count beside it, from the very
 * first render (an init script runs before the app).
 */
const RECORD_SYNC = () => {
  const log: { text: string; peers: string }[] = [];
  const w = window as unknown as { __syncLog: typeof log; __offlineNotice?: { position: string; bottom: number; navTop: number } };
  w.__syncLog = log;
  new MutationObserver(() => {
    const text = document.querySelector('[data-testid=sync]')?.textContent?.trim();
    const peers = document.querySelector('[data-testid=peers]')?.textContent?.trim() ?? '';
    if (text !== undefined && log.at(-1)?.text !== text) log.push({ text, peers });
    // Where "Ready to work offline" is when it first shows (it hides by itself after 8 s).
    const notice = document.querySelector('[data-testid=pwa-offline-ready]');
    const nav = document.querySelector('nav[aria-label=Sections]');
    if (notice && nav && !w.__offlineNotice) {
      w.__offlineNotice = { position: getComputedStyle(notice).position, bottom: notice.getBoundingClientRect().bottom, navTop: nav.getBoundingClientRect().top };
    }
  }).observe(document, { subtree: true, childList: true, characterData: true });
};

async function arrive(name: Person['name']): Promise<Person> {
  const context = await e2e.browser.newContext({ viewport: SIZES[name], colorScheme: 'light' });
  await context.addInitScript(RECORD_SYNC);
  const { page, errors } = await openPage(context, e2e.url);
  return { name, context, page, errors };
}

/** A full-page screenshot from the top (the sticky header would otherwise sit where the page was scrolled to). */
async function shot(p: Person, what: string): Promise<void> {
  await p.page.evaluate(() => scrollTo(0, 0));
  await e2e.screenshot(p.page, `newcomer-${what}-${p.name}`);
}
const go = (p: Person, view: string) => p.page.click(`[data-testid=nav-${view}]`);
const text = (p: Person, testid: string) => p.page.getByTestId(testid).first().textContent();
/** How many transactions this visitor's wallet has sent, ever (its outbox): "nothing left the tab" is this not growing. */
const sentCount = async (p: Person) => (await p.page.evaluate(() => (window.tabchain as unknown as { outbox(): Promise<unknown[]> }).outbox())).length;
const fees = (p: Person) => p.page.evaluate(() => (window.tabchain as unknown as { fees(): Promise<Record<string, string>> }).fees());
const address = async (p: Person) => (await pageStatus(p.page)).address;

/** "0.000015 TAB" for base units, as the page prints them. */
function tab(units: string): string {
  const n = BigInt(units);
  const frac = (n % 100_000_000n).toString().padStart(8, '0').replace(/0+$/, '');
  return `${(n / 100_000_000n).toString()}${frac ? '.' + frac : ''} TAB`;
}

/**
 * Mines through the API — after the miner's node has every pending transaction of every visitor,
 * so the block holds them all — and waits until the other visitors have the new block.
 */
async function mine(p: Person, n: number): Promise<void> {
  for (const q of people()) {
    const pending = (await q.page.evaluate(() => (window.tabchain as unknown as { outbox(): Promise<{ txid: string; state: string }[]> }).outbox())).filter((o) => o.state === 'pending').map((o) => o.txid);
    await waitInPage(p.page, async (ids) => (await Promise.all(ids.map((id) => window.tabchain.txStatus(id)))).every((t) => t.state !== 'unknown'), pending, { what: `${q.name}'s pending transactions at ${p.name}` });
  }
  const hashes = await p.page.evaluate((k) => window.tabchain.mineBlocks(k), n);
  const { height } = await pageStatus(p.page);
  for (const q of people()) if (q !== p) await untilStatus(q.page, (s) => s.height >= height, `${q.name} at ${p.name}'s block ${hashes.at(-1)}`);
}

/** The element is focused and inside the window (not below the fold). */
async function focusedInView(p: Person, testid: string): Promise<void> {
  await p.page.waitForFunction((id) => {
    const el = document.querySelector(`[data-testid=${id}]`);
    if (!el || document.activeElement !== el) return false;
    const r = el.getBoundingClientRect();
    return r.top >= 0 && r.bottom <= innerHeight && r.left >= 0 && r.right <= innerWidth;
  }, testid);
}

/**
 * Clicks a form's Review button and waits for its review panel; a refusal instead fails the test
 * with the page's own words.
 */
async function review(p: Person, submit: string, panel: string, error: string): Promise<void> {
  await p.page.getByTestId(submit).click();
  const shown = await Promise.race([
    p.page.getByTestId(panel).waitFor().then(() => 'review'),
    p.page.getByTestId(error).waitFor().then(() => 'error'),
  ]);
  if (shown === 'error') throw new Error(`${p.name}: ${submit} refused: ${await text(p, error)}`);
}

/** Nothing on the page is wider than the window. */
async function noSidewaysScroll(p: Person): Promise<void> {
  expect(await p.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
}

beforeAll(async () => {
  e2e = await startE2e();
  D = await arrive('desktop');
  P = await arrive('phone');
}, 600_000);

afterAll(async () => {
  for (const p of [D, P]) await p?.context.close().catch(() => undefined);
  await e2e?.close();
});

describe('a newcomer at each former trap, desktop and phone', { timeout: 240_000 }, () => {
  it('6. the header says Connecting… until a peer answered — never Synced beside Peers 0 — then Synced', async () => {
    for (const p of people()) {
      await p.page.getByTestId('sync').filter({ hasText: 'Synced' }).waitFor({ timeout: 60_000 });
      const log = await p.page.evaluate(() => (window as unknown as { __syncLog: { text: string; peers: string }[] }).__syncLog);
      expect(log[0].text, `${p.name}'s first sync badge`).toBe('Connecting…');
      for (const e of log.filter((x) => x.text === 'Synced')) expect(e.peers, `${p.name}: Synced with no peer`).not.toMatch(/^0/);
      expect((await pageStatus(p.page)).connection).toBe('connected');
      await shot(p, '6-header-synced');
    }
    // The phone came second: D was alone with the relay for a moment, and said so.
    const dLog = await D.page.evaluate(() => (window as unknown as { __syncLog: { text: string }[] }).__syncLog.map((e) => e.text));
    expect(dLog.indexOf('Connecting…')).toBe(0);
  });

  it('5. phone: every section tab in sight, Start mining above the fold, the offline notice covering nothing', async () => {
    for (const p of people()) {
      const { width, height } = SIZES[p.name];
      const tabs = await p.page.locator('nav[aria-label=Sections] a').evaluateAll((as) => as.map((a) => ({ text: a.textContent, ...a.getBoundingClientRect().toJSON() })));
      expect(tabs.map((t) => t.text)).toEqual(['Mine', 'Wallet', 'Items', 'Market', 'Explorer', 'Chain', 'Network', 'Profile']);
      for (const t of tabs) expect(t.right, `${p.name}: tab ${t.text} cut off`).toBeLessThanOrEqual(width);
      const start = await p.page.getByTestId('intro-start-mining').boundingBox();
      expect(start!.y + start!.height, `${p.name}: Start mining below the fold`).toBeLessThanOrEqual(height);
      await noSidewaysScroll(p);
    }
    // The first visit caches the app: its notice sits in the page, above the tabs, over nothing.
    await P.page.waitForFunction(() => (window as unknown as { __offlineNotice?: unknown }).__offlineNotice !== undefined, null, { timeout: 60_000 });
    const notice = await P.page.evaluate(() => (window as unknown as { __offlineNotice: { position: string; bottom: number; navTop: number } }).__offlineNotice);
    expect(notice.position).toBe('static');
    expect(notice.bottom).toBeLessThanOrEqual(notice.navTop);
    await shot(P, '5-first-load');
    await shot(D, '5-first-load');
  });

  it('4. right after mining: the refusal in words and TAB with when coins unlock, focused and in view; rewards in the history and the balance card; the fee on every form', async () => {
    for (const p of people()) {
      // The newcomer mines one block (its reward: spendable two blocks later)…
      await go(p, 'mine');
      const h = (await pageStatus(p.page)).height;
      await p.page.getByTestId('mine-one').click();
      await untilStatus(p.page, (s) => s.height > h, `${p.name}'s block`);
      for (const q of people()) await untilStatus(q.page, (s) => s.height > h, `${q.name} has ${p.name}'s block`);
      // …and right away tries what the intro suggests: creating an item, with only maturing coins.
      const sent = await sentCount(p);
      await go(p, 'items');
      expect(await text(p, 'item-fee')).toMatch(/^Fee: from 0\.0000\d+ TAB/);
      await p.page.getByTestId('item-sku').fill('MUG-BLUE');
      await p.page.getByTestId('item-name').fill('Blue mug');
      await p.page.getByTestId('item-quantity').fill('20');
      await p.page.getByTestId('item-create').click();
      const error = await text(p, 'item-error');
      expect(error).toMatch(/^Not enough spendable TAB yet: this needs its 0\.0000\d+ TAB fee and you can spend 0 TAB now\. Your mining rewards of 50 TAB are still maturing: enough for this in 1 block \(about 2 s\)\.$/);
      expect(error).not.toMatch(/IMMATURE|needs \d{3,}/); // no bare code, no base units
      await focusedInView(p, 'item-error');
      expect(await sentCount(p)).toBe(sent);
      await shot(p, '4-items-immature');
      // The wallet: the reward in the history and the balance card, and when it unlocks.
      await go(p, 'wallet');
      const reward = p.page.getByTestId('reward-row').first();
      await reward.waitFor();
      expect(await reward.textContent()).toMatch(/Mining reward: 50 TAB.*Maturing.*spendable in 1 block \(about 2 s\)/s);
      expect(await text(p, 'maturing-when')).toBe('— mining rewards: 50 TAB in 1 block (about 2 s)');
      expect(await text(p, 'balance')).toBe('0 TAB');
      expect(await text(p, 'send-fee')).toBe(`Fee: ${tab((await fees(p)).send)} (the network minimum), paid to the miner of the block that includes it.`);
      await p.page.getByTestId('send-to').fill(await address(p === D ? P : D));
      await p.page.getByTestId('send-amount').fill('1');
      await p.page.getByTestId('send-submit').click();
      expect(await text(p, 'send-amount-error')).toBe('You can send at most 0 TAB now (spendable 0 TAB minus the 0.0000153 TAB fee). Mining rewards unlock: 50 TAB in 1 block (about 2 s).'.replace('0.0000153 TAB', tab((await fees(p)).send)));
      await p.page.getByTestId('send-amount').fill('');
      await shot(p, '4-wallet-maturing');
    }
    // The first button a newcomer sees mines for real: the intro's Start mining.
    const h = (await pageStatus(D.page)).height;
    await D.page.getByTestId('intro-start-mining').click();
    await untilStatus(D.page, (s) => s.height >= h + 3, 'three blocks by the intro button', 90_000);
    await go(D, 'mine');
    await D.page.getByTestId('stop-mining').click();
    await untilStatus(D.page, (s) => !s.mining, 'D stopped');
    await mine(D, 1);
    // Now the same clicks go through, to the review first.
    for (const p of people()) {
      await go(p, 'items');
      await p.page.getByTestId('item-sku').fill('MUG-BLUE');
      await p.page.getByTestId('item-name').fill('Blue mug');
      await p.page.getByTestId('item-quantity').fill('20');
      await review(p, 'item-create', 'item-review', 'item-error');
      expect(await text(p, 'item-review')).toContain('You are creating 20 × Blue mug (SKU MUG-BLUE), fee 0.0000');
      await p.page.getByTestId('item-review-confirm').click();
      await p.page.getByTestId('item-ok').waitFor();
    }
    await mine(D, 1);
    // Incoming payments show in the balance card before a block has them.
    await go(D, 'wallet');
    await D.page.getByTestId('send-to').fill(await address(P));
    await D.page.getByTestId('send-amount').fill('20');
    await review(D, 'send-submit', 'send-review', 'send-error');
    await D.page.getByTestId('send-review-confirm').click();
    await D.page.getByTestId('send-ok').waitFor();
    await go(P, 'wallet');
    await P.page.getByTestId('incoming').waitFor({ timeout: 60_000 });
    expect(await text(P, 'incoming')).toMatch(/^20 TAB pending payments to you/);
    await shot(P, '4-wallet-incoming');
    await mine(D, 1);
    // The fee is on the market form too (and on every item action: see 3).
    for (const p of people()) {
      await go(p, 'market');
      expect(await text(p, 'offer-fee')).toMatch(/^Fee: 0\.0000\d+ TAB\./);
    }
  });

  it('1. "1,5" is refused with the dot form, never read as 15; a send is reviewed with amount, address and fee before anything leaves', async () => {
    for (const p of people()) {
      const other = p === D ? P : D;
      const to = await address(other);
      const sent = await sentCount(p);
      await go(p, 'wallet');
      await p.page.getByTestId('send-to').fill(to);
      await p.page.getByTestId('send-amount').fill('1,5');
      await p.page.getByTestId('send-submit').click();
      expect(await text(p, 'send-amount-error')).toBe('Use a dot for decimals: write 1.5.');
      await p.page.getByTestId('send-amount').fill('1,000');
      expect(await text(p, 'send-amount-error')).toContain('could mean 1000 or 1.000');
      expect(await sentCount(p)).toBe(sent);
      await p.page.getByTestId('send-amount').fill('1.5');
      await p.page.getByTestId('send-submit').click();
      const fee = tab((await fees(p)).send);
      const sep = to.lastIndexOf('1');
      const short = `${to.slice(0, sep + 6)}…${to.slice(-4)}`;
      expect(await p.page.getByTestId('send-review-line').first().textContent()).toBe(`You are sending 1.5 TAB to ${short}, fee ${fee}.`);
      expect(await text(p, 'send-review')).toContain(to); // the full address, to compare
      await focusedInView(p, 'send-review');
      expect(await sentCount(p)).toBe(sent);
      await shot(p, '1-send-review');
      // Back changes nothing; Confirm sends exactly 1.5 TAB.
      await p.page.getByTestId('send-review-back').click();
      expect(await p.page.getByTestId('send-review').count()).toBe(0);
      expect(await sentCount(p)).toBe(sent);
      await p.page.getByTestId('send-submit').click();
      await p.page.getByTestId('send-review-confirm').click();
      await p.page.getByTestId('send-ok').waitFor();
      const row = p.page.locator('[data-testid=tx-row]').first();
      await row.filter({ hasText: 'Sent 1.5 TAB to' }).waitFor(); // the list refreshes within a second
      expect(await row.getAttribute('data-state')).toBe('pending');
      const txid = (await row.getAttribute('data-txid'))!;
      const tx = await p.page.evaluate((id) => (window.tabchain as unknown as { tx(id: string): Promise<{ amount?: string } | null> }).tx(id), txid);
      expect(tx?.amount).toBe('150000000'); // exactly 1.5 TAB
    }
    await mine(D, 1);
  });

  it('3. offering more goods than held is refused per item: "You hold 2 Blue mug; 5 lots need 5"', async () => {
    for (const p of people()) {
      // Keep 2 mugs: ship the rest away through the page (a reviewed shipment).
      const other = await address(p === D ? P : D);
      await go(p, 'items');
      // Our own mug (a shipment from the other may arrive with the same SKU: theirs says "made by").
      const mug = p.page.locator('[data-testid=my-item][data-sku=MUG-BLUE]').filter({ hasNot: p.page.getByText('made by') });
      await mug.waitFor();
      await mug.getByRole('button', { name: 'Ship' }).click();
      await p.page.getByTestId('item-action-to').fill(other);
      await p.page.getByTestId('item-action-qty').fill('18');
      await p.page.getByTestId('item-action-submit').click();
      expect(await text(p, 'item-action-review')).toMatch(/You are shipping 18 × Blue mug to tabdev1\S+, fee 0\.0000\d+ TAB\./);
      await shot(p, '3-ship-review');
      await p.page.getByTestId('item-action-review-confirm').click();
      await p.page.getByTestId('item-action-ok').waitFor();
    }
    await mine(D, 1);
    for (const p of people()) {
      const me = await address(p);
      const sent = await sentCount(p);
      const mine2 = (await p.page.evaluate(() => window.tabchain.inventory())).find((i) => i.issuer === me);
      expect(mine2?.quantity).toBe(2);
      await go(p, 'market');
      await p.page.selectOption('[data-testid=offer-give-asset]', mine2!.itemId);
      await p.page.getByTestId('offer-give-amount').fill('1');
      await p.page.selectOption('[data-testid=offer-want-asset]', 'coin');
      await p.page.getByTestId('offer-want-amount').fill('3');
      await p.page.getByTestId('offer-lots-total').fill('5');
      await p.page.getByTestId('offer-create').click();
      expect(await text(p, 'offer-form-error')).toBe('You hold 2 Blue mug; 5 lots need 5.');
      await focusedInView(p, 'offer-form-error');
      expect(await sentCount(p)).toBe(sent);
      await shot(p, '3-offer-too-many');
    }
  });

  it('2. the offer form never changes a choice by itself: the same thing on both sides cannot be picked, and says why', async () => {
    for (const p of people()) {
      await go(p, 'market');
      const me = await address(p);
      const sent = await sentCount(p);
      const item = (await p.page.evaluate(() => window.tabchain.inventory())).find((i) => i.issuer === me)!;
      // The give item is greyed out under "You want", with the reason.
      const wantSame = p.page.locator(`[data-testid=offer-want-asset] option[value="${item.itemId}"]`);
      expect(await wantSame.isDisabled()).toBe(true);
      expect(await wantSame.textContent()).toContain('— you give this');
      // Want TAB: then TAB is greyed out under "You give" — it cannot become a TAB-for-TAB pair.
      const giveCoin = p.page.locator('[data-testid=offer-give-asset] option[value=coin]');
      expect(await giveCoin.isDisabled()).toBe(true);
      expect(await giveCoin.textContent()).toContain('— you want this');
      // Switch sides by hand: want the other's mug first, then give TAB; nothing snaps back.
      const theirs = (await p.page.evaluate(() => window.tabchain.inventory())).find((i) => i.itemId !== item.itemId)!;
      await p.page.selectOption('[data-testid=offer-want-asset]', theirs.itemId);
      await p.page.selectOption('[data-testid=offer-give-asset]', 'coin');
      expect(await p.page.getByTestId('offer-give-asset').inputValue()).toBe('coin');
      expect(await p.page.getByTestId('offer-want-asset').inputValue()).toBe(theirs.itemId);
      expect(await p.page.locator('[data-testid=offer-want-asset] option[value=coin]').isDisabled()).toBe(true);
      await p.page.getByTestId('offer-give-amount').fill('2');
      await p.page.getByTestId('offer-want-amount').fill('1');
      await p.page.getByTestId('offer-lots-total').fill('2');
      await p.page.getByTestId('offer-create').click();
      const review = await text(p, 'offer-form-review');
      expect(review).toContain('You offer 2 lots. Each lot: you give 2 TAB and get 1 × Blue mug. Fee 0.0000');
      expect(review).toContain('4 TAB is held in escrow');
      expect(await sentCount(p)).toBe(sent);
      await shot(p, '2-offer-review');
      await p.page.getByTestId('offer-form-review-confirm').click();
      await p.page.getByTestId('offer-form-ok').waitFor();
      // Exactly the offer chosen was posted (and only one).
      const mineOut = await p.page.evaluate(() => (window.tabchain as unknown as { outbox(): Promise<{ kind: string; state: string }[]> }).outbox());
      expect(mineOut.filter((o) => o.kind === 'offer.create')).toHaveLength(1);
    }
    await mine(D, 1);
  });

  it('5 and 8. phone: offers are cards with Take inline and in view; a take says what was bought', async () => {
    // D offers its 2 mugs for 3 TAB each.
    const dAddress = await address(D);
    const dMug = (await D.page.evaluate(() => window.tabchain.inventory())).find((i) => i.issuer === dAddress)!;
    await D.page.evaluate((id) => window.tabchain.createOffer({ give: { asset: id, amount: '1' }, want: { asset: 'coin', amount: '300000000' }, lots: 2 }), dMug.itemId);
    await mine(D, 1);
    await go(P, 'market');
    const card = P.page.locator('[data-testid=offer-row]', { hasText: '3 TAB each' });
    await card.waitFor();
    const take = await card.getByTestId('offer-take').boundingBox();
    const box = await card.boundingBox();
    expect(take!.x + take!.width).toBeLessThanOrEqual(SIZES.phone.width);
    expect(take!.y).toBeGreaterThanOrEqual(box!.y); // inside its card, beside the offer
    expect(take!.y + take!.height).toBeLessThanOrEqual(box!.y + box!.height);
    await noSidewaysScroll(P);
    await shot(P, '5-market-cards');
    await card.getByTestId('offer-lots').fill('2');
    await card.getByTestId('offer-take').click();
    await focusedInView(P, 'offer-review');
    expect(await card.getByTestId('offer-review').textContent()).toMatch(/You take 2 lots: you get 2 × Blue mug and pay 6 TAB to tabdev1\S+, fee 0\.0000\d+ TAB\./);
    // The offer stays in sight above the review.
    const terms = await card.locator('.terms').boundingBox();
    expect(terms!.y).toBeGreaterThanOrEqual(0);
    await shot(P, '5-market-take-review');
    await card.getByTestId('offer-review-confirm').click();
    expect(await text(P, 'offer-ok')).toMatch(/^Sent\. You get 2 × Blue mug for 6 TAB: the swap happens in the next block\./);
    await mine(D, 1);
    await go(P, 'wallet');
    const row = P.page.locator('[data-testid=tx-row]', { hasText: 'Bought' }).first();
    await row.waitFor({ timeout: 30_000 });
    expect(await row.textContent()).toMatch(/Bought 2 × Blue mug for 6 TAB from tabdev1\S+ \(2 lots of offer/);
    await go(D, 'wallet');
    await D.page.locator('[data-testid=tx-row]', { hasText: 'Sold 2 × Blue mug for 6 TAB to' }).first().waitFor({ timeout: 30_000 });
    await shot(P, '8-wallet-bought');
    await shot(D, '8-wallet-sold');
  });

  it('7. the explorer finds what people know: SKU, item name, short ids as it prints them, heights, addresses', async () => {
    for (const p of people()) {
      await go(p, 'explorer');
      const search = async (q: string) => {
        await p.page.getByTestId('explorer-search').fill(q);
        await p.page.getByTestId('explorer-search').press('Enter');
      };
      // A block's short hash as the latest-blocks list shows it.
      const shortBlock = (await p.page.locator('[data-testid=latest-blocks] tbody tr td a.mono').first().textContent())!;
      expect(shortBlock).toMatch(/^[0-9a-f]{8}…[0-9a-f]{4}$/);
      await search(shortBlock);
      await p.page.getByTestId('block-detail').waitFor();
      // Its first 8 characters alone.
      const blockHash = (await p.page.locator('[data-testid=block-detail] dd.mono').first().textContent())!.trim().slice(0, 64);
      await search(blockHash.slice(0, 8));
      // The same block is shown already: the search is done when it has cleared the field.
      await p.page.waitForFunction(() => (document.querySelector('[data-testid=explorer-search]') as HTMLInputElement).value === '');
      expect(await p.page.evaluate(() => location.hash)).toContain(blockHash);
      // A transaction by its short id, from the block's list.
      const shortTx = (await p.page.locator('[data-testid=block-detail] ul a.mono').first().textContent())!;
      await search(shortTx);
      await p.page
        .getByTestId('tx-detail')
        .waitFor()
        .catch(async (e: Error) => {
          const seen = await p.page.evaluate(() => ({ hash: location.hash, main: document.querySelector('main')?.textContent?.slice(0, 600) }));
          throw new Error(`${p.name}: searching ${shortTx}: ${e.message} — the page: ${JSON.stringify(seen)}`);
        });
      // The SKU, any case, and the item's name: both visitors made a Blue mug, so a list of two.
      await search('mug-blue');
      await p.page.getByTestId('search-hits').waitFor();
      expect(await p.page.getByTestId('search-hits').locator('li').count()).toBe(2);
      expect(await text(p, 'search-hits')).toMatch(/2 matches for “mug-blue”.*Item Blue mug \(MUG-BLUE\) by you/s);
      await shot(p, '7-search-hits');
      await p.page.getByTestId('search-hits').getByRole('link', { name: /by you/ }).click();
      await p.page.getByTestId('item-detail').waitFor();
      await search('Blue mug');
      await p.page.getByTestId('search-hits').waitFor();
      // A height and an address.
      await search('3');
      await p.page.getByRole('heading', { name: 'Block 3' }).waitFor();
      const me = await address(p);
      await search(me);
      await p.page.getByTestId('address-detail').waitFor();
      await search('no-such-thing');
      expect(await text(p, 'search-message')).toMatch(/^Nothing found for “no-such-thing”\. Try a block height/);
      await shot(p, '7-explorer');
    }
  });

  it('8. smaller traps: a stale "Sent." goes, sending to yourself warns, counts and names are explained, workers bounded by cores', async () => {
    for (const p of people()) {
      await go(p, 'wallet');
      const me = await address(p);
      await p.page.getByTestId('send-to').fill(me);
      await p.page.getByTestId('send-amount').fill('1');
      await p.page.getByTestId('send-submit').click();
      expect(await text(p, 'send-review-warning')).toContain('This is your own address: the 1 TAB come back to you and only the fee is spent.');
      await shot(p, '8-send-to-self');
      await p.page.getByTestId('send-review-confirm').click();
      await p.page.getByTestId('send-ok').waitFor();
      // Typing again: the old outcome goes; a new problem stands alone.
      await p.page.getByTestId('send-amount').fill('abc');
      await p.page.getByTestId('send-amount').blur();
      expect(await p.page.getByTestId('send-ok').count()).toBe(0);
      expect(await text(p, 'send-amount-error')).toBe('Enter a number like 2 or 0.5.');

      await go(p, 'items');
      await p.page.getByTestId('item-sku').fill('CUP');
      await p.page.getByTestId('item-name').fill('é'.repeat(33));
      expect(await text(p, 'item-name-count')).toBe('66 / 64 characters');
      await p.page.getByTestId('item-create').click();
      expect(await text(p, 'item-error')).toBe('The name is too long: it uses 66 of 64 characters (letters such as é count as 2, emoji as 4).');
      await p.page.getByTestId('item-name').fill('Cup');
      for (const [typed, said] of [
        ['-5', 'The stock cannot be negative.'],
        ['1e26', 'The stock must be written in plain digits, e.g. 3 (no exponent such as 1e3).'],
        ['2.5', 'The stock must be a whole number: items and lots come in whole units.'],
        ['99999999999999999999', 'The stock must be at most 1,000,000,000.'],
      ]) {
        await p.page.getByTestId('item-quantity').fill(typed);
        await p.page.getByTestId('item-create').click();
        expect(await text(p, 'item-error')).toBe(said);
      }
      expect(await p.page.getByText('a whole number from 1 to 1,000,000,000').count()).toBe(1);
      await shot(p, '8-items-explained');

      await go(p, 'mine');
      const cores = await p.page.evaluate(() => navigator.hardwareConcurrency);
      await p.page.getByTestId('workers').fill('99');
      expect(await text(p, 'workers-error')).toBe(`This device has ${cores} core${cores === 1 ? '' : 's'}: use 1 to ${cores} worker${cores === 1 ? '' : 's'}.`);
      expect(await p.page.getByTestId('start-mining').isDisabled()).toBe(true);
      await p.page.getByTestId('workers').fill('1');
      expect(await p.page.getByTestId('start-mining').isDisabled()).toBe(false);
      await shot(p, '8-workers');
    }
  });

  it('6. offline, a send is Queued — not Sent — and leaves once a peer is reachable', async () => {
    // A third person on a phone: the app cached on the first visit, then reopened with no network.
    const O = await arrive('phone');
    await O.page.getByTestId('pwa-offline-ready').waitFor({ timeout: 60_000 });
    // It joins the others' chain first, then mines on top of it (coins every node agrees on).
    const { height } = await pageStatus(D.page);
    await untilStatus(O.page, (st) => st.height >= height, "the third visitor on the others' chain");
    const [, , tip] = await O.page.evaluate(() => window.tabchain.mineBlocks(3));
    await untilStatus(D.page, (st) => st.tip === tip, "D has the third visitor's blocks");
    const { profile } = await pageStatus(O.page);
    await O.page.close();
    await O.context.setOffline(true);
    const again = await openPage(O.context, new URL(`?profile=${profile}#wallet`, e2e.url).toString(), O.errors);
    O.page = again.page;
    await O.page.getByTestId('online').filter({ hasText: 'Offline' }).waitFor();
    expect((await pageStatus(O.page)).connection).toBe('alone');
    await O.page.getByTestId('send-to').fill(await address(D));
    await O.page.getByTestId('send-amount').fill('2');
    await O.page.getByTestId('send-submit').click();
    await O.page.getByTestId('send-review-confirm').click();
    expect(await text(O, 'send-ok')).toMatch(/^Queued: it leaves when a peer is reachable/);
    await e2e.screenshot(O.page, 'newcomer-6-offline-queued-phone');
    const [out] = await O.page.evaluate(() => (window.tabchain as unknown as { outbox(): Promise<{ txid: string }[]> }).outbox());
    await O.context.setOffline(false);
    await waitInPage(D.page, async (id) => (await window.tabchain.txStatus(id)).state !== 'unknown', out.txid, { what: "the queued send reaching D's node", timeout: 120_000 });
    expect(O.errors).toEqual([]);
    await O.context.close();
  });

  it('screenshots of every view at both sizes; no uncaught errors', async () => {
    for (const p of people()) {
      for (const view of ['mine', 'wallet', 'items', 'market', 'explorer', 'chain', 'network', 'profile']) {
        await go(p, view);
        await p.page.locator('main').waitFor();
        await noSidewaysScroll(p);
        await shot(p, `view-${view}`);
      }
      expect(p.errors).toEqual([]); // uncaught page errors
    }
  });
});
