/**
 * The sync server's serving budget (src/p2p/serve-budget.ts): token buckets per peer and for all
 * peers together, for requests and for bytes served, plus a cap on answers in progress. Time is a
 * fake clock: nothing here waits.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_SERVE_BUDGET, ServeBudget, TokenBucket } from '../../src/p2p/serve-budget.ts';

const MiB = 1024 * 1024;

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('TokenBucket', () => {
  it('starts full, refills at its rate up to its burst, and may go into debt when charged', () => {
    const c = clock();
    const b = new TokenBucket(10, 20, c.now());
    expect(b.level(c.now())).toBe(20);
    expect(b.take(20, c.now())).toBe(true);
    expect(b.take(1, c.now())).toBe(false);
    c.advance(500);
    expect(b.level(c.now())).toBe(5);
    c.advance(10_000);
    expect(b.level(c.now())).toBe(20); // never above the burst
    b.charge(50, c.now());
    expect(b.level(c.now())).toBe(-30);
    c.advance(3_000);
    expect(b.level(c.now())).toBe(0);
  });

  it('rejects rates and bursts that are not positive', () => {
    expect(() => new TokenBucket(0, 1, 0)).toThrow(TypeError);
    expect(() => new TokenBucket(1, Number.NaN, 0)).toThrow(TypeError);
  });
});

describe('ServeBudget', () => {
  it('admits a peer up to its request burst, then refuses it while another peer is still served', () => {
    const c = clock();
    const budget = new ServeBudget({ peerRequestsPerSec: 10, peerRequestBurst: 5 }, c.now);
    for (let i = 0; i < 5; i++) {
      const a = budget.admit('flooder');
      expect(a.ok).toBe(true);
      if (a.ok) {
        a.charge(100);
        a.release();
      }
    }
    const refused = budget.admit('flooder');
    expect(refused).toMatchObject({ ok: false });
    expect(!refused.ok && refused.why).toMatch(/requests/);
    expect(budget.admit('honest').ok).toBe(true);
    c.advance(100); // one request's worth of tokens
    expect(budget.admit('flooder').ok).toBe(true);
  });

  it('charges the bytes of each answer: a peer in debt is refused until it is paid off', () => {
    const c = clock();
    const budget = new ServeBudget({ peerBytesPerSec: 1 * MiB, peerBytesBurst: 4 * MiB }, c.now);
    // Two-MiB answers (a getBlocks of 518 bytes each): the burst lasts two answers and the third
    // one that is admitted drives the bucket into debt.
    let served = 0;
    for (;;) {
      const a = budget.admit('leech');
      if (!a.ok) break;
      a.charge(2 * MiB);
      a.release();
      served++;
    }
    expect(served).toBe(2);
    expect(budget.admit('other').ok).toBe(true);
    // Charged when built, not when sent: a second request of a peer whose first answer is still
    // being written already sees that answer's cost.
    const first = budget.admit('other');
    if (first.ok) first.charge(70 * MiB);
    expect(budget.admit('other')).toMatchObject({ ok: false, why: expect.stringMatching(/bytes/) });
    c.advance(1_000); // 1 MiB refilled: the bucket is back above 0
    expect(budget.admit('leech').ok).toBe(true);
  });

  it('bounds all peers together: fifty fresh ids within their own budgets do not multiply the cost', () => {
    const c = clock();
    const budget = new ServeBudget(
      { peerRequestsPerSec: 100, peerRequestBurst: 100, peerBytesPerSec: 16 * MiB, peerBytesBurst: 64 * MiB, totalBytesPerSec: 32 * MiB, totalBytesBurst: 64 * MiB },
      c.now,
    );
    let admitted = 0;
    for (let id = 0; id < 50; id++) {
      const a = budget.admit(`sybil-${id}`);
      if (!a.ok) continue;
      a.charge(2 * MiB); // each id alone is far within its 64 MiB burst
      a.release();
      admitted++;
    }
    // 64 MiB of answers at 2 MiB each: 32 fit the total burst (the 33rd would start above it).
    expect(admitted).toBe(32);
    const refused = budget.admit('sybil-new');
    expect(!refused.ok && refused.why).toMatch(/all peers/);
  });

  it('caps the answers in progress at once, whoever asks', () => {
    const budget = new ServeBudget({ maxConcurrent: 2 }, clock().now);
    const a = budget.admit('a');
    const b = budget.admit('b');
    expect([a.ok, b.ok]).toEqual([true, true]);
    const c = budget.admit('c');
    expect(!c.ok && c.why).toMatch(/in progress/);
    if (a.ok) {
      a.release();
      a.release(); // a second release() is ignored (it must not free a second slot)
    }
    expect(budget.inProgress).toBe(1);
    expect(budget.admit('c').ok).toBe(true);
    expect(budget.admit('d').ok).toBe(false);
  });

  it('remembers at most maxTrackedPeers peers (least recently used forgotten first)', () => {
    const budget = new ServeBudget({ maxTrackedPeers: 3 }, clock().now);
    for (const id of ['a', 'b', 'c', 'd']) {
      const x = budget.admit(id);
      if (x.ok) x.release();
    }
    expect(budget.trackedPeers).toBe(3);
  });

  it('the defaults let an honest peer sync 10,000 small blocks at 5,000 blocks/s without a refusal', () => {
    // 10,000 blocks = 625 getBlocks of 16 (~250 bytes each, 4 KB per answer) + 5 getHeaders of
    // 2,000 (160 KB each), asked at twice the Node-to-Node benchmark's 2,500 blocks/s: one
    // getBlocks every 3.2 ms, 312 per second.
    const c = clock();
    const budget = new ServeBudget({}, c.now);
    let refused = 0;
    for (let i = 0; i < 5; i++) {
      const a = budget.admit('honest');
      if (a.ok) {
        a.charge(160_008);
        a.release();
      } else refused++;
    }
    for (let i = 0; i < 625; i++) {
      c.advance(3.2);
      const a = budget.admit('honest');
      if (a.ok) {
        a.charge(16 * 250 + 8);
        a.release();
      } else refused++;
    }
    expect(refused).toBe(0);
    // And full 1 MiB blocks at 16 MiB/s (the per-peer sustained rate) are served without end.
    for (let i = 0; i < 200; i++) {
      c.advance(125);
      const a = budget.admit('honest-big');
      if (a.ok) {
        a.charge(2 * MiB);
        a.release();
      }
      else refused++;
    }
    expect(refused).toBe(0);
    expect(DEFAULT_SERVE_BUDGET.peerBytesPerSec).toBe(16 * MiB);
  });
});
