import { describe, expect, it } from 'vitest';
import {
  checkOrphanBody,
  DEFAULT_MAX_ORPHAN_BYTES,
  DEFAULT_MAX_ORPHANS,
  DEFAULT_MAX_ORPHANS_PER_SOURCE,
  ORPHAN_MAX_EASIER,
  OrphanPool,
  orphanWorkSuffices,
} from '../../src/chain/orphans.ts';
import { blockHash, encodeHeader } from '../../src/chain/header.ts';
import { hashToHex } from '../../src/chain/hash.ts';
import { merkleRoot } from '../../src/chain/block.ts';
import { bitsToTarget, targetToBits } from '../../src/chain/pow.ts';
import { NETWORKS } from '../../src/chain/params.ts';
import { makeCoinbase } from '../../src/chain/tx.ts';
import type { Block, BlockHeader } from '../../src/chain/types.ts';
import { wallet } from './helpers/chain-builder.ts';

let counter = 0;
interface Orphan {
  header: BlockHeader;
  hash: Uint8Array;
  bytes: Uint8Array;
}
/** An "encoded block" of `size` bytes on `prev`: a unique header and filler (the pool decodes only the header). */
function orphan(prev: Uint8Array, size = 100): Orphan {
  counter++;
  const merkleRoot = new Uint8Array(32);
  new DataView(merkleRoot.buffer).setUint32(0, counter, true);
  const header: BlockHeader = { version: 1, prevHash: prev, merkleRoot, time: 1000 + counter, bits: 0x207fffff, nonce: 0 };
  const bytes = new Uint8Array(size);
  bytes.set(encodeHeader(header));
  return { header, hash: blockHash(header), bytes };
}
const missingHex = (p: OrphanPool) => p.missingParents().map(hashToHex).sort();
const fill = (n: number) => new Uint8Array(32).fill(n);

describe('OrphanPool', () => {
  it('holds orphans by hash as bytes and hands back the children of a parent', () => {
    const pool = new OrphanPool();
    const parent = fill(1);
    const a = orphan(parent, 100);
    const b = orphan(parent, 200);
    const other = orphan(fill(2), 300);
    expect(pool.add(a.bytes, 10, 'p').added).toBe(true);
    expect(pool.add(b.bytes, 11, 'p').added).toBe(true);
    expect(pool.add(other.bytes, 12, 'q').added).toBe(true);
    expect(pool.add(a.bytes, 13, 'q')).toEqual({ added: false, evicted: [] }); // duplicate
    expect(pool.size).toBe(3);
    expect(pool.bytes).toBe(600);
    expect(pool.heldBy('p')).toEqual({ count: 2, bytes: 300 });
    expect(pool.has(a.hash)).toBe(true);
    expect(pool.has(hashToHex(a.hash))).toBe(true);
    expect(pool.get(b.hash)).toMatchObject({ bytes: b.bytes, header: b.header, size: 200, receivedAt: 11, source: 'p' });

    const kids = pool.takeChildren(parent);
    expect(kids.map((k) => k.bytes)).toEqual([a.bytes, b.bytes]);
    expect(kids[0].hash).toEqual(a.hash);
    expect(pool.has(a.hash)).toBe(false);
    expect(pool.size).toBe(1);
    expect(pool.bytes).toBe(300);
    expect(pool.heldBy('p')).toEqual({ count: 0, bytes: 0 });
    expect(pool.takeChildren(parent)).toEqual([]);
  });

  it('keeps its own copy of bytes that are a view of a larger buffer', () => {
    const pool = new OrphanPool();
    const o = orphan(fill(9), 120);
    const frame = new Uint8Array(100_000);
    frame.set(o.bytes, 500);
    pool.add(frame.subarray(500, 620), 0, 'p');
    const held = pool.get(o.hash)!;
    expect(held.bytes).toEqual(o.bytes);
    expect(held.bytes.buffer.byteLength).toBe(120);
    const whole = orphan(fill(9), 120);
    pool.add(whole.bytes, 0, 'p');
    expect(pool.get(whole.hash)!.bytes).toBe(whole.bytes);
  });

  it('walks a chain of orphans down from its root', () => {
    const pool = new OrphanPool();
    const root = fill(5);
    const chain: Orphan[] = [];
    let prev: Uint8Array = root;
    for (let i = 0; i < 5; i++) {
      const b = orphan(prev);
      chain.push(b);
      prev = b.hash;
    }
    // Arrive in reverse order.
    for (const b of [...chain].reverse()) pool.add(b.bytes, 0, 'p');
    expect(missingHex(pool)).toEqual([hashToHex(root)]);
    const connected: Uint8Array[] = [];
    const queue: Uint8Array[] = [root];
    while (queue.length) {
      for (const o of pool.takeChildren(queue.shift()!)) {
        connected.push(o.bytes);
        queue.push(o.hash);
      }
    }
    expect(connected).toEqual(chain.map((b) => b.bytes));
    expect(pool.size).toBe(0);
    expect(pool.bytes).toBe(0);
    expect(pool.missingParents()).toEqual([]);
  });

  it('reports one missing parent per independent orphan chain', () => {
    const pool = new OrphanPool();
    const a = orphan(fill(1));
    pool.add(a.bytes, 0);
    pool.add(orphan(a.hash).bytes, 0);
    pool.add(orphan(fill(2)).bytes, 0);
    pool.add(orphan(fill(2)).bytes, 0);
    expect(missingHex(pool)).toEqual([hashToHex(fill(1)), hashToHex(fill(2))].sort());
  });

  it('a source over its count share loses its own oldest', () => {
    const pool = new OrphanPool({ maxCountPerSource: 3 });
    const other = orphan(fill(7));
    pool.add(other.bytes, 0, 'other');
    const bs = Array.from({ length: 5 }, () => orphan(fill(3)));
    const evicted = bs.map((b, i) => pool.add(b.bytes, i, 'p').evicted.map((e) => e.hash));
    expect(evicted).toEqual([[], [], [], [bs[0].hash], [bs[1].hash]]);
    expect(bs.map((b) => pool.has(b.hash))).toEqual([false, false, true, true, true]);
    expect(pool.has(other.hash)).toBe(true);
    expect(pool.heldBy('p').count).toBe(3);
  });

  it('a source over its byte share loses its own oldest, and a block larger than a share is refused', () => {
    const pool = new OrphanPool({ maxBytes: 4000 }); // shares of 1000 bytes
    expect(pool.maxBytesPerSource).toBe(1000);
    const p = fill(3);
    const [a, b, c, d] = [orphan(p, 400), orphan(p, 400), orphan(p, 150), orphan(p, 400)];
    for (const [i, x] of [a, b, c].entries()) pool.add(x.bytes, i, 's');
    expect(pool.add(d.bytes, 3, 's').evicted.map((e) => e.hash)).toEqual([a.hash]); // 1350 > 1000
    expect(pool.heldBy('s').bytes).toBe(950);
    expect(pool.add(orphan(p, 1001).bytes, 4, 't')).toEqual({ added: false, evicted: [] });
    expect(pool.size).toBe(3);
    // The parent index forgets evicted blocks.
    expect(pool.takeChildren(p).map((o) => o.hash)).toEqual([b, c, d].map((x) => x.hash));
  });

  it('when the pool is full, the source holding the most of what overflows loses its oldest', () => {
    const byCount = new OrphanPool({ maxCount: 4, maxCountPerSource: 3 });
    const [x1, x2, y1, z1, y2] = [orphan(fill(1)), orphan(fill(1)), orphan(fill(2)), orphan(fill(3)), orphan(fill(2))];
    byCount.add(x1.bytes, 0, 'x');
    byCount.add(x2.bytes, 1, 'x');
    byCount.add(y1.bytes, 2, 'y');
    byCount.add(z1.bytes, 3, 'z');
    // Count over: x and y hold 2 each; x holds the older orphan and pays (the adder y keeps y1).
    expect(byCount.add(y2.bytes, 4, 'y').evicted.map((e) => e.hash)).toEqual([x1.hash]);
    // A newcomer adds one: y holds the most and pays, not the newcomer.
    const w1 = orphan(fill(6));
    expect(byCount.add(w1.bytes, 5, 'w').evicted.map((e) => e.hash)).toEqual([y1.hash]);
    expect([x2, z1, y2, w1].map((o) => byCount.has(o.hash))).toEqual([true, true, true, true]);

    const byBytes = new OrphanPool({ maxBytes: 4000, maxCountPerSource: 10 });
    const big = orphan(fill(4), 900);
    byBytes.add(big.bytes, 0, 'big');
    const small = Array.from({ length: 4 }, (_, i) => orphan(fill(5), 800 + i));
    small.forEach((o, i) => byBytes.add(o.bytes, 1 + i, `s${i}`));
    // 900 + 800 + 801 + 802 + 803 > 4000: the heaviest (big) pays, though it is not the adder.
    expect(byBytes.has(big.hash)).toBe(false);
    expect(byBytes.bytes).toBeLessThanOrEqual(4000);
  });

  it("100 tiny orphans from one source, or from 13 sybils, never flush another source's orphan", () => {
    const pool = new OrphanPool();
    const honest = orphan(fill(1), 1024 * 1024);
    pool.add(honest.bytes, 0, 'honest');
    for (let i = 0; i < 100; i++) pool.add(orphan(fill(2), 90).bytes, i, 'evil');
    expect(pool.has(honest.hash)).toBe(true);
    expect(pool.heldBy('evil').count).toBe(DEFAULT_MAX_ORPHANS_PER_SOURCE);
    for (let s = 0; s < 13; s++) for (let i = 0; i < 10; i++) pool.add(orphan(fill(3), 90).bytes, i, `sybil-${s}`);
    expect(pool.size).toBe(DEFAULT_MAX_ORPHANS);
    expect(pool.has(honest.hash)).toBe(true);
  });

  it('the default bounds are 100 blocks, 8 MiB, and per source 8 blocks and 2 MiB', () => {
    const pool = new OrphanPool();
    expect([pool.maxCount, pool.maxBytes, pool.maxCountPerSource, pool.maxBytesPerSource]).toEqual([DEFAULT_MAX_ORPHANS, DEFAULT_MAX_ORPHAN_BYTES, 8, 2 * 1024 * 1024]);
    expect([DEFAULT_MAX_ORPHANS, DEFAULT_MAX_ORPHAN_BYTES]).toEqual([100, 8 * 1024 * 1024]);
    for (let i = 0; i < 150; i++) pool.add(orphan(fill(0), 1000).bytes, i, `s${i % 20}`);
    expect(pool.size).toBe(100);
    const big = new OrphanPool();
    for (let i = 0; i < 20; i++) big.add(orphan(fill(0), 1024 * 1024).bytes, i, `s${i}`);
    expect(big.size).toBe(8);
    expect(big.bytes).toBe(8 * 1024 * 1024);
  });

  it('expires orphans older than the given age', () => {
    const pool = new OrphanPool();
    const p = fill(4);
    const old = orphan(p);
    const fresh = orphan(p);
    pool.add(old.bytes, 100, 'a');
    pool.add(fresh.bytes, 500, 'a');
    expect(pool.expire(600, 200).map((o) => o.hash)).toEqual([old.hash]);
    expect(pool.has(old.hash)).toBe(false);
    expect(pool.has(fresh.hash)).toBe(true);
    expect(pool.heldBy('a').count).toBe(1);
    expect(pool.expire(700, 200)).toEqual([]); // exactly maxAge old is kept
    expect(pool.takeChildren(p).map((o) => o.hash)).toEqual([fresh.hash]);
  });
});

describe('what an orphan must be to be kept', () => {
  const params = NETWORKS.test;

  it(`its work is at least 1/${ORPHAN_MAX_EASIER} of the next block's at the tip`, () => {
    const tip = NETWORKS.main.genesis.header.bits;
    const target = bitsToTarget(tip);
    expect(orphanWorkSuffices(tip, tip)).toBe(true);
    expect(orphanWorkSuffices(targetToBits(target * 8n), tip)).toBe(true);
    expect(orphanWorkSuffices(targetToBits(target * 64n), tip)).toBe(false);
    expect(orphanWorkSuffices(targetToBits(target / 8n), tip)).toBe(true); // harder is fine
  });

  it('its body passes the cheap context-free checks, with the codes of checkBlockSanity', () => {
    const cb = makeCoinbase(params, 5, wallet('m').pub, 0n);
    const cb2 = makeCoinbase(params, 5, wallet('m').pub, 1n);
    const header = (txs: Block['txs']): BlockHeader => ({ version: 1, prevHash: fill(1), merkleRoot: merkleRoot(txs), time: 0, bits: 0x207fffff, nonce: 0 });
    const code = (b: Block) => {
      try {
        checkOrphanBody(b, params);
        return 'OK';
      } catch (e) {
        return (e as { code?: string }).code;
      }
    };
    expect(code({ header: header([cb]), txs: [cb] })).toBe('OK');
    expect(code({ header: header([cb]), txs: [] })).toBe('BAD_COINBASE');
    expect(code({ header: header([cb]), txs: [cb2] })).toBe('BAD_MERKLE');
    expect(code({ header: header([cb, cb2, cb2]), txs: [cb, cb2, cb2] })).toBe('DUPLICATE_TX');
    expect(code({ header: header([cb, cb2]), txs: [cb, cb2] })).toBe('BAD_COINBASE'); // a second coinbase
    const tooMany = { ...params, maxBlockTxs: 1 };
    expect(() => checkOrphanBody({ header: header([cb, cb2]), txs: [cb, cb2] }, tooMany)).toThrow(/BLOCK_TOO_LARGE/);
  });
});
