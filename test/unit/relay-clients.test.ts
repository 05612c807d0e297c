/**
 * relay/clients.ts: which client an address belongs to (IPv4, IPv4-mapped, IPv6 by /64) and the
 * per-client ledger of sockets, connections and connections per second (a fake clock).
 */
import { describe, expect, it } from 'vitest';
import { ClientLedger, clientKey } from '../../relay/clients.ts';

describe('clientKey', () => {
  it('an IPv4 address is its own client, also when a dual-stack socket reports it IPv4-mapped', () => {
    expect(clientKey('192.0.2.7')).toBe('192.0.2.7');
    expect(clientKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(clientKey('::FFFF:192.0.2.7')).toBe('192.0.2.7');
    expect(clientKey('127.0.0.2')).not.toBe(clientKey('127.0.0.3'));
  });

  it('an IPv6 client is its /64: any address of it, however written, is the same client', () => {
    const key = clientKey('2001:db8:1:2::1');
    expect(key).toBe('2001:db8:1:2::/64');
    for (const same of ['2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:0db8:0001:0002:0:0:0:9', '2001:DB8:1:2::a:b', '2001:db8:1:2::1.2.3.4']) expect(clientKey(same)).toBe(key);
    expect(clientKey('2001:db8:1:3::1')).not.toBe(key);
    expect(clientKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientKey('fe80::1%eth0')).toBe(clientKey('fe80::2'));
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
  });
});

describe('ClientLedger', () => {
  const limits = { maxSocketsPerIp: 3, maxConnectionsPerIp: 2, inboundConnectionThreshold: 3 };

  it('caps sockets per client, frees a slot on close, and counts clients apart', () => {
    const ledger = new ClientLedger(limits);
    expect([1, 2, 3, 4].map(() => ledger.openSocket('a'))).toEqual([true, true, true, false]);
    expect(ledger.openSocket('b')).toBe(true);
    ledger.closeSocket('a');
    expect(ledger.held('a').sockets).toBe(2);
    expect(ledger.openSocket('a')).toBe(true);
    expect(ledger.openSocket('a')).toBe(false);
  });

  it('caps connections per client; a refused one takes nothing', () => {
    let now = 0;
    const ledger = new ClientLedger(limits, () => now);
    expect(ledger.openConnection('a')).toBeUndefined();
    expect(ledger.openConnection('a')).toBeUndefined();
    expect(ledger.openConnection('a')).toBe('too-many-connections');
    expect(ledger.held('a').connections).toBe(2);
    expect(ledger.openConnection('b')).toBeUndefined();
    ledger.closeConnection('a');
    now += 1_000;
    expect(ledger.openConnection('a')).toBeUndefined();
  });

  it('limits new connections per client per second, however fast they close again', () => {
    let now = 5_000;
    const ledger = new ClientLedger(limits, () => now);
    const churn = () => {
      const refusal = ledger.openConnection('a');
      if (refusal === undefined) ledger.closeConnection('a');
      return refusal;
    };
    expect([churn(), churn(), churn(), churn()]).toEqual([undefined, undefined, undefined, 'too-fast']);
    expect(ledger.openConnection('b')).toBeUndefined(); // another client has its own budget
    now += 999;
    expect(churn()).toBe('too-fast');
    now += 1;
    expect(churn()).toBeUndefined();
  });

  it('a stray close never makes a count negative (which would grant extra slots)', () => {
    const ledger = new ClientLedger(limits);
    ledger.openSocket('a');
    ledger.closeSocket('a');
    ledger.closeSocket('a');
    expect(ledger.held('a')).toEqual({ sockets: 0, connections: 0 });
    expect([1, 2, 3, 4].map(() => ledger.openSocket('a'))).toEqual([true, true, true, false]);
  });
});
