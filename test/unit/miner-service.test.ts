import { describe, expect, it } from 'vitest';
import { ticks, waitUntil as waitFor } from '../support/wait.ts';
import { sha256 } from '@noble/hashes/sha2.js';
import { MinerService, spawnInlineWorker, type MinerTemplate, type SpawnWorker, type ToWorkerMessage } from '../../src/miner/index.ts';

const MAX = (1n << 256n) - 1n;

interface FakeBlock {
  template: string;
  extraNonce: bigint;
  nonce: number;
  header80: Uint8Array;
}

function hashValue(header80: Uint8Array): bigint {
  const d = sha256(sha256(header80));
  let v = 0n;
  for (let i = 31; i >= 0; i--) v = (v << 8n) | BigInt(d[i]);
  return v;
}

/** A template whose merkle root depends on the extraNonce, like a real coinbase roll. */
function template(name: string, target: bigint): MinerTemplate<FakeBlock> {
  const base = sha256(new TextEncoder().encode(name));
  const headerFor = (en: bigint) => {
    const h = new Uint8Array(80);
    h.set(base, 4);
    const cb = new Uint8Array(40);
    cb.set(base);
    new DataView(cb.buffer).setBigUint64(32, en, true);
    h.set(sha256(cb), 36);
    return h;
  };
  return {
    target,
    headerFor,
    blockFor: (extraNonce, nonce) => {
      const header80 = headerFor(extraNonce);
      new DataView(header80.buffer).setUint32(76, nonce, true);
      return { template: name, extraNonce, nonce, header80 };
    },
  };
}

/** The pool works in 1 ms turns: poll as often. */
const waitUntil = (cond: () => boolean, what: string) => waitFor(cond, what, 30_000, 1);

function recording(): { spawn: SpawnWorker; scans: () => ToWorkerMessage[] } {
  const posted: ToWorkerMessage[] = [];
  return {
    scans: () => posted.filter((m) => m.type === 'scan'),
    spawn: () => {
      const w = spawnInlineWorker();
      const post = w.post.bind(w);
      w.post = (m) => {
        posted.push(m);
        post(m);
      };
      return w;
    },
  };
}

describe('miner service', () => {
  it('never mines before it is told the node is synced, then hands valid blocks to onBlock', async () => {
    const rec = recording();
    const blocks: FakeBlock[] = [];
    const miner = new MinerService<FakeBlock>({ spawn: rec.spawn, workers: 1, onBlock: (b) => void blocks.push(b) });
    miner.setTemplate(template('t1', MAX >> 8n));
    await miner.start();
    await ticks(30);
    expect(rec.scans()).toHaveLength(0);
    expect(miner.status()).toMatchObject({ started: true, synced: false, mining: false, hashrate: 0 });
    miner.setSynced(true);
    await waitUntil(() => blocks.length > 0, 'a block');
    const b = blocks[0];
    expect(b.template).toBe('t1');
    expect(hashValue(b.header80)).toBeLessThanOrEqual(MAX >> 8n);
    expect(miner.status().blocksFound).toBeGreaterThanOrEqual(1);
    miner.close();
  });

  it('restarts on every new template and keeps mining the same template (next extraNonce) until replaced', async () => {
    const blocks: FakeBlock[] = [];
    const miner = new MinerService<FakeBlock>({ spawn: spawnInlineWorker, workers: 1, onBlock: (b) => void blocks.push(b) });
    miner.setSynced(true);
    await miner.start({ workers: 1 });
    miner.setTemplate(template('a', MAX >> 6n));
    await waitUntil(() => blocks.length >= 2, 'two blocks on a');
    // Without a new template the miner moved on to the next extraNonce, never re-submitting.
    expect(blocks[0].template).toBe('a');
    expect(blocks[1].template).toBe('a');
    expect(blocks[1].extraNonce).toBeGreaterThan(blocks[0].extraNonce);
    miner.setTemplate(template('b', MAX >> 6n));
    const n = blocks.length;
    await waitUntil(() => blocks.length > n + 1, 'blocks on b');
    // After setTemplate('b') only blocks of b arrive (a chunk of a in flight at that moment is discarded).
    expect(blocks.slice(n).every((x) => x.template === 'b')).toBe(true);
    for (const x of blocks) expect(hashValue(x.header80)).toBeLessThanOrEqual(MAX >> 6n);
    miner.close();
  });

  it('stops when stopped or no longer synced, and resumes when asked', async () => {
    const rec = recording();
    const miner = new MinerService<FakeBlock>({ spawn: rec.spawn, workers: 2, kind: 'js', chunkSize: 256, onBlock: () => {} });
    miner.setSynced(true);
    miner.setTemplate(template('c', 0n));
    await miner.start();
    await waitUntil(() => miner.pool!.stats.chunksCompleted >= 4, 'chunks');
    expect(miner.status()).toMatchObject({ started: true, mining: true, workers: 2 });
    expect(miner.status().hashrate).toBeGreaterThan(0);

    miner.setSynced(false); // e.g. a peer announced more work: sync first
    const dispatched = miner.pool!.stats.chunksDispatched;
    await ticks(30);
    expect(miner.pool!.stats.chunksDispatched).toBe(dispatched);
    expect(miner.status().mining).toBe(false);

    miner.setSynced(true);
    await waitUntil(() => miner.pool!.stats.chunksDispatched > dispatched, 'mining again');
    await miner.stop();
    const stopped = miner.pool!.stats.chunksDispatched;
    await ticks(30);
    expect(miner.pool!.stats.chunksDispatched).toBe(stopped);
    expect(miner.status()).toMatchObject({ started: false, mining: false, hashrate: 0 });

    await miner.start({ workers: 1 });
    expect(miner.status()).toMatchObject({ mining: true, workers: 1 });
    expect(miner.pool!.size).toBe(1);
    expect(() => miner.setWorkers(0)).toThrow(RangeError);
    await expect(miner.start({ workers: -1 })).rejects.toThrow(RangeError);
    expect(miner.status().workers).toBe(1);
    miner.close();
  });

  it('reports an onBlock failure and goes on mining', async () => {
    const errors: Error[] = [];
    let calls = 0;
    const miner = new MinerService<FakeBlock>({
      spawn: spawnInlineWorker,
      workers: 1,
      onError: (e) => errors.push(e),
      onBlock: async () => {
        calls++;
        throw new Error('rejected');
      },
    });
    miner.setSynced(true);
    miner.setTemplate(template('d', MAX >> 4n));
    await miner.start();
    await waitUntil(() => calls >= 2, 'two attempts');
    expect(errors[0].message).toBe('rejected');
    miner.close();
  });
});
