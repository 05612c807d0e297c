/**
 * ExtraPeerRotation on its own, over a hand-made view: when it dials, whom it picks, when it keeps
 * (and whom it evicts), when it drops, and the states between. No libp2p, no timers: the clock is
 * the `now` the test passes, and dials resolve when the test says.
 */
import { describe, expect, it } from 'vitest';
import { ExtraPeerRotation, EXTRA_PEER_EVERY_MS, EXTRA_PEER_PROBE_MS, type ExtraCandidate, type ExtraPeerView, type OutboundChainPeer } from '../../src/p2p/extra-peer.ts';

const EVERY = 60_000;
const PROBE = 20_000;
const T0 = 1_000_000;
const none: ReadonlySet<string> = new Set();

/** A view the test drives: candidates, chain peers, outbound connections, dials it resolves. */
class View implements ExtraPeerView {
  target = 3;
  direct = 3;
  iso = false;
  readonly chain = new Set<string>();
  readonly cands = new Map<string, ExtraCandidate>();
  outbound: OutboundChainPeer[] = [];
  readonly ahead = new Map<string, boolean | undefined>();
  readonly dials: string[] = [];
  readonly hungUp: string[] = [];
  readonly logs: string[] = [];
  readonly #pending = new Map<string, (ok: boolean) => void>();
  /** The connected set passed to the last eligible() call. */
  lastConnected: ReadonlySet<string> | undefined;

  isolated = () => this.iso;
  directChainPeers = () => this.direct;
  isChainPeer = (id: string) => this.chain.has(id);
  *eligible(_now: number, connected: ReadonlySet<string>): Iterable<[string, ExtraCandidate]> {
    this.lastConnected = connected;
    for (const [id, c] of this.cands) if (!connected.has(id)) yield [id, c];
  }
  dial = (id: string) => {
    this.dials.push(id);
    return new Promise<boolean>((r) => this.#pending.set(id, r));
  };
  outboundChainPeers = () => this.outbound;
  hangUp = (id: string) => void this.hungUp.push(id);
  isAhead = (id: string) => this.ahead.get(id);
  log = (msg: string) => void this.logs.push(msg);

  /** Resolves a pending dial (connected or failed) and lets its continuation run. */
  async settle(id: string, ok: boolean): Promise<void> {
    const r = this.#pending.get(id);
    if (!r) throw new Error(`no dial of ${id} pending`);
    this.#pending.delete(id);
    r(ok);
    await Promise.resolve();
    await Promise.resolve();
  }
}

/** A rotation over a view with `n` candidates c0…c(n-1), started at T0; its clock is `clock.now`; ties keep the first. */
function setup(n = 4, opts: { everyMs?: number; probeMs?: number; random?: () => number } = {}) {
  const view = new View();
  for (let i = 0; i < n; i++) view.cands.set(`c${i}`, {});
  const clock = { now: T0 };
  // Ties keep the first candidate unless the test gives its own random source.
  const rot = new ExtraPeerRotation(view, { everyMs: EVERY, probeMs: PROBE, now: () => clock.now, random: () => 0.99, ...opts });
  rot.start(T0);
  return { view, rot, clock };
}

/** Dials the first extra peer (at T0 + EVERY) and lets it connect; returns its id. */
async function connectedExtra(s: ReturnType<typeof setup>): Promise<string> {
  s.clock.now = T0 + EVERY;
  s.rot.tick(s.clock.now, none);
  const id = s.rot.current!;
  s.view.chain.add(id);
  s.view.direct = s.view.target + 1;
  await s.view.settle(id, true);
  return id;
}

describe('ExtraPeerRotation', () => {
  it('has the documented defaults', () => {
    expect(EXTRA_PEER_EVERY_MS).toBe(60_000);
    expect(EXTRA_PEER_PROBE_MS).toBe(20_000);
  });

  it('dials one candidate once the period has come, and only at the target', () => {
    const { view, rot } = setup();
    rot.tick(T0 + EVERY - 1, none);
    expect(view.dials).toEqual([]);
    view.direct = 2; // below the target: the ordinary dials fill the slots first
    rot.tick(T0 + EVERY, none);
    expect(view.dials).toEqual([]);
    view.direct = 3;
    rot.tick(T0 + EVERY, none);
    expect(view.dials).toEqual(['c0']);
    expect(rot.current).toBe('c0');
    expect(view.cands.get('c0')!.extraAt).toBe(T0 + EVERY);
  });

  it('passes the round’s connected peers to the view and picks none of them', () => {
    const { view, rot } = setup(3);
    const connected = new Set(['c0', 'c1']);
    rot.tick(T0 + EVERY, connected);
    expect(view.lastConnected).toBe(connected);
    expect(rot.current).toBe('c2');
  });

  it('picks the candidate tried as extra longest ago (never tried: first)', () => {
    const { view, rot } = setup(3);
    view.cands.get('c0')!.extraAt = 500;
    view.cands.get('c1')!.extraAt = 100;
    view.cands.get('c2')!.extraAt = 300;
    rot.tick(T0 + EVERY, none);
    expect(rot.current).toBe('c1');
    const s = setup(3);
    s.view.cands.get('c0')!.extraAt = 500;
    s.rot.tick(T0 + EVERY, none);
    expect(s.rot.current).toBe('c1'); // never tried (0) before tried at 500
  });

  it('breaks ties with the random source: each of k tied candidates replaces the pick with chance 1/k', () => {
    // random() * ties < 1: with 0.99 no later tie replaces the first; with 0 the last one wins.
    const keepFirst = setup(4, { random: () => 0.99 });
    keepFirst.rot.tick(T0 + EVERY, none);
    expect(keepFirst.rot.current).toBe('c0');
    const takeLast = setup(4, { random: () => 0 });
    takeLast.rot.tick(T0 + EVERY, none);
    expect(takeLast.rot.current).toBe('c3');
    // 0.4: the 2nd (0.4 × 2 < 1) replaces, the 3rd (1.2) and 4th (1.6) do not.
    const second = setup(4, { random: () => 0.4 });
    second.rot.tick(T0 + EVERY, none);
    expect(second.rot.current).toBe('c1');
  });

  it('no candidate: nothing dialled, and the next try waits a whole period', () => {
    const { view, rot } = setup(0);
    rot.tick(T0 + EVERY, none);
    expect(rot.current).toBeUndefined();
    view.cands.set('late', {});
    rot.tick(T0 + EVERY + 1, none);
    expect(view.dials).toEqual([]);
    rot.tick(T0 + 2 * EVERY, none);
    expect(view.dials).toEqual(['late']);
  });

  it('never more than one at a time: nothing else is dialled while one is dialled or on probe', async () => {
    const s = setup(5, { probeMs: 100 * EVERY });
    s.rot.tick(T0 + EVERY, none);
    for (let i = 2; i < 6; i++) s.rot.tick(T0 + i * EVERY, none);
    expect(s.view.dials).toEqual(['c0']);
    await s.view.settle('c0', true);
    for (let i = 6; i < 10; i++) s.rot.tick(T0 + i * EVERY, none);
    expect(s.view.dials).toEqual(['c0']);
    expect(s.rot.current).toBe('c0');
  });

  it('a failed dial frees the slot; the next one comes a period after the last dial', async () => {
    const { view, rot } = setup(2);
    rot.tick(T0 + EVERY, none);
    await view.settle('c0', false);
    expect(rot.current).toBeUndefined();
    rot.tick(T0 + 2 * EVERY - 1, none);
    expect(view.dials).toEqual(['c0']);
    rot.tick(T0 + 2 * EVERY, none);
    expect(view.dials).toEqual(['c0', 'c1']);
  });

  it('kept when it showed a chain we lacked: the youngest other outbound peer is hung up', async () => {
    const s = setup();
    const id = await connectedExtra(s);
    s.view.outbound = [
      { id: 'old', openedAt: 10 },
      { id, openedAt: 99 }, // the extra itself, the youngest of all: never evicted for itself
      { id: 'young', openedAt: 50 },
      { id: 'mid', openedAt: 30 },
    ];
    s.rot.tick(s.clock.now + 1000, none);
    expect(s.rot.current).toBe(id); // not known yet: still on probe
    s.view.ahead.set(id, true);
    s.rot.tick(s.clock.now + 2000, none);
    expect(s.rot.current).toBeUndefined();
    expect(s.view.hungUp).toEqual(['young']);
    expect(s.view.logs).toContain(`peers: extra peer ${id} showed a chain we lacked: kept`);
  });

  it('kept without evicting anyone when that leaves us at the target (a peer went meanwhile)', async () => {
    const s = setup();
    const id = await connectedExtra(s);
    s.view.direct = s.view.target;
    s.view.outbound = [{ id: 'young', openedAt: 50 }];
    s.view.ahead.set(id, true);
    s.rot.tick(s.clock.now, none);
    expect(s.rot.current).toBeUndefined();
    expect(s.view.hungUp).toEqual([]);
  });

  it('dropped when its status shows nothing new', async () => {
    const s = setup();
    const id = await connectedExtra(s);
    s.view.ahead.set(id, false);
    s.rot.tick(s.clock.now + 1, none);
    expect(s.rot.current).toBeUndefined();
    expect(s.view.hungUp).toEqual([id]);
    expect(s.view.logs).toContain(`peers: extra peer ${id} dropped (nothing new)`);
  });

  it('dropped when it shows nothing by the probe deadline, counted from its connection', async () => {
    const s = setup();
    s.rot.tick(T0 + EVERY, none);
    const id = s.rot.current!;
    s.view.chain.add(id);
    s.view.direct = 4;
    s.clock.now = T0 + EVERY + 5000; // the dial took 5 s
    await s.view.settle(id, true);
    s.rot.tick(s.clock.now + PROBE - 1, none);
    expect(s.rot.current).toBe(id);
    s.rot.tick(s.clock.now + PROBE, none);
    expect(s.rot.current).toBeUndefined();
    expect(s.view.hungUp).toEqual([id]);
    expect(s.view.logs).toContain(`peers: extra peer ${id} dropped (nothing shown in time)`);
  });

  it('not dropped but left as an ordinary peer when it fills a slot that emptied meanwhile', async () => {
    const s = setup();
    const id = await connectedExtra(s);
    s.view.direct = s.view.target; // one of the others went
    s.view.ahead.set(id, false);
    s.rot.tick(s.clock.now + 1, none);
    expect(s.rot.current).toBeUndefined();
    expect(s.view.hungUp).toEqual([]);
  });

  it('a dropped extra makes way for the next period’s, a different candidate', async () => {
    const s = setup(3);
    const first = await connectedExtra(s);
    s.view.ahead.set(first, false);
    s.rot.tick(s.clock.now + 1, none);
    s.rot.tick(T0 + 2 * EVERY, none);
    expect(s.rot.current).toBeDefined();
    expect(s.rot.current).not.toBe(first);
  });

  it('peerGone frees the slot of an extra on probe, but not of one still being dialled', async () => {
    const s = setup();
    s.rot.tick(T0 + EVERY, none);
    s.rot.peerGone('c0'); // being dialled: its dial decides
    expect(s.rot.current).toBe('c0');
    await s.view.settle('c0', true);
    s.rot.peerGone('other');
    expect(s.rot.current).toBe('c0');
    s.rot.peerGone('c0');
    expect(s.rot.current).toBeUndefined();
  });

  it('stop forgets the extra, and a dial that ends afterwards changes nothing', async () => {
    const s = setup();
    s.rot.tick(T0 + EVERY, none);
    s.rot.stop();
    expect(s.rot.current).toBeUndefined();
    await s.view.settle('c0', true);
    expect(s.rot.current).toBeUndefined();
  });

  it('does nothing while isolated, nor when off (everyMs 0)', async () => {
    const iso = setup();
    iso.view.iso = true;
    iso.rot.tick(T0 + EVERY, none);
    expect(iso.view.dials).toEqual([]);
    const off = setup(4, { everyMs: 0 });
    for (let i = 0; i < 5; i++) off.rot.tick(T0 + i * EVERY, none);
    expect(off.view.dials).toEqual([]);
  });

  it('without isAhead the extra is never kept: dropped at the deadline', async () => {
    const s = setup();
    const view = s.view as ExtraPeerView;
    const rot = new ExtraPeerRotation({ ...view, isAhead: undefined, eligible: (n, c) => s.view.eligible(n, c) }, { everyMs: EVERY, probeMs: PROBE, now: () => s.clock.now, random: () => 0.99 });
    rot.start(T0);
    s.clock.now = T0 + EVERY;
    rot.tick(s.clock.now, none);
    s.view.direct = 4;
    await s.view.settle('c0', true);
    rot.tick(s.clock.now + PROBE, none);
    expect(rot.current).toBeUndefined();
    expect(s.view.hungUp).toEqual(['c0']);
  });

  it('refuses hostile timing values with the option named', () => {
    const view = new View();
    expect(() => new ExtraPeerRotation(view, { everyMs: -1 })).toThrow(/extraPeerEveryMs/);
    expect(() => new ExtraPeerRotation(view, { everyMs: NaN })).toThrow(/extraPeerEveryMs/);
    expect(() => new ExtraPeerRotation(view, { probeMs: 0 })).toThrow(/extraPeerProbeMs/);
  });
});
