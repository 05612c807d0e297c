import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { HeaderIndex, MAX_HEADERS_RESULTS } from '../../src/chain/header-index.ts';
import { blockHash } from '../../src/chain/header.ts';
import { hashToHex } from '../../src/chain/hash.ts';
import { workForBits } from '../../src/chain/pow.ts';
import { RuleError } from '../../src/chain/errors.ts';
import { ZERO_HASH } from '../../src/chain/bytes.ts';
import type { BlockHeader, HeaderEntry } from '../../src/chain/types.ts';

// The index does not check PoW, so synthetic headers with easy bits and any nonce will do.
const EASY = 0x207fffff; // work 2
const HARDER = 0x2000ffff; // more work per header than EASY

let counter = 0;
function header(prev: Uint8Array, opts: { bits?: number; time?: number } = {}): BlockHeader {
  counter++;
  const merkleRoot = new Uint8Array(32);
  new DataView(merkleRoot.buffer).setUint32(0, counter, true); // unique hash per header
  return { version: 1, prevHash: prev, merkleRoot, time: opts.time ?? 1_700_000_000 + counter, bits: opts.bits ?? EASY, nonce: 0 };
}

const genesisHeader: BlockHeader = { version: 1, prevHash: ZERO_HASH, merkleRoot: new Uint8Array(32), time: 1_700_000_000, bits: EASY, nonce: 0 };

function newIndex(): HeaderIndex {
  return new HeaderIndex(genesisHeader);
}

/** Extends `from` by n headers; returns the new entries in order. */
function extend(index: HeaderIndex, from: HeaderEntry, n: number, opts: { bits?: number; hasBody?: boolean } = {}): HeaderEntry[] {
  const out: HeaderEntry[] = [];
  let prev = from;
  for (let i = 0; i < n; i++) {
    prev = index.add(header(prev.hash, { bits: opts.bits }), { status: 'headers-only', hasBody: opts.hasBody ?? false });
    out.push(prev);
  }
  return out;
}

const heights = (es: HeaderEntry[]) => es.map((e) => e.height);

describe('HeaderIndex basics', () => {
  it('computes height and cumulative work from the parent', () => {
    const index = newIndex();
    const g = index.genesis;
    expect(g.height).toBe(0);
    expect(g.chainwork).toBe(workForBits(EASY));
    const [a, b] = extend(index, g, 2);
    const c = index.add(header(b.hash, { bits: HARDER }), { status: 'valid', hasBody: true });
    expect(heights([a, b, c])).toEqual([1, 2, 3]);
    expect(c.chainwork).toBe(3n * workForBits(EASY) + workForBits(HARDER));
    expect(c.status).toBe('valid');
    expect(c.hasBody).toBe(true);
    expect(index.size).toBe(4);
  });

  it('looks entries up by internal bytes and by display hex', () => {
    const index = newIndex();
    const [a] = extend(index, index.genesis, 1);
    expect(index.get(a.hash)).toBe(a);
    expect(index.get(hashToHex(a.hash))).toBe(a);
    expect(index.get(hashToHex(a.hash).toUpperCase())).toBe(a);
    expect(index.has(a.hash)).toBe(true);
    expect(index.has(new Uint8Array(32).fill(7))).toBe(false);
    expect(index.get(blockHash(genesisHeader))).toBe(index.genesis);
    expect(index.parentOf(a)).toBe(index.genesis);
    expect(index.parentOf(index.genesis)).toBeUndefined();
  });

  it('rejects a header with an unknown parent as BAD_PREV and ignores duplicates', () => {
    const index = newIndex();
    const orphan = header(new Uint8Array(32).fill(1));
    expect(() => index.add(orphan, { status: 'headers-only', hasBody: false })).toThrow(RuleError);
    try {
      index.add(orphan, { status: 'headers-only', hasBody: false });
    } catch (e) {
      expect((e as RuleError).code).toBe('BAD_PREV');
    }
    const h = header(index.genesis.hash);
    const first = index.add(h, { status: 'headers-only', hasBody: false });
    const again = index.add(h, { status: 'valid', hasBody: true });
    expect(again).toBe(first);
    expect(again.status).toBe('headers-only');
    expect(index.size).toBe(2);
  });

  it('ancestorAt agrees with walking parents on a long chain', () => {
    const index = newIndex();
    const chain = [index.genesis, ...extend(index, index.genesis, 3000)];
    const tip = chain[chain.length - 1];
    for (const h of [0, 1, 2, 17, 1024, 1500, 2047, 2999, 3000]) expect(index.ancestorAt(tip, h)).toBe(chain[h]);
    for (let h = 0; h <= 3000; h += 7) expect(index.ancestorAt(chain[2500], Math.min(h, 2500))).toBe(chain[Math.min(h, 2500)]);
    expect(index.ancestorAt(tip, 3001)).toBeUndefined();
    expect(index.ancestorAt(tip, -1)).toBeUndefined();
    expect(index.isAncestor(chain[10], tip)).toBe(true);
    expect(index.isAncestor(tip, chain[10])).toBe(false);
  });

  it('timesForMtp returns up to 11 times, oldest first, the entry itself last', () => {
    const index = newIndex();
    const chain = [index.genesis, ...extend(index, index.genesis, 20)];
    expect(index.timesForMtp(index.genesis)).toEqual([genesisHeader.time]);
    expect(index.timesForMtp(chain[3])).toEqual([0, 1, 2, 3].map((h) => chain[h].header.time));
    const t = index.timesForMtp(chain[20]);
    expect(t).toHaveLength(11);
    expect(t).toEqual(chain.slice(10).map((e) => e.header.time));
  });
});

describe('fork choice', () => {
  it('picks the most cumulative work, not the longest chain', () => {
    const index = newIndex();
    const long = extend(index, index.genesis, 5); // 5 × 2 work
    expect(index.bestTip()).toBe(long[4]);
    const heavy = extend(index, index.genesis, 1, { bits: HARDER }); // one header, much more work
    expect(workForBits(HARDER)).toBeGreaterThan(5n * workForBits(EASY));
    expect(index.bestTip()).toBe(heavy[0]);
  });

  it('keeps the first seen of two tips with equal work', () => {
    const index = newIndex();
    const a = extend(index, index.genesis, 3);
    const b = extend(index, index.genesis, 3);
    expect(b[2].chainwork).toBe(a[2].chainwork);
    expect(index.bestTip()).toBe(a[2]);
    // Seen first also holds when the competing branch was started earlier.
    const index2 = newIndex();
    const x = extend(index2, index2.genesis, 1);
    const y = extend(index2, index2.genesis, 2);
    const x2 = extend(index2, x[0], 1);
    expect(x2[0].chainwork).toBe(y[1].chainwork);
    expect(index2.bestTip()).toBe(y[1]);
    // One more block on the other branch wins.
    const b4 = extend(index, b[2], 1);
    expect(index.bestTip()).toBe(b4[0]);
  });

  it('bestFullTip only considers chains whose bodies are all stored', () => {
    const index = newIndex();
    const full = extend(index, index.genesis, 2, { hasBody: true });
    const [h1, h2, h3] = extend(index, index.genesis, 3, { hasBody: false });
    expect(index.bestTip()).toBe(h3);
    expect(index.bestFullTip()).toBe(full[1]);
    index.setHasBody(h3.hash); // body of the tip arrives first: the chain is still incomplete
    index.setHasBody(h1.hash);
    expect(index.bestFullTip()).toBe(full[1]);
    index.setHasBody(h2.hash); // completes h1..h3
    expect(index.bestFullTip()).toBe(h3);
    index.setHasBody(h2.hash, false); // pruned/lost body
    expect(index.bestFullTip()).toBe(full[1]);
  });

  it('markInvalid marks all descendants and falls back to the best remaining tip', () => {
    const index = newIndex();
    const main = extend(index, index.genesis, 6);
    const side = extend(index, main[1], 2); // heights 3, 4
    const sideChild = extend(index, side[0], 2); // heights 4, 5 off side[0]
    expect(index.bestTip()).toBe(main[5]);
    const changed = index.markInvalid(main[3].hash);
    expect(changed[0]).toBe(main[3]);
    expect(new Set(changed)).toEqual(new Set(main.slice(3)));
    for (const e of main.slice(3)) expect(e.status).toBe('invalid');
    for (const e of [...main.slice(0, 3), ...side, ...sideChild]) expect(e.status).toBe('headers-only');
    // main[2] (height 3) was seen before side[0] (height 3), but sideChild[1] has height 5.
    expect(index.bestTip()).toBe(sideChild[1]);
    // Marking again changes nothing; a child of an invalid header is invalid on arrival.
    expect(index.markInvalid(main[3].hash)).toEqual([]);
    const child = index.add(header(main[5].hash), { status: 'valid', hasBody: true });
    expect(child.status).toBe('invalid');
    expect(index.bestTip()).toBe(sideChild[1]);
    expect(() => index.markInvalid(index.genesis.hash)).toThrow();
  });

  it('setStatus: invalid propagates, reconsidering makes an entry a candidate again', () => {
    const index = newIndex();
    const a = extend(index, index.genesis, 3);
    const b = extend(index, index.genesis, 2);
    index.setStatus(a[1].hash, 'invalid');
    expect(a[2].status).toBe('invalid');
    expect(index.bestTip()).toBe(b[1]);
    expect(() => index.setStatus(a[2].hash, 'valid')).toThrow(); // parent still invalid
    index.setStatus(a[1].hash, 'valid');
    expect(index.bestTip()).toBe(a[1]); // equal work with b[1], seen first
    index.setStatus(a[2].hash, 'valid');
    expect(index.bestTip()).toBe(a[2]);
  });

  it('bestTip equals the brute-force maximum on random trees with invalidations', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ parent: fc.nat(), heavy: fc.boolean(), body: fc.boolean() }), { minLength: 1, maxLength: 60 }),
        fc.array(fc.nat(), { maxLength: 4 }),
        (specs, invalid) => {
          const index = newIndex();
          const all: HeaderEntry[] = [index.genesis];
          for (const s of specs) {
            const parent = all[s.parent % all.length];
            all.push(index.add(header(parent.hash, { bits: s.heavy ? HARDER : EASY }), { status: 'headers-only', hasBody: s.body }));
          }
          const marked = new Set<HeaderEntry>();
          for (const i of invalid) {
            if (all.length < 2) break;
            const e = all[1 + (i % (all.length - 1))];
            marked.add(e);
            index.markInvalid(e.hash);
          }
          // Brute force: status by walking to genesis, work by summing bits, first seen by order.
          const byKey = new Map(all.map((e) => [hashToHex(e.hash), e]));
          const chainOf = (e: HeaderEntry) => {
            const out = [e];
            while (out[out.length - 1].height > 0) out.push(byKey.get(hashToHex(out[out.length - 1].header.prevHash))!);
            return out;
          };
          const pick = (ok: (e: HeaderEntry) => boolean) => {
            let best = all[0];
            for (const e of all) {
              if (!ok(e)) continue;
              const work = chainOf(e).reduce((w, x) => w + workForBits(x.header.bits), 0n);
              expect(work).toBe(e.chainwork);
              if (work > best.chainwork) best = e;
            }
            return best;
          };
          // Exactly the marked entries and their descendants are invalid.
          for (const e of all) expect(e.status === 'invalid').toBe(chainOf(e).some((x) => marked.has(x)));
          expect(index.bestTip()).toBe(pick((e) => e.status !== 'invalid'));
          expect(index.bestFullTip()).toBe(pick((e) => e.status !== 'invalid' && chainOf(e).every((x) => x.hasBody)));
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('forks and reorg paths', () => {
  it('forkPoint and reorgPath for forks of various depths', () => {
    const index = newIndex();
    const main = extend(index, index.genesis, 40);
    for (const depth of [1, 2, 5, 17, 40]) {
      const forkHeight = 40 - depth;
      const base = forkHeight === 0 ? index.genesis : main[forkHeight - 1];
      const side = extend(index, base, depth + 1);
      const path = index.reorgPath(main[39], side[side.length - 1]);
      expect(path.fork).toBe(base);
      expect(index.forkPoint(side[side.length - 1], main[39])).toBe(base);
      expect(heights(path.disconnect)).toEqual(Array.from({ length: depth }, (_, i) => 40 - i));
      expect(path.disconnect[0]).toBe(main[39]);
      expect(path.connect).toEqual(side);
      // And back again.
      const back = index.reorgPath(side[side.length - 1], main[39]);
      expect(back.disconnect).toEqual([...side].reverse());
      expect(back.connect).toEqual(main.slice(forkHeight));
    }
  });

  it('reorgPath along one chain only connects or only disconnects', () => {
    const index = newIndex();
    const main = extend(index, index.genesis, 10);
    expect(index.reorgPath(main[3], main[9])).toEqual({ fork: main[3], disconnect: [], connect: main.slice(4) });
    expect(index.reorgPath(main[9], main[3])).toEqual({ fork: main[3], disconnect: main.slice(4).reverse(), connect: [] });
    expect(index.reorgPath(main[5], main[5])).toEqual({ fork: main[5], disconnect: [], connect: [] });
  });

  it('forkPoint matches a brute-force common ancestor on random trees', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { minLength: 2, maxLength: 300 }), fc.nat(), fc.nat(), (parents, i, j) => {
        const index = newIndex();
        const all: HeaderEntry[] = [index.genesis];
        for (const p of parents) all.push(index.add(header(all[p % all.length].hash), { status: 'headers-only', hasBody: false }));
        const a = all[i % all.length];
        const b = all[j % all.length];
        const ancestorsOf = (e: HeaderEntry) => {
          const s: HeaderEntry[] = [e];
          for (let x = index.parentOf(e); x; x = index.parentOf(x)) s.push(x);
          return s;
        };
        const bAnc = new Set(ancestorsOf(b));
        const lca = ancestorsOf(a).find((x) => bAnc.has(x))!;
        const path = index.reorgPath(a, b);
        expect(path.fork).toBe(lca);
        expect(path.disconnect).toEqual(ancestorsOf(a).slice(0, a.height - lca.height));
        expect(path.connect).toEqual(ancestorsOf(b).slice(0, b.height - lca.height).reverse());
      }),
      { numRuns: 150 },
    );
  });
});

describe('locator and headers serving', () => {
  it('locator: 10 single steps, then doubling, ending at genesis', () => {
    const index = newIndex();
    const chain = [index.genesis, ...extend(index, index.genesis, 100)];
    const loc = index.locator(chain[100]).map((h) => index.get(h)!.height);
    // Bitcoin Core CChain::GetLocator on a 100-block chain.
    expect(loc).toEqual([100, 99, 98, 97, 96, 95, 94, 93, 92, 91, 90, 89, 87, 83, 75, 59, 27, 0]);
    expect(index.locator(index.genesis).map((h) => index.get(h)!.height)).toEqual([0]);
    expect(index.locator(chain[5]).map((h) => index.get(h)!.height)).toEqual([5, 4, 3, 2, 1, 0]);
  });

  it('locator length grows logarithmically', () => {
    const index = newIndex();
    const chain = extend(index, index.genesis, 20_000);
    const loc = index.locator(chain[chain.length - 1]);
    expect(loc.length).toBeLessThanOrEqual(10 + Math.ceil(Math.log2(20_000)) + 2);
    expect(index.get(loc[loc.length - 1])).toBe(index.genesis);
  });

  it('headersAfter serves our chain from the fork point of a peer locator', () => {
    const index = newIndex();
    const main = extend(index, index.genesis, 30);
    const peerBranch = extend(index, main[9], 5); // the peer is on a fork at height 10
    const locator = index.locator(peerBranch[4]);
    expect(index.findFork(locator, main[29])).toBe(main[9]);
    const served = index.headersAfter(locator, 2000, undefined, main[29]);
    expect(served).toEqual(main.slice(10));
    // max and stop hash.
    expect(index.headersAfter(locator, 5, undefined, main[29])).toEqual(main.slice(10, 15));
    expect(index.headersAfter(locator, 2000, main[12].hash, main[29])).toEqual(main.slice(10, 13));
    // A peer that is up to date gets nothing; an unknown locator starts after genesis.
    expect(index.headersAfter(index.locator(main[29]), 2000, undefined, main[29])).toEqual([]);
    expect(index.headersAfter([new Uint8Array(32).fill(9)], 3, undefined, main[29])).toEqual(main.slice(0, 3));
    // Default tip is the best tip (main is longer than the peer branch).
    expect(index.headersAfter([hashToHex(main[27].hash)])).toEqual(main.slice(28));
  });

  it('headersAfter never returns more than 2000 headers', () => {
    const index = newIndex();
    const chain = extend(index, index.genesis, 2100);
    const served = index.headersAfter([index.genesis.hash], 5000);
    expect(served).toHaveLength(MAX_HEADERS_RESULTS);
    expect(served[0]).toBe(chain[0]);
    expect(served[1999]).toBe(chain[1999]);
  });
});

describe('bulk load', () => {
  it('rebuilds the same tree from stored entries in any order, keeping their fields', () => {
    const a = newIndex();
    const main = extend(a, a.genesis, 30, { hasBody: true });
    extend(a, main[9], 25, { hasBody: false, bits: EASY });
    a.markInvalid(main[20].hash);
    const stored = [...a.entries()].map((e) => ({ ...e })).reverse();
    const b = newIndex();
    b.load(stored);
    expect(b.size).toBe(a.size);
    expect(hashToHex(b.bestTip().hash)).toBe(hashToHex(a.bestTip().hash));
    expect(hashToHex(b.bestFullTip().hash)).toBe(hashToHex(a.bestFullTip().hash));
    const e = b.get(main[25].hash)!;
    expect(e.status).toBe('invalid');
    expect(e.chainwork).toBe(main[25].chainwork);
    expect(b.ancestorAt(b.get(main[29].hash)!, 5)!.hash).toEqual(main[4].hash);
  });

  it('prefers the stored tip among equal-work tips, and rejects entries without parents', () => {
    const a = newIndex();
    const x = extend(a, a.genesis, 3);
    const y = extend(a, a.genesis, 3);
    const b = newIndex();
    b.load([...a.entries()].map((e) => ({ ...e })), { preferredTip: y[2].hash });
    expect(hashToHex(b.bestTip().hash)).toBe(hashToHex(y[2].hash));
    const c = newIndex();
    expect(() => c.load([{ ...x[1] }])).toThrow();
  });
});
