import { describe, expect, it } from 'vitest';
import { multiaddr } from '@multiformats/multiaddr';
import { BROWSER_LISTEN, browserTransports, parseIceServers, preferWebRTC } from '../../src/p2p/transports-browser.ts';
import { parseBootstrap } from '../../src/p2p/browser-bootstrap.ts';

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

  it('derives the WebRTC address from a bare circuit address, so a direct dial is tried first', () => {
    const circuit = multiaddr(`/dns4/localhost/tcp/8080/ws/p2p/${RELAY}/p2p-circuit/p2p/${TAB}`);
    const out = preferWebRTC(TAB, [circuit]).map(String);
    expect(out).toEqual([`/dns4/localhost/tcp/8080/ws/p2p/${RELAY}/p2p-circuit/webrtc/p2p/${TAB}`, circuit.toString()]);
  });

  it('does not derive an address for a circuit that names another peer', () => {
    const circuit = multiaddr(`/dns4/localhost/tcp/8080/ws/p2p/${RELAY}/p2p-circuit/p2p/${RELAY}`);
    expect(preferWebRTC(TAB, [circuit]).map(String)).toEqual([circuit.toString()]);
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
  });
});

describe('parseBootstrap', () => {
  const good = { network: 'dev', peerId: RELAY, multiaddrs: [`/dns4/localhost/tcp/8080/ws/p2p/${RELAY}`, `/dns4/localhost/tcp/4100/ws/p2p/${RELAY}`] };

  it('accepts the relay answer and keeps only addresses of the relay itself', () => {
    const parsed = parseBootstrap({ ...good, multiaddrs: [...good.multiaddrs, `/dns4/evil/tcp/1/ws/p2p/${TAB}`, 42] });
    expect(parsed).toEqual({ ...good, iceServers: [] });
  });

  it('refuses bodies that are not a bootstrap answer', () => {
    for (const bad of [null, 'x', { ...good, network: 'Main/1' }, { ...good, peerId: 'nope' }, { ...good, multiaddrs: 'x' }]) {
      expect(parseBootstrap(bad)).toBeNull();
    }
  });
});
