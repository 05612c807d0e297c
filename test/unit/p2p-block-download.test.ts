/**
 * BlockDownload (src/p2p/block-download.ts), the bodies phase of sync, against a fake chain and
 * fake peers whose answers the test releases one by one, in the order it chooses: out-of-order
 * answers reach the node in chain order as runs; a lost answer is asked of another peer; a slow
 * peer holds back only the window; a peer that disconnects is replaced; the bytes held for
 * in-order delivery stay within the budget; a peer withholding bodies of its own chain is
 * charged; a BUSY peer is not.
 *
 * No timers are involved: {@link settle} lets every pending promise run (one macrotask turn
 * drains them all), so each step is deterministic.
 */
import { describe, expect, it } from 'vitest';
import { hashToHex, HeaderIndex } from '../../src/chain/index.ts';
import { BlockDownload, type BlockDownloadOptions, type DownloadPeer } from '../../src/p2p/block-download.ts';
import { RemoteSyncError } from '../../src/p2p/errors.ts';
import type { BlocksResult } from '../../src/p2p/sync-client.ts';
import { waitUntil } from '../support/wait.ts';
import { ChainBuilder } from './helpers/chain-builder.ts';

const BODY_BYTES = 1000;

/** Lets every pending promise run: no timers are involved, so after one macrotask turn all is quiet. */
const settle = () => new Promise<void>((r) => setImmediate(r));

/** A header chain of `n` blocks with no bodies, and a node that connects delivered bodies by height. */
function fakeChain(n: number) {
  const b = new ChainBuilder();
  for (let i = 0; i < n; i++) b.mine();
  const headers = new HeaderIndex(b.params.genesis.header);
  for (let h = 1; h <= n; h++) headers.add(b.blocks[h].header, { status: 'headers-only', hasBody: false });
  const hashAt = (h: number) => b.entries[h].hash;
  const heightOf = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset).getUint32(0);
  const have = new Set<number>();
  let tip = 0;
  /** Heights of each processBlocks call, in order. */
  const runs: number[][] = [];
  const chain: BlockDownloadOptions['chain'] = {
    headers,
    tip: () => headers.get(hashAt(tip))!,
    missingBodies: (max) => {
      const out: string[] = [];
      for (let h = tip + 1; h <= n && out.length < max; h++) if (!have.has(h)) out.push(hashToHex(hashAt(h)));
      return out;
    },
    processBlocks: async (list) => {
      const heights = list.map(heightOf);
      runs.push(heights);
      for (const h of heights) have.add(h);
      while (have.has(tip + 1)) tip++;
      return heights.map((h) => ({ status: 'extended' as const, hash: hashToHex(hashAt(h)), height: h }));
    },
  };
  /** A body for height `h`: its first 4 bytes say the height (the fake node reads nothing else). */
  const body = (h: number) => {
    const bytes = new Uint8Array(BODY_BYTES);
    new DataView(bytes.buffer).setUint32(0, h);
    return bytes;
  };
  const heightOfHash = (hash: Uint8Array) => headers.get(hash)!.height;
  return { chain, runs, body, heightOfHash, tip: () => tip };
}

type Chain = ReturnType<typeof fakeChain>;

/** A request a fake peer received, to be answered (or failed) when the test says. */
interface Call {
  heights: number[];
  answer(opts?: { notFound?: number[] }): void;
  fail(e: Error): void;
}

/** A peer whose getBlocks answers wait for the test. */
class FakePeer implements DownloadPeer {
  readonly calls: Call[] = [];
  busyCount = 0;
  unhelpfulCount = 0;
  constructor(
    readonly key: string,
    readonly c: Chain,
  ) {}
  mayHave(): boolean {
    return true;
  }
  claims(): boolean {
    return true;
  }
  getBlocks(hashes: Uint8Array[]): Promise<Pick<BlocksResult, 'blocks' | 'notFound'>> {
    const heights = hashes.map((h) => this.c.heightOfHash(h));
    return new Promise((resolve, reject) => {
      this.calls.push({
        heights,
        answer: (opts = {}) => {
          const missing = new Set(opts.notFound ?? []);
          const asked = hashes.map((hash, i) => ({ hash, height: heights[i] }));
          resolve({
            blocks: asked.filter((x) => !missing.has(x.height)).map((x) => ({ hash: x.hash, bytes: this.c.body(x.height) })),
            notFound: asked.filter((x) => missing.has(x.height)).map((x) => x.hash),
          });
        },
        fail: reject,
      });
    });
  }
  busy(): void {
    this.busyCount++;
  }
  unhelpful(): void {
    this.unhelpfulCount++;
  }
  /** Heights of every request so far, flattened. */
  asked(): number[] {
    return this.calls.flatMap((c) => c.heights);
  }
}

/** A gate with a request cap per peer, recording penalties. */
function fakeGate(cap: number) {
  const pending = new Map<string, number>();
  const penalties: { peer: string; offence: string }[] = [];
  const gate: BlockDownloadOptions['gate'] = {
    penalize: (peer, offence) => {
      penalties.push({ peer, offence });
      return { score: 0, banned: false } as unknown as ReturnType<BlockDownloadOptions['gate']['penalize']>;
    },
    scores: {
      pending: (k) => pending.get(k) ?? 0,
      tryBeginRequest: (k) => {
        if ((pending.get(k) ?? 0) >= cap) return false;
        pending.set(k, (pending.get(k) ?? 0) + 1);
        return true;
      },
      endRequest: (k) => void pending.set(k, (pending.get(k) ?? 1) - 1),
    },
  };
  return { gate, penalties };
}

/** Starts a download over `peers` (a live list: remove a peer to take it away). */
function start(c: Chain, peers: FakePeer[], opts: { cap?: number; window?: number; perRequest?: number; maxArrivedBytes?: number; stallMs?: number; now?: () => number } = {}) {
  const { gate, penalties } = fakeGate(opts.cap ?? 1);
  const download = new BlockDownload({
    chain: c.chain,
    gate,
    peers: () => [...peers],
    stopped: () => false,
    window: opts.window ?? 1024,
    perRequest: opts.perRequest ?? 2,
    maxArrivedBytes: opts.maxArrivedBytes,
    stallMs: opts.stallMs,
    now: opts.now,
    progress: () => {},
  });
  let finished = false;
  const done = download.run().then(() => void (finished = true));
  return { download, done, penalties, finished: () => finished };
}

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe('BlockDownload', () => {
  it('answers that arrive in reverse order reach the node in chain order, as one run', async () => {
    const c = fakeChain(8);
    const a = new FakePeer('a', c);
    const b = new FakePeer('b', c);
    const { done, download } = start(c, [a, b], { cap: 2 });
    await settle();
    expect(a.calls.map((x) => x.heights)).toEqual([[1, 2], [3, 4]]);
    expect(b.calls.map((x) => x.heights)).toEqual([[5, 6], [7, 8]]);
    for (const call of [b.calls[1], b.calls[0], a.calls[1]]) {
      call.answer();
      await settle();
      expect(c.runs).toEqual([]); // block 1 is still out: nothing goes early
    }
    expect(download.heldBytes).toBe(6 * BODY_BYTES);
    a.calls[0].answer();
    await done;
    expect(c.runs).toEqual([range(1, 8)]);
    expect(download.heldBytes).toBe(0);
    expect(c.tip()).toBe(8);
  });

  it('the next request goes out while the node is still connecting the last answer: download overlaps the store write', async () => {
    const c = fakeChain(6);
    // The node's processBlocks waits for the test, as a store write waits for IndexedDB.
    const connect = c.chain.processBlocks;
    const writes: (() => void)[] = [];
    c.chain.processBlocks = async (list) => {
      await new Promise<void>((r) => writes.push(r));
      return connect(list);
    };
    const a = new FakePeer('a', c);
    const { done } = start(c, [a], { cap: 1 });
    await settle();
    expect(a.asked()).toEqual([1, 2]);
    a.calls[0].answer();
    await settle();
    expect(writes).toHaveLength(1); // blocks 1–2 are being written…
    expect(a.calls.map((x) => x.heights)).toEqual([[1, 2], [3, 4]]); // …and 3–4 already asked for
    a.calls[1].answer();
    await settle();
    expect(a.calls.map((x) => x.heights)).toEqual([[1, 2], [3, 4], [5, 6]]);
    for (let i = 0; i < 3; i++) {
      while (writes.length > 0) writes.shift()!();
      if (i === 0) a.calls[2].answer();
      await settle();
    }
    await done;
    expect(c.runs.flat()).toEqual(range(1, 6));
    expect(c.tip()).toBe(6);
  });

  it('the batch holding the oldest missing body, unanswered past stallMs, is also asked of another peer once; the first answer wins', async () => {
    const c = fakeChain(4);
    const a = new FakePeer('a', c);
    const b = new FakePeer('b', c);
    let clock = 0;
    const { done, penalties } = start(c, [a, b], { stallMs: 3000, now: () => clock });
    await settle();
    expect(a.asked()).toEqual([1, 2]);
    expect(b.asked()).toEqual([3, 4]);
    b.calls[0].answer();
    await settle();
    expect(b.calls).toHaveLength(1); // a's batch is not late yet: nothing asked twice
    clock = 3000; // a's connection stopped carrying anything; the loop wakes at stallMs
    await waitUntil(() => b.calls.length === 2, `b asked again (asked ${JSON.stringify(b.calls.map((x) => x.heights))})`, 5_000);
    expect(b.calls[1].heights).toEqual([1, 2]);
    b.calls[1].answer();
    await settle();
    expect(c.tip()).toBe(4); // connected without waiting for a
    a.calls[0].answer(); // late: ignored (the phase ends once every request settled)
    await done;
    expect(c.runs.flat()).toEqual(range(1, 4));
    expect(a.calls).toHaveLength(1);
    expect(penalties).toEqual([]);
  });

  it('a lost answer (the request failed) is asked of another peer, not of the one that lost it', async () => {
    const c = fakeChain(4);
    const a = new FakePeer('a', c);
    const b = new FakePeer('b', c);
    const { done, penalties } = start(c, [a, b]);
    await settle();
    expect(a.asked()).toEqual([1, 2]);
    expect(b.asked()).toEqual([3, 4]);
    a.calls[0].fail(new Error('timed out')); // the sync service charged the timeout already
    await settle();
    expect(a.calls).toHaveLength(1); // a failed 1 and 2: not asked for them again
    b.calls[0].answer();
    await settle();
    expect(b.calls[1].heights).toEqual([1, 2]);
    b.calls[1].answer();
    await done;
    expect(c.runs.flat()).toEqual(range(1, 4));
    expect(penalties).toEqual([]);
  });

  it('a slow peer holds back only the window: nothing beyond it is asked for, and delivery resumes when it answers', async () => {
    const c = fakeChain(8);
    const slow = new FakePeer('slow', c);
    const fast = new FakePeer('fast', c);
    const { done, finished } = start(c, [slow, fast], { window: 4 });
    await settle();
    expect(slow.asked()).toEqual([1, 2]);
    expect(fast.asked()).toEqual([3, 4]);
    fast.calls[0].answer();
    await settle();
    // The window (blocks 1–4) is all received or in flight: the fast peer waits with nothing to do.
    expect(fast.calls).toHaveLength(1);
    expect(c.runs).toEqual([]);
    expect(finished()).toBe(false);
    slow.calls[0].answer();
    await settle();
    expect(c.runs).toEqual([range(1, 4)]);
    expect([...slow.asked(), ...fast.asked()].sort((x, y) => x - y)).toEqual(range(1, 8));
    for (const call of [...slow.calls.slice(1), ...fast.calls.slice(1)]) call.answer();
    await done;
    expect(c.runs.flat()).toEqual(range(1, 8));
  });

  it('a peer that disconnects mid-download is replaced by the others', async () => {
    const c = fakeChain(6);
    const a = new FakePeer('a', c);
    const b = new FakePeer('b', c);
    const peers = [a, b];
    const { done } = start(c, peers);
    await settle();
    expect(a.asked()).toEqual([1, 2]);
    peers.splice(peers.indexOf(a), 1); // gone from the peer list…
    a.calls[0].fail(new Error('the connection closed')); // …and its request fails
    await settle();
    b.calls[0].answer(); // 3, 4
    await settle();
    for (let i = 1; i < 3; i++) {
      b.calls[i].answer();
      await settle();
    }
    await done;
    expect(a.calls).toHaveLength(1);
    expect(b.asked().sort((x, y) => x - y)).toEqual(range(1, 6));
    expect(c.runs.flat()).toEqual(range(1, 6));
  });

  it('holds at most the byte budget for in-order delivery; beyond it, delivers what it holds as it is', async () => {
    const c = fakeChain(6);
    const slow = new FakePeer('slow', c);
    const fast = new FakePeer('fast', c);
    const budget = 2.5 * BODY_BYTES;
    const { done, download } = start(c, [slow, fast], { perRequest: 1, maxArrivedBytes: budget });
    await settle();
    expect(slow.asked()).toEqual([1]);
    for (const h of [2, 3, 4, 5, 6]) {
      expect(fast.calls.at(-1)!.heights).toEqual([h]);
      fast.calls.at(-1)!.answer();
      await settle();
      expect(download.heldBytes).toBeLessThanOrEqual(budget);
    }
    // 2, 3 were held; 4 went over the budget: all three went to the node without waiting for 1.
    expect(c.runs).toEqual([[2, 3, 4]]);
    expect(download.heldBytes).toBe(2 * BODY_BYTES); // 5 and 6
    slow.calls[0].answer();
    await done;
    // 1 arrives with 5 and 6 held: over the budget again, all three go, in height order.
    expect(c.runs).toEqual([[2, 3, 4], [1, 5, 6]]);
    expect(c.tip()).toBe(6);
  });

  it('a peer lacking bodies of the chain it claims is charged as for a timeout, once per answer; another peer is asked', async () => {
    const c = fakeChain(2);
    const a = new FakePeer('a', c);
    const b = new FakePeer('b', c);
    const { done, penalties } = start(c, [a, b], { perRequest: 2 });
    await settle();
    expect(a.asked()).toEqual([1, 2]);
    a.calls[0].answer({ notFound: [1, 2] });
    await settle();
    expect(penalties).toEqual([{ peer: 'a', offence: 'timeout' }]);
    expect(a.unhelpfulCount).toBe(1);
    expect(b.asked()).toEqual([1, 2]);
    b.calls[0].answer();
    await done;
    expect(c.runs.flat()).toEqual([1, 2]);
  });

  it('a BUSY answer pauses the peer without charging it or giving up its blocks', async () => {
    const c = fakeChain(2);
    const a = new FakePeer('a', c);
    const { done, penalties } = start(c, [a]); // the fake lists it again at once (the manager would after the pause)
    await settle();
    a.calls[0].fail(new RemoteSyncError('BUSY', 'serving budget spent'));
    await settle();
    expect(a.busyCount).toBe(1);
    expect(penalties).toEqual([]);
    expect(a.calls[1].heights).toEqual([1, 2]); // not marked as failed by it: asked again
    a.calls[1].answer();
    await done;
    expect(c.runs.flat()).toEqual([1, 2]);
  });
});
