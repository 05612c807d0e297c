/**
 * PeerManager and a peer reachable only through a relay (a tab behind a symmetric NAT), against a
 * scripted libp2p: a WebRTC dial to it resolves with a connection that may carry nothing
 * (@libp2p/webrtc upgrades once signalling ends, ICE connected or not). Such a dial must never
 * cost the relayed connection, and a failed one must not be repeated at once (issue 15; seen in
 * the NAT lab, test/integration/nat-netns.test.ts, after relay 1 was killed).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { peerIdFromString } from '@libp2p/peer-id';
import type { Connection, PeerId } from '@libp2p/interface';
import { PeerGate } from '../../src/p2p/peer-gate.ts';
import { PeerManager } from '../../src/p2p/peer-manager.ts';
import type { TabchainLibp2p } from '../../src/p2p/libp2p-node.ts';

const SELF = '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK';
const RELAY = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN';
const PEER = '12D3KooWJDzg3Ng8gByH5Q3b7W7cFbH6NeJYuT7uPCYesb391iji';
const CIRCUIT = `/ip4/198.18.0.2/tcp/8080/ws/p2p/${RELAY}/p2p-circuit`;

interface FakeConnection {
  conn: Connection;
  closed: () => boolean;
}

/** A connection that records close/abort; `stream` decides what opening a stream on it does. */
function fakeConnection(remoteAddr: string, limited: boolean, stream: () => Promise<unknown>): FakeConnection {
  let status: 'open' | 'closed' = 'open';
  const conn = {
    id: Math.random().toString(36).slice(2),
    remotePeer: peerIdFromString(PEER),
    remoteAddr: multiaddr(remoteAddr),
    limits: limited ? { bytes: 1n << 25n, seconds: 1800 } : undefined,
    direction: 'outbound',
    get status() {
      return status;
    },
    newStream: async () => ({ close: async () => undefined, ...((await stream()) as object) }),
    close: async () => {
      status = 'closed';
    },
    abort: () => {
      status = 'closed';
    },
  } as unknown as Connection;
  return { conn, closed: () => status !== 'open' };
}

/** The slice of libp2p PeerManager uses, with dials answered by `onDial`. */
function fakeLibp2p(onDial: (ma: Multiaddr) => Promise<Connection>) {
  const target = new EventTarget();
  const connections: Connection[] = [];
  const dials: string[] = [];
  const libp2p = {
    peerId: peerIdFromString(SELF),
    getConnections: (peer?: PeerId) => connections.filter((c) => c.status === 'open' && (!peer || c.remotePeer.equals(peer))),
    dial: async (ma: Multiaddr) => {
      dials.push(ma.toString());
      // A dial storm fails the test rather than spinning it forever.
      if (dials.length > MAX_DIALS) throw new Error(`more than ${MAX_DIALS} dials`);
      const conn = await onDial(ma);
      if (!connections.includes(conn)) {
        connections.push(conn);
        target.dispatchEvent(new CustomEvent('connection:open', { detail: conn }));
      }
      return conn;
    },
    addEventListener: target.addEventListener.bind(target),
    removeEventListener: target.removeEventListener.bind(target),
    services: {
      identify: { identify: async () => ({}) },
      ping: { ping: async () => 5 },
    },
  };
  return { libp2p: libp2p as unknown as TabchainLibp2p, connections, dials, target };
}

const MAX_DIALS = 20;
/** The relayed connection's grace after the direct one carried a stream (short here; 2 s by default). */
const GRACE_MS = 30;
const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

describe('PeerManager: a peer reached only through a relay', () => {
  const managers: PeerManager[] = [];
  afterEach(() => {
    for (const m of managers.splice(0)) m.stop();
  });

  async function setup(webrtcStream: () => Promise<unknown>) {
    const webrtc: FakeConnection[] = [];
    const f = fakeLibp2p(async (ma) => {
      const w = fakeConnection(ma.toString(), false, webrtcStream);
      webrtc.push(w);
      return w.conn;
    });
    const relayed = fakeConnection(`${CIRCUIT}/p2p/${PEER}`, true, async () => ({}));
    f.connections.push(relayed.conn);
    // Long timers: nothing runs but what the test calls.
    const pm = new PeerManager({ libp2p: f.libp2p, gate: new PeerGate(), syncProtocol: '/tabchain/test/sync/1', timing: { maintainEveryMs: 3_600_000, pingEveryMs: 3_600_000, redialBaseMs: 60_000, relayedGraceMs: GRACE_MS } });
    managers.push(pm);
    await pm.start();
    f.target.dispatchEvent(new CustomEvent('peer:discovery', { detail: { id: peerIdFromString(PEER), multiaddrs: [multiaddr(`${CIRCUIT}/webrtc/p2p/${PEER}`)] } }));
    return { ...f, pm, relayed, webrtc };
  }

  it('keeps the relayed connection until the WebRTC connection has carried a stream', async () => {
    let pass!: () => void;
    const stream = new Promise<void>((r) => (pass = r));
    const { relayed, webrtc, dials } = await setup(async () => stream);
    await tick();
    expect(dials).toEqual([`${CIRCUIT}/webrtc/p2p/${PEER}`]);
    expect(webrtc).toHaveLength(1);
    // The dial resolved, the probe has not passed yet: the relayed connection stays.
    expect(relayed.closed()).toBe(false);
    pass();
    await tick();
    // The probe passed: the relayed connection still finishes what it carries, for its grace…
    expect(relayed.closed()).toBe(false);
    await tick(GRACE_MS * 3);
    // …then goes.
    expect(relayed.closed()).toBe(true);
    expect(webrtc[0].closed()).toBe(false);
  });

  it('keeps the relayed connection when the direct one dies within the grace', async () => {
    const { relayed, webrtc } = await setup(async () => ({}));
    await tick();
    expect(webrtc).toHaveLength(1);
    await webrtc[0].conn.close();
    await tick(GRACE_MS * 3);
    expect(relayed.closed()).toBe(false);
  });

  it('a WebRTC connection that carries nothing is closed, the relayed one kept, and the peer not dialled again at once', async () => {
    const { pm, relayed, webrtc, dials } = await setup(async () => {
      throw new Error('no data channel ever opened');
    });
    await tick();
    expect(webrtc).toHaveLength(1);
    expect(webrtc[0].closed()).toBe(true);
    expect(relayed.closed()).toBe(false);
    // The next rounds of upkeep leave the peer on its relayed connection until the backoff ends.
    for (let i = 0; i < 5; i++) {
      await pm.maintain();
      await tick();
    }
    expect(dials).toHaveLength(1);
    expect(pm.peers().map((p) => [p.id, p.transport])).toEqual([[PEER, 'relay']]);
  });
});

describe('PeerManager: the first WebRTC dial to a peer gets a short timeout', () => {
  const managers: PeerManager[] = [];
  afterEach(() => {
    for (const m of managers.splice(0)) m.stop();
  });

  /** A peer whose WebRTC dials stall (ICE connected, the initiator's data channel never opens) until aborted; its circuit answers. */
  async function stalling(alreadyRelayed: boolean) {
    const signals: AbortSignal[] = [];
    const relayed = fakeConnection(`${CIRCUIT}/p2p/${PEER}`, true, async () => ({}));
    const f = fakeLibp2p(async () => relayed.conn);
    if (alreadyRelayed) f.connections.push(relayed.conn);
    const dial = f.libp2p.dial.bind(f.libp2p);
    (f.libp2p as unknown as { dial: unknown }).dial = (ma: Multiaddr, opts: { signal: AbortSignal }) => {
      if (!ma.toString().includes('/webrtc')) return dial(ma, opts);
      f.dials.push(ma.toString());
      // As @libp2p/webrtc does: the signalling goes over a circuit to the peer, which stays open.
      if (!f.connections.includes(relayed.conn)) {
        f.connections.push(relayed.conn);
        f.target.dispatchEvent(new CustomEvent('connection:open', { detail: relayed.conn }));
      }
      signals.push(opts.signal);
      return new Promise((_, reject) => opts.signal.addEventListener('abort', () => reject(opts.signal.reason)));
    };
    // Long timers and backoffs: nothing is retried but what the manager does at once.
    const pm = new PeerManager({
      libp2p: f.libp2p,
      gate: new PeerGate(),
      syncProtocol: '/tabchain/test/sync/1',
      timing: { maintainEveryMs: 3_600_000, pingEveryMs: 3_600_000, redialBaseMs: 3_600_000, dialTimeoutMs: 3_600_000, firstWebrtcDialTimeoutMs: 20 },
    });
    managers.push(pm);
    await pm.start();
    f.target.dispatchEvent(
      new CustomEvent('peer:discovery', { detail: { id: peerIdFromString(PEER), multiaddrs: [multiaddr(`${CIRCUIT}/webrtc/p2p/${PEER}`), multiaddr(`${CIRCUIT}/p2p/${PEER}`)] } }),
    );
    await tick(200);
    return { ...f, signals, relayed, pm };
  }

  it('a stalled first WebRTC dial is given up after firstWebrtcDialTimeoutMs, its circuit kept as the fallback (not dialled: that would join the stalled dial), and WebRTC tried again at once with dialTimeoutMs', async () => {
    const { dials, signals, relayed, pm } = await stalling(false);
    const rtc = `${CIRCUIT}/webrtc/p2p/${PEER}`;
    expect(dials).toEqual([rtc, rtc]);
    expect(pm.peers().map((p) => [p.id, p.transport])).toEqual([[PEER, 'relay']]);
    expect(signals[0].aborted).toBe(true);
    expect(signals[1].aborted).toBe(false);
    expect(relayed.closed()).toBe(false);
  });

  it('the same while already connected through the relay: the second try comes at once, later failures wait their backoff', async () => {
    const { dials, signals, pm } = await stalling(true);
    expect(dials).toHaveLength(2);
    expect(signals[0].aborted).toBe(true);
    expect(signals[1].aborted).toBe(false);
    // A third round of upkeep dials nothing new while the second try runs.
    await pm.maintain();
    await tick(50);
    expect(dials).toHaveLength(2);
  });
});
