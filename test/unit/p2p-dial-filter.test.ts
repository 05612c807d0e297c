/**
 * The dial filter of a page (src/p2p/dial-filter.ts): a page served from a public host must not
 * dial discovered addresses on the visitor's own network (loopback, private, link-local, CGNAT,
 * IPv6 ULA, mDNS `.local`) — another peer could announce them and turn every visitor's tab into
 * a LAN scanner — except its own relay's; a page served from localhost or a LAN address dials
 * them all (tests, classrooms).
 */
import { describe, expect, it } from 'vitest';
import { multiaddr } from '@multiformats/multiaddr';
import { dialFilterForPage, isLocalHost } from '../../src/p2p/dial-filter.ts';
import { PeerGate } from '../../src/p2p/peer-gate.ts';

const RELAY = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN';
const TAB = '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK';

const privateAddrs = [
  '/ip4/10.1.2.3/tcp/4001/ws',
  '/ip4/172.16.0.9/tcp/80/ws',
  '/ip4/172.31.255.1/tcp/80/ws',
  '/ip4/192.168.1.1/tcp/80/ws',
  '/ip4/127.0.0.1/tcp/8080/ws',
  '/ip4/169.254.169.254/tcp/80/ws',
  '/ip4/100.64.0.1/tcp/80/ws',
  '/ip6/::1/tcp/80/ws',
  '/ip6/fd00::1/tcp/80/ws',
  '/ip6/fc12::1/tcp/80/ws',
  '/ip6/fe80::1/tcp/80/ws',
  '/ip6/::ffff:192.168.0.1/tcp/80/ws',
  '/dns4/localhost/tcp/80/ws',
  '/dns4/printer.local/tcp/80/ws',
  '/dns/app.localhost/tcp/80/ws',
  `/ip4/192.168.1.20/tcp/4001/ws/p2p/${TAB}`,
  `/ip4/10.0.0.7/tcp/443/wss/p2p/${RELAY}/p2p-circuit/webrtc/p2p/${TAB}`,
];
const publicAddrs = [
  '/ip4/8.8.8.8/tcp/443/wss',
  '/ip4/172.32.0.1/tcp/443/wss',
  '/ip4/100.128.0.1/tcp/443/wss',
  '/ip6/2001:4860:4860::8888/tcp/443/wss',
  '/dns4/relay.example.org/tcp/443/wss',
  `/dns4/relay.example.org/tcp/443/wss/p2p/${RELAY}/p2p-circuit/webrtc/p2p/${TAB}`,
  `/p2p/${RELAY}/p2p-circuit/webrtc/p2p/${TAB}`,
];

describe('isLocalHost', () => {
  it('tells local and private hosts (IP literals, bracketed IPv6, localhost, .local) from public ones', () => {
    for (const h of ['localhost', 'LOCALHOST', 'app.localhost', '127.0.0.1', '192.168.0.10', '10.0.0.1', '[::1]', '::1', 'fd00::2', 'tabs.local', 'tabs.local.'])
      expect([h, isLocalHost(h)]).toEqual([h, true]);
    for (const h of ['example.org', 'tabchain.example.org', '8.8.8.8', '[2001:db9::1]', 'localhost.example.org', 'local'])
      expect([h, isLocalHost(h)]).toEqual([h, false]);
  });
});

describe('dialFilterForPage', () => {
  it('a page on a public host refuses every private, loopback, link-local and .local address, and dials public ones', () => {
    const deny = dialFilterForPage('tabchain.example.org');
    for (const a of privateAddrs) expect([a, deny(multiaddr(a))]).toEqual([a, true]);
    for (const a of publicAddrs) expect([a, deny(multiaddr(a))]).toEqual([a, false]);
  });

  it("a public page still dials its own relay's addresses, even private ones (and circuits through them)", () => {
    const bootstrap = [`/ip4/10.0.0.7/tcp/443/wss/p2p/${RELAY}`, `/dns4/relay.example.org/tcp/443/wss/p2p/${RELAY}`];
    const deny = dialFilterForPage('tabchain.example.org', { trusted: () => bootstrap });
    expect(deny(multiaddr(bootstrap[0]))).toBe(false);
    expect(deny(multiaddr(`/ip4/10.0.0.7/tcp/443/wss/p2p/${RELAY}/p2p-circuit/webrtc/p2p/${TAB}`))).toBe(false);
    expect(deny(multiaddr(bootstrap[1]))).toBe(false);
    // Another host of that network is still refused.
    expect(deny(multiaddr('/ip4/10.0.0.8/tcp/443/wss'))).toBe(true);
  });

  it('a page on localhost or a LAN address dials everything', () => {
    for (const host of ['localhost', '127.0.0.1', '192.168.1.5', '[::1]', 'classroom.local']) {
      const deny = dialFilterForPage(host);
      for (const a of [...privateAddrs, ...publicAddrs]) expect([host, a, deny(multiaddr(a))]).toEqual([host, a, false]);
    }
  });

  it('plugs into the gate as its denyDialMultiaddr', async () => {
    const g = new PeerGate().gater({ denyDialMultiaddr: dialFilterForPage('tabchain.example.org') });
    expect(await g.denyDialMultiaddr!(multiaddr('/ip4/192.168.1.1/tcp/80/ws'))).toBe(true);
    expect(await g.denyDialMultiaddr!(multiaddr('/dns4/relay.example.org/tcp/443/wss'))).toBe(false);
  });
});
