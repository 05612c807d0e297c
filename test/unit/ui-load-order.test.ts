/**
 * LoadOrder: a view reloaded on every tip still shows a slow load's answer (the explorer's address
 * view starved while blocks came faster than it loaded), never an answer for another key, never
 * an older answer over a newer one.
 */
import { describe, expect, it } from 'vitest';
import { LoadOrder } from '../../src/ui/load-order.ts';

describe('LoadOrder', () => {
  it('takes a superseded answer for the same key: overlapping reloads cannot starve a view', () => {
    const order = new LoadOrder();
    // Each reload starts before the previous one answered, forever (a tip every 100 ms, a 300 ms load).
    const loads = [order.begin('address/a'), order.begin('address/a'), order.begin('address/a')];
    expect(loads[0].take()).toBe(true);
    expect(loads[0].latest()).toBe(false);
    const next = order.begin('address/a');
    expect(loads[1].take()).toBe(true);
    expect(loads[2].take()).toBe(true);
    expect(next.take()).toBe(true);
    expect(next.latest()).toBe(true);
  });

  it('refuses an answer older than one already shown, and any answer for a key no longer asked', () => {
    const order = new LoadOrder();
    const old = order.begin('address/a');
    const newer = order.begin('address/a');
    expect(newer.take()).toBe(true);
    expect(old.take()).toBe(false);
    const before = order.begin('tx/1');
    const after = order.begin('block/2');
    expect(before.take()).toBe(false);
    expect(after.take()).toBe(true);
    // Back to a key asked before: only loads begun since count.
    const back = order.begin('tx/1');
    expect(before.take()).toBe(false);
    expect(back.take()).toBe(true);
  });
});
