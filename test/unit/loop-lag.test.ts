/**
 * LoopLag: the event loop's lag, sampled by a timer that notes how late it fired. The clock and
 * the scheduler are fakes, so a "stall" is the test moving the clock before the timer runs.
 */
import { describe, expect, it } from 'vitest';
import { LoopLag, type LoopLagClock } from '../../src/p2p/loop-lag.ts';

/** A clock whose timers run only when the test says (`fire`), at whatever time it then is. */
class FakeClock implements LoopLagClock {
  t = 1000;
  readonly pending = new Map<number, () => void>();
  #next = 1;
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void): unknown {
    const h = this.#next++;
    this.pending.set(h, fn);
    return h;
  }
  clearTimeout(h: unknown): void {
    this.pending.delete(h as number);
  }
  /** Moves the clock to `at` and runs the timers that were pending. */
  fireAt(at: number): void {
    this.t = at;
    const fns = [...this.pending.values()];
    this.pending.clear();
    for (const fn of fns) fn();
  }
}

describe('LoopLag', () => {
  it('reports nothing on a punctual loop and the worst lag after a stall', () => {
    const clock = new FakeClock();
    const lag = new LoopLag({ everyMs: 250, clock });
    const release = lag.acquire();
    const from = clock.now();
    clock.fireAt(1250); // on time
    clock.fireAt(1500);
    expect(lag.worstSince(from)).toBe(0);
    clock.fireAt(1750 + 3000); // due at 1750, ran 3 s late
    clock.fireAt(5000 + 40);
    expect(lag.worstSince(from)).toBe(3000);
    release();
  });

  it('counts a stall in progress that no sample has seen yet', () => {
    const clock = new FakeClock();
    const lag = new LoopLag({ everyMs: 250, clock });
    lag.acquire();
    clock.fireAt(1250);
    const from = clock.now();
    clock.t = 1250 + 250 + 1800; // the pending sample is 1.8 s overdue, and has not run
    expect(lag.worstSince(from)).toBe(1800);
  });

  it('looks back only as far as asked', () => {
    const clock = new FakeClock();
    const lag = new LoopLag({ everyMs: 250, clock });
    lag.acquire();
    clock.fireAt(1250 + 2000); // a 2 s stall, long ago
    for (let i = 1; i <= 8; i++) clock.fireAt(3250 + 250 * i);
    expect(lag.worstSince(3260)).toBe(0);
    expect(lag.worstSince(0)).toBe(2000);
  });

  it('keeps a bounded history (a ring), the newest samples winning', () => {
    const clock = new FakeClock();
    const lag = new LoopLag({ everyMs: 10, clock });
    lag.acquire();
    let t = 1000;
    t += 10 + 500;
    clock.fireAt(t); // a 500 ms lag, then 1,000 punctual samples push it out of the ring
    for (let i = 0; i < 1000; i++) clock.fireAt((t += 10));
    expect(lag.worstSince(0)).toBe(0);
    t += 10 + 70;
    clock.fireAt(t);
    expect(lag.worstSince(0)).toBe(70);
  });

  it('samples only while someone holds it; release is idempotent', () => {
    const clock = new FakeClock();
    const lag = new LoopLag({ everyMs: 250, clock });
    expect(clock.pending.size).toBe(0);
    const a = lag.acquire();
    const b = lag.acquire();
    expect(clock.pending.size).toBe(1);
    a();
    a();
    expect(clock.pending.size).toBe(1);
    b();
    expect(clock.pending.size).toBe(0);
    clock.t = 99_999;
    expect(lag.worstSince(0)).toBe(0);
  });

  it('refuses a period that is not a positive number', () => {
    expect(() => new LoopLag({ everyMs: 0 })).toThrow(RangeError);
    expect(() => new LoopLag({ everyMs: Number.NaN })).toThrow(RangeError);
  });

  it('runs on the real clock', async () => {
    const lag = new LoopLag({ everyMs: 5 });
    const release = lag.acquire();
    const from = performance.now();
    const until = performance.now() + 120;
    while (performance.now() < until) {
      /* a 120 ms busy loop: the sampling timer cannot run */
    }
    await new Promise((r) => setTimeout(r, 20));
    expect(lag.worstSince(from)).toBeGreaterThanOrEqual(100);
    release();
  });
});
