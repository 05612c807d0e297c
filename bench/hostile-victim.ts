/**
 * The victim of bench/hostile.bench.ts, in its own process so that its heap is measured apart
 * from the attackers': a headless FullNode on the 'test' network (MemoryStore, default limits)
 * with its network on TCP 127.0.0.1, driven over IPC (child_process.fork; run with --expose-gc).
 *
 * Environment: MEMPOOL_MAX_COUNT (default: the node's).
 * Messages in: `{ type: 'heap' }` → `{ type: 'heap', heapUsed, external, arrayBuffers, rss,
 * mempool, orphans, held }` after two full collections; `{ type: 'settle' }` → `{ type:
 * 'settled' }` once the node has taken in what it was sent; `{ type: 'dial', addr }` → `{ type:
 * 'dialled' }` (the victim dials an attacker, so it sees the attacker's own address); `{ type: 'submit', tx }` (hex) → `{ type:
 * 'submitted', status, code? }`; `{ type: 'mine' }` → `{ type: 'mined', height }`; `{ type:
 * 'confirmed', txid }` → `{ type: 'confirmed', confirmed }`; `{ type: 'stop' }`.
 * On start it mines `FUNDED_BLOCKS` blocks paying the honest key (derived from a fixed seed, the
 * same in the bench) and says `{ type: 'ready', addr, peerId, height }`.
 */
import { multiaddr } from '@multiformats/multiaddr';
import { sha256 } from '@noble/hashes/sha2.js';
import { hexToBytes } from '@noble/hashes/utils.js';
import { NETWORKS, publicKeyOf, utf8Bytes } from '../src/chain/index.ts';
import { FullNode } from '../src/node/full-node.ts';
import { startHeadlessNetwork } from '../src/node/network/headless.ts';
import { MemoryStore } from '../src/storage/memory-store.ts';

/** The honest wallet's secret key (the bench derives the same). */
export const HONEST_SECRET = sha256(utf8Bytes('tabchain/bench/hostile/honest'));
/** Blocks mined to the honest key before the attack (rewards mature after 2 on 'test'). */
export const FUNDED_BLOCKS = 6;

type In = { type: 'heap' } | { type: 'settle' } | { type: 'dial'; addr: string } | { type: 'submit'; tx: string } | { type: 'mine' } | { type: 'confirmed'; txid: string } | { type: 'stop' };

async function main(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  const send = (m: object) => process.send!(m);
  // MEMPOOL_MAX_COUNT: the review's small pool (2,000) shows an honest tx pushed out by a flood.
  const maxCount = process.env.MEMPOOL_MAX_COUNT ? Number(process.env.MEMPOOL_MAX_COUNT) : undefined;
  const node = new FullNode({
    params: NETWORKS.test,
    store: new MemoryStore({ network: 'test' }),
    minerPubKey: publicKeyOf(HONEST_SECRET),
    miner: { useWorkers: false },
    ...(maxCount ? { mempool: { maxCount } } : {}),
  });
  await node.start();
  await node.miner.mineBlocks(FUNDED_BLOCKS);
  const net = await startHeadlessNetwork(node, { addressBook: null, listen: ['/ip4/127.0.0.1/tcp/0'], discoveryIntervalMs: 3_600_000 });
  process.on('message', (raw) => {
    const m = raw as In;
    void (async () => {
      switch (m.type) {
        case 'heap': {
          gc();
          await new Promise((r) => setTimeout(r, 50));
          gc();
          const u = process.memoryUsage();
          send({ type: 'heap', heapUsed: u.heapUsed, external: u.external, arrayBuffers: u.arrayBuffers, rss: u.rss, mempool: { size: node.mempool.size, bytes: node.mempool.bytes }, orphans: node.orphanCount, held: node.heldCount });
          return;
        }
        case 'settle': {
          // Until the node's queue has taken in what was sent: a marker through its one queue,
          // then the counters, until two readings half a second apart agree.
          let prev = '';
          for (let i = 0; i < 120; i++) {
            await node.processTx(new Uint8Array(0), 'local');
            const cur = JSON.stringify([node.mempool.size, node.orphanCount, node.heldCount]);
            if (cur === prev) break;
            prev = cur;
            await new Promise((r) => setTimeout(r, 500));
          }
          send({ type: 'settled' });
          return;
        }
        case 'dial': {
          await net.net.libp2p.dial(multiaddr(m.addr), { signal: AbortSignal.timeout(10_000) });
          send({ type: 'dialled' });
          return;
        }
        case 'submit': {
          const r = await node.processTx(hexToBytes(m.tx), 'local');
          send({ type: 'submitted', status: r.status, ...(r.code ? { code: r.code } : {}) });
          return;
        }
        case 'mine': {
          await node.miner.mineBlocks(1);
          send({ type: 'mined', height: node.height });
          return;
        }
        case 'confirmed': {
          const f = await node.findTx(m.txid);
          send({ type: 'confirmed', confirmed: f?.state === 'confirmed' });
          return;
        }
        case 'stop':
          await net.stop();
          await node.stop();
          process.exit(0);
      }
    })().catch((e: unknown) => send({ type: 'error', message: (e as Error).message }));
  });
  send({ type: 'ready', addr: net.net.multiaddrs()[0], peerId: net.net.peerId, height: node.height });
}

// Run only as the forked victim (with an IPC channel); the bench imports the constants above.
if (process.send) await main();
