import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../src/chain/index.ts';
import { offenceOf, RemoteSyncError, SyncProtocolError, SyncTimeoutError } from '../../src/p2p/errors.ts';
import { DEFAULT_PEER_SCORE_CONFIG, PeerScores } from '../../src/p2p/peer-score.ts';

const MIN = 60_000;

describe('PeerScores', () => {
  it('bans at once for an invalid block or an oversized frame, for 10 minutes', () => {
    const s = new PeerScores();
    const t0 = 1_000_000;
    expect(s.penalize('a', 'invalidBlock', t0).decision).toBe('ban');
    expect(s.penalize('b', 'oversizedFrame', t0).decision).toBe('ban');
    expect(s.isBanned('a', t0 + 10 * MIN - 1)).toBe(true);
    expect(s.bannedUntil('a', t0)).toBe(t0 + 10 * MIN);
    expect(s.isBanned('a', t0 + 10 * MIN)).toBe(false);
    expect(s.isBanned('c', t0)).toBe(false);
  });

  it('bans after repeated lesser offences in quick succession, not when they are spread out', () => {
    const quick = new PeerScores();
    const decisions = Array.from({ length: 11 }, (_, i) => quick.penalize('p', 'timeout', i * 1000).decision);
    // 10 × 10 points, decayed a little over 9 s, stay just above -100; the 11th bans.
    expect(decisions.slice(0, 10)).toEqual(Array(10).fill('ok'));
    expect(decisions[10]).toBe('ban');

    // The same ten timeouts, one every 10 minutes: the score recovers in between.
    const slow = new PeerScores();
    for (let i = 0; i < 10; i++) expect(slow.penalize('p', 'timeout', i * 10 * MIN).decision).toBe('ok');
    expect(slow.score('p', 100 * MIN)).toBeGreaterThan(-DEFAULT_PEER_SCORE_CONFIG.banThreshold);
  });

  it('recovers towards 0 with the configured half-life', () => {
    const s = new PeerScores({ halfLifeMs: 5 * MIN });
    s.penalize('p', 'malformedFrame', 0); // -50
    expect(s.score('p', 0)).toBe(-50);
    expect(s.score('p', 5 * MIN)).toBeCloseTo(-25, 9);
    expect(s.score('p', 10 * MIN)).toBeCloseTo(-12.5, 9);
    expect(s.score('nobody', 0)).toBe(0);
  });

  it('uses configured weights and threshold', () => {
    const s = new PeerScores({ weights: { invalidTx: 1 } as never, banThreshold: 3 });
    expect(s.config.weights.invalidBlock).toBe(DEFAULT_PEER_SCORE_CONFIG.weights.invalidBlock);
    expect(s.penalize('p', 'invalidTx', 0).decision).toBe('ok');
    expect(s.penalize('p', 'invalidTx', 0).decision).toBe('ok');
    expect(s.penalize('p', 'invalidTx', 0)).toEqual({ score: -3, decision: 'ban' });
    expect(() => new PeerScores({ banThreshold: 0 })).toThrow(TypeError);
    expect(() => new PeerScores({ weights: { timeout: -1 } as never })).toThrow(TypeError);
  });

  it('a peer starts clean when its ban ends, and forgive() lifts a ban', () => {
    const s = new PeerScores();
    s.penalize('p', 'invalidBlock', 0);
    expect(s.score('p', 10 * MIN)).toBe(0);
    expect(s.penalize('p', 'timeout', 10 * MIN).decision).toBe('ok');
    s.ban('q', 0);
    s.forgive('q');
    expect(s.isBanned('q', 1)).toBe(false);
    expect([...s.banned(10 * MIN).keys()]).toEqual([]);
  });

  it('uses the injected clock when no time is given', () => {
    let now = 0;
    const s = new PeerScores({}, () => now);
    s.penalize('p', 'invalidBlock');
    now = 10 * MIN - 1;
    expect(s.isBanned('p')).toBe(true);
    now = 10 * MIN;
    expect(s.isBanned('p')).toBe(false);
  });

  it('caps requests in flight per peer', () => {
    const s = new PeerScores({ maxPendingRequests: 2 });
    expect(s.tryBeginRequest('p')).toBe(true);
    expect(s.tryBeginRequest('p')).toBe(true);
    expect(s.tryBeginRequest('p')).toBe(false);
    expect(s.tryBeginRequest('q')).toBe(true);
    s.endRequest('p');
    expect(s.pending('p')).toBe(1);
    expect(s.tryBeginRequest('p')).toBe(true);
    s.disconnected('p');
    expect(s.pending('p')).toBe(0);
  });

  it('remembers a bounded number of peers, forgetting the least recently touched', () => {
    const s = new PeerScores({ maxTrackedPeers: 3 });
    for (const p of ['a', 'b', 'c', 'd']) s.penalize(p, 'timeout', 0);
    expect(s.score('a', 0)).toBe(0); // evicted
    expect(s.score('d', 0)).toBe(-10);
    for (const p of ['w', 'x', 'y', 'z']) s.ban(p, 0);
    expect(s.isBanned('w', 1)).toBe(false);
    expect(s.isBanned('z', 1)).toBe(true);
  });
});

describe('offenceOf', () => {
  it('maps failures to the offence to charge, and local failures to none', () => {
    expect(offenceOf(new DecodeError('x'))).toBe('malformedFrame');
    expect(offenceOf(new SyncTimeoutError('x'))).toBe('timeout');
    expect(offenceOf(new SyncProtocolError('x', 'unsolicited'))).toBe('unsolicited');
    expect(offenceOf(new RemoteSyncError('BUSY', 'x'))).toBeUndefined();
    expect(offenceOf(new Error('dial failed'))).toBeUndefined();
  });
});

