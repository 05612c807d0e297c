/**
 * Browser network benchmarks (suite 'p2p-browser'), in headless Chromium tabs (isolated contexts)
 * served by the real relay (relay/server.ts child process, NETWORK=dev) — the e2e harness
 * (test/e2e/harness.ts) builds the app and starts both.
 *
 * Rows:
 * - **first WebRTC peer**: from navigation start of a new tab to its first direct WebRTC peer in
 *   `status().peers` (the page loads, starts its node, reaches the relay, reserves a slot,
 *   announces itself, and a tab already there dials it — or it dials one). Measured for tabs 2…5
 *   joining one after another; median and worst.
 * - **block propagation** across 5 tabs: each tab in turn mines one block; latency = the moment
 *   another tab's tip reaches it minus the moment the miner's own node connected it (both read as
 *   `performance.timeOrigin + performance.now()` in the pages of one machine); p50 and p95 over
 *   every (block, receiving tab) pair.
 * - **sync throughput** of a long chain between two tabs over WebRTC: a coinbase-only dev chain
 *   (built in Node, blocks 2 s apart in the past so ASERT keeps genesis difficulty, then served to a
 *   first tab by a headless Node node over WebSockets), then a fresh tab syncs it from that tab
 *   alone: blocks / (time at the tip − time of its first peer, relayed or WebRTC: a tab syncs over
 *   the relayed connection until the direct one opens). The Node → tab figure is reported too.
 * - **sync of blocks full of transfers**, the same way: 1,000 dev blocks, each from the third on
 *   carrying 50 signed transfers (signatures to verify, accounts to write); txs/s and blocks/s.
 * - **page load → synced** for new tabs joining a network of two tabs that hold 1,000 blocks:
 *   from navigation start to `status()` saying synced at the tip; each joining tab is closed once
 *   measured, so each meets the same network. Then the same while two other tabs of the browser
 *   mine (`startMining`, default workers) — on another network, served by a second relay, so
 *   they load the CPU without moving the tip the joining tabs sync to. Median and worst.
 *
 * `BENCH_P2P_ONLY` picks parts, `BENCH_SYNC_BLOCKS` / `BENCH_TRANSFER_BLOCKS` / `BENCH_JOINERS`
 * shrink them (quick runs while developing), `BENCH_P2P_LOGS=1` prints the tabs' consoles and
 * each joining tab's start-up timeline (src/node/network/timeline.ts), `BENCH_P2P_DEBUG=<namespaces>`
 * (e.g. `libp2p:webrtc,libp2p:webrtc:trace`) turns on libp2p's own debug logs in the tabs.
 * @module
 */
import { rm } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { encodeBlock, NETWORKS, type Block } from '../src/chain/index.ts';
import { FullNode } from '../src/node/full-node.ts';
import { startHeadlessNetwork } from '../src/node/network/headless.ts';
import { MemoryStore } from '../src/storage/memory-store.ts';
import { ensureDist, startE2e, startRelay, type E2e } from '../test/e2e/harness.ts';
import { e2eRunDirs } from '../test/e2e/run-dirs.ts';
import { coinbaseOnlyChain, transferChain } from './coinbase-chain.ts';
import type { BenchContext, BenchRow } from './run.ts';

const SUITE = 'p2p-browser';
const TABS = 5;
const PROPAGATION_BLOCKS = 20;
/** The issue's figure is for 10,000 blocks; `BENCH_SYNC_BLOCKS=2000` makes a quicker run. */
const SYNC_BLOCKS = Number(process.env.BENCH_SYNC_BLOCKS ?? 10_000);
/** The transfer-block figure's chain: blocks (`BENCH_TRANSFER_BLOCKS`), transfers in each. */
const TRANSFER_BLOCKS = Number(process.env.BENCH_TRANSFER_BLOCKS ?? 1_000);
const TRANSFERS_PER_BLOCK = 50;
/** Page load → synced: the network's chain, and how many new tabs join it (one after another). */
const JOIN_BLOCKS = 1_000;
const JOINERS = Number(process.env.BENCH_JOINERS ?? 5);
/**
 * `BENCH_P2P_ONLY=sync` (or a comma-separated list of `join`, `sync`, `transfers`, `load`) runs
 * only those parts (to iterate on one figure).
 */
const PARTS = new Set((process.env.BENCH_P2P_ONLY ?? 'join,sync,transfers,load').split(','));
/** `BENCH_P2P_DEBUG='libp2p:webrtc*'` turns on libp2p's debug logs in every tab (with `BENCH_P2P_LOGS=1` to see them). */
const DEBUG_NAMESPACES = process.env.BENCH_P2P_DEBUG;
/** `BENCH_P2P_LOGS=1` prints the tabs' console, each line with its tab and the time (ms, mod 100 s). */
const TAB_LOGS = process.env.BENCH_P2P_LOGS === '1';
const params = NETWORKS.dev;

type Status = { peerId: string; height: number; peers: { id: string; transport: string }[] };

/** Opens a fresh isolated tab without waiting for anything but the navigation. */
async function openTab(e2e: E2e): Promise<Page> {
  const context = await e2e.browser.newContext();
  if (DEBUG_NAMESPACES) await context.addInitScript((d) => localStorage.setItem('debug', d), DEBUG_NAMESPACES);
  const page = await context.newPage();
  if (TAB_LOGS) {
    const tab = ++tabsOpened;
    page.on('console', (m) => console.error(`    [tab ${tab} ${(Date.now() % 100_000).toString().padStart(5, '0')}] ${m.text()}`));
  }
  await page.goto(e2e.url);
  return page;
}
let tabsOpened = 0;

/** In the page: polls status() every 20 ms until a WebRTC peer shows; returns ms since navigation start. */
function firstWebrtcPeerMs(page: Page, timeoutMs = 60_000): Promise<number> {
  return page.evaluate(async (limit) => {
    const api = (window as unknown as { tabchain: { ready: Promise<void>; status(): Promise<Status> } }).tabchain;
    await api.ready;
    const until = performance.now() + limit;
    for (;;) {
      const s = await api.status();
      if (s.peers.some((p) => p.transport === 'webrtc')) return performance.now();
      if (performance.now() > until) throw new Error(`no WebRTC peer within ${limit} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }, timeoutMs);
}

/** In the page: its start-up timeline (src/node/network/timeline.ts), `step ms` from navigation start, in order. */
async function timelineOf(page: Page): Promise<string> {
  const marks = await page.evaluate(() =>
    performance
      .getEntriesByType('mark')
      .filter((m) => m.name.startsWith('tabchain:'))
      .map((m) => [m.name.slice(9), m.startTime] as const),
  );
  return [...marks]
    .sort((a, b) => a[1] - b[1])
    .map(([n, t]) => `${n} ${t.toFixed(0)}`)
    .join(' · ');
}

/** In the page: resolves with the wall-clock ms (sub-ms) at which the tip reached `height`. */
function heightReachedAt(page: Page, height: number, timeoutMs = 60_000): Promise<number> {
  return page.evaluate(
    async ([h, limit]) => {
      const api = (window as unknown as { tabchain: { waitForHeight(h: number, t: number): Promise<void> } }).tabchain;
      await api.waitForHeight(h, limit);
      return performance.timeOrigin + performance.now();
    },
    [height, timeoutMs] as const,
  );
}

function call<T>(page: Page, method: string, ...args: unknown[]): Promise<T> {
  return page.evaluate(
    async ([m, a]) => {
      const api = (window as unknown as { tabchain: Record<string, (...x: unknown[]) => Promise<unknown>> }).tabchain;
      return (await api[m as string](...(a as unknown[]))) as never;
    },
    [method, args] as const,
  );
}

async function waitFor(what: string, pred: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > until) throw new Error(`p2p-browser bench: ${what} not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

export default async function p2pBrowserBench(ctx: BenchContext): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const e2e = await startE2e({ network: 'dev' });
  const pages: Page[] = [];
  try {
    if (PARTS.has('join')) await joinAndPropagate(ctx, e2e, pages, rows);
    if (PARTS.has('sync')) await syncThroughput(ctx, e2e, pages, rows);
    if (PARTS.has('transfers')) await transferSync(ctx, e2e, pages, rows);
    if (PARTS.has('load')) await loadToSynced(ctx, e2e, pages, rows);
  } finally {
    for (const p of pages) await p.context().close().catch(() => undefined);
    await e2e.close();
    const dirs = e2eRunDirs(`solo-${process.pid}`);
    await rm(dirs.dist, { recursive: true, force: true });
  }
  return rows;
}

/** Rows 1 and 2: first WebRTC peer of joining tabs, then block propagation across them. */
async function joinAndPropagate(ctx: BenchContext, e2e: E2e, pages: Page[], rows: BenchRow[]): Promise<void> {
  {
    // 1. Time to the first direct WebRTC peer, for tabs 2..5 joining.
    pages.push(await openTab(e2e));
    await call(pages[0], 'status');
    const firstPeer: number[] = [];
    for (let i = 1; i < TABS; i++) {
      const page = await openTab(e2e);
      pages.push(page);
      firstPeer.push(await firstWebrtcPeerMs(page));
      ctx.log(`tab ${i + 1}: first WebRTC peer after ${firstPeer[firstPeer.length - 1].toFixed(0)} ms`);
      if (TAB_LOGS) ctx.log(`tab ${i + 1} timeline: ${await timelineOf(page)}`);
    }
    firstPeer.sort((a, b) => a - b);
    rows.push({ suite: SUITE, name: `page load → first WebRTC peer (median of ${firstPeer.length} joining tabs)`, value: quantile(firstPeer, 0.5), unit: 'ms', target: '<= 1500' });
    rows.push({ suite: SUITE, name: 'page load → first WebRTC peer (worst)', value: firstPeer[firstPeer.length - 1], unit: 'ms' });

    // 2. Block propagation across the 5 tabs (full WebRTC mesh first).
    await waitFor(
      'a full WebRTC mesh of 5 tabs',
      async () => {
        const st = await Promise.all(pages.map((p) => call<Status>(p, 'status')));
        return st.every((s) => s.peers.filter((p) => p.transport === 'webrtc').length >= TABS - 1);
      },
      60_000,
    );
    const latencies: number[] = [];
    let height = (await call<Status>(pages[0], 'status')).height;
    for (let r = 0; r < PROPAGATION_BLOCKS; r++) {
      const miner = pages[r % TABS];
      const target = height + 1;
      const arrivals = pages.map((p) => heightReachedAt(p, target));
      await call(miner, 'mineBlocks', 1);
      const times = await Promise.all(arrivals);
      const minedAt = times[r % TABS];
      times.forEach((t, i) => {
        if (i !== r % TABS) latencies.push(t - minedAt);
      });
      height = target;
    }
    latencies.sort((a, b) => a - b);
    ctx.log(`propagation: ${latencies.length} samples, min ${latencies[0].toFixed(1)} ms, max ${latencies[latencies.length - 1].toFixed(1)} ms`);
    rows.push({ suite: SUITE, name: `block propagation p50 (${TABS} tabs, ${PROPAGATION_BLOCKS} blocks)`, value: quantile(latencies, 0.5), unit: 'ms' });
    rows.push({ suite: SUITE, name: `block propagation p95 (${TABS} tabs, ${PROPAGATION_BLOCKS} blocks)`, value: quantile(latencies, 0.95), unit: 'ms', target: '<= 300' });

  }
}

/** The relay server's peer id (its /bootstrap.json). */
async function relayPeerId(e2e: E2e): Promise<string> {
  return ((await (await fetch(new URL('/bootstrap.json', e2e.url))).json()) as { peerId: string }).peerId;
}

/** Closes every page of the last part: each part starts with a network of its own tabs. */
async function closeAll(pages: Page[]): Promise<void> {
  for (const p of pages) await p.context().close();
  pages.length = 0;
}

/** Blocks 2 s apart ending about a minute ago: on ASERT's schedule (genesis difficulty, ~15,000 hashes a block) and never in the future. */
const startTime = (n: number) => Math.floor(Date.now() / 1000) - 60 - n * params.targetSpacing;

/**
 * A headless Node node holding `chain` serves it over WebSockets to a first tab (pushed to
 * `pages`); resolves once that tab holds it all, the Node node stopped, with the Node → tab rate
 * (blocks/s from the tab's first direct peer to its tip).
 */
async function seedTab(e2e: E2e, pages: Page[], chain: Block[]): Promise<{ tab: Page; rate: number }> {
  const relayId = await relayPeerId(e2e);
  const node = new FullNode({ params, store: new MemoryStore({ network: 'dev' }) });
  await node.start();
  for (const b of chain) await node.processBlock(encodeBlock(b), 'local');
  if (node.height !== chain.length) throw new Error(`the Node node took ${node.height} of ${chain.length} blocks`);
  const headless = await startHeadlessNetwork(node, { relay: e2e.url, addressBook: null });
  try {
    const tab = await openTab(e2e);
    pages.push(tab);
    const first = await firstPeerMs(tab, relayId);
    const done = await heightReachedAt(tab, chain.length, 300_000);
    const origin = await tab.evaluate(() => performance.timeOrigin);
    return { tab, rate: chain.length / ((done - origin - first) / 1000) };
  } finally {
    await headless.stop().catch(() => undefined);
    await node.stop().catch(() => undefined);
  }
}

/** A fresh tab (pushed to `pages`) syncs `height` blocks from the tabs there: seconds from its first peer (relayed or WebRTC) to the tip. */
async function freshTabSync(e2e: E2e, pages: Page[], height: number): Promise<{ seconds: number; firstPeerMs: number }> {
  const fresh = await openTab(e2e);
  pages.push(fresh);
  const first = await firstPeerMs(fresh, await relayPeerId(e2e));
  const cdp = process.env.BENCH_P2P_PROFILE === '1' ? await fresh.context().newCDPSession(fresh) : undefined;
  if (cdp) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
    await cdp.send('Profiler.start');
  }
  const done = await heightReachedAt(fresh, height, 300_000);
  if (cdp) {
    const { profile } = await cdp.send('Profiler.stop');
    const self = new Map<string, number>();
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const dt = profile.timeDeltas ?? [];
    (profile.samples ?? []).forEach((id, i) => {
      const f = byId.get(id)!.callFrame;
      const key = `${f.functionName || '(anon)'} ${f.url.split('/').pop()}:${f.lineNumber}`;
      self.set(key, (self.get(key) ?? 0) + (dt[i] ?? 0) / 1000);
    });
    const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, 30);
    console.error(top.map(([k, ms]) => `    ${ms.toFixed(0).padStart(6)} ms  ${k}`).join('\n'));
  }
  const origin = await fresh.evaluate(() => performance.timeOrigin);
  return { seconds: (done - origin - first) / 1000, firstPeerMs: first };
}

/** Row 3: sync throughput of a long coinbase-only chain: Node → tab S (WebSocket), then S → fresh tab T (WebRTC). */
async function syncThroughput(ctx: BenchContext, e2e: E2e, pages: Page[], rows: BenchRow[]): Promise<void> {
  await closeAll(pages);
  const t0 = performance.now();
  const chain = coinbaseOnlyChain(params, SYNC_BLOCKS, startTime(SYNC_BLOCKS));
  ctx.log(`built a ${SYNC_BLOCKS}-block dev chain in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const { rate } = await seedTab(e2e, pages, chain);
  rows.push({ suite: SUITE, name: `sync ${SYNC_BLOCKS} blocks: headless Node node → tab (WebSocket)`, value: rate, unit: 'blocks/s', note: 'from the first peer to the tip' });
  const { seconds, firstPeerMs } = await freshTabSync(e2e, pages, SYNC_BLOCKS);
  ctx.log(`tab → tab: ${SYNC_BLOCKS} blocks in ${seconds.toFixed(2)} s after the first peer (at ${firstPeerMs.toFixed(0)} ms)`);
  rows.push({ suite: SUITE, name: `sync ${SYNC_BLOCKS} blocks tab → tab over WebRTC`, value: SYNC_BLOCKS / seconds, unit: 'blocks/s', target: '>= 1000', note: 'coinbase-only dev blocks; from the first peer (relayed or WebRTC) to the tip' });
}

/** Row 4: the same with blocks full of transfers (signatures to check, state to write): txs/s. */
async function transferSync(ctx: BenchContext, e2e: E2e, pages: Page[], rows: BenchRow[]): Promise<void> {
  await closeAll(pages);
  const t0 = performance.now();
  const chain = transferChain(params, TRANSFER_BLOCKS, TRANSFERS_PER_BLOCK, startTime(TRANSFER_BLOCKS));
  const transfers = chain.reduce((n, b) => n + b.txs.length - 1, 0);
  ctx.log(`built a ${TRANSFER_BLOCKS}-block dev chain of ${transfers} transfers in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const { rate } = await seedTab(e2e, pages, chain);
  ctx.log(`Node → tab: ${rate.toFixed(0)} blocks/s (${((rate * transfers) / TRANSFER_BLOCKS).toFixed(0)} txs/s)`);
  const { seconds, firstPeerMs } = await freshTabSync(e2e, pages, TRANSFER_BLOCKS);
  ctx.log(`tab → tab: ${TRANSFER_BLOCKS} blocks, ${transfers} transfers in ${seconds.toFixed(2)} s after the first peer (at ${firstPeerMs.toFixed(0)} ms)`);
  const name = `sync ${TRANSFER_BLOCKS} blocks of ${TRANSFERS_PER_BLOCK} transfers tab → tab over WebRTC`;
  const note = `blocks 3+ carry ${TRANSFERS_PER_BLOCK} signed transfers each; from the first peer (relayed or WebRTC) to the tip`;
  rows.push({ suite: SUITE, name: `${name} (txs)`, value: transfers / seconds, unit: 'txs/s', note });
  rows.push({ suite: SUITE, name: `${name} (blocks)`, value: TRANSFER_BLOCKS / seconds, unit: 'blocks/s', note });
}

/**
 * Rows 5 and 6: page load → synced for new tabs joining a network of two tabs holding
 * {@link JOIN_BLOCKS} blocks, each tab closed once measured; first on a quiet machine, then with
 * two mining tabs in the same browser (their own relay and network, 'main', so that they keep the
 * CPU busy without moving the tip the new tabs sync to).
 */
async function loadToSynced(ctx: BenchContext, e2e: E2e, pages: Page[], rows: BenchRow[]): Promise<void> {
  await closeAll(pages);
  const chain = coinbaseOnlyChain(params, JOIN_BLOCKS, startTime(JOIN_BLOCKS));
  await seedTab(e2e, pages, chain);
  const second = await openTab(e2e);
  pages.push(second);
  await heightReachedAt(second, JOIN_BLOCKS, 120_000);
  const joinAll = async (label: string): Promise<number[]> => {
    const ms: number[] = [];
    for (let i = 0; i < JOINERS; i++) {
      const tab = await openTab(e2e);
      try {
        const t = await syncedMs(tab, JOIN_BLOCKS);
        ctx.log(`${label} joiner ${i + 1}: first WebRTC peer at ${t.firstPeer.toFixed(0)} ms, synced at ${t.synced.toFixed(0)} ms`);
        if (TAB_LOGS) ctx.log(`${t.timeline.join('\n    ')}\n    timeline: ${await timelineOf(tab)}`);
        ms.push(t.synced);
      } finally {
        await tab.context().close();
      }
    }
    return ms.sort((a, b) => a - b);
  };
  const name = (what: string) => `page load → synced, ${JOIN_BLOCKS}-block network, ${what}`;
  const quiet = await joinAll('quiet');
  rows.push({ suite: SUITE, name: name(`median of ${JOINERS} joining tabs`), value: quantile(quiet, 0.5), unit: 'ms', target: '<= 3000', note: 'from navigation start to synced at the tip; 2 tabs hold the chain' });
  rows.push({ suite: SUITE, name: name('worst'), value: quiet[quiet.length - 1], unit: 'ms' });

  const busyRelay = await startRelay(await ensureDist(), 'main');
  const miners: Page[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const context = await e2e.browser.newContext();
      const page = await context.newPage();
      await page.goto(busyRelay.url);
      miners.push(page);
      await call(page, 'startMining');
    }
    await waitFor('two mining tabs hashing', async () => (await Promise.all(miners.map((m) => call<{ hashrate: number }>(m, 'status')))).every((s) => s.hashrate > 0), 60_000);
    const busy = await joinAll('busy');
    const rates = await Promise.all(miners.map((m) => call<{ hashrate: number; workers: number }>(m, 'status')));
    ctx.log(`mining tabs: ${rates.map((r) => `${r.workers} workers, ${(r.hashrate / 1e6).toFixed(2)} MH/s`).join('; ')}`);
    rows.push({ suite: SUITE, name: name(`2 tabs mining, median of ${JOINERS} joining tabs`), value: quantile(busy, 0.5), unit: 'ms', target: '<= 3000', note: 'as above, while two tabs of the same browser mine (on another network)' });
    rows.push({ suite: SUITE, name: name('2 tabs mining, worst'), value: busy[busy.length - 1], unit: 'ms' });
  } finally {
    for (const m of miners) await m.context().close().catch(() => undefined);
    await busyRelay.stop();
  }
}

/** In the page: ms from navigation start to its first WebRTC peer and to synced at `height` or above. */
function syncedMs(page: Page, height: number, timeoutMs = 120_000): Promise<{ firstPeer: number; synced: number; timeline: string[] }> {
  return page.evaluate(
    async ([h, limit]) => {
      const timeline: string[] = [];
      let last = '';
      const api = (window as unknown as { tabchain: { ready: Promise<void>; status(): Promise<Status & { synced: boolean }> } }).tabchain;
      await api.ready;
      const until = performance.now() + limit;
      let firstPeer = NaN;
      for (;;) {
        const s = await api.status();
        const now = `${s.height} ${s.synced ? 'synced' : 'syncing'} ${s.peers.map((p) => `${p.id.slice(-4)}/${p.transport}`).join(',')}`;
        if (now !== last) timeline.push(`${performance.now().toFixed(0)}: ${(last = now)}`);
        if (Number.isNaN(firstPeer) && s.peers.some((p) => p.transport === 'webrtc')) firstPeer = performance.now();
        if (s.synced && s.height >= h) return { firstPeer, synced: performance.now(), timeline };
        if (performance.now() > until) throw new Error(`not synced at ${h} within ${limit} ms (at ${s.height})`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    [height, timeoutMs] as const,
  );
}

/**
 * Like firstWebrtcPeerMs, but any peer but the relay server counts, relayed or direct: a tab syncs
 * over a relayed connection until its direct one opens, so sync rates are timed from here.
 */
function firstPeerMs(page: Page, relayId: string, timeoutMs = 60_000): Promise<number> {
  return page.evaluate(
    async ([limit, relay]) => {
      const api = (window as unknown as { tabchain: { ready: Promise<void>; status(): Promise<Status> } }).tabchain;
      await api.ready;
      const until = performance.now() + limit;
      for (;;) {
        const s = await api.status();
        if (s.peers.some((p) => p.id !== relay)) return performance.now();
        if (performance.now() > until) throw new Error(`no peer within ${limit} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    [timeoutMs, relayId] as const,
  );
}
