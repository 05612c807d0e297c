/**
 * Network benchmarks (suite 'p2p'): sync throughput of a 10,000-block chain between two headless
 * Node nodes in one process, over TCP on 127.0.0.1 (noise, yamux, the sync protocol), both on
 * MemoryStore. The chain is the 'test' network's: coinbase-only blocks (~250 bytes each) at
 * regtest difficulty, so the figure is the protocol and the node's block path (decode, PoW,
 * header context, sanity, apply, one store write per block) — not proof-of-work or big blocks.
 *
 * Rows: headers phase (headers/s: getHeaders rounds of 2,000, each validated by processHeaders;
 * timed from the fresh node's creation, so libp2p start-up and the first dial are included),
 * whole sync (blocks/s, from the same moment to its tip reaching the source's), and the same with
 * two source peers (bodies fetched from both in parallel). All nodes share this process and its
 * cores, so two sources also means two servers competing with the syncing node for the CPU.
 * The browser figures (WebRTC between tabs) are H15's, measured in Chromium.
 */
import { encodeBlock, NETWORKS, type Block } from '../src/chain/index.ts';
import { FullNode } from '../src/node/full-node.ts';
import { startHeadlessNetwork, type HeadlessNetwork } from '../src/node/network/headless.ts';
import { MemoryStore } from '../src/storage/memory-store.ts';
import { coinbaseOnlyChain } from './coinbase-chain.ts';
import type { BenchContext, BenchRow } from './run.ts';

const params = NETWORKS.test;
const HEIGHT = 10_000;

async function startNode(blocks: Block[], bootstrap?: string[]): Promise<{ node: FullNode; net: HeadlessNetwork }> {
  const node = new FullNode({ params, store: new MemoryStore({ network: 'test' }) });
  await node.start();
  for (const b of blocks) await node.processBlock(encodeBlock(b), 'local');
  const net = await startHeadlessNetwork(node, { bootstrap, addressBook: null, listen: ['/ip4/127.0.0.1/tcp/0'] });
  return { node, net };
}

async function syncOnce(sources: { net: HeadlessNetwork }[], height: number): Promise<{ totalMs: number; headersMs: number }> {
  const bootstrap = sources.map((s) => s.net.net.multiaddrs()[0]);
  const t0 = performance.now();
  const fresh = await startNode([], bootstrap);
  let headersMs = 0;
  fresh.net.net.events.on('sync-progress', (p) => {
    if (p.phase === 'headers' && p.total > 0 && p.done === p.total && headersMs === 0) headersMs = performance.now() - t0;
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sync stalled at ${fresh.node.height}`)), 300_000);
    const check = () => {
      if (fresh.node.height >= height) {
        clearTimeout(timer);
        off();
        resolve();
      }
    };
    const off = fresh.node.events.on('tip', check);
    check();
  });
  const totalMs = performance.now() - t0;
  await fresh.net.stop();
  await fresh.node.stop();
  return { totalMs, headersMs };
}

export default async function (ctx: BenchContext): Promise<BenchRow[]> {
  ctx.log(`building a ${HEIGHT}-block chain…`);
  const chain = coinbaseOnlyChain(params, HEIGHT);
  const s1 = await startNode(chain);
  const s2 = await startNode(chain);
  const rows: BenchRow[] = [];
  try {
    const one = await syncOnce([s1], HEIGHT);
    ctx.log(`one source: ${one.totalMs.toFixed(0)} ms (headers done at ${one.headersMs.toFixed(0)} ms)`);
    const note = 'Node↔Node over TCP (127.0.0.1), MemoryStore, test-network coinbase-only blocks';
    rows.push({ suite: 'p2p', name: `headers-first: ${HEIGHT} headers (1 peer)`, value: HEIGHT / (one.headersMs / 1000), unit: 'headers/s', note });
    rows.push({ suite: 'p2p', name: `sync ${HEIGHT} blocks from 1 peer`, value: HEIGHT / (one.totalMs / 1000), unit: 'blocks/s', note });
    const two = await syncOnce([s1, s2], HEIGHT);
    ctx.log(`two sources: ${two.totalMs.toFixed(0)} ms`);
    rows.push({ suite: 'p2p', name: `sync ${HEIGHT} blocks from 2 peers`, value: HEIGHT / (two.totalMs / 1000), unit: 'blocks/s', note });
  } finally {
    for (const s of [s1, s2]) {
      await s.net.stop();
      await s.node.stop();
    }
  }
  return rows;
}
