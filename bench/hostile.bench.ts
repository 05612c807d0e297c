/**
 * Hostile benchmarks (suite 'hostile', issue 11): what attackers can make an honest node hold, and
 * what an honest user waits for while they try. The victim runs in its own process
 * (bench/hostile-victim.ts, --expose-gc) so its heap is measured apart from the attackers'; the
 * attackers are real tabchain libp2p nodes in this process, over TCP on 127.0.0.1.
 *
 * Rows:
 * - heap one attacker pins: the victim's heap after two full collections, while one attacker holds
 *   every sync stream it may open with a request frame of the largest accepted size one byte short
 *   of complete, has gossiped 12 junk ~1 MiB orphans (valid proof of work, random parents) and
 *   a nonce-gap flood of 2,000 transactions from 20 fresh keys — minus the heap before (target
 *   ≤ 32 MiB, the review measured ~50 MiB of orphans alone);
 * - heap 50 Sybils pin: the same attack from 50 peer ids at once, each with its own keys (target
 *   ≤ 256 MiB) — from one host (gossipsub's IP-colocation score graylists their gossip, so their
 *   sync streams are what reaches the node) and, the worst case, from 50 addresses (127.0.0.2–51,
 *   which the victim dials, so it sees each attacker's own address);
 * - an honest transaction's time to confirmation after 80 fresh keys gossiped 250 gapped
 *   transactions each (the review's flood, which with a pool of 2,000 refused an honest tx at 65×
 *   the minimum fee and evicted an honest pending one): the victim mines a block every 500 ms;
 *   ms from submission until a block confirmed it (∞ if it never did), and whether the payment
 *   sent before the flood survived.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import type { Stream } from '@libp2p/interface';
import { bytesToHex, randomBytes } from '@noble/hashes/utils.js';
import {
  bitsToTarget,
  blockHash,
  encodeBlock,
  encodeTx,
  generatePrivateKey,
  hashToBigInt,
  hashToHex,
  makeCoinbase,
  merkleRoot,
  NETWORKS,
  publicKeyOf,
  signTx,
  txid,
  type Block,
  type Transaction,
} from '../src/chain/index.ts';
import { createLibp2pNode, type TabchainLibp2p } from '../src/p2p/libp2p-node.ts';
import * as messages from '../src/p2p/messages.ts';
import { MAX_FRAME_BYTES } from '../src/p2p/frames.ts';
import { PeerGate } from '../src/p2p/peer-gate.ts';
import { protocolIds } from '../src/p2p/protocol.ts';
import { nodeTransports } from '../src/p2p/transports-node.ts';
import { HONEST_SECRET } from './hostile-victim.ts';
import type { BenchContext, BenchRow } from './run.ts';

const params = NETWORKS.test;
const ids = protocolIds('test');
const MiB = 1024 * 1024;

/** The largest request frame the victim's sync server reads (its cap if it names one). */
const REQUEST_CAP: number = ((messages as Record<string, unknown>).MAX_REQUEST_BYTES as number | undefined) ?? MAX_FRAME_BYTES;

interface Victim {
  child: ChildProcess;
  addr: string;
  peerId: string;
  ask<T>(msg: object, reply: string): Promise<T>;
  stop(): Promise<void>;
}

interface Heap {
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  mempool: { size: number; bytes: number };
  orphans: number;
}

async function startVictim(env: Record<string, string> = {}): Promise<Victim> {
  const child = fork(fileURLToPath(new URL('./hostile-victim.ts', import.meta.url)), [], { execArgv: ['--expose-gc', '--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env: { ...process.env, ...env } });
  const ready = await new Promise<{ addr: string; peerId: string }>((resolve, reject) => {
    child.once('error', reject);
    child.on('message', (m: { type: string; addr: string; peerId: string }) => m.type === 'ready' && resolve(m));
  });
  let queue = Promise.resolve<unknown>(undefined);
  const ask = <T>(msg: object, reply: string) => {
    const p = queue.then(
      () =>
        new Promise<T>((resolve, reject) => {
          const on = (m: { type: string; message?: string }) => {
            if (m.type === 'error') {
              child.off('message', on);
              reject(new Error(m.message));
            } else if (m.type === reply) {
              child.off('message', on);
              resolve(m as T);
            }
          };
          child.on('message', on);
          child.send(msg);
        }),
    );
    queue = p.catch(() => undefined);
    return p;
  };
  return {
    child,
    ...ready,
    ask,
    stop: async () => {
      child.send({ type: 'stop' });
      await new Promise((r) => child.once('exit', r));
    },
  };
}

const heapOf = (v: Victim) => v.ask<Heap>({ type: 'heap' }, 'heap');
/** What the victim holds beyond its baseline: JS heap plus buffers outside it. */
const held = (h: Heap) => h.heapUsed + h.arrayBuffers;

/**
 * An attacker connected to the victim. `ip`: it listens there and the victim dials it, so the
 * victim sees that address (127.0.0.x are distinct hosts to it); otherwise it dials the victim
 * from 127.0.0.1, like every other attacker of this process.
 */
async function attacker(victim: Victim, ip?: string): Promise<TabchainLibp2p> {
  const node = await createLibp2pNode({ network: 'test', transports: nodeTransports(), listen: [`/ip4/${ip ?? '127.0.0.1'}/tcp/0`], gate: new PeerGate(), discoveryIntervalMs: 3_600_000, start: true });
  node.services.pubsub.subscribe(ids.blocksTopic);
  node.services.pubsub.subscribe(ids.txsTopic);
  if (ip) await victim.ask({ type: 'dial', addr: `${node.getMultiaddrs()[0].toString()}` }, 'dialled');
  else await node.dial(multiaddr(victim.addr), { signal: AbortSignal.timeout(10_000) });
  const vid = peerIdFromString(victim.peerId);
  const end = Date.now() + 10_000;
  while (!(node.services.pubsub.getSubscribers(ids.txsTopic).some((p) => p.equals(vid)) && node.services.pubsub.getSubscribers(ids.blocksTopic).some((p) => p.equals(vid)))) {
    if (Date.now() > end) throw new Error('the victim never subscribed');
    await new Promise((r) => setTimeout(r, 50));
  }
  return node;
}

/** Opens up to `count` sync streams, each holding a request frame of the largest accepted size, one byte short. */
async function pinStreams(a: TabchainLibp2p, victim: Victim, count: number): Promise<Stream[]> {
  const streams: Stream[] = [];
  const body = new Uint8Array(REQUEST_CAP - 1);
  for (let i = 0; i < count; i++) {
    try {
      const s = await a.dialProtocol(peerIdFromString(victim.peerId), ids.sync, { signal: AbortSignal.timeout(5_000) });
      const prefix = new Uint8Array(4);
      new DataView(prefix.buffer).setUint32(0, REQUEST_CAP, true);
      s.send(prefix);
      s.send(body);
      streams.push(s);
    } catch {
      break; // the victim refuses more streams: that is its limit
    }
  }
  return streams;
}

/** A ~1 MiB body of distinct, well-encoded transfers with junk signatures (built once). */
function junkBody(): Block['txs'] {
  const txs: Transaction[] = [makeCoinbase(params, 1_000_000, new Uint8Array(32), 0n)];
  const from = randomBytes(32);
  const to = randomBytes(32);
  let bytes = 200;
  for (let n = 1; bytes < 1_040_000 && txs.length < params.maxBlockTxs; n++) {
    const tx = { chainId: params.chainId, kind: 'transfer', from, nonce: n, fee: 10_000n, to, amount: 1n, signature: randomBytes(64) } as Transaction;
    bytes += encodeTx(tx).length;
    txs.push(tx);
  }
  return txs;
}

/** A mined header (test difficulty: a couple of hashes) over `txs` whose parent nobody has. */
function orphanOf(txs: Block['txs'], root: Uint8Array): Uint8Array {
  const header = { version: 1, prevHash: randomBytes(32), merkleRoot: root, time: params.genesis.header.time + 100, bits: params.genesisBits, nonce: 0 };
  const target = bitsToTarget(header.bits);
  while (hashToBigInt(blockHash(header)) > target) header.nonce++;
  return encodeBlock({ header, txs });
}

/** `keys` fresh, unfunded keys × `perKey` transactions behind a nonce gap (nonce 2, 3, …). */
function gapTxs(keys: number, perKey: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  const to = randomBytes(32);
  for (let k = 0; k < keys; k++) {
    const priv = generatePrivateKey();
    const from = publicKeyOf(priv);
    for (let i = 0; i < perKey; i++) {
      out.push(encodeTx(signTx({ chainId: params.chainId, kind: 'transfer', from, nonce: 2 + i, fee: 100_000n, to, amount: 1n }, priv) as Transaction));
    }
  }
  return out;
}

async function publishAll(a: TabchainLibp2p, topic: string, items: Uint8Array[]): Promise<void> {
  for (const bytes of items) await a.services.pubsub.publish(topic, bytes).catch(() => undefined);
}

export default async function (ctx: BenchContext): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const body = junkBody();
  const root = merkleRoot(body);
  ctx.log(`junk orphan body: ${body.length} txs, request frame cap ${REQUEST_CAP} bytes`);

  // One attacker.
  {
    const victim = await startVictim();
    try {
      const before = await heapOf(victim);
      const a = await attacker(victim);
      const streams = await pinStreams(a, victim, 16);
      await publishAll(a, ids.blocksTopic, Array.from({ length: 12 }, () => orphanOf(body, root)));
      await publishAll(a, ids.txsTopic, gapTxs(20, 100));
      await victim.ask({ type: 'settle' }, 'settled');
      const during = await heapOf(victim);
      const pinned = (held(during) - held(before)) / MiB;
      ctx.log(`one attacker: ${streams.length} streams held, mempool ${during.mempool.size} txs / ${during.mempool.bytes} B, ${during.orphans} orphans, +${pinned.toFixed(1)} MiB`);
      rows.push({ suite: 'hostile', name: 'heap one attacker pins', value: pinned, unit: 'MiB', target: '<= 32', note: `${streams.length} sync streams, 12 junk 1 MiB orphans, 2,000 gapped txs; mempool ${during.mempool.size}, orphans ${during.orphans}` });
      for (const s of streams) s.abort(new Error('done'));
      await a.stop();
    } finally {
      await victim.stop();
    }
  }

  // 50 Sybils: from one host (as the review measured: gossipsub's IP-colocation score then
  // graylists their gossip, so only their sync streams reach the node), and from 50 addresses
  // (the worst case: every part of the attack reaches the node).
  for (const spread of [false, true]) {
    const victim = await startVictim();
    try {
      const before = await heapOf(victim);
      const sybils: TabchainLibp2p[] = [];
      for (let i = 0; i < 50; i++) {
        const a = await attacker(victim, spread ? `127.0.0.${i + 2}` : undefined).catch((e: Error) => (ctx.log(`sybil ${i}: ${e.message}`), undefined));
        if (a) sybils.push(a);
      }
      const streams = (await Promise.all(sybils.map((a) => pinStreams(a, victim, 16)))).flat();
      await Promise.all(sybils.map((a) => publishAll(a, ids.blocksTopic, [orphanOf(body, root), orphanOf(body, root)])));
      await Promise.all(sybils.map((a) => publishAll(a, ids.txsTopic, gapTxs(4, 50))));
      await victim.ask({ type: 'settle' }, 'settled');
      const during = await heapOf(victim);
      const pinned = (held(during) - held(before)) / MiB;
      const where = spread ? 'from 50 addresses' : 'from one host';
      ctx.log(`50 sybils ${where} (${sybils.length} connected): ${streams.length} streams, mempool ${during.mempool.size} / ${during.mempool.bytes} B, ${during.orphans} orphans, +${pinned.toFixed(1)} MiB`);
      rows.push({
        suite: 'hostile',
        name: `heap 50 Sybils ${where} pin`,
        value: pinned,
        unit: 'MiB',
        target: '<= 256',
        note: `${sybils.length} peers, ${streams.length} sync streams held, 100 junk orphans, 10,000 gapped txs sent; mempool ${during.mempool.size}, orphans ${during.orphans}`,
      });
      for (const st of streams) st.abort(new Error('done'));
      await Promise.all(sybils.map((a) => a.stop()));
    } finally {
      await victim.stop();
    }
  }

  // Honest transactions and a nonce-gap flood, with the review's pool of 2,000: one honest payment
  // sent before the flood, the flood (80 keys × 250 gapped txs), then a second honest payment.
  {
    const victim = await startVictim({ MEMPOOL_MAX_COUNT: '2000' });
    try {
      const a = await attacker(victim);
      ctx.log('signing the flood (80 keys × 250 gapped txs)…');
      const flood = gapTxs(80, 250);
      const pay = (nonce: number) => signTx({ chainId: params.chainId, kind: 'transfer', from: publicKeyOf(HONEST_SECRET), nonce, fee: 65n * params.minFeePerByte * 150n, to: randomBytes(32), amount: 1n }, HONEST_SECRET) as Transaction;
      const submit = (tx: Transaction) => victim.ask<{ status: string; code?: string }>({ type: 'submit', tx: bytesToHex(encodeTx(tx)) }, 'submitted');
      const confirmed = async (tx: Transaction) => (await victim.ask<{ confirmed: boolean }>({ type: 'confirmed', txid: hashToHex(txid(tx)) }, 'confirmed')).confirmed;
      const first = pay(1);
      const sub1 = await submit(first);
      await publishAll(a, ids.txsTopic, flood);
      await victim.ask({ type: 'settle' }, 'settled');
      const full = await heapOf(victim);
      const second = pay(2);
      const t0 = performance.now();
      const sub2 = await submit(second);
      let blocks = 0;
      let done = false;
      while (!done && blocks < 10) {
        await new Promise((r) => setTimeout(r, 500));
        await victim.ask({ type: 'mine' }, 'mined');
        blocks++;
        done = await confirmed(second);
      }
      const ms = performance.now() - t0;
      const firstOk = await confirmed(first);
      const what = `first payment ${sub1.status}, ${firstOk ? 'confirmed' : 'NOT confirmed (evicted)'}; after the flood the pool held ${full.mempool.size}; second payment ${sub2.status}${sub2.code ? ` (${sub2.code})` : ''}, ${done ? `confirmed after ${blocks} block(s)` : 'not confirmed in 10 blocks'}`;
      ctx.log(what);
      rows.push({
        suite: 'hostile',
        name: 'honest tx to confirmation after a nonce-gap flood',
        value: done ? ms : Number.POSITIVE_INFINITY,
        unit: 'ms',
        note: `one block per 500 ms, pool cap 2,000, 80 keys × 250 gapped txs; ${what}`,
      });
      await a.stop();
    } finally {
      await victim.stop();
    }
  }
  return rows;
}
