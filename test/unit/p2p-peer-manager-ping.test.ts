/**
 * The peer manager's liveness verdict: a direct connection whose peer answers no ping twice in a
 * row is closed — unless our own event loop stalled while we waited (loop-lag.ts), when the
 * silence may be ours and is not counted. libp2p and the loop-lag sampler are fakes; pings are
 * triggered by identify events (the peer manager pings each chain peer it identifies).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import type { PeerId } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import type { TabchainLibp2p } from '../../src/p2p/libp2p-node.ts';
import type { LoopLag } from '../../src/p2p/loop-lag.ts';
import { PeerGate } from '../../src/p2p/peer-gate.ts';
import { PeerManager, PING_STALL_EXCUSE_MS } from '../../src/p2p/peer-manager.ts';
import { waitUntil } from '../support/wait.ts';

const SYNC = '/tabchain/test/sync/1';
const HOP = '/libp2p/circuit/relay/0.2.0/hop';
const settle = () => new Promise<void>((r) => setTimeout(r, 0));

class FakeConnection {
  status: 'open' | 'closed' = 'open';
  readonly limits = undefined;
  readonly rtt = undefined;
  readonly direction = 'outbound';
  readonly timeline = { open: Date.now() };
  readonly remoteAddr = multiaddr('/ip4/198.18.0.2/tcp/4001');
  abortedWith: Error | undefined;
  constructor(
    readonly net: FakeLibp2p,
    readonly remotePeer: PeerId,
  ) {}
  async close(): Promise<void> {
    this.abort(new Error('closed'));
  }
  abort(err: Error): void {
    if (this.status === 'closed') return;
    this.status = 'closed';
    this.abortedWith = err;
    this.net.dispatchEvent(new CustomEvent('connection:close', { detail: this }));
  }
  async newStream(): Promise<never> {
    throw new Error('fake connection: no streams');
  }
}

class FakeLibp2p extends EventTarget {
  readonly conns: FakeConnection[] = [];
  /** Whether pings are answered. */
  answer = false;
  pings = 0;
  readonly services = {
    identify: { identify: async () => ({}) },
    ping: {
      ping: async () => {
        this.pings++;
        if (this.answer) return 3;
        throw new Error('The operation was aborted due to timeout');
      },
    },
  };
  getConnections(peer?: PeerId): FakeConnection[] {
    return this.conns.filter((c) => c.status === 'open' && (peer === undefined || c.remotePeer.equals(peer)));
  }
  async dial(): Promise<never> {
    throw new Error('fake: no dials');
  }
  /** A connection from `peer`, identified as speaking `protocols`. */
  connect(peer: PeerId, protocols: string[]): FakeConnection {
    const conn = new FakeConnection(this, peer);
    this.conns.push(conn);
    this.dispatchEvent(new CustomEvent('connection:open', { detail: conn }));
    this.identify(peer, protocols);
    return conn;
  }
  identify(peer: PeerId, protocols: string[]): void {
    this.dispatchEvent(new CustomEvent('peer:identify', { detail: { peerId: peer, protocols, listenAddrs: [] } }));
  }
}

/** A loop-lag sampler whose answer the test sets. */
function fakeLag(): { lag: LoopLag; worst: { ms: number }; holders: { n: number } } {
  const worst = { ms: 0 };
  const holders = { n: 0 };
  const lag = {
    acquire: () => {
      holders.n++;
      return () => void holders.n--;
    },
    worstSince: () => worst.ms,
  } as unknown as LoopLag;
  return { lag, worst, holders };
}

const managers: PeerManager[] = [];
afterEach(() => {
  for (const pm of managers.splice(0)) pm.stop();
});

async function setup(pingEveryMs = 2 ** 30) {
  const libp2p = new FakeLibp2p();
  const { lag, worst, holders } = fakeLag();
  const logs: string[] = [];
  const pm = new PeerManager({
    libp2p: libp2p as unknown as TabchainLibp2p,
    gate: new PeerGate(),
    syncProtocol: SYNC,
    timing: { maintainEveryMs: 2 ** 30, pingEveryMs, extraPeerEveryMs: 0 },
    loopLag: lag,
    log: (m) => logs.push(m),
  });
  managers.push(pm);
  await pm.start();
  const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'));
  return { pm, libp2p, worst, holders, logs, peer };
}

describe('PeerManager ping verdict', () => {
  it('closes a direct connection whose peer answers no ping twice while our loop was fine', async () => {
    const { libp2p, logs, peer } = await setup();
    const conn = libp2p.connect(peer, [SYNC]);
    await settle();
    expect(conn.status).toBe('open'); // one silence is not a verdict
    libp2p.identify(peer, [SYNC]);
    await settle();
    expect(libp2p.pings).toBe(2);
    expect(conn.status).toBe('closed');
    expect(conn.abortedWith?.message).toMatch(/no ping answered 2 times/);
    expect(logs.some((l) => l.includes('answers no ping'))).toBe(true);
  });

  it('does not count pings that went unanswered while our own loop stalled', async () => {
    const { pm, libp2p, worst, peer } = await setup();
    worst.ms = PING_STALL_EXCUSE_MS;
    const conn = libp2p.connect(peer, [SYNC]);
    for (let i = 0; i < 5; i++) {
      libp2p.identify(peer, [SYNC]);
      await settle();
    }
    expect(libp2p.pings).toBe(6);
    expect(conn.status).toBe('open');
    expect(pm.pingsExcused).toBe(6);
    // The loop is fine again: two more silences in a row, and the link is judged dead.
    worst.ms = PING_STALL_EXCUSE_MS - 1;
    libp2p.identify(peer, [SYNC]);
    await settle();
    expect(conn.status).toBe('open');
    libp2p.identify(peer, [SYNC]);
    await settle();
    expect(conn.status).toBe('closed');
  });

  it('an answered ping clears the count', async () => {
    const { libp2p, peer } = await setup();
    const conn = libp2p.connect(peer, [SYNC]);
    await settle();
    libp2p.answer = true;
    libp2p.identify(peer, [SYNC]);
    await settle();
    libp2p.answer = false;
    libp2p.identify(peer, [SYNC]);
    await settle();
    expect(libp2p.pings).toBe(3);
    expect(conn.status).toBe('open');
  });

  it('holds the loop-lag sampler while started, and lets go on stop', async () => {
    const { pm, holders } = await setup();
    expect(holders.n).toBe(1);
    pm.stop();
    expect(holders.n).toBe(0);
  });

  it('judges a relay connection the same way (libp2p no longer closes silent links itself)', async () => {
    const { libp2p, peer } = await setup(10);
    const conn = libp2p.connect(peer, [HOP]);
    await settle();
    expect(libp2p.pings).toBe(0); // a relay is pinged by the periodic round, not on identify
    await waitUntil(() => conn.status === 'closed', 'the silent relay connection closed', 5000, 5);
    expect(libp2p.pings).toBe(2);
  });
});
