/**
 * The relay for real: HTTP (a temp dist with an index.html), /health, /bootstrap.json, headers,
 * its libp2p node reached over WebSockets by Node libp2p clients (through the HTTP port and the
 * listener's own port), identify, a circuit relay reservation, a relayed connection carrying the
 * sync protocol, peer discovery through its gossipsub, a stable peer id across restarts, HTTPS
 * with wss: on the same port (test/fixtures/tls: a self-signed localhost certificate for tests
 * only), and the command line (prints its URL, stops cleanly on SIGTERM).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { get } from 'node:http';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLibp2p, type Libp2p } from 'libp2p';
import { webSockets } from '@libp2p/websockets';
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { noise } from '@libp2p/noise';
import { yamux } from '@libp2p/yamux';
import { identify } from '@libp2p/identify';
import { gossipsub } from '@libp2p/gossipsub';
import { pubsubPeerDiscovery } from '@libp2p/pubsub-peer-discovery';
import { multiaddr } from '@multiformats/multiaddr';
import type { IdentifyResult, PeerInfo } from '@libp2p/interface';
import { startRelay, type Relay, type RelayOptions } from '../../relay/server.ts';
import { protocolIds } from '../../src/p2p/protocol.ts';
import { tabchainSync, type TabchainSync } from '../../src/p2p/libp2p-sync.ts';
import { blockHash, encodeHeader, equalBytes } from '../../src/chain/index.ts';
import type { ChainView } from '../../src/p2p/sync-server.ts';
import { servedChain } from '../unit/helpers/p2p-chain.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tabchain-relay-'));
const distDir = join(tmp, 'dist');
const dataDir = join(tmp, 'data');
const ids = protocolIds('dev');

function opts(extra: Partial<RelayOptions> = {}): RelayOptions {
  return { port: 0, host: '0.0.0.0', network: 'dev', distDir, dataDir, wsPort: 0, ...extra };
}

/** GET with an explicit Host header (fetch does not let us set one). */
function httpGet(port: number, path: string, host?: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, headers: host ? { host } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    }).on('error', reject);
  });
}

type Client = Libp2p<{ identify: ReturnType<ReturnType<typeof identify>>; pubsub: ReturnType<ReturnType<typeof gossipsub>>; sync: TabchainSync }>;

async function makeClient(listen: string[], chainView?: Parameters<typeof tabchainSync>[0]['chainView']): Promise<Client> {
  return createLibp2p({
    addresses: { listen },
    transports: [webSockets(), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: { denyDialMultiaddr: () => false },
    services: {
      identify: identify(),
      pubsub: gossipsub({ allowPublishToZeroTopicPeers: true }),
      sync: tabchainSync({ network: 'dev', chainView }),
    },
    peerDiscovery: [pubsubPeerDiscovery({ topics: [ids.discoveryTopic], interval: 300 })],
  });
}

let relay: Relay;
const clients: Client[] = [];

beforeAll(async () => {
  mkdirSync(join(distDir, 'assets'), { recursive: true });
  writeFileSync(join(distDir, 'index.html'), '<!doctype html><title>tabchain</title><div id="app"></div>');
  writeFileSync(join(distDir, 'assets', 'index-BIyNKFwb.js'), 'export {};');
  writeFileSync(join(distDir, 'assets', 'kernel-Dq3x_9aZ.wasm'), new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  writeFileSync(join(distDir, 'manifest.webmanifest'), '{}');
  relay = await startRelay(opts());
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.stop()));
  await relay?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('relay HTTP', () => {
  it('answers /health with nothing but ok (no peer id, no connection count)', async () => {
    const res = await httpGet(relay.port, '/health');
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(JSON.parse(res.body)).toEqual({ ok: true });
  });

  it('serves index.html with a strict CSP, no-cache and nosniff', async () => {
    for (const path of ['/', '/index.html']) {
      const res = await httpGet(relay.port, path);
      expect(res.status).toBe(200);
      expect(res.body).toContain('<div id="app">');
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
      expect(csp).not.toMatch(/script-src[^;]*'unsafe-(inline|eval)'/);
      expect(csp).toContain("worker-src 'self' blob:");
      expect(csp).toMatch(/connect-src[^;]*ws:[^;]*wss:/);
      expect(csp).toContain("object-src 'none'");
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['cross-origin-opener-policy']).toBe('same-origin');
      const permissions = String(res.headers['permissions-policy']);
      for (const feature of ['camera', 'microphone', 'geolocation', 'payment', 'usb']) expect(permissions).toContain(`${feature}=()`);
      // The app copies addresses to the clipboard: that stays allowed (not listed: its default is 'self').
      expect(permissions).not.toContain('clipboard');
      // Plain HTTP: no HSTS (browsers ignore it there anyway).
      expect(res.headers['strict-transport-security']).toBeUndefined();
    }
  });

  it('caches hashed assets forever, revalidates the rest, and sends application/wasm', async () => {
    const js = await httpGet(relay.port, '/assets/index-BIyNKFwb.js');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.headers['content-security-policy']).toBeUndefined();
    const wasm = await httpGet(relay.port, '/assets/kernel-Dq3x_9aZ.wasm');
    expect(wasm.headers['content-type']).toBe('application/wasm');
    const manifest = await httpGet(relay.port, '/manifest.webmanifest');
    expect(manifest.headers['cache-control']).toBe('no-cache');
    expect((await httpGet(relay.port, '/nope.js')).status).toBe(404);
  });

  it('/bootstrap.json advertises addresses on the host the page came from', async () => {
    const res = await httpGet(relay.port, '/bootstrap.json', `localhost:${relay.port}`);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = JSON.parse(res.body);
    expect(body).toEqual({
      network: 'dev',
      peerId: relay.peerId,
      multiaddrs: [`/dns4/localhost/tcp/${relay.port}/ws/p2p/${relay.peerId}`, `/dns4/localhost/tcp/${relay.wsPort}/ws/p2p/${relay.peerId}`],
      // Its STUN server (relay/stun.ts; test/integration/relay-stun.test.ts).
      iceServers: [`stun:localhost:${relay.stunPort}`],
    });
    expect(relay.bootstrap('127.0.0.1:8080').multiaddrs[0]).toBe(`/ip4/127.0.0.1/tcp/8080/ws/p2p/${relay.peerId}`);
    expect(relay.bootstrap('[::1]:9000').multiaddrs[0]).toBe(`/ip6/::1/tcp/9000/ws/p2p/${relay.peerId}`);
    expect(relay.bootstrap('example.org').multiaddrs[0]).toBe(`/dns4/example.org/tcp/80/ws/p2p/${relay.peerId}`);
    // A Host header that is not a host name is ignored, not pasted into a multiaddr.
    expect(relay.bootstrap('evil/p2p-circuit:1').multiaddrs[0]).toBe(`/dns4/localhost/tcp/${relay.port}/ws/p2p/${relay.peerId}`);
    for (const ma of body.multiaddrs) expect(multiaddr(ma).getComponents().at(-1)?.value).toBe(relay.peerId);
  });
});

describe('relay libp2p', () => {
  let bootstrap: { multiaddrs: string[]; peerId: string };
  beforeAll(async () => {
    bootstrap = JSON.parse((await httpGet(relay.port, '/bootstrap.json', `localhost:${relay.port}`)).body);
  });

  it('a Node client dials each advertised address over WebSockets and identify completes', async () => {
    for (const addr of bootstrap.multiaddrs) {
      const client = await makeClient([]);
      clients.push(client);
      const identified = new Promise<IdentifyResult>((resolve) =>
        client.addEventListener('peer:identify', (e) => {
          if (e.detail.peerId.toString() === bootstrap.peerId) resolve(e.detail);
        }),
      );
      const conn = await client.dial(multiaddr(addr));
      expect(conn.remotePeer.toString()).toBe(bootstrap.peerId);
      const result = await identified;
      expect(result.protocols).toContain('/libp2p/circuit/relay/0.2.0/hop');
      expect(result.protocols).toContain('/ipfs/ping/1.0.0');
      await client.stop();
    }
  });

  it('tabs reserve circuit slots, find each other through discovery, and sync over a relayed connection', async () => {
    const served = servedChain(12);
    // Besides the chain, `a` serves one 1 MiB body: far over circuit relay's default 128 KiB
    // per relayed connection, within the relay's raised limit.
    const bigHeader = served.builder.blocks[12].header;
    const bigBody = new Uint8Array(1024 * 1024);
    bigBody.set(encodeHeader(bigHeader));
    const view: ChainView = { ...served.view, getBlocks: (hashes) => hashes.map((h) => (equalBytes(h, blockHash(bigHeader)) ? bigBody : undefined)) };
    const circuitListen = `${bootstrap.multiaddrs[0]}/p2p-circuit`;
    const a = await makeClient([circuitListen], view);
    const b = await makeClient([circuitListen]);
    clients.push(a, b);

    // Reservations: the relay holds one for each, and each now has a /p2p-circuit address.
    const circuitAddr = async (c: Client) => {
      for (let i = 0; i < 100; i++) {
        const ma = c.getMultiaddrs().find((m) => m.toString().includes('/p2p-circuit'));
        if (ma) return ma;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('no circuit address');
    };
    const aCircuit = await circuitAddr(a);
    await circuitAddr(b);
    expect(relay.node.services.relay.reservations.has(a.peerId)).toBe(true);
    expect(relay.node.services.relay.reservations.has(b.peerId)).toBe(true);

    // Discovery: b learns a's addresses from a's announcements forwarded by the relay.
    const discovered = new Promise<PeerInfo>((resolve) =>
      b.addEventListener('peer:discovery', (e) => {
        if (e.detail.id.equals(a.peerId)) resolve(e.detail);
      }),
    );
    const info = await discovered;
    expect(info.multiaddrs.some((m) => m.toString().includes('/p2p-circuit'))).toBe(true);

    // A relayed (limited) connection from b to a carries the sync protocol.
    const status = await b.services.sync.getStatus(aCircuit);
    expect(status.height).toBe(12);
    const conn = b.getConnections(a.peerId)[0];
    expect(conn.limits).toBeDefined();
    expect(conn.remoteAddr.toString()).toContain('/p2p-circuit');
    const headers = await b.services.sync.getHeaders(a.peerId, [served.builder.params.genesisHash]);
    expect(headers).toHaveLength(12);
    const { blocks } = await b.services.sync.getBlocks(a.peerId, [blockHash(bigHeader)]);
    expect(blocks[0].bytes.length).toBe(bigBody.length);
  });

  it('keeps its peer id across restarts with the same data dir (and only then)', async () => {
    const first = relay.peerId;
    await relay.close();
    relay = await startRelay(opts());
    expect(relay.peerId).toBe(first);
    const other = await startRelay(opts({ dataDir: join(tmp, 'other-data') }));
    expect(other.peerId).not.toBe(first);
    await other.close();
  });
});

describe('relay over HTTPS', () => {
  it('serves the page and passes wss: upgrades on the same port to libp2p', async () => {
    const fixtures = join(import.meta.dirname, '../fixtures/tls');
    const secure = await startRelay(
      opts({ host: '127.0.0.1', tls: { cert: readFileSync(join(fixtures, 'localhost-cert.pem')), key: readFileSync(join(fixtures, 'localhost-key.pem')) } }),
    );
    try {
      const body = await new Promise<string>((resolve, reject) => {
        httpsGet({ host: '127.0.0.1', port: secure.port, path: '/bootstrap.json', headers: { host: `localhost:${secure.port}` }, rejectUnauthorized: false }, (res) => {
          let b = '';
          res.on('data', (c: Buffer) => (b += c.toString()));
          res.on('end', () => resolve(b));
        }).on('error', reject);
      });
      // Only the same-port secure address: a page served over HTTPS may not open ws:.
      expect(JSON.parse(body).multiaddrs).toEqual([`/dns4/localhost/tcp/${secure.port}/tls/ws/p2p/${secure.peerId}`]);

      // HSTS on every answer over TLS, without includeSubDomains — except to localhost, where it
      // would force https on every port of the developer's machine for a year.
      const hsts = (host: string, path: string) =>
        new Promise<string | undefined>((resolve, reject) => {
          httpsGet({ host: '127.0.0.1', port: secure.port, path, headers: { host }, rejectUnauthorized: false }, (res) => {
            res.resume();
            resolve(res.headers['strict-transport-security']);
          }).on('error', reject);
        });
      for (const path of ['/', '/bootstrap.json', '/nope.js']) expect(await hsts(`relay.example:${secure.port}`, path)).toBe('max-age=31536000');
      expect(await hsts(`localhost:${secure.port}`, '/')).toBeUndefined();
      expect(secure.url).toBe(`https://127.0.0.1:${secure.port}/`);

      // A WebSocket handshake over TLS on the HTTP port is answered by the libp2p listener.
      const reply = await new Promise<string>((resolve, reject) => {
        const sock = tlsConnect({ host: '127.0.0.1', port: secure.port, servername: 'localhost', rejectUnauthorized: false }, () => {
          sock.write(
            ['GET / HTTP/1.1', `Host: localhost:${secure.port}`, 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13', '', ''].join('\r\n'),
          );
        });
        sock.once('data', (c: Buffer) => {
          resolve(c.toString());
          sock.destroy();
        });
        sock.on('error', reject);
      });
      expect(reply).toMatch(/^HTTP\/1\.1 101 /);
      expect(reply).toContain('Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    } finally {
      await secure.close();
    }
  });
});

describe('relay command line', () => {
  it('prints its URL, serves, and exits cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'relay/server.ts', '--data', dataDir], {
      cwd: join(import.meta.dirname, '../..'),
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', NETWORK: 'dev', DIST_DIR: distDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /serving the app at (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
      void exited.then(() => reject(new Error(`relay exited early: ${out} ${err}`)));
    });
    const port = Number(new URL(url).port);
    expect(JSON.parse((await httpGet(port, '/health')).body)).toEqual({ ok: true });
    const served = JSON.parse((await httpGet(port, '/bootstrap.json')).body);
    expect(served.peerId).toBe(relay.peerId); // same data dir, same identity
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
