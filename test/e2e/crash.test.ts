/**
 * Crash safety in the browser (issue 16 item 3): a tab's renderer is crashed (DevTools protocol
 * `Page.crash`) at seeded random moments while it syncs from a feeder node — in the middle of
 * connecting runs of blocks (IndexedDB writes of up to 128 blocks) and of reorgs onto heavier
 * branches forking below its stored tip. Every time, the same profile is reopened in a new page
 * of the same browser context (its IndexedDB kept) and `tabchain.verifyChain()` replays the stored
 * chain from genesis: tip, state, undo records and txid index must agree with the replay, and the
 * node with the store. At the end the tab catches up, follows a gossiped reorg while running, and
 * mines a block the feeder takes.
 *
 * CRASH_KILLS (default 30) and CRASH_SEED (default: the time) tune a run; `npm run stress:crash`
 * runs it with 100 kills. The seed is printed so a failure can be replayed.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToHex } from '../../src/chain/index.ts';
import type { ApiChainVerification } from '../../src/node/api.ts';
import { seededRandom } from '../../bench/sim/seeded-random.ts';
import { batchesBeforeKill } from '../support/crash-chain.ts';
import { startFeeder, type Feeder } from '../integration/helpers/crash-feeder.ts';
import { startE2e, untilStatus, type E2e } from './harness.ts';
import { Tab } from './net-harness.ts';

const KILLS = Number(process.env.CRASH_KILLS ?? 30);
const SEED = Number(process.env.CRASH_SEED ?? Date.now() % 2 ** 31);
/** Blocks the feeder holds before the tab first opens. */
const INITIAL_BLOCKS = 300;
/** A crash comes this long at most after the body request chosen for it (ms). */
const KILL_JITTER_MS = 150;
/** How long an opening may take to reach its crash point (discovery and dial included). */
const KILL_POINT_MS = 60_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let e2e: E2e | undefined;
let feeder: Feeder | undefined;

beforeAll(async () => {
  e2e = await startE2e({ network: 'dev' });
  feeder = await startFeeder('dev', INITIAL_BLOCKS, { relay: e2e.url });
}, 600_000);

afterAll(async () => {
  await feeder?.stop();
  await e2e?.close();
});

/** Crashes the page's renderer (as a tab killed by the OS or a browser bug would be) and closes what is left of it. */
async function crash(page: Page): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  const crashed = page.waitForEvent('crash', { timeout: 30_000 });
  // The answer never comes: the renderer is gone.
  cdp.send('Page.crash').catch(() => undefined);
  await crashed;
  await page.close().catch(() => undefined);
}

/** Opens `profile` in a new page of `context`; resolves once its node started. */
async function reopen(context: BrowserContext, profile: string, name: string): Promise<Tab> {
  const page = await context.newPage();
  await page.goto(new URL(`?profile=${profile}`, e2e!.url).toString());
  await page.evaluate(() => window.tabchain.ready);
  return new Tab(name, context, page);
}

/** Waits until the feeder served `target` body requests in all, or the tab holds the feeder's tip. */
async function untilCrashPoint(tab: Tab, target: number): Promise<'mid-sync' | 'synced'> {
  const f = feeder!;
  const end = Date.now() + KILL_POINT_MS;
  for (;;) {
    if (f.served() >= target) return 'mid-sync';
    const tip = hashToHex(f.branch.tip.hash);
    if ((await tab.call<{ tip: string }>('status')).tip === tip) return 'synced';
    if (Date.now() > end) throw new Error(`${tab.name}: neither ${target} body requests nor the feeder's tip within ${KILL_POINT_MS} ms (${f.served()} served)`);
    await sleep(50);
  }
}

describe('a tab crashed while it connects blocks', () => {
  it(`reopens consistent after ${KILLS} crashes during runs and reorgs, then syncs and mines on`, { timeout: 300_000 + KILLS * 60_000 }, async () => {
    console.log(`crash (browser): seed ${SEED}, ${KILLS} crashes`);
    const random = seededRandom(SEED);
    const f = feeder!;
    const context = await e2e!.browser.newContext();
    const first = await context.newPage();
    await first.goto(e2e!.url);
    await first.evaluate(() => window.tabchain.ready);
    let tab = new Tab('tab', context, first);
    const profile = (await tab.call<{ profile: string }>('status')).profile;
    let stored = 0;
    const tally = { crashes: 0, consistent: 0, reorgs: 0, behindAtReopen: 0, synced: 0, maxHeight: 0 };

    let target = batchesBeforeKill(random, f.branch.height);
    const t0 = Date.now();
    for (let k = 0; k < KILLS; k++) {
      // The crash point: after a random one of the body requests this sync takes, or once it is over.
      const point = await untilCrashPoint(tab, target);
      if (point === 'synced') tally.synced++;
      await sleep(random() * KILL_JITTER_MS);
      await crash(tab.page);
      tally.crashes++;

      // While it is down, the feeder gets more: blocks, or a heavier branch forking below what the tab had stored.
      if (stored > 10 && random() < 0.5) {
        await f.reorg(Math.max(8, stored - 1 - Math.floor(random() * 40)), `branch${k}`, 1 + Math.floor(random() * 60));
        tally.reorgs++;
      } else await f.extend(20 + Math.floor(random() * 130));

      const servedAtOpen = f.served();
      tab = await reopen(context, profile, `tab after crash ${k}`);
      const v = await tab.call<ApiChainVerification>('verifyChain');
      expect(v.discrepancies, `crash ${k} (seed ${SEED}) at height ${v.height}`).toEqual([]);
      expect((await tab.call<{ profile: string }>('status')).profile).toBe(profile);
      tally.consistent++;
      if (v.height < f.branch.height) tally.behindAtReopen++;
      stored = v.height;
      tally.maxHeight = Math.max(tally.maxHeight, v.height);
      target = servedAtOpen + batchesBeforeKill(random, f.branch.height - stored);
      console.log(`crash (browser): crash ${k} (${point}) at +${Date.now() - t0} ms: reopened at ${v.height} of the feeder's ${f.branch.height}, ${v.replayed} replayed`);
    }

    // Alive after all that: catches up, follows a gossiped reorg while running, mines a block the feeder takes.
    const tipIs = (hex: string) => (s: { tip: string }) => s.tip === hex;
    await untilStatus(tab.page, tipIs(hashToHex(f.branch.tip.hash)), 'the feeder tip', 180_000);
    await f.reorg(f.branch.height - 5, 'last', 10, true);
    await untilStatus(tab.page, tipIs(hashToHex(f.branch.tip.hash)), "the feeder's new branch", 60_000);
    const before = f.net.node.height;
    const [mined] = await tab.call<string[]>('mineBlocks', 1);
    const deadline = Date.now() + 60_000;
    while (hashToHex(f.net.node.tip.hash) !== mined) {
      if (Date.now() > deadline) throw new Error(`the feeder did not take the tab's block ${mined} (it is at ${f.net.node.height})`);
      await sleep(200);
    }
    expect(f.net.node.height).toBe(before + 1);
    const end = await tab.call<ApiChainVerification>('verifyChain');
    expect(end.discrepancies).toEqual([]);
    console.log(`crash (browser): seed ${SEED}: ${JSON.stringify(tally)}, final height ${end.height}`);
    expect(tally.consistent).toBe(KILLS);
    await context.close();
  });
});
