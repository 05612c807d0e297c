/**
 * The PeerManager's extra peer (Bitcoin Core's extra block-relay-only peer): at the target, one more
 * candidate is dialled every `extraPeerEveryMs`; it is kept when the sync manager says it showed us
 * a chain we lacked (and our youngest other outbound peer makes room), dropped when it showed
 * nothing new or nothing in time; never more than one at a time; off at 0.
 *
 * libp2p is a fake (dials succeed for the peers marked reachable, connect at once and identify as
 * chain peers); only Date is faked, so the peer manager's clock is the test's.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import type { PeerId } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';
import type { TabchainLibp2p } from '../../src/p2p/libp2p-node.ts';
import { PeerGate } from '../../src/p2p/peer-gate.ts';
import { PeerManager, peerIdOfAddr, type AddressRecord, type PeerManagerTiming } from '../../src/p2p/peer-manager.ts';

const SYNC = '/tabchain/test/sync/1';
const EVERY = 60_000;
const PROBE = 20_000;
/** The timer-driven upkeep never fires by itself: the test calls maintain(). */
const TIMING: PeerManagerTiming = { maintainEveryMs: 2 ** 30, pingEveryMs: 2 ** 30, extraPeerEveryMs: EVERY, extraPeerProbeMs: PROBE };

async function newPeerId(): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'));
}

const tick = () => new Promise<void>((r) => setTimeout(r, 0));

/** A connection of the fake libp2p. */
class FakeConnection {
  status: 'open' | 'closed' = 'open';
  readonly limits = undefined;
  readonly rtt = undefined;
  readonly timeline = { open: Date.now() };
  constructor(
    readonly net: FakeLibp2p,
    readonly remotePeer: PeerId,
    readonly remoteAddr: Multiaddr,
    readonly direction: 'inbound' | 'outbound',
  ) {}
  async close(): Promise<void> {
    this.abort();
  }
  abort(): void {
    if (this.status === 'closed') return;
    this.status = 'closed';
    this.net.closed(this);
  }
  async newStream(): Promise<never> {
    throw new Error('fake connection: no streams');
  }
}

/** Just enough libp2p for the PeerManager: dials, connections, their events, identify, ping. */
class FakeLibp2p extends EventTarget {
  readonly conns: FakeConnection[] = [];
  readonly dials: string[] = [];
  readonly reachable = new Set<string>();
  /** Dials that wait for the test to let them through (`release`). */
  hold = false;
  readonly #held: (() => void)[] = [];
  readonly services = {
    identify: { identify: async () => ({}) },
    ping: { ping: async () => 1 },
  };
  constructor(readonly peerId: PeerId) {
    super();
  }
  getConnections(peer?: PeerId): FakeConnection[] {
    return this.conns.filter((c) => c.status === 'open' && (peer === undefined || c.remotePeer.equals(peer)));
  }
  connectedIds(): string[] {
    return [...new Set(this.getConnections().map((c) => c.remotePeer.toString()))];
  }
  async dial(ma: Multiaddr): Promise<FakeConnection> {
    const id = peerIdOfAddr(ma)!;
    this.dials.push(id);
    if (this.hold) await new Promise<void>((r) => this.#held.push(r));
    if (!this.reachable.has(id)) throw new Error(`fake: ${id} unreachable`);
    const conn = new FakeConnection(this, peersById.get(id)!, ma, 'outbound');
    this.conns.push(conn);
    this.dispatchEvent(new CustomEvent('connection:open', { detail: conn }));
    this.dispatchEvent(new CustomEvent('peer:identify', { detail: { peerId: conn.remotePeer, protocols: [SYNC], listenAddrs: [] } }));
    return conn;
  }
  release(): void {
    this.hold = false;
    for (const r of this.#held.splice(0)) r();
  }
  closed(conn: FakeConnection): void {
    this.dispatchEvent(new CustomEvent('connection:close', { detail: conn }));
    if (this.getConnections(conn.remotePeer).length === 0) this.dispatchEvent(new CustomEvent('peer:disconnect', { detail: conn.remotePeer }));
  }
}

const peersById = new Map<string, PeerId>();
const managers: PeerManager[] = [];

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(1_700_000_000_000);
});
afterEach(() => {
  for (const pm of managers.splice(0)) pm.stop();
  vi.useRealTimers();
});

/**
 * A started PeerManager with `candidates` peers in its address book (all reachable), wanting
 * `target` of them; `ahead` answers the isAhead question per peer id.
 */
async function setup(opts: { candidates: number; target: number; timing?: PeerManagerTiming; ahead?: Map<string, boolean | undefined> }) {
  const libp2p = new FakeLibp2p(await newPeerId());
  const book: AddressRecord[] = [];
  for (let i = 0; i < opts.candidates; i++) {
    const id = await newPeerId();
    peersById.set(id.toString(), id);
    libp2p.reachable.add(id.toString());
    book.push({ peerId: id.toString(), multiaddrs: [`/ip4/10.0.0.${i + 1}/tcp/4001`], lastSeen: Date.now() });
  }
  const ahead = opts.ahead ?? new Map<string, boolean | undefined>();
  const asked: string[] = [];
  const pm = new PeerManager({
    libp2p: libp2p as unknown as TabchainLibp2p,
    gate: new PeerGate(),
    syncProtocol: SYNC,
    targetPeers: opts.target,
    timing: opts.timing ?? TIMING,
    addressBook: { listPeers: async () => book, putPeer: async () => undefined, deletePeer: async () => undefined },
    isAhead: (id) => (asked.push(id), ahead.get(id)),
  });
  managers.push(pm);
  await pm.start(); // loads the book and dials up to the target
  await tick();
  return { pm, libp2p, ahead, asked, book };
}

/** Moves the clock on and runs one round of upkeep. */
async function after(pm: PeerManager, ms: number): Promise<void> {
  vi.setSystemTime(Date.now() + ms);
  await pm.maintain();
  await tick();
}

describe('PeerManager extra peer', () => {
  it('at the target, one more peer is dialled once its period has come', async () => {
    const { pm, libp2p } = await setup({ candidates: 6, target: 3 });
    expect(libp2p.connectedIds()).toHaveLength(3);
    await after(pm, EVERY - 1);
    expect(libp2p.connectedIds()).toHaveLength(3); // not yet
    expect(pm.extraPeer).toBeUndefined();
    await after(pm, 1);
    expect(libp2p.connectedIds()).toHaveLength(4);
    expect(pm.extraPeer).toBeDefined();
    expect(libp2p.connectedIds()).toContain(pm.extraPeer);
  });

  it('no extra peer below the target: the ordinary dials fill the slots first', async () => {
    const { pm, libp2p } = await setup({ candidates: 2, target: 3 });
    expect(libp2p.connectedIds()).toHaveLength(2);
    await after(pm, EVERY * 3);
    expect(pm.extraPeer).toBeUndefined();
    expect(libp2p.dials).toHaveLength(2);
  });

  it('kept when it showed a chain we lacked: it stays and our youngest other outbound peer makes room', async () => {
    const { pm, libp2p, ahead } = await setup({ candidates: 6, target: 3 });
    const first = libp2p.connectedIds();
    // The first peers connected at different times: the last one dialled is the youngest.
    const youngest = libp2p.getConnections().at(-1)!;
    (youngest.timeline as { open: number }).open = Date.now() + 1;
    await after(pm, EVERY);
    const extra = pm.extraPeer!;
    expect(first).not.toContain(extra);
    await after(pm, 1000);
    expect(pm.extraPeer).toBe(extra); // still unknown: still being tried
    ahead.set(extra, true);
    await after(pm, 1000);
    expect(pm.extraPeer).toBeUndefined();
    const now = libp2p.connectedIds();
    expect(now).toContain(extra);
    expect(now).toHaveLength(3); // back to the target
    expect(now).not.toContain(youngest.remotePeer.toString());
  });

  it('dropped when its status shows nothing new', async () => {
    const { pm, libp2p, ahead } = await setup({ candidates: 6, target: 3 });
    const first = libp2p.connectedIds();
    await after(pm, EVERY);
    const extra = pm.extraPeer!;
    expect(libp2p.connectedIds()).toContain(extra);
    ahead.set(extra, false);
    await after(pm, 1000);
    expect(pm.extraPeer).toBeUndefined();
    expect(libp2p.connectedIds().sort()).toEqual([...first].sort());
  });

  it('dropped when it shows nothing within the probe time', async () => {
    const { pm, libp2p, asked } = await setup({ candidates: 6, target: 3 });
    const first = libp2p.connectedIds();
    await after(pm, EVERY);
    const extra = pm.extraPeer!;
    await after(pm, PROBE - 1);
    expect(pm.extraPeer).toBe(extra);
    expect(asked).toContain(extra);
    await after(pm, 1);
    expect(pm.extraPeer).toBeUndefined();
    expect(libp2p.connectedIds().sort()).toEqual([...first].sort());
  });

  it('never more than one extra at a time, even while one is being dialled or tried for long', async () => {
    const { pm, libp2p } = await setup({ candidates: 10, target: 3, timing: { ...TIMING, extraPeerProbeMs: EVERY * 10 } });
    libp2p.hold = true; // the extra's dial hangs
    await after(pm, EVERY);
    const extra = pm.extraPeer!;
    for (let i = 0; i < 5; i++) await after(pm, EVERY);
    expect(libp2p.dials.slice(3)).toEqual([extra]);
    libp2p.release();
    await tick();
    for (let i = 0; i < 5; i++) await after(pm, EVERY);
    expect(pm.extraPeer).toBe(extra);
    expect(libp2p.connectedIds()).toHaveLength(4);
    expect(libp2p.dials).toHaveLength(4);
  });

  it('a dropped extra makes way for the next, and the book is visited: a different peer each time', async () => {
    const { pm, libp2p, ahead } = await setup({ candidates: 6, target: 3 });
    const tried: string[] = [];
    for (let i = 0; i < 3; i++) {
      await after(pm, EVERY);
      const extra = pm.extraPeer!;
      tried.push(extra);
      ahead.set(extra, false);
      await after(pm, 1000);
      expect(pm.extraPeer).toBeUndefined();
    }
    expect(new Set(tried).size).toBe(3);
    expect(libp2p.connectedIds()).toHaveLength(3);
  });

  it('an extra whose dial fails frees the slot for the next period', async () => {
    const { pm, libp2p, book } = await setup({ candidates: 4, target: 3 });
    const spare = book.map((r) => r.peerId).find((id) => !libp2p.connectedIds().includes(id))!;
    libp2p.reachable.delete(spare);
    await after(pm, EVERY);
    expect(pm.extraPeer).toBeUndefined();
    expect(libp2p.dials.at(-1)).toBe(spare);
    expect(libp2p.connectedIds()).toHaveLength(3);
  });

  it('a peer lost while the extra is tried: the extra fills its slot instead of being dropped', async () => {
    const { pm, libp2p, ahead } = await setup({ candidates: 6, target: 3 });
    await after(pm, EVERY);
    const extra = pm.extraPeer!;
    const other = libp2p.getConnections().find((c) => c.remotePeer.toString() !== extra)!;
    libp2p.reachable.delete(other.remotePeer.toString()); // gone for good
    other.abort();
    ahead.set(extra, false);
    await after(pm, 1000);
    expect(pm.extraPeer).toBeUndefined();
    expect(libp2p.connectedIds()).toContain(extra);
  });

  it('off at 0: never an extra peer', async () => {
    const { pm, libp2p } = await setup({ candidates: 6, target: 3, timing: { ...TIMING, extraPeerEveryMs: 0 } });
    for (let i = 0; i < 5; i++) await after(pm, EVERY);
    expect(pm.extraPeer).toBeUndefined();
    expect(libp2p.dials).toHaveLength(3);
  });

  it('hostile timing values are refused with the option named', () => {
    const base = { libp2p: {} as TabchainLibp2p, gate: new PeerGate(), syncProtocol: SYNC };
    expect(() => new PeerManager({ ...base, timing: { extraPeerEveryMs: -1 } })).toThrow(/extraPeerEveryMs/);
    expect(() => new PeerManager({ ...base, timing: { extraPeerEveryMs: NaN } })).toThrow(/extraPeerEveryMs/);
    expect(() => new PeerManager({ ...base, timing: { extraPeerProbeMs: 0 } })).toThrow(/extraPeerProbeMs/);
  });
});
