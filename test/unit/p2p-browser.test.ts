import { describe, expect, it } from 'vitest';
import { multiaddr } from '@multiformats/multiaddr';
import { BROWSER_LISTEN, browserDialPolicy, browserListen, browserTransports, MAX_RELAY_RESERVATIONS, parseIceServers, preferWebRTC } from '../../src/p2p/transports-browser.ts';
import { createServer, type Server } from 'node:http';
import { fetchBootstrap, parseBootstrap, readBootstrap } from '../../src/p2p/bootstrap.ts';
import { announceNow, announceOnAddressChange, encodeDiscoveryRecord, REANNOUNCE_FANOUT, type AnnouncingLibp2p } from '../../src/p2p/discovery-announce.ts';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';

const RELAY = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN';
const TAB = '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK';

describe('preferWebRTC (browser dial order)', () => {
  it('puts WebRTC first, WebSocket listeners next and relayed circuits last', () => {
    const circuit = multiaddr(`/dns4/localhost/tcp/8080/ws/p2p/${RELAY}/p2p-circuit/p2p/${TAB}`);
    const rtc = multiaddr(`/dns4/localhost/tcp/8080/ws/p2p/${RELAY}/p2p-circuit/webrtc/p2p/${TAB}`);
    const ws = multiaddr(`/ip4/127.0.0.1/tcp/4000/ws/p2p/${TAB}`);
    const out = preferWebRTC(TAB, [circuit, ws, rtc]).map(String);
    expect(out).toEqual([rtc.toString(), ws.toString(), circuit.toString()]);
  });
});

describe('ICE servers', () => {
  it('defaults to none and accepts only stun:/turn: URLs', () => {
    expect(parseIceServers(undefined)).toEqual([]);
    expect(parseIceServers('stun:stun.example.org:3478, http://evil.example, turn:t.example:3478')).toEqual([
      { urls: 'stun:stun.example.org:3478' },
      { urls: 'turn:t.example:3478' },
    ]);
    expect(parseIceServers([{ urls: 'turn:t.example', username: 'u', credential: 'c' }, { urls: 'ftp:x' }, 7])).toEqual([
      { urls: 'turn:t.example', username: 'u', credential: 'c' },
    ]);
  });

  it('builds the three browser transports', () => {
    expect(browserTransports({ iceServers: [] })).toHaveLength(3);
    expect(BROWSER_LISTEN).toEqual(['/p2p-circuit', '/webrtc']);
    // ICE servers may be a function, asked at each connection (the relay's STUN, as last named).
    expect(browserTransports({ iceServers: () => [{ urls: 'stun:relay.example.org:8080' }] })).toHaveLength(3);
  });

  it('listens for one reservation per relay, at most two', () => {
    expect(MAX_RELAY_RESERVATIONS).toBe(2);
    expect(browserListen(0)).toEqual(['/p2p-circuit', '/webrtc']);
    expect(browserListen(1)).toEqual(['/p2p-circuit', '/webrtc']);
    expect(browserListen(2)).toEqual(['/p2p-circuit', '/p2p-circuit', '/webrtc']);
    expect(browserListen(9)).toEqual(['/p2p-circuit', '/p2p-circuit', '/webrtc']);
    expect(browserListen(Number.NaN)).toEqual(['/p2p-circuit', '/webrtc']);
  });
});

describe('parseBootstrap', () => {
  const good = { network: 'dev', peerId: RELAY, multiaddrs: [`/dns4/localhost/tcp/8080/ws/p2p/${RELAY}`, `/dns4/localhost/tcp/4100/ws/p2p/${RELAY}`] };

  it('accepts the relay answer: its addresses, the other relays (each naming its peer id) and its STUN server', () => {
    const other = `/dns4/relay2.example.org/tcp/443/tls/ws/p2p/${TAB}`;
    const parsed = parseBootstrap({ ...good, multiaddrs: [...good.multiaddrs, other, '/dns4/no-peer-id/tcp/1/ws', 'not/a/path', 42, `/dns4/${'x'.repeat(600)}/tcp/1/ws/p2p/${RELAY}`], iceServers: ['stun:localhost:8080', 'http://evil.example'] });
    expect(parsed).toEqual({ ...good, multiaddrs: [...good.multiaddrs, other], iceServers: [{ urls: 'stun:localhost:8080' }] });
    expect(parseBootstrap({ ...good, multiaddrs: Array.from({ length: 40 }, () => good.multiaddrs[0]) })?.multiaddrs).toHaveLength(16);
  });

  it('refuses bodies that are not a bootstrap answer', () => {
    for (const bad of [null, 'x', { ...good, network: 'Main/1' }, { ...good, peerId: 'nope' }, { ...good, multiaddrs: 'x' }]) {
      expect(parseBootstrap(bad)).toBeNull();
    }
  });
});

describe('readBootstrap / fetchBootstrap (one parser, two ways to fail)', () => {
  const good = { network: 'dev', peerId: RELAY, multiaddrs: [`/ip4/127.0.0.1/tcp/8080/ws/p2p/${RELAY}`] };
  /** Serves each path's [content type, body]. */
  async function serve(routes: Record<string, [string, string]>): Promise<{ server: Server; base: string }> {
    const server = createServer((req, res) => {
      const route = routes[req.url ?? ''];
      if (!route) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': route[0] }).end(route[1]);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    return { server, base: `http://127.0.0.1:${port}` };
  }

  it('reads a good answer the same way for the page and the headless node', async () => {
    const { server, base } = await serve({ '/bootstrap.json': ['application/json', JSON.stringify(good)] });
    try {
      expect(await readBootstrap(`${base}/bootstrap.json`)).toEqual({ ...good, iceServers: [] });
      expect(await fetchBootstrap(`${base}/bootstrap.json`)).toEqual({ ...good, iceServers: [] });
    } finally {
      server.close();
    }
  });

  it('says what was wrong (readBootstrap) where the page just runs offline (fetchBootstrap → null)', async () => {
    const { server, base } = await serve({
      '/html': ['text/html', '<html>'],
      '/other': ['application/json', JSON.stringify({ ...good, network: 'Main/1' })],
      '/none': ['application/json', JSON.stringify({ ...good, multiaddrs: ['/ip4/127.0.0.1/tcp/1/ws'] })],
    });
    try {
      const cases: [string, RegExp][] = [
        ['/missing', /HTTP 404/],
        ['/html', /not JSON \(text\/html\)/],
        ['/other', /not a bootstrap document/],
        ['/none', /lists no usable relay address/],
      ];
      for (const [path, reason] of cases) {
        await expect(readBootstrap(`${base}${path}`)).rejects.toThrow(reason);
        expect(await fetchBootstrap(`${base}${path}`)).toBeNull();
      }
    } finally {
      server.close();
    }
  });
});

describe('discovery announcements (discovery-announce)', () => {
  it("encode pubsub-peer-discovery's own Peer record", async () => {
    // The package's decoder (its exports map hides it, the file path does not).
    const { Peer } = (await import('../../node_modules/@libp2p/pubsub-peer-discovery/dist/src/peer.js')) as {
      Peer: { decode(b: Uint8Array): { publicKey: Uint8Array; addrs: Uint8Array[] } };
    };
    const key = new Uint8Array(36).map((_, i) => i);
    const addrs = [multiaddr(`/ip4/127.0.0.1/tcp/8080/ws/p2p/${RELAY}/p2p-circuit/webrtc/p2p/${TAB}`), multiaddr('/ip4/10.0.0.1/tcp/1/ws')].map((a) => a.bytes);
    const decoded = Peer.decode(encodeDiscoveryRecord(key, addrs));
    expect(decoded.publicKey).toEqual(key);
    expect(decoded.addrs).toEqual(addrs);
    // A 200-byte key needs a two-byte length.
    const big = new Uint8Array(200).fill(9);
    expect(Peer.decode(encodeDiscoveryRecord(big, [])).publicKey).toEqual(big);
  });

  it('publishes on the network discovery topic only when someone listens', async () => {
    const key = await generateKeyPair('Ed25519');
    const published: { topic: string; data: Uint8Array }[] = [];
    let subscribers: unknown[] = [];
    const libp2p = {
      peerId: peerIdFromPrivateKey(key),
      getMultiaddrs: () => [multiaddr(`/ip4/127.0.0.1/tcp/8080/ws/p2p/${RELAY}/p2p-circuit/webrtc/p2p/${TAB}`)],
      addEventListener: () => undefined,
      removeEventListener: () => undefined,
      services: { pubsub: { publish: async (topic: string, data: Uint8Array) => void published.push({ topic, data }), getSubscribers: () => subscribers } },
    } as unknown as AnnouncingLibp2p;
    expect(await announceNow(libp2p, 'dev')).toBe(false);
    subscribers = ['someone'];
    expect(await announceNow(libp2p, 'dev')).toBe(true);
    expect(published.map((p) => p.topic)).toEqual(['/tabchain/dev/discovery/1']);
  });
});

describe('re-announcing on discovery (announceOnAddressChange)', () => {
  async function announcementsFor(newPeers: number): Promise<number> {
    const key = await generateKeyPair('Ed25519');
    let published = 0;
    const listeners = new Map<string, (e: CustomEvent<{ id: { toString(): string } }>) => void>();
    const libp2p = {
      peerId: peerIdFromPrivateKey(key),
      getMultiaddrs: () => [multiaddr('/ip4/127.0.0.1/tcp/1')],
      addEventListener: (type: string, fn: never) => void listeners.set(type, fn),
      removeEventListener: () => undefined,
      services: { pubsub: { publish: async () => void published++, getSubscribers: () => ['someone'] } },
    } as unknown as AnnouncingLibp2p;
    // random() = 0.5: the k-th new peer triggers while 0.5 × k < REANNOUNCE_FANOUT.
    const stop = announceOnAddressChange(libp2p, 'dev', { minGapMs: 0, random: () => 0.5 });
    for (let i = 0; i < newPeers; i++) {
      listeners.get('peer:discovery')!(new CustomEvent('peer:discovery', { detail: { id: { toString: () => `peer-${i}` } } }));
      await new Promise((r) => setTimeout(r, 1));
    }
    // A peer heard of again triggers nothing.
    listeners.get('peer:discovery')!(new CustomEvent('peer:discovery', { detail: { id: { toString: () => 'peer-0' } } }));
    await new Promise((r) => setTimeout(r, 1));
    stop();
    return published;
  }

  it('announces on a change of our peer record only when our addresses changed', async () => {
    const key = await generateKeyPair('Ed25519');
    let published = 0;
    let addrs = [multiaddr('/ip4/127.0.0.1/tcp/1')];
    const listeners = new Map<string, () => void>();
    const libp2p = {
      peerId: peerIdFromPrivateKey(key),
      getMultiaddrs: () => addrs,
      addEventListener: (type: string, fn: never) => void listeners.set(type, fn),
      removeEventListener: () => undefined,
      services: { pubsub: { publish: async () => void published++, getSubscribers: () => ['someone'] } },
    } as unknown as AnnouncingLibp2p;
    const stop = announceOnAddressChange(libp2p, 'dev', { minGapMs: 0 });
    const update = async () => {
      listeners.get('self:peer:update')!();
      await new Promise((r) => setTimeout(r, 1));
    };
    await update();
    await update(); // same addresses (protocols or metadata changed): nothing
    expect(published).toBe(1);
    addrs = [...addrs, multiaddr('/ip4/127.0.0.1/tcp/2/ws')];
    await update();
    expect(published).toBe(2);
    stop();
  });

  /** A fake libp2p whose addresses the test sets, and which counts publications. */
  async function fakeNode() {
    const key = await generateKeyPair('Ed25519');
    const state = { published: 0, addrs: [multiaddr('/ip4/127.0.0.1/tcp/1')] };
    const listeners = new Map<string, (e?: unknown) => void>();
    const libp2p = {
      peerId: peerIdFromPrivateKey(key),
      getMultiaddrs: () => state.addrs,
      addEventListener: (type: string, fn: never) => void listeners.set(type, fn),
      removeEventListener: () => undefined,
      services: { pubsub: { publish: async () => void state.published++, getSubscribers: () => ['someone'] } },
    } as unknown as AnnouncingLibp2p;
    const emit = async (type: string, detail?: unknown) => {
      listeners.get(type)!(new CustomEvent(type, { detail }));
      await new Promise((r) => setTimeout(r, 5));
    };
    return { libp2p, state, emit };
  }

  it('announces a new reservation at once, when the transport listens (not after libp2p\'s debounced peer update)', async () => {
    const { libp2p, state, emit } = await fakeNode();
    const stop = announceOnAddressChange(libp2p, 'dev');
    state.addrs = [...state.addrs, multiaddr(`/dns4/localhost/tcp/8080/ws/p2p/${RELAY}/p2p-circuit`)];
    await emit('transport:listening');
    expect(state.published).toBe(1);
    // The debounced 'self:peer:update' that follows, same addresses: nothing more.
    await emit('self:peer:update');
    expect(state.published).toBe(1);
    // The relay lost: its listener closes, the addresses change again (within the gap: at its end).
    state.addrs = state.addrs.slice(0, 1);
    await emit('transport:close');
    expect(state.published).toBe(1);
    stop();
  });

  it('an answer to a newcomer does not hold back the announcement of our reservation, nor the reverse', async () => {
    const { libp2p, state, emit } = await fakeNode();
    const stop = announceOnAddressChange(libp2p, 'dev', { minGapMs: 60_000, random: () => 0 });
    await emit('self:peer:update'); // our first addresses
    expect(state.published).toBe(1);
    await emit('peer:discovery', { id: { toString: () => 'newcomer' } }); // answered at once: its own budget
    expect(state.published).toBe(2);
    await emit('peer:discovery', { id: { toString: () => 'another' } }); // that budget is spent for a minute
    state.addrs = [...state.addrs, multiaddr(`/dns4/localhost/tcp/8080/ws/p2p/${RELAY}/p2p-circuit`)];
    await emit('transport:listening'); // and so is the address changes' one
    expect(state.published).toBe(2);
    stop();
  });

  it('at most two announcements per gap, whatever the triggers', async () => {
    const { libp2p, state, emit } = await fakeNode();
    const stop = announceOnAddressChange(libp2p, 'dev', { minGapMs: 60_000, random: () => 0 });
    for (let i = 0; i < 50; i++) {
      state.addrs = [multiaddr(`/ip4/127.0.0.1/tcp/${i + 2}`)];
      await emit(i % 2 === 0 ? 'transport:listening' : 'self:peer:update');
      await emit('peer:discovery', { id: { toString: () => `peer-${i}` } });
    }
    expect(state.published).toBe(2);
    stop();
  });

  it(`answers every newcomer in a small network, about ${REANNOUNCE_FANOUT} per newcomer network-wide in a big one`, async () => {
    expect(await announcementsFor(REANNOUNCE_FANOUT)).toBe(REANNOUNCE_FANOUT);
    // 200 peers heard of one after another: only the first 2 × FANOUT − 1 (with random 0.5) answer, not 200.
    expect(await announcementsFor(200)).toBe(2 * REANNOUNCE_FANOUT - 1);
  });
});

describe('browserDialPolicy (one dialler per pair of tabs)', () => {
  const LOW = '12D3KooWAaaa';
  const HIGH = '12D3KooWzzzz';
  const rtc = (peer: string) => multiaddr(`/dns4/localhost/tcp/8080/ws/p2p/${RELAY}/p2p-circuit/webrtc/p2p/${peer}`);

  it('the tab with the smaller peer id dials at once', () => {
    const policy = browserDialPolicy(LOW, { now: () => 0 });
    expect(policy(HIGH, [rtc(TAB)]).map(String)).toEqual([rtc(TAB).toString()]);
  });

  it('the other one waits for the grace period, then dials if still needed', () => {
    let t = 1_000;
    const policy = browserDialPolicy(HIGH, { yieldMs: 3000, now: () => t });
    expect(policy(LOW, [rtc(TAB)])).toEqual([]);
    t += 2999;
    expect(policy(LOW, [rtc(TAB)])).toEqual([]);
    t += 1;
    expect(policy(LOW, [rtc(TAB)]).map(String)).toEqual([rtc(TAB).toString()]);
  });

  it('dials at once a peer it is told not to wait for (known before a reload: it may hold a dead connection to us)', () => {
    const policy = browserDialPolicy(HIGH, { now: () => 0, yieldFor: (peer) => peer !== LOW });
    expect(policy(LOW, [rtc(TAB)]).map(String)).toEqual([rtc(TAB).toString()]);
  });

  it('never holds back a peer without a WebRTC address (a Node node over WebSockets)', () => {
    const ws = multiaddr(`/ip4/127.0.0.1/tcp/4000/ws/p2p/${TAB}`);
    expect(browserDialPolicy(HIGH, { now: () => 0 })(LOW, [ws]).map(String)).toEqual([ws.toString()]);
  });
});
