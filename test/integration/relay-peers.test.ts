/**
 * Several relays, one network (relay/server.ts RELAY_PEERS, relay/libp2p.ts gossipsub direct
 * peers), with Node libp2p clients standing in for tabs:
 * - two relays told of each other connect, and each /bootstrap.json lists both;
 * - a client of relay 1 only and a client of relay 2 only discover each other (the discovery
 *   announcement crosses between the relays);
 * - a client listening on `/p2p-circuit` twice (as a tab of a two-relay network does) holds a
 *   reservation on each relay; relay 1 dies: the relay-2 one stays; relay 1 comes back (same key,
 *   same port): the relays reconnect by themselves and the client, redialling it, reserves again.
 * - RELAY_PEERS is checked: not a multiaddr, no peer id, not WebSocket, too many.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
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
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { loadOrCreateKey } from '../../relay/keys.ts';
import { MAX_RELAY_PEERS, parseRelayPeers, startRelay, type Relay, type RelayOptions } from '../../relay/server.ts';
import { protocolIds } from '../../src/p2p/protocol.ts';
import { waitUntil } from '../support/wait.ts';
import { freePort } from '../support/ports.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tabchain-relay-peers-'));
const distDir = join(tmp, 'dist');
const ids = protocolIds('dev');

type Client = Libp2p<{ identify: ReturnType<ReturnType<typeof identify>>; pubsub: ReturnType<ReturnType<typeof gossipsub>> }>;
const clients: Client[] = [];

async function client(listen: string[] = []): Promise<Client> {
  const c = (await createLibp2p({
    addresses: { listen },
    transports: [webSockets(), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: { denyDialMultiaddr: () => false },
    services: { identify: identify(), pubsub: gossipsub({ allowPublishToZeroTopicPeers: true }) },
    peerDiscovery: [pubsubPeerDiscovery({ topics: [ids.discoveryTopic], interval: 300 })],
  })) as Client;
  clients.push(c);
  return c;
}

/** Relays this client holds a reservation on (the relay ids in its circuit addresses). */
function reservedOn(c: Client): Set<string> {
  const out = new Set<string>();
  for (const ma of c.getMultiaddrs()) {
    const s = ma.toString();
    const at = s.indexOf('/p2p-circuit');
    if (at < 0) continue;
    const relayPart = s.slice(0, at);
    out.add(relayPart.slice(relayPart.lastIndexOf('/p2p/') + 5));
  }
  return out;
}

let r1: Relay | undefined;
let r2: Relay | undefined;
let r1Opts: RelayOptions;
let id1 = '';
let id2 = '';

beforeAll(async () => {
  mkdirSync(distDir, { recursive: true });
  writeFileSync(join(distDir, 'index.html'), '<!doctype html><title>t</title>');
  const [d1, d2] = [join(tmp, 'r1'), join(tmp, 'r2')];
  id1 = peerIdFromPrivateKey(await loadOrCreateKey(d1)).toString();
  id2 = peerIdFromPrivateKey(await loadOrCreateKey(d2)).toString();
  const [p1, p2] = [await freePort(), await freePort()];
  const base = { host: '127.0.0.1', network: 'dev' as const, distDir, wsPort: 0, stunPort: null };
  r1Opts = { ...base, port: p1, dataDir: d1, relayPeers: [`/ip4/127.0.0.1/tcp/${p2}/ws/p2p/${id2}`] };
  r1 = await startRelay(r1Opts);
  r2 = await startRelay({ ...base, port: p2, dataDir: d2, relayPeers: [`/ip4/127.0.0.1/tcp/${p1}/ws/p2p/${id1}`] });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.stop()));
  await r1?.close();
  await r2?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('two relays told of each other', () => {
  it('connect to each other, and each /bootstrap.json lists both', async () => {
    await waitUntil(() => r1!.node.getConnections().some((c) => c.remotePeer.toString() === id2), 'relay 1 connected to relay 2', 30_000);
    for (const r of [r1!, r2!]) {
      const listed = new Set(r.bootstrap(`localhost:${r.port}`).multiaddrs.map((a) => a.slice(a.lastIndexOf('/p2p/') + 5)));
      expect([...listed].sort()).toEqual([id1, id2].sort());
    }
  });

  it('a client of relay 1 and a client of relay 2 discover each other', async () => {
    const x = await client(['/p2p-circuit']);
    const y = await client(['/p2p-circuit']);
    const xSaw = new Set<string>();
    const ySaw = new Set<string>();
    x.addEventListener('peer:discovery', (e) => xSaw.add(e.detail.id.toString()));
    y.addEventListener('peer:discovery', (e) => ySaw.add(e.detail.id.toString()));
    await x.dial(multiaddr(r1!.bootstrap(`127.0.0.1:${r1!.port}`).multiaddrs[0]));
    await y.dial(multiaddr(r2!.bootstrap(`127.0.0.1:${r2!.port}`).multiaddrs[0]));
    await waitUntil(() => ySaw.has(x.peerId.toString()) && xSaw.has(y.peerId.toString()), () => `discovery across relays (x saw ${xSaw.size}, y saw ${ySaw.size})`, 30_000);
    // Neither was ever connected to the other's relay.
    expect(x.getConnections().some((c) => c.remotePeer.toString() === id2)).toBe(false);
    expect(y.getConnections().some((c) => c.remotePeer.toString() === id1)).toBe(false);
  });

  it('a client listening twice reserves on both; keeps relay 2 when relay 1 dies; reserves again when it is back', async () => {
    const z = await client(['/p2p-circuit', '/p2p-circuit']);
    const a1 = multiaddr(r1!.bootstrap(`127.0.0.1:${r1!.port}`).multiaddrs[0]);
    const a2 = multiaddr(r2!.bootstrap(`127.0.0.1:${r2!.port}`).multiaddrs[0]);
    await z.dial(a1);
    await z.dial(a2);
    await waitUntil(() => reservedOn(z).size === 2, () => `reservations on both relays (${[...reservedOn(z)].join(', ')})`, 30_000);

    await r1!.close();
    await waitUntil(() => !reservedOn(z).has(id1), 'the relay-1 reservation gone', 30_000);
    expect(reservedOn(z).has(id2)).toBe(true);

    r1 = await startRelay(r1Opts);
    expect(r1.peerId).toBe(id1);
    // The relays find each other again by themselves (gossipsub direct peers).
    await waitUntil(() => r2!.node.getConnections().some((c) => c.remotePeer.toString() === id1), 'relay 2 reconnected to relay 1', 30_000);
    // The client redials (a tab's PeerManager keeps its bootstrap relays connected) and reserves again.
    await z.dial(a1);
    await waitUntil(() => reservedOn(z).size === 2, () => `a reservation on relay 1 again (${[...reservedOn(z)].join(', ')})`, 30_000);
  });
});

describe('RELAY_PEERS', () => {
  it('takes comma-separated WebSocket multiaddrs with peer ids, and refuses anything else', () => {
    const id = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN';
    expect(parseRelayPeers(undefined)).toEqual([]);
    expect(parseRelayPeers(` /dns4/r2.example.org/tcp/443/tls/ws/p2p/${id} , /ip4/198.18.0.2/tcp/8080/ws/p2p/${id}`)).toEqual([
      `/dns4/r2.example.org/tcp/443/tls/ws/p2p/${id}`,
      `/ip4/198.18.0.2/tcp/8080/ws/p2p/${id}`,
    ]);
    expect(() => parseRelayPeers('relay2.example.org:443')).toThrow(/not a multiaddr/);
    expect(() => parseRelayPeers('/ip4/198.18.0.2/tcp/8080/ws')).toThrow(/p2p/);
    expect(() => parseRelayPeers(`/ip4/198.18.0.2/tcp/8080/p2p/${id}`)).toThrow(/WebSocket/);
    const many = Array.from({ length: MAX_RELAY_PEERS + 1 }, (_, i) => `/ip4/198.18.0.${i + 1}/tcp/80/ws/p2p/${id}`).join(',');
    expect(() => parseRelayPeers(many)).toThrow(/at most/);
  });
});
