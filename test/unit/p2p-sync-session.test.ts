/**
 * sync/2 sessions (src/p2p/sync-session.ts) over an in-memory stream pair: answers in order,
 * pipelined requests, a hostile asker queueing more than SESSION_DEPTH refused and charged, a
 * lying answerer (wrong id) charged, a peer gone mid-pipeline failing every pending request.
 */
import { describe, expect, it } from 'vitest';
import { streamPair } from '@libp2p/utils';
import { SyncProtocolError } from '../../src/p2p/errors.ts';
import { encodeFrame } from '../../src/p2p/frames.ts';
import { encodeMessage, type SyncRequest, type SyncResponse } from '../../src/p2p/messages.ts';
import { serveSession, SESSION_DEPTH, SyncSession } from '../../src/p2p/sync-session.ts';
import { waitUntil } from '../support/wait.ts';

const status = (id: number): SyncResponse => ({ type: 'error', id, code: 'BUSY', message: `answer ${id}` });
const req = (id: number): SyncRequest => ({ type: 'getStatus', id });

describe('sync sessions', () => {
  it('pipelines requests on one stream and matches answers in order', async () => {
    const [asker, answerer] = await streamPair();
    const violations: Error[] = [];
    const seen: number[] = [];
    void serveSession(answerer, {
      timeoutMs: 10_000,
      answer: async (r) => {
        seen.push(r.id);
        return { res: status(r.id) };
      },
      onViolation: (e) => violations.push(e),
    });
    const session = new SyncSession(asker);
    const answers = await Promise.all([1, 2, 3, 4, 5, 6, 7].map((id) => session.request(req(id), AbortSignal.timeout(10_000))));
    expect(answers.map((a) => a.id)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(violations).toEqual([]);
    session.close();
  });

  it(`a hostile asker with more than ${SESSION_DEPTH} requests unanswered is cut off and charged; at most ${SESSION_DEPTH} are answered`, async () => {
    const [hostile, answerer] = await streamPair();
    const violations: Error[] = [];
    let answered = 0;
    const release: (() => void)[] = [];
    const over = serveSession(answerer, {
      timeoutMs: 10_000,
      // Slow answers: the flood arrives while the first is being built.
      answer: (r) =>
        new Promise((resolve) => {
          answered++;
          release.push(() => resolve({ res: status(r.id) }));
        }),
      onViolation: (e) => violations.push(e),
    });
    const flood = new Uint8Array((SESSION_DEPTH + 3) * 9);
    for (let i = 0; i < SESSION_DEPTH + 3; i++) flood.set(encodeFrame(encodeMessage(req(i + 1))), i * 9);
    hostile.send(flood);
    await over;
    expect(violations).toHaveLength(1);
    expect(violations[0]).toBeInstanceOf(SyncProtocolError);
    expect(answered).toBeLessThanOrEqual(1);
    for (const r of release) r();
  });

  it('an answer with the wrong id is a violation the caller sees (to charge); requests behind it fail uncharged', async () => {
    const [asker, liar] = await streamPair();
    liar.addEventListener('message', () => {
      liar.send(encodeFrame(encodeMessage(status(999))));
    });
    const session = new SyncSession(asker);
    const first = session.request(req(1), AbortSignal.timeout(10_000));
    const second = session.request(req(2), AbortSignal.timeout(10_000));
    await expect(first).rejects.toBeInstanceOf(SyncProtocolError);
    await expect(second).rejects.toMatchObject({ name: 'SyncUnavailableError' });
    expect(session.open).toBe(false);
  });

  it('a peer that disconnects mid-pipeline fails every pending request and the session closes', async () => {
    const [asker, answerer] = await streamPair();
    let got = 0;
    answerer.addEventListener('message', () => {
      got++;
    });
    const session = new SyncSession(asker);
    const pending = [1, 2, 3].map((id) => session.request(req(id), AbortSignal.timeout(10_000)).catch((e: Error) => e));
    await waitUntil(() => got > 0, 'the requests to arrive');
    answerer.abort(new Error('gone'));
    const results = await Promise.all(pending);
    expect(results.every((r) => r instanceof Error)).toBe(true);
    expect(session.open).toBe(false);
  });

  it('a frame beyond the answers asked for is refused at its prefix (nothing asked: nothing may come) and ends the session', async () => {
    const [asker, answerer] = await streamPair();
    const session = new SyncSession(asker);
    const p = session.request(req(1), AbortSignal.timeout(10_000));
    answerer.send(new Uint8Array([...encodeFrame(encodeMessage(status(1))), ...encodeFrame(encodeMessage(status(2)))]));
    await expect(p).rejects.toMatchObject({ name: 'FrameTooLargeError' });
    expect(session.open).toBe(false);
  });
});
