/**
 * The pure parts of the network service: transport classification and dial order, the peer gate
 * (bans, isolation, penalty events, the libp2p gater it makes), gossip message ids, the API's
 * peer list, the stored peer key, and the headless node's network options.
 */
import { describe, expect, it } from 'vitest';
import { multiaddr } from '@multiformats/multiaddr';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id';
import type { Message } from '@libp2p/gossipsub';
import { bytesToHex } from '../../src/chain/index.ts';
import type { RPC } from '@libp2p/gossipsub/message';
import { fastMessageIdFn, messageIdFn } from '../../src/p2p/libp2p-node.ts';
import { PeerGate, type PenaltyEvent } from '../../src/p2p/peer-gate.ts';
import { classifyTransport, directFirst, peerIdOfAddr, type NetworkPeer } from '../../src/p2p/peer-manager.ts';
import { protocolIds } from '../../src/p2p/protocol.ts';
import { toApiPeers } from '../../src/node/network/attach.ts';
import { loadOrCreatePeerKey, loadPeerIdentity } from '../../src/node/network/peer-key.ts';
import { parseCliArgs, UsageError } from '../../src/node/cli.ts';
import { MemoryStore } from '../../src/storage/memory-store.ts';

const RELAY = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN';
const TAB = '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK';

describe('transport of a connection', () => {
  it('classifies by the remote address: WebRTC (even signalled via a relay), relayed, WebSocket, TCP', () => {
    expect(classifyTransport(`/ip4/127.0.0.1/tcp/8080/ws/p2p/${RELAY}/p2p-circuit/webrtc/p2p/${TAB}`)).toBe('webrtc');
    expect(classifyTransport(`/ip4/1.2.3.4/udp/9/webrtc-direct/certhash/uEiA/p2p/${TAB}`)).toBe('webrtc');
    expect(classifyTransport(`/ip4/127.0.0.1/tcp/8080/ws/p2p/${RELAY}/p2p-circuit/p2p/${TAB}`)).toBe('relay');
    expect(classifyTransport(`/ip4/127.0.0.1/tcp/4000/ws/p2p/${TAB}`)).toBe('websocket');
    expect(classifyTransport(`/dns4/example.org/tcp/443/tls/ws/p2p/${TAB}`)).toBe('websocket');
    expect(classifyTransport(`/dns4/example.org/tcp/443/wss/p2p/${TAB}`)).toBe('websocket');
    expect(classifyTransport(multiaddr(`/ip4/127.0.0.1/tcp/4001/p2p/${TAB}`))).toBe('tcp');
    // A limited connection is relayed whatever its address says.
    expect(classifyTransport(`/ip4/127.0.0.1/tcp/4001/p2p/${TAB}`, true)).toBe('relay');
    // A limited (relayed) connection dialled at a WebRTC circuit address is relayed, not direct.
    expect(classifyTransport(`/ip4/127.0.0.1/tcp/8080/ws/p2p/${RELAY}/p2p-circuit/webrtc/p2p/${TAB}`, true)).toBe('relay');
  });

  it('dials direct addresses first (WebRTC, TCP, WebSockets) and relayed ones last', () => {
    const circuit = multiaddr(`/ip4/127.0.0.1/tcp/8080/ws/p2p/${RELAY}/p2p-circuit/p2p/${TAB}`);
    const ws = multiaddr(`/ip4/127.0.0.1/tcp/4000/ws/p2p/${TAB}`);
    const tcp = multiaddr(`/ip4/127.0.0.1/tcp/4001/p2p/${TAB}`);
    const rtc = multiaddr(`/ip4/127.0.0.1/tcp/8080/ws/p2p/${RELAY}/p2p-circuit/webrtc/p2p/${TAB}`);
    expect(directFirst(TAB, [circuit, ws, tcp, rtc]).map(String)).toEqual([rtc, tcp, ws, circuit].map(String));
    expect(peerIdOfAddr(circuit)).toBe(TAB);
    expect(peerIdOfAddr(multiaddr('/ip4/127.0.0.1/tcp/1'))).toBeUndefined();
  });
});

describe('PeerGate', () => {
  it('refuses banned peers and, while isolated, everyone not allowed', () => {
    const gate = new PeerGate();
    expect(gate.denies('a')).toBe(false);
    gate.scores.ban('a');
    expect(gate.denies('a')).toBe(true);
    gate.setIsolated(true, ['b']);
    expect([gate.denies('b'), gate.denies('c')]).toEqual([false, true]);
    gate.setIsolated(false);
    expect([gate.isolated, gate.denies('c'), gate.denies('a')]).toEqual([false, false, true]);
  });

  it('reports penalties and bans to its listeners', () => {
    const gate = new PeerGate();
    const events: PenaltyEvent[] = [];
    const off = gate.onPenalty((e) => events.push(e));
    gate.penalize('p', 'timeout', 'slow');
    gate.penalize('q', 'invalidBlock');
    gate.ban('r', 'another chain');
    off();
    gate.penalize('p', 'timeout');
    expect(events.map((e) => [e.peer, e.offence, e.decision, e.why])).toEqual([
      ['p', 'timeout', 'ok', 'slow'],
      ['q', 'invalidBlock', 'ban', undefined],
      ['r', 'unsolicited', 'ban', 'another chain'],
    ]);
    expect(gate.scores.isBanned('r')).toBe(true);
  });

  it('makes a libp2p gater that follows bans and isolation and dials any address', async () => {
    const gate = new PeerGate();
    const g = gate.gater();
    const a = peerIdFromString(TAB);
    const relay = peerIdFromString(RELAY);
    expect(await g.denyDialMultiaddr!(multiaddr('/ip4/127.0.0.1/tcp/8080/ws'))).toBe(false);
    expect(await g.denyDialPeer!(a)).toBe(false);
    gate.setIsolated(true, [TAB]);
    expect(await g.denyDialPeer!(a)).toBe(false);
    expect(await g.denyDialPeer!(relay)).toBe(true);
    // A connection from the allowed peer through a refused relay is refused too.
    expect(await g.denyInboundRelayedConnection!(relay, a)).toBe(true);
    gate.setIsolated(true);
    expect(await g.denyInboundConnection!({} as never)).toBe(true);
    gate.setIsolated(false);
    gate.scores.ban(TAB);
    expect(await g.denyInboundEncryptedConnection!(a, {} as never)).toBe(true);
    expect(await g.denyInboundConnection!({} as never)).toBe(false);
    // A banned peer is refused everywhere: dials, reservations, relayed connections either way.
    expect(await g.denyDialPeer!(a)).toBe(true);
    expect(await g.denyOutboundEncryptedConnection!(a, {} as never)).toBe(true);
    expect(await g.denyInboundRelayReservation!(a)).toBe(true);
    expect(await g.denyOutboundRelayedConnection!(relay, a)).toBe(true);
    expect(await g.denyInboundRelayedConnection!(relay, a)).toBe(true);
    expect(await g.denyDialPeer!(relay)).toBe(false);
  });
});

describe('gossip message ids', () => {
  const ids = protocolIds('test');
  const idOf = messageIdFn(ids);
  async function signed(topic: string, data: Uint8Array, seq: bigint): Promise<Message> {
    const key = await generateKeyPair('Ed25519');
    return { type: 'signed', from: peerIdFromPrivateKey(key), topic, data, sequenceNumber: seq, signature: new Uint8Array(64), key: key.publicKey };
  }

  it('a block is one message whoever publishes it; transactions and discovery keep publisher + sequence ids', async () => {
    const data = new Uint8Array([1, 2, 3]);
    const [b1, b2] = [await signed(ids.blocksTopic, data, 1n), await signed(ids.blocksTopic, data, 9n)];
    expect(bytesToHex(idOf(b1))).toBe(bytesToHex(idOf(b2)));
    const [t1, t2] = [await signed(ids.txsTopic, data, 1n), await signed(ids.txsTopic, data, 2n)];
    expect(bytesToHex(idOf(t1))).not.toBe(bytesToHex(idOf(t2)));
    // gossipsub's default id: protobuf public key then the sequence number, 8 bytes big-endian.
    const d = await signed(ids.discoveryTopic, data, 0x0102n);
    expect(bytesToHex(idOf(d)).endsWith('0000000000000102')).toBe(true);
  });
});

describe('gossip fast message ids (duplicates found before the signature check)', () => {
  const ids = protocolIds('test');
  const fast = fastMessageIdFn(ids);
  const raw = (topic: string, data: number[], from: number, seq: number): RPC.Message => ({ topic, data: Uint8Array.from(data), from: Uint8Array.of(from), seqno: Uint8Array.of(seq) });

  it('a block copy is the same whoever sent it; elsewhere publisher, sequence and data must all agree', () => {
    expect(fast(raw(ids.blocksTopic, [1, 2], 1, 1))).toBe(fast(raw(ids.blocksTopic, [1, 2], 2, 9)));
    expect(fast(raw(ids.blocksTopic, [1, 2], 1, 1))).not.toBe(fast(raw(ids.blocksTopic, [1, 3], 1, 1)));
    const tx = raw(ids.txsTopic, [1, 2], 1, 1);
    expect(fast(tx)).toBe(fast({ ...tx }));
    for (const other of [raw(ids.txsTopic, [1, 2], 2, 1), raw(ids.txsTopic, [1, 2], 1, 2), raw(ids.txsTopic, [1, 3], 1, 1), raw(ids.discoveryTopic, [1, 2], 1, 1)]) {
      expect(fast(other)).not.toBe(fast(tx));
    }
    // Fields are length-prefixed: moving bytes from one field to the next is another message.
    expect(fast({ topic: ids.txsTopic, from: Uint8Array.of(1, 2), seqno: Uint8Array.of(3), data: new Uint8Array(0) })).not.toBe(
      fast({ topic: ids.txsTopic, from: Uint8Array.of(1), seqno: Uint8Array.of(2, 3), data: new Uint8Array(0) }),
    );
    expect(fast({ topic: ids.txsTopic })).not.toBe(fast({ topic: ids.txsTopic, from: new Uint8Array(0) }));
  });
});

describe('node glue', () => {
  it('lists peers for the API with its transport union (TCP shown as websocket) and their scores', () => {
    const peers: NetworkPeer[] = [
      { id: 'a', transport: 'tcp', rttMs: 1.5, score: 0, direction: 'outbound', addr: '/ip4/127.0.0.1/tcp/1', isRelay: false, height: 3 },
      { id: 'b', transport: 'webrtc', score: -10, direction: 'inbound', addr: '/webrtc', isRelay: false },
      { id: 'r', transport: 'websocket', rttMs: 2, score: 0, direction: 'outbound', addr: '/ws', isRelay: true },
    ];
    expect(toApiPeers(peers)).toEqual([
      { id: 'a', transport: 'websocket', rttMs: 1.5, score: 0 },
      { id: 'b', transport: 'webrtc', score: -10 },
      { id: 'r', transport: 'websocket', rttMs: 2, score: 0 },
    ]);
  });

  it('keeps the profile’s peer key in the store', async () => {
    const store = new MemoryStore({ network: 'test' });
    await store.open();
    const k1 = await loadOrCreatePeerKey(store);
    const k2 = await loadOrCreatePeerKey(store);
    expect(peerIdFromPrivateKey(k2).toString()).toBe(peerIdFromPrivateKey(k1).toString());
    await store.close();
  });

  it('knows the profile’s peer id before any network: the one the network will then have', async () => {
    const store = new MemoryStore({ network: 'test' });
    await store.open();
    const first = await loadPeerIdentity(store); // a fresh profile: the key is made and stored
    expect(first.peerId).toMatch(/^12D3KooW/);
    expect(first.peerId).toBe(peerIdFromPrivateKey(first.privateKey).toString());
    // What a network started later over the same store, without being handed the key, takes.
    expect(peerIdFromPrivateKey(await loadOrCreatePeerKey(store)).toString()).toBe(first.peerId);
    expect((await loadPeerIdentity(store)).peerId).toBe(first.peerId);
    await store.close();
  });

  it('parses the headless node’s network options', () => {
    expect(parseCliArgs(['--network', 'test', '--relay', 'http://127.0.0.1:8080', '--bootstrap', '/ip4/127.0.0.1/tcp/1', '--bootstrap', '/ip4/127.0.0.1/tcp/2'])).toMatchObject({
      network: 'test',
      relay: 'http://127.0.0.1:8080/',
      bootstrap: ['/ip4/127.0.0.1/tcp/1', '/ip4/127.0.0.1/tcp/2'],
      offline: false,
    });
    expect(parseCliArgs(['--offline'])).toMatchObject({ offline: true, bootstrap: [] });
    expect(() => parseCliArgs(['--relay', 'ftp://x'])).toThrow(UsageError);
    expect(() => parseCliArgs(['--bootstrap', 'localhost:1'])).toThrow(/not a multiaddr/);
    expect(() => parseCliArgs(['--offline', '--relay', 'http://x'])).toThrow(/--offline excludes/);
  });
});
