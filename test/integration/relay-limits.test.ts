/**
 * The relay under attack from one address: each test starts a relay with small limits and shows
 * that one client cannot take the relay's slots — WebSocket connections (both ports), circuit
 * relay reservations, HTTP sockets (slowloris) — while a client from another address is still
 * served.
 *
 * Distinct client addresses without network namespaces: on Linux all of 127.0.0.0/8 is loopback,
 * so a socket bound to 127.0.0.2 reaches the relay from 127.0.0.2. Raw sockets bind it themselves;
 * libp2p clients (whose WebSocket dialer cannot bind) dial a small TCP forwarder that connects onward
 * from the chosen address (`fromAddress`).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { get } from 'node:http';
import { get as httpsGet } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLibp2p, type Libp2p } from 'libp2p';
import { webSockets } from '@libp2p/websockets';
import { noise } from '@libp2p/noise';
import { yamux } from '@libp2p/yamux';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { startRelay, type Relay, type RelayOptions } from '../../relay/server.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tabchain-relay-limits-'));
const distDir = join(tmp, 'dist');

beforeAll(() => {
  mkdirSync(distDir, { recursive: true });
  writeFileSync(join(distDir, 'index.html'), '<!doctype html><title>tabchain</title>');
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tls(): RelayOptions['tls'] {
  const fixtures = join(import.meta.dirname, '../fixtures/tls');
  return { cert: readFileSync(join(fixtures, 'localhost-cert.pem')), key: readFileSync(join(fixtures, 'localhost-key.pem')) };
}

async function relayWith(limits: RelayOptions['limits'], tlsOptions?: RelayOptions['tls']): Promise<Relay> {
  const relay = await startRelay({ port: 0, host: '127.0.0.1', network: 'dev', distDir, dataDir: mkdtempSync(join(tmp, 'data-')), wsPort: 0, limits, tls: tlsOptions });
  cleanups.push(() => relay.close());
  return relay;
}

/**
 * A TCP forwarder on 127.0.0.1 whose onward connections to `port` come from `localAddress`: what
 * the relay sees of a libp2p client dialing the forwarder.
 */
async function fromAddress(localAddress: string, port: number): Promise<number> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    const outbound = connect({ host: '127.0.0.1', port, localAddress });
    sockets.add(inbound).add(outbound);
    const drop = () => {
      inbound.destroy();
      outbound.destroy();
      sockets.delete(inbound);
      sockets.delete(outbound);
    };
    for (const s of [inbound, outbound]) {
      s.on('error', drop);
      s.on('close', drop);
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return (server.address() as { port: number }).port;
}

type Client = Libp2p;

async function client(): Promise<Client> {
  const node = await createLibp2p({
    transports: [webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: { denyDialMultiaddr: () => false },
  });
  cleanups.push(() => node.stop());
  return node;
}

function dialOutcome(c: Client, addr: Multiaddr): Promise<'connected' | 'refused'> {
  return c.dial(addr).then(
    () => 'connected',
    () => 'refused',
  );
}

function relayAddr(relay: Relay, port: number): Multiaddr {
  return multiaddr(`/ip4/127.0.0.1/tcp/${port}/ws/p2p/${relay.peerId}`);
}

/** A raw TCP socket from `localAddress` that sends `request`. */
function rawSocket(localAddress: string, port: number, request: string): { socket: Socket; connected: Promise<void> } {
  const socket = connect({ host: '127.0.0.1', port, localAddress });
  socket.on('error', () => {}); // a refused socket is reset; the test reads what it got
  cleanups.push(() => void socket.destroy());
  const connected = new Promise<void>((resolve) =>
    socket.once('connect', () => {
      socket.write(request);
      resolve();
    }),
  );
  return { socket, connected };
}

/** Everything the server sent by the time it closed the socket. */
function replyUntilClose(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    socket.on('data', (c: Buffer) => (got += c.toString('latin1')));
    socket.once('close', () => resolve(got));
  });
}

/** The server's first bytes, or '' if it closed the socket without a word. */
function firstReply(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    socket.once('data', (c: Buffer) => resolve(c.toString('latin1')));
    socket.once('close', () => resolve(''));
  });
}

const upgradeRequest = (port: number, extra: string[] = []) =>
  ['GET / HTTP/1.1', `Host: 127.0.0.1:${port}`, 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13', ...extra, '', ''].join('\r\n');

/** GET from `localAddress`: status and body. */
function httpGet(localAddress: string, port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, localAddress, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

const HOP = '/libp2p/circuit/relay/0.2.0/hop';
/** Circuit relay v2 status codes (circuit-relay-v2 pb `Status`). */
const OK = 100;
const PERMISSION_DENIED = 202;

/** A protobuf varint at `at`: its value and the offset after it. */
function varint(bytes: Uint8Array, at: number): { value: number; next: number } {
  let value = 0;
  for (let shift = 0, i = at; i < bytes.length && shift < 35; i++, shift += 7) {
    value += (bytes[i] & 0x7f) * 2 ** shift;
    if ((bytes[i] & 0x80) === 0) return { value, next: i + 1 };
  }
  throw new Error('truncated varint');
}

/**
 * Asks the relay for a reservation by hand — a length-prefixed HopMessage { type: RESERVE } on the
 * hop protocol — and returns the answer's status: the exact code a client's reservation attempt
 * gets, without the client transport's retries in between.
 */
async function reserve(c: Client, addr: Multiaddr): Promise<number> {
  const stream = await c.dialProtocol(addr, HOP);
  const chunks: Uint8Array[] = [];
  const answer = new Promise<Uint8Array>((resolve, reject) => {
    stream.addEventListener('message', (e) => {
      const data = (e as Event & { data: Uint8Array | { subarray(): Uint8Array } }).data;
      chunks.push(data instanceof Uint8Array ? data : data.subarray());
      const all = Buffer.concat(chunks);
      const { value: length, next } = varint(all, 0);
      if (all.length >= next + length) resolve(all.subarray(next, next + length));
    });
    stream.addEventListener('close', () => reject(new Error('hop stream closed without an answer')));
  });
  stream.send(Uint8Array.of(2, 0x08, 0x00)); // length 2: field 1 (type), varint RESERVE = 0
  const msg = await answer;
  for (let at = 0; at < msg.length; ) {
    const tag = varint(msg, at);
    const field = tag.value >>> 3;
    if ((tag.value & 7) === 0) {
      const v = varint(msg, tag.next);
      if (field === 5) return v.value;
      at = v.next;
    } else if ((tag.value & 7) === 2) {
      const len = varint(msg, tag.next);
      at = len.next + len.value;
    } else {
      throw new Error(`unexpected wire type in HopMessage: ${tag.value & 7}`);
    }
  }
  throw new Error('HopMessage without a status');
}

function disconnected(relay: Relay, c: Client): Promise<void> {
  return new Promise((resolve) =>
    relay.node.addEventListener('peer:disconnect', (e) => {
      if (e.detail.equals(c.peerId)) resolve();
    }),
  );
}

describe('relay connections per client address', () => {
  it('one address cannot open more WebSocket connections than its cap, on either port; another address still connects', async () => {
    const relay = await relayWith({ maxConnectionsPerIp: 3 });
    const via2 = await fromAddress('127.0.0.2', relay.port);
    for (let i = 0; i < 3; i++) await (await client()).dial(relayAddr(relay, via2));
    // The fourth from 127.0.0.2 is refused before it reaches libp2p...
    expect(await dialOutcome(await client(), relayAddr(relay, via2))).toBe('refused');
    const http = rawSocket('127.0.0.2', relay.port, upgradeRequest(relay.port));
    expect(await firstReply(http.socket)).toMatch(/^HTTP\/1\.1 429 .*\r\n(.*\r\n)*Connection: close\r\n/i);
    // ...and the second WebSocket port counts against the same cap.
    const direct = rawSocket('127.0.0.2', relay.wsPort, upgradeRequest(relay.wsPort));
    expect(await firstReply(direct.socket)).toMatch(/^HTTP\/1\.1 429 /);
    // Another address is served.
    const via3 = await fromAddress('127.0.0.3', relay.port);
    const other = await client();
    const conn = await other.dial(relayAddr(relay, via3));
    expect(conn.remotePeer.toString()).toBe(relay.peerId);
  });

  it('many clients from distinct addresses arriving at once are not refused as one host (all reach libp2p from loopback)', async () => {
    // Two new connections per second per client: libp2p's own per-host limiter, which sees every
    // passed-through connection come from 127.0.0.1, would refuse all but two of these.
    const relay = await relayWith({ inboundConnectionThreshold: 2 });
    const ports = await Promise.all([11, 12, 13, 14, 15, 16].map((n) => fromAddress(`127.0.0.${n}`, relay.port)));
    const clients = await Promise.all(ports.map(() => client()));
    const conns = await Promise.all(clients.map((c, i) => c.dial(relayAddr(relay, ports[i]))));
    expect(conns.map((c) => c.remotePeer.toString())).toEqual(ports.map(() => relay.peerId));
  });
});

describe('relay reservations per client address', () => {
  it('one address cannot hold more reservations than its cap; a refresh is allowed; another address reserves', async () => {
    const relay = await relayWith({ maxReservationsPerIp: 2 });
    const via2 = await fromAddress('127.0.0.2', relay.port);
    const [a, b, c] = await Promise.all([client(), client(), client()]);
    expect(await reserve(a, relayAddr(relay, via2))).toBe(OK);
    expect(await reserve(b, relayAddr(relay, via2))).toBe(OK);
    expect(await reserve(c, relayAddr(relay, via2))).toBe(PERMISSION_DENIED);
    expect(relay.node.services.relay.reservations.has(c.peerId)).toBe(false);
    expect(await reserve(a, relayAddr(relay, via2))).toBe(OK); // refreshing a held one
    const via3 = await fromAddress('127.0.0.3', relay.port);
    const d = await client();
    expect(await reserve(d, relayAddr(relay, via3))).toBe(OK);
    expect(relay.node.services.relay.reservations.size).toBe(3);
  });

  it('a reservation ends with its holder\'s last connection: churning peer ids cannot fill the table', async () => {
    const relay = await relayWith({ maxReservationsPerIp: 2 });
    const via2 = await fromAddress('127.0.0.2', relay.port);
    for (let i = 0; i < 4; i++) {
      const c = await client();
      expect(await reserve(c, relayAddr(relay, via2))).toBe(OK);
      expect(relay.node.services.relay.reservations.has(c.peerId)).toBe(true);
      const gone = disconnected(relay, c);
      await c.stop();
      await gone;
      expect(relay.node.services.relay.reservations.has(c.peerId)).toBe(false);
    }
    expect(relay.node.services.relay.reservations.size).toBe(0);
  });
});

describe('relay HTTP sockets', () => {
  it('slowloris: 200 half-open requests from one address are mostly refused; another address is answered', { timeout: 20_000 }, async () => {
    const cap = 8;
    const relay = await relayWith({ maxSocketsPerIp: cap });
    const attack = Array.from({ length: 200 }, () => rawSocket('127.0.0.2', relay.port, 'GET / HTTP/1.1\r\nHost: x\r\n'));
    await Promise.all(attack.map((a) => a.connected));
    const replies = attack.map((a) => replyUntilClose(a.socket));
    // All but `cap` are closed at once, without a byte of answer.
    const closed: string[] = [];
    await new Promise<void>((resolve) => {
      for (const r of replies) void r.then((got) => closed.push(got) === attack.length - cap && resolve());
    });
    expect(closed.every((got) => got === '')).toBe(true);
    expect(attack.filter((a) => !a.socket.destroyed)).toHaveLength(cap);
    const res = await httpGet('127.0.0.3', relay.port, '/bootstrap.json');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).peerId).toBe(relay.peerId);
  });

  it('a port holds at most maxSockets sockets in all', { timeout: 20_000 }, async () => {
    const relay = await relayWith({ maxSockets: 3 });
    let accepted = 0;
    const acceptedThree = new Promise<void>((resolve) => relay.server.on('connection', () => ++accepted === 3 && resolve()));
    const held = ['127.0.0.2', '127.0.0.3', '127.0.0.4'].map((ip) => rawSocket(ip, relay.port, 'GET / HTTP/1.1\r\n'));
    await acceptedThree;
    const extra = rawSocket('127.0.0.5', relay.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await replyUntilClose(extra.socket)).toBe('');
    expect(held.every((h) => !h.socket.destroyed)).toBe(true);
  });

  it('a request, a WebSocket upgrade or a silent socket whose headers never end is answered 408 and closed after headersTimeout', { timeout: 10_000 }, async () => {
    const relay = await relayWith({ headersTimeout: 300 });
    const plain = rawSocket('127.0.0.2', relay.port, 'GET / HTTP/1.1\r\nHost: x\r\n');
    const upgrade = rawSocket('127.0.0.2', relay.port, upgradeRequest(relay.port).slice(0, -2));
    const direct = rawSocket('127.0.0.2', relay.wsPort, upgradeRequest(relay.wsPort).slice(0, -2));
    const silent = rawSocket('127.0.0.2', relay.port, '');
    for (const s of [plain, upgrade, direct, silent]) expect(await replyUntilClose(s.socket)).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('a TLS handshake that never ends is closed after headersTimeout', { timeout: 10_000 }, async () => {
    const relay = await relayWith({ headersTimeout: 300 }, tls());
    const silent = rawSocket('127.0.0.2', relay.port, '');
    expect(await replyUntilClose(silent.socket)).toBe('');
  });

  it('over TLS, a client over its socket cap is refused before the handshake; another address gets the page', async () => {
    const relay = await relayWith({ maxSocketsPerIp: 2 }, tls());
    let accepted = 0;
    const acceptedTwo = new Promise<void>((resolve) => relay.server.on('connection', () => ++accepted === 2 && resolve()));
    const held = [rawSocket('127.0.0.2', relay.port, ''), rawSocket('127.0.0.2', relay.port, '')];
    await acceptedTwo;
    const extra = tlsConnect({ socket: connect({ host: '127.0.0.1', port: relay.port, localAddress: '127.0.0.2' }), rejectUnauthorized: false });
    cleanups.push(() => void extra.destroy());
    const failed = new Promise<string>((resolve) => {
      extra.once('secureConnect', () => resolve('handshake completed'));
      extra.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
    expect(await failed).not.toBe('handshake completed');
    const page = await new Promise<number>((resolve, reject) =>
      httpsGet({ host: '127.0.0.1', port: relay.port, path: '/', localAddress: '127.0.0.3', rejectUnauthorized: false, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject),
    );
    expect(page).toBe(200);
    expect(held.every((h) => !h.socket.destroyed)).toBe(true);
  });
});
