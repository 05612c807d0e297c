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
 *   alone: blocks / (time at the tip − time of its first WebRTC peer). The Node → tab figure is
 *   reported too.
 * @module
 */
import { rm } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { encodeBlock, NETWORKS } from '../src/chain/index.ts';
import { FullNode } from '../src/node/full-node.ts';
import { startHeadlessNetwork } from '../src/node/network/headless.ts';
import { MemoryStore } from '../src/storage/memory-store.ts';
import { startE2e, type E2e } from '../test/e2e/harness.ts';
import { e2eRunDirs } from '../test/e2e/run-dirs.ts';
import { coinbaseOnlyChain } from './coinbase-chain.ts';
import type { BenchContext, BenchRow } from './run.ts';

const SUITE = 'p2p-browser';
const TABS = 5;
const PROPAGATION_BLOCKS = 20;
/** The figure is for 10,000 blocks; `BENCH_SYNC_BLOCKS=2000` makes a quicker run. */
const SYNC_BLOCKS = Number(process.env.BENCH_SYNC_BLOCKS ?? 10_000);
/** `BENCH_P2P_ONLY=sync` runs only the sync part (to iterate on sync speed). */
const ONLY_SYNC = process.env.BENCH_P2P_ONLY === 'sync';
const params = NETWORKS.dev;

type Status = { peerId: string; height: number; peers: { id: string; transport: string }[] };

/** Opens a fresh isolated tab without waiting for anything but the navigation. */
async function openTab(e2e: E2e): Promise<Page> {
  const context = await e2e.browser.newContext();
  const page = await context.newPage();
  await page.goto(e2e.url);
  return page;
}

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
    if (!ONLY_SYNC) await joinAndPropagate(ctx, e2e, pages, rows);
    await syncThroughput(ctx, e2e, pages, rows);
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
    }
    firstPeer.sort((a, b) => a - b);
    rows.push({ suite: SUITE, name: `page load → first WebRTC peer (median of ${firstPeer.length} joining tabs)`, value: quantile(firstPeer, 0.5), unit: 'ms', target: '<= 3000' });
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

/** Row 3: sync throughput of a long chain: Node → tab S (WebSocket), then S → fresh tab T (WebRTC). */
async function syncThroughput(ctx: BenchContext, e2e: E2e, pages: Page[], rows: BenchRow[]): Promise<void> {
  {
    for (const p of pages) await p.context().close();
    pages.length = 0;
    const t0 = performance.now();
    // 2 s apart and ending about a minute ago: on ASERT's schedule (genesis difficulty, ~15,000
    // hashes a block) and never in the future.
    const chain = coinbaseOnlyChain(params, SYNC_BLOCKS, Math.floor(Date.now() / 1000) - 60 - SYNC_BLOCKS * params.targetSpacing);
    ctx.log(`built a ${SYNC_BLOCKS}-block dev chain in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const relayId = ((await (await fetch(new URL('/bootstrap.json', e2e.url))).json()) as { peerId: string }).peerId;
    const node = new FullNode({ params, store: new MemoryStore({ network: 'dev' }) });
    await node.start();
    for (const b of chain) await node.processBlock(encodeBlock(b), 'local');
    if (node.height !== SYNC_BLOCKS) throw new Error(`the Node node took ${node.height} of ${SYNC_BLOCKS} blocks`);
    const headless = await startHeadlessNetwork(node, { relay: e2e.url, addressBook: null });
    let nodeStopped = false;
    try {
      const source = await openTab(e2e);
      pages.push(source);
      const sFirst = await firstDirectPeerMs(source, relayId);
      const sDone = await heightReachedAt(source, SYNC_BLOCKS, 300_000);
      const sOrigin = await source.evaluate(() => performance.timeOrigin);
      const nodeRate = SYNC_BLOCKS / ((sDone - sOrigin - sFirst) / 1000);
      rows.push({ suite: SUITE, name: `sync ${SYNC_BLOCKS} blocks: headless Node node → tab (WebSocket)`, value: nodeRate, unit: 'blocks/s', note: 'from the first peer to the tip' });
      await headless.stop();
      await node.stop();
      nodeStopped = true;

      const fresh = await openTab(e2e);
      pages.push(fresh);
      const fFirst = await firstWebrtcPeerMs(fresh);
      const fDone = await heightReachedAt(fresh, SYNC_BLOCKS, 300_000);
      const fOrigin = await fresh.evaluate(() => performance.timeOrigin);
      const seconds = (fDone - fOrigin - fFirst) / 1000;
      ctx.log(`tab → tab: ${SYNC_BLOCKS} blocks in ${seconds.toFixed(2)} s after the first WebRTC peer (at ${fFirst.toFixed(0)} ms)`);
      rows.push({ suite: SUITE, name: `sync ${SYNC_BLOCKS} blocks tab → tab over WebRTC`, value: SYNC_BLOCKS / seconds, unit: 'blocks/s', target: '>= 500', note: 'coinbase-only dev blocks; from the first WebRTC peer to the tip' });
    } finally {
      if (!nodeStopped) {
        await headless.stop().catch(() => undefined);
        await node.stop().catch(() => undefined);
      }
    }
  }
}

/** Like firstWebrtcPeerMs, but any direct peer but the relay counts (the first tab's only peer is a Node node). */
function firstDirectPeerMs(page: Page, relayId: string, timeoutMs = 60_000): Promise<number> {
  return page.evaluate(
    async ([limit, relay]) => {
      const api = (window as unknown as { tabchain: { ready: Promise<void>; status(): Promise<Status> } }).tabchain;
      await api.ready;
      const until = performance.now() + limit;
      for (;;) {
        const s = await api.status();
        if (s.peers.some((p) => p.id !== relay && p.transport !== 'relay')) return performance.now();
        if (performance.now() > until) throw new Error(`no direct peer within ${limit} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    [timeoutMs, relayId] as const,
  );
}
