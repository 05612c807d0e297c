/**
 * Fuzz targets of the sync protocol's handlers, over a real chain (40 blocks on the test network,
 * a stored side branch, an invalid header) served by `chainViewOf`:
 *
 * - handleSyncRequest: any request (hashes drawn from the chain, its side branch, the invalid
 *   header and nowhere) gets exactly the answer its contract says — same id, the matching type,
 *   within maxAnswerBytes, accepted by the client's own checkResponse; headers are the active
 *   chain after the locator's fork point; only active-chain bodies are served, each once, in order.
 *   A view that fails gives an INTERNAL error answer, never an exception.
 * - SyncClient receiving junk: each request is answered by an honest, mutated, mistyped,
 *   misaddressed, oversized, duplicated or missing answer. The request settles with a checked
 *   result or one of the documented errors (SyncProtocolError, RemoteSyncError,
 *   FrameTooLargeError, our own abort); offences are only those of peer-score.ts; an honest
 *   answer costs nothing.
 * - serveSyncPort receiving junk: a burst of requests, mutated requests, noise, answers and
 *   oversized requests. Every request that decodes gets exactly one answer with its id (BUSY past
 *   the concurrency bound); undecodable and oversized ones are charged, answers are ignored.
 */
import { beforeAll, describe, expect } from 'vitest';
import fc from 'fast-check';
import { blockHash, encodeBlock, equalBytes, hashToHex } from '../../src/chain/index.ts';
import { Writer } from '../../src/chain/codec.ts';
import { FrameTooLargeError, RemoteSyncError, SyncProtocolError } from '../../src/p2p/errors.ts';
import {
  decodeResponse,
  encodeMessage,
  isRequestTag,
  MAX_REQUEST_BYTES,
  maxAnswerBytes,
  RESPONSE_TYPE_OF,
  decodeMessage,
  isRequest,
  type SyncRequest,
  type SyncResponse,
} from '../../src/p2p/messages.ts';
import { OFFENCES, type Offence } from '../../src/p2p/peer-score.ts';
import { checkResponse, serveSyncPort, SyncClient, type SyncPort } from '../../src/p2p/sync-client.ts';
import { handleSyncRequest, type ChainView } from '../../src/p2p/sync-server.ts';
import { servedChain, type ServedChain } from '../unit/helpers/p2p-chain.ts';
import { arbHash } from '../unit/arbitraries.ts';
import { fuzzAsync, rejectionOf } from './harness.ts';
import { applyEdits, arbEdits, arbNoise, mutated, type Edit } from './mutate.ts';
import { expectOneOf } from './properties.ts';
import { arbResponse } from './arb-p2p.ts';

const HERE = import.meta.url;
const HEIGHT = 40;

let chain: ServedChain;
/** Hashes of the active chain, by height (genesis first). */
let active: Uint8Array[];
let activeKeys: Map<string, number>;
/** A stored side branch off height 30 (less work than the active chain). */
let side: Uint8Array[];
/** A header marked invalid in the index (its body stored all the same). */
let invalid: Uint8Array;

beforeAll(() => {
  chain = servedChain(HEIGHT);
  const fork = chain.builder.fork();
  while (fork.height > 30) fork.disconnect();
  for (let i = 0; i < 3; i++) {
    const { block, hash } = fork.mine({ extraNonce: 7n });
    chain.index.add(block.header, { status: 'valid', hasBody: true });
    chain.bodies.set(hashToHex(hash), encodeBlock(block));
  }
  side = fork.entries.slice(31).map((e) => e.hash);
  const bad = chain.builder.fork().build([], { extraNonce: 13n });
  invalid = blockHash(bad.header);
  chain.index.add(bad.header, { status: 'invalid', hasBody: true });
  chain.bodies.set(hashToHex(invalid), encodeBlock(bad));
  active = chain.builder.entries.map((e) => e.hash);
  activeKeys = new Map(active.map((h, i) => [hashToHex(h), i]));
});

/** A hash the chain knows in some way, or not at all. */
const arbChainHash: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 0, max: HEIGHT }).map((h) => active[h]) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 2 }).map((i) => side[i]) },
  { weight: 1, arbitrary: fc.constant(null).map(() => invalid) },
  { weight: 2, arbitrary: arbHash },
);

const arbChainRequest: fc.Arbitrary<SyncRequest> = fc.oneof(
  fc.record({ type: fc.constant('getStatus' as const), id: fc.nat() }),
  fc.record({
    type: fc.constant('getHeaders' as const),
    id: fc.nat(),
    locator: fc.array(arbChainHash, { maxLength: 64 }),
    stopHash: fc.option(arbChainHash, { nil: null }),
    max: fc.oneof(fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 1, max: 50 })),
  }),
  fc.record({ type: fc.constant('getBlocks' as const), id: fc.nat(), hashes: fc.array(arbChainHash, { minLength: 1, maxLength: 16 }) }),
);

/** A view whose every method fails, synchronously or not. */
const failingView = (how: 'throw' | 'reject'): ChainView => {
  const fail = () => {
    if (how === 'throw') throw new Error('storage gone');
    return Promise.reject(new Error('storage gone'));
  };
  return { status: fail, headersAfter: fail, getBlocks: fail } as unknown as ChainView;
};

/** The headers an honest server owes a getHeaders request (Core's FindForkInGlobalIndex, then the active chain). */
function expectedHeaders(req: Extract<SyncRequest, { type: 'getHeaders' }>): Uint8Array[] {
  let fork = 0;
  for (const h of req.locator) {
    const at = activeKeys.get(hashToHex(h));
    if (at !== undefined) {
      fork = at;
      break;
    }
  }
  const out = active.slice(fork + 1, fork + 1 + Math.min(req.max, 2000));
  if (req.stopHash) {
    const i = out.findIndex((h) => equalBytes(h, req.stopHash!));
    if (i >= 0) out.length = i + 1;
  }
  return out;
}

describe('sync handlers', () => {
  fuzzAsync(
    'handleSyncRequest (real chain view)',
    fc.tuple(arbChainRequest, fc.oneof({ weight: 6, arbitrary: fc.constant('ok' as const) }, fc.constant('throw' as const), fc.constant('reject' as const))),
    async ([req, viewKind]) => {
      const errors: unknown[] = [];
      const res = await handleSyncRequest(req, viewKind === 'ok' ? chain.view : failingView(viewKind), (e) => errors.push(e));
      expect(res.id).toBe(req.id);
      const bytes = encodeMessage(res);
      expect(bytes.length).toBeLessThanOrEqual(maxAnswerBytes(req));
      if (viewKind !== 'ok') {
        expect(res).toMatchObject({ type: 'error', code: 'INTERNAL' });
        expect(errors.length).toBe(1);
        return 'internal';
      }
      expect(errors).toEqual([]);
      expect(res.type).toBe(RESPONSE_TYPE_OF[req.type]);
      // The client's own checks accept the honest server's answer.
      const checked = checkResponse(req, decodeResponse(bytes));
      if (req.type === 'getHeaders' && res.type === 'headers') {
        expect(res.headers.map((h) => hashToHex(blockHash(h)))).toEqual(expectedHeaders(req).map(hashToHex));
      }
      if (req.type === 'getBlocks' && res.type === 'blocks') {
        // Active-chain bodies only, each once, in request order; everything else notFound.
        const want: string[] = [];
        for (const h of req.hashes) {
          const k = hashToHex(h);
          if (activeKeys.has(k) && !want.includes(k)) want.push(k);
        }
        const got = (checked as { blocks: { hash: Uint8Array }[] }).blocks.map((b) => hashToHex(b.hash));
        expect(got).toEqual(want);
        for (const h of res.notFound) expect(got.includes(hashToHex(h))).toBe(false);
        return got.length > 0 ? 'blocks' : 'notFound';
      }
      return res.type;
    },
    HERE,
    { mustSee: ['status', 'headers', 'blocks', 'notFound', 'internal'] },
  );

  /** How the scripted peer answers one request. */
  type Script =
    | { kind: 'honest' }
    | { kind: 'mutated'; edits: Edit[] }
    | { kind: 'noise'; bytes: Uint8Array }
    | { kind: 'otherId'; delta: number }
    | { kind: 'otherType'; res: SyncResponse }
    | { kind: 'oversized'; extra: number }
    | { kind: 'twice' }
    | { kind: 'silent' };

  const arbScript: fc.Arbitrary<Script> = fc.oneof(
    fc.constant({ kind: 'honest' as const }),
    // The honest answer's bytes, mutated (the edits are drawn here and applied to the answer).
    { weight: 3, arbitrary: arbEdits.map((edits) => ({ kind: 'mutated' as const, edits })) },
    arbNoise(64).map((bytes) => ({ kind: 'noise' as const, bytes })),
    fc.integer({ min: 1, max: 1000 }).map((delta) => ({ kind: 'otherId' as const, delta })),
    arbResponse.map((res) => ({ kind: 'otherType' as const, res })),
    fc.integer({ min: 1, max: 4096 }).map((extra) => ({ kind: 'oversized' as const, extra })),
    fc.constant({ kind: 'twice' as const }),
    fc.constant({ kind: 'silent' as const }),
  );

  fuzzAsync(
    'SyncClient (junk answers)',
    fc.tuple(arbChainRequest, arbScript),
    async ([reqBody, script]) => {
      const offences: Offence[] = [];
      const handlers = new Set<(m: Uint8Array) => void>();
      const port: SyncPort = {
        send: (bytes) => {
          const req = decodeMessage(bytes) as SyncRequest;
          void handleSyncRequest(req, chain.view).then((honest) => {
            const good = encodeMessage(honest);
            const deliver = (m: Uint8Array) => {
              for (const h of [...handlers]) h(m);
            };
            switch (script.kind) {
              case 'honest': return deliver(good);
              case 'mutated': return deliver(applyEdits(good, good, script.edits, () => [5]));
              case 'noise': return deliver(script.bytes);
              case 'otherId': return deliver(encodeMessage({ ...honest, id: (req.id + script.delta) >>> 0 }));
              case 'otherType': return deliver(encodeMessage({ ...script.res, id: req.id }));
              case 'oversized': {
                // A well-formed answer padded past this request's cap (an error text cannot be: pad raw).
                const w = new Writer().u8(good[0]).u32(req.id).bytes(new Uint8Array(maxAnswerBytes(req) + script.extra - 5));
                return deliver(w.finish());
              }
              case 'twice':
                deliver(good);
                return deliver(good);
              case 'silent':
                return;
            }
          });
        },
        subscribe: (h) => {
          handlers.add(h);
          return () => handlers.delete(h);
        },
      };
      const client = new SyncClient(port, { timeoutMs: 60_000, onOffence: (o) => offences.push(o) });
      const abort = new AbortController();
      const reason = new Error('fuzz: no answer');
      const { id: _id, ...body } = reqBody;
      // Observed at once, so a rejection is handled the moment it happens.
      const settled = rejectionOf(client.request(body, { signal: abort.signal }));
      // The scripted peer answers within a few turns of the event loop (the chain view is in memory).
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      abort.abort(reason);
      const err = await settled;
      client.close();
      for (const o of offences) expect(OFFENCES).toContain(o);
      expect(client.inFlight).toBe(0);
      if (script.kind === 'honest' || script.kind === 'twice') {
        expect(err).toBeUndefined();
        // A repeat of an answer already taken is unsolicited; the honest answer itself costs nothing.
        expect(offences).toEqual(script.kind === 'twice' ? ['unsolicited'] : []);
        return 'resolved';
      }
      if (err === undefined) return 'resolved';
      if (err === reason) return 'unanswered';
      expectOneOf(err, [SyncProtocolError, RemoteSyncError, FrameTooLargeError], `${script.kind} answer to ${reqBody.type}`);
      if (err instanceof FrameTooLargeError) expect(offences).toContain('oversizedFrame');
      return (err as Error).constructor.name;
    },
    HERE,
    { mustSee: ['resolved', 'unanswered', 'SyncProtocolError', 'RemoteSyncError', 'FrameTooLargeError'] },
  );

  /** One message arriving at a serving port. */
  type Incoming = { bytes: Uint8Array; what: 'request' | 'junk' | 'answer' | 'oversized' };
  const arbIncoming: fc.Arbitrary<Incoming> = fc.oneof(
    { weight: 4, arbitrary: arbChainRequest.map((r) => ({ bytes: encodeMessage(r), what: 'request' as const })) },
    { weight: 3, arbitrary: mutated(arbChainRequest.map(encodeMessage), () => [5]).map((bytes) => ({ bytes, what: 'junk' as const })) },
    { weight: 1, arbitrary: arbNoise(40).map((bytes) => ({ bytes, what: 'junk' as const })) },
    { weight: 1, arbitrary: arbResponse.map((r) => ({ bytes: encodeMessage(r), what: 'answer' as const })) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom(1, 3, 5), fc.integer({ min: 1, max: 2000 }))
        .map(([tag, extra]) => ({ bytes: new Writer().u8(tag).u32(1).bytes(new Uint8Array(MAX_REQUEST_BYTES + extra - 5)).finish(), what: 'oversized' as const })),
    },
  );

  fuzzAsync(
    'serveSyncPort (junk requests)',
    fc.array(arbIncoming, { minLength: 1, maxLength: 8 }),
    async (incoming) => {
      const sent: Uint8Array[] = [];
      const handlers = new Set<(m: Uint8Array) => void>();
      const port: SyncPort = {
        send: (m) => void sent.push(m),
        subscribe: (h) => {
          handlers.add(h);
          return () => handlers.delete(h);
        },
      };
      const offences: Offence[] = [];
      const errors: unknown[] = [];
      const stop = serveSyncPort(port, chain.view, { maxConcurrent: 4, onOffence: (o) => offences.push(o), onError: (e) => errors.push(e) });
      // Classify by decoding, as the server must: a mutation may still be a valid request.
      const requests: SyncRequest[] = [];
      let undecodable = 0;
      let oversized = 0;
      for (const m of incoming) {
        if (isRequestTag(m.bytes[0]) && m.bytes.length > MAX_REQUEST_BYTES) {
          oversized++;
          continue;
        }
        try {
          const msg = decodeMessage(m.bytes);
          if (isRequest(msg)) requests.push(msg);
        } catch {
          undecodable++;
        }
      }
      // One burst: every message is delivered before any answer is computed.
      for (const m of incoming) for (const h of [...handlers]) h(m.bytes);
      for (let i = 0; i < 20 && sent.length < requests.length; i++) await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r)); // room for an answer too many
      stop();
      expect(errors).toEqual([]);
      // Exactly one answer per request, with its id; the ones past the concurrency bound are BUSY.
      expect(sent.length).toBe(requests.length);
      const answers = sent.map((b) => decodeResponse(b));
      expect(answers.map((a) => a.id).sort()).toEqual(requests.map((r) => r.id).sort());
      const busy = answers.filter((a) => a.type === 'error' && a.code === 'BUSY').length;
      expect(busy).toBe(Math.max(0, requests.length - 4));
      expect(offences.filter((o) => o === 'oversizedFrame').length).toBe(oversized);
      expect(offences.filter((o) => o === 'malformedFrame').length).toBe(undecodable);
      expect(offences.length).toBe(oversized + undecodable);
      return busy > 0 ? 'busy' : requests.length > 0 ? 'answered' : 'nothing to answer';
    },
    HERE,
    { mustSee: ['busy', 'answered', 'nothing to answer'] },
  );
});
