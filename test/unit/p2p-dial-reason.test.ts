/**
 * A failed dial is logged with its reason. In Firefox a WebRTC dial was logged as
 * `peers: dial … failed (1×): undefined`: the log read `.message` of whatever the dial rejected
 * with, and what libp2p rejects with in a browser is not always an Error with a message (an
 * AggregateError whose reasons are inside, an `error` Event, a bare object).
 */
import { describe, expect, it } from 'vitest';
import { errorText } from '../../src/p2p/errors.ts';
import { PeerGate } from '../../src/p2p/peer-gate.ts';
import { PeerManager, type AddressBook } from '../../src/p2p/peer-manager.ts';

const ME = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN';
const THEM = '12D3KooWKnDdG3iXw9eTFijk3EWSunZcFi54Zka4wmtqtt6rPxc8';

/** Dials one remembered peer through a PeerManager whose libp2p rejects every dial with `reason`; returns the log. */
async function dialFailureLog(reason: unknown): Promise<string[]> {
  const logs: string[] = [];
  let dialled!: () => void;
  const dialledOnce = new Promise<void>((r) => (dialled = r));
  const target = new EventTarget();
  const libp2p = Object.assign(target, {
    peerId: { toString: () => ME },
    getConnections: () => [],
    dial: () => {
      dialled();
      return Promise.reject(reason);
    },
  });
  const book: AddressBook = {
    listPeers: () => Promise.resolve([{ peerId: THEM, multiaddrs: [`/ip4/127.0.0.1/tcp/9/ws/p2p/${THEM}`], lastSeen: Date.now(), score: 0 }]),
    putPeer: () => Promise.resolve(),
    deletePeer: () => Promise.resolve(),
  };
  const pm = new PeerManager({
    libp2p: libp2p as unknown as ConstructorParameters<typeof PeerManager>[0]['libp2p'],
    gate: new PeerGate(),
    syncProtocol: '/tabchain/test/sync/1',
    addressBook: book,
    log: (m) => logs.push(m),
  });
  await pm.start();
  await dialledOnce;
  // The log line is written once the rejected dial has been handled: a few turns of the event loop.
  for (let i = 0; i < 20 && !logs.some((l) => l.includes('failed')); i++) await new Promise((r) => setTimeout(r, 0));
  pm.stop();
  return logs.filter((l) => l.startsWith(`peers: dial ${THEM}`));
}

describe('a failed dial names its reason', () => {
  it('an AggregateError: its inner reasons', async () => {
    const [line] = await dialFailureLog(new AggregateError([new Error('ICE failed'), new Error('signalling stream reset')], 'All promises were rejected'));
    expect(line).toBe(`peers: dial ${THEM} failed (1×): All promises were rejected (ICE failed; signalling stream reset)`);
  });

  it('an Error with a cause: the cause too', async () => {
    const [line] = await dialFailureLog(new Error('dial failed', { cause: new Error('connection refused') }));
    expect(line).toContain('dial failed, caused by connection refused');
  });

  it('an error Event, a bare object, undefined: never "undefined" alone', async () => {
    const lines = [...(await dialFailureLog(new Event('error'))), ...(await dialFailureLog({ name: 'OperationError', message: 'ICE gathering found no candidate' })), ...(await dialFailureLog(undefined))];
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/: error event \(Event\)$/);
    expect(lines[1]).toMatch(/: OperationError: ICE gathering found no candidate$/);
    expect(lines[2]).toMatch(/: no reason given \(undefined\)$/);
  });
});

describe('errorText bounds what it says', () => {
  it('follows a cyclic cause only so deep, and cuts a long message', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(errorText(a)).toBe('a, caused by b, caused by a, caused by b');
    const long = errorText(new Error('x'.repeat(10_000)));
    expect(long.length).toBeLessThanOrEqual(500);
    expect(long.endsWith('…')).toBe(true);
  });

  it('names at most four inner errors of an AggregateError, and how many more', () => {
    const many = new AggregateError(Array.from({ length: 100 }, (_, i) => new Error(`e${i}`)), 'all failed');
    expect(errorText(many)).toBe('all failed (e0; e1; e2; e3; 96 more)');
  });
});
