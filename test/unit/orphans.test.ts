import { describe, expect, it } from 'vitest';
import { OrphanPool } from '../../src/chain/orphans.ts';
import { blockHash } from '../../src/chain/header.ts';
import { hashToHex } from '../../src/chain/hash.ts';
import type { Block } from '../../src/chain/types.ts';

let counter = 0;
function block(prev: Uint8Array): Block {
  counter++;
  const merkleRoot = new Uint8Array(32);
  new DataView(merkleRoot.buffer).setUint32(0, counter, true);
  return { header: { version: 1, prevHash: prev, merkleRoot, time: 1000 + counter, bits: 0x207fffff, nonce: 0 }, txs: [] };
}
const hashOf = (b: Block) => blockHash(b.header);
const missingHex = (p: OrphanPool) => p.missingParents().map(hashToHex).sort();

describe('OrphanPool', () => {
  it('holds orphans by hash and hands back the children of a parent', () => {
    const pool = new OrphanPool();
    const parent = new Uint8Array(32).fill(1);
    const a = block(parent);
    const b = block(parent);
    const other = block(new Uint8Array(32).fill(2));
    expect(pool.add(a, 100, 10)).toBe(true);
    expect(pool.add(b, 200, 11)).toBe(true);
    expect(pool.add(other, 300, 12)).toBe(true);
    expect(pool.add(a, 100, 13)).toBe(false); // duplicate
    expect(pool.size).toBe(3);
    expect(pool.bytes).toBe(600);
    expect(pool.has(hashOf(a))).toBe(true);
    expect(pool.has(hashToHex(hashOf(a)))).toBe(true);
    expect(pool.get(hashOf(b))?.block).toBe(b);

    const kids = pool.takeChildren(parent);
    expect(kids.map((k) => k.block)).toEqual([a, b]);
    expect(kids[0].hash).toEqual(hashOf(a));
    expect(pool.has(hashOf(a))).toBe(false);
    expect(pool.size).toBe(1);
    expect(pool.bytes).toBe(300);
    expect(pool.takeChildren(parent)).toEqual([]);
  });

  it('walks a chain of orphans down from its root', () => {
    const pool = new OrphanPool();
    const root = new Uint8Array(32).fill(5);
    const chain: Block[] = [];
    let prev: Uint8Array = root;
    for (let i = 0; i < 5; i++) {
      const b = block(prev);
      chain.push(b);
      prev = hashOf(b);
    }
    // Arrive in reverse order.
    for (const b of [...chain].reverse()) pool.add(b, 10, 0);
    expect(missingHex(pool)).toEqual([hashToHex(root)]);
    const connected: Block[] = [];
    const queue: Uint8Array[] = [root];
    while (queue.length) {
      for (const o of pool.takeChildren(queue.shift()!)) {
        connected.push(o.block);
        queue.push(o.hash);
      }
    }
    expect(connected).toEqual(chain);
    expect(pool.size).toBe(0);
    expect(pool.bytes).toBe(0);
    expect(pool.missingParents()).toEqual([]);
  });

  it('reports one missing parent per independent orphan chain', () => {
    const pool = new OrphanPool();
    const r1 = new Uint8Array(32).fill(1);
    const r2 = new Uint8Array(32).fill(2);
    const a = block(r1);
    pool.add(a, 1, 0);
    pool.add(block(hashOf(a)), 1, 0);
    pool.add(block(r2), 1, 0);
    pool.add(block(r2), 1, 0);
    expect(missingHex(pool)).toEqual([hashToHex(r1), hashToHex(r2)].sort());
  });

  it('evicts the oldest first when over the count bound', () => {
    const pool = new OrphanPool({ maxCount: 3 });
    const bs = Array.from({ length: 5 }, () => block(new Uint8Array(32).fill(counter % 256)));
    bs.forEach((b, i) => pool.add(b, 10, i));
    expect(pool.size).toBe(3);
    expect(bs.map((b) => pool.has(hashOf(b)))).toEqual([false, false, true, true, true]);
    expect(pool.bytes).toBe(30);
  });

  it('evicts the oldest first when over the byte bound, and refuses blocks larger than the bound', () => {
    const pool = new OrphanPool({ maxBytes: 1000 });
    const p = new Uint8Array(32).fill(3);
    const [a, b, c, d] = [block(p), block(p), block(p), block(p)];
    pool.add(a, 400, 0);
    pool.add(b, 400, 1);
    pool.add(c, 150, 2);
    expect(pool.size).toBe(3);
    pool.add(d, 400, 3); // 1350 > 1000: drop a → 950
    expect([a, b, c, d].map((x) => pool.has(hashOf(x)))).toEqual([false, true, true, true]);
    expect(pool.bytes).toBe(950);
    expect(pool.add(block(p), 1001, 4)).toBe(false);
    expect(pool.size).toBe(3);
    // The parent index forgets evicted blocks.
    expect(pool.takeChildren(p).map((o) => o.block)).toEqual([b, c, d]);
  });

  it('the default bounds are 100 blocks and 8 MiB', () => {
    const pool = new OrphanPool();
    for (let i = 0; i < 150; i++) pool.add(block(new Uint8Array(32)), 1000, i);
    expect(pool.size).toBe(100);
    const big = new OrphanPool();
    for (let i = 0; i < 20; i++) big.add(block(new Uint8Array(32)), 1024 * 1024, i);
    expect(big.size).toBe(8);
    expect(big.bytes).toBe(8 * 1024 * 1024);
  });

  it('expires orphans older than the given age', () => {
    const pool = new OrphanPool();
    const p = new Uint8Array(32).fill(4);
    const old = block(p);
    const fresh = block(p);
    pool.add(old, 10, 100);
    pool.add(fresh, 10, 500);
    expect(pool.expire(600, 200).map((o) => o.block)).toEqual([old]);
    expect(pool.has(hashOf(old))).toBe(false);
    expect(pool.has(hashOf(fresh))).toBe(true);
    expect(pool.expire(700, 200)).toEqual([]); // exactly maxAge old is kept
    expect(pool.takeChildren(p).map((o) => o.block)).toEqual([fresh]);
  });
});
