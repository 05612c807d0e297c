/**
 * Fuzz target of the tab mesh (src/p2p/tab-mesh.ts): whatever same-origin code posts on the
 * BroadcastChannel — any structured-cloneable value, well-formed envelopes, envelopes with one
 * field broken — the mesh never throws, and each message has exactly the effect the envelope rules
 * allow, checked message by message against a model:
 *
 * - a malformed envelope (not an object, v ≠ 1, an unknown kind, `from` not a 1..128-character
 *   string, `to` not a string, `data` not a Uint8Array or over its bound) changes nothing: no
 *   join, no post, no validator call, no penalty;
 * - a well-formed one from another tab, addressed to us or to everyone, joins it (within the peer
 *   cap), answers a hello with one `present`, hands a block (≥ 80 bytes, not seen before) or a
 *   transaction (not seen in the last 30 s) to the validator once, under the tab's meshPeerKey;
 *   a `bye` drops it; a denied tab is dropped and ignored;
 * - everything the mesh posts is a well-formed envelope from its own id.
 */
import { beforeAll, describe, expect } from 'vitest';
import fc from 'fast-check';
import { encodeBlock } from '../../src/chain/index.ts';
import { MAX_MESSAGE_BYTES, encodeMessage } from '../../src/p2p/messages.ts';
import { PeerGate, type PenaltyEvent } from '../../src/p2p/peer-gate.ts';
import { PeerScores } from '../../src/p2p/peer-score.ts';
import { meshPeerKey, TabMesh, type MeshChannel, type MeshEnvelope } from '../../src/p2p/tab-mesh.ts';
import { servedChain, type ServedChain } from '../unit/helpers/p2p-chain.ts';
import { fuzzAsync } from './harness.ts';
import { arbNoise } from './mutate.ts';
import { arbGetBlocks, arbGetStatus, arbResponse } from './arb-p2p.ts';

const HERE = import.meta.url;
const ME = 'tab-me';
const KINDS = ['hello', 'present', 'heartbeat', 'bye', 'sync', 'block', 'tx'] as const;
/** tab-mesh.ts's bound on block and transaction payloads. */
const MAX_DATA_BYTES = 1_100_000;
/** A frozen clock: scores do not decay between the offences of one input. */
const NOW = 1_700_000_000_000;

let chain: ServedChain;
let blocks: Uint8Array[];

beforeAll(() => {
  chain = servedChain(6);
  blocks = chain.builder.blocks.map(encodeBlock);
});

/** The envelope rules, written independently of tab-mesh.ts's parseEnvelope. */
function wellFormed(raw: unknown): raw is MeshEnvelope {
  if (typeof raw !== 'object' || raw === null) return false;
  const e = raw as Record<string, unknown>;
  if (e.v !== 1 || !(KINDS as readonly unknown[]).includes(e.kind)) return false;
  if (typeof e.from !== 'string' || e.from.length < 1 || e.from.length > 128) return false;
  if (e.to !== undefined && typeof e.to !== 'string') return false;
  if (e.data !== undefined) {
    if (!(e.data instanceof Uint8Array)) return false;
    if (e.data.length > (e.kind === 'sync' ? MAX_MESSAGE_BYTES : MAX_DATA_BYTES)) return false;
  }
  return true;
}

const arbId = fc.oneof({ weight: 6, arbitrary: fc.constantFrom('tab-a', 'tab-b', 'tab-c', ME) }, { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 130 }) }, { weight: 1, arbitrary: fc.constantFrom('x'.repeat(128), 'x'.repeat(129), '', '__proto__', 'constructor') });

const arbData = (kind: string): fc.Arbitrary<Uint8Array> => {
  if (kind === 'block') return fc.oneof(fc.integer({ min: 0, max: 6 }).map((h) => blocks[h]), arbNoise(120), fc.uint8Array({ minLength: 80, maxLength: 200 }));
  if (kind === 'sync') return fc.oneof(arbGetStatus.map(encodeMessage), arbGetBlocks.map(encodeMessage), arbResponse.map(encodeMessage), arbNoise(60));
  return arbNoise(200);
};

const arbEnvelope: fc.Arbitrary<Record<string, unknown>> = fc.constantFrom(...KINDS).chain((kind) =>
  fc.record(
    { v: fc.constant(1), kind: fc.constant(kind), from: arbId, to: fc.oneof(fc.constant(undefined), fc.constant(ME), arbId), data: fc.oneof(fc.constant(undefined), arbData(kind)) },
    { requiredKeys: ['v', 'kind', 'from'] },
  ),
);

/** One field broken (or an extra one added). */
const arbBroken: fc.Arbitrary<unknown> = fc
  .tuple(
    arbEnvelope,
    fc.oneof(
      fc.record({ field: fc.constant('v'), value: fc.constantFrom(0, 2, '1', null, undefined, 1.5, true) }),
      fc.record({ field: fc.constant('kind'), value: fc.constantFrom('Hello', 'x', 1, null, undefined, 'toString', '__proto__') }),
      fc.record({ field: fc.constant('from'), value: fc.constantFrom('', 'y'.repeat(129), 5, null, undefined, ['tab-a']) }),
      fc.record({ field: fc.constant('to'), value: fc.constantFrom(5, null, { id: ME }, [ME]) }),
      fc.record({
        field: fc.constant('data'),
        value: fc.constantFrom<unknown>('bytes', [1, 2, 3], new Uint16Array(40), new ArrayBuffer(90), new DataView(new ArrayBuffer(90)), null, 0, { length: 90 }),
      }),
      fc.record({ field: fc.constant('data'), value: fc.constant(null).map(() => new Uint8Array(MAX_MESSAGE_BYTES + 1)) }),
      fc.record({ field: fc.constant('extra'), value: fc.anything() }),
    ),
  )
  .map(([env, { field, value }]) => ({ ...env, [field]: value }));

/** What can arrive on the channel. */
const arbRaw: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: arbEnvelope },
  { weight: 3, arbitrary: arbBroken },
  { weight: 1, arbitrary: fc.anything({ withTypedArray: true, withMap: true, withSet: true, withDate: true, withNullPrototype: true }) },
  {
    weight: 1,
    // too big for a block or transaction announcement, fine for a sync message
    arbitrary: fc.constantFrom('block', 'tx', 'sync').map((kind) => ({ v: 1, kind, from: 'tab-b', data: new Uint8Array(MAX_DATA_BYTES + 1) })),
  },
);

function expectWellFormedPost(env: MeshEnvelope): void {
  expect(wellFormed(env)).toBe(true);
  expect(env.from).toBe(ME);
}

describe('tab mesh', () => {
  fuzzAsync(
    'TabMesh (junk envelopes)',
    fc.tuple(fc.array(arbRaw, { minLength: 1, maxLength: 8 }), fc.constantFrom(1, 2, 64)),
    async ([messages, maxPeers]) => {
      const listeners = new Set<(e: MessageEvent) => void>();
      const posted: MeshEnvelope[] = [];
      const channel: MeshChannel = {
        postMessage: (m) => void posted.push(m as MeshEnvelope),
        addEventListener: (_t, l) => listeners.add(l),
        removeEventListener: (_t, l) => listeners.delete(l),
        close: () => listeners.clear(),
      };
      const gate = new PeerGate(new PeerScores({}, () => NOW));
      const penalties: PenaltyEvent[] = [];
      gate.onPenalty((p) => penalties.push(p));
      const checked: { kind: 'block' | 'tx'; from: string; bytes: Uint8Array }[] = [];
      const everJoined = new Set<string>();
      const mesh = new TabMesh({
        network: 'test',
        id: ME,
        view: chain.view,
        gate,
        channel,
        maxPeers,
        heartbeatMs: 3_600_000,
        syncTimeoutMs: 60_000,
        checkBlock: async (from, bytes) => (checked.push({ kind: 'block', from, bytes }), 'ignore'),
        checkTx: async (from, bytes) => (checked.push({ kind: 'tx', from, bytes }), 'ignore'),
        onPeerJoined: (key) => everJoined.add(key),
      });
      mesh.start();
      expect(posted.map((p) => p.kind)).toEqual(['hello']);
      const seenBlocks = new Set<string>(); // first 80 bytes as hex: the header, hence the block hash
      const seenTxs = new Set<string>();
      let malformed = 0;
      let effects = 0;
      for (const raw of messages) {
        const peersBefore = new Set(mesh.peerIds());
        const postsBefore = posted.length;
        const checksBefore = checked.length;
        const penaltiesBefore = penalties.length;
        const deniedBefore = wellFormed(raw) && gate.denies(meshPeerKey(raw.from));
        for (const l of [...listeners]) l({ data: raw } as MessageEvent);
        const newPosts = posted.slice(postsBefore);
        const newChecks = checked.slice(checksBefore);
        for (const p of newPosts) expectWellFormedPost(p);
        if (!wellFormed(raw)) {
          malformed++;
          expect(new Set(mesh.peerIds())).toEqual(peersBefore);
          expect(newPosts).toEqual([]);
          expect(newChecks).toEqual([]);
          expect(penalties.length).toBe(penaltiesBefore);
          continue;
        }
        const env = raw;
        const forUs = env.from !== ME && (env.to === undefined || env.to === ME);
        if (!forUs || deniedBefore) {
          // Not ours to act on, or from a tab the gate denies (it is dropped if it was there).
          const after = new Set(peersBefore);
          if (forUs) after.delete(env.from);
          expect(new Set(mesh.peerIds())).toEqual(after);
          expect(newPosts).toEqual([]);
          expect(newChecks).toEqual([]);
          continue;
        }
        effects++;
        const key = meshPeerKey(env.from);
        const joins = env.kind !== 'bye' && (peersBefore.has(env.from) || peersBefore.size < maxPeers);
        const ids = new Set(mesh.peerIds());
        if (env.kind === 'bye' || !joins) {
          expect(ids.has(env.from)).toBe(false);
          expect(newPosts).toEqual([]);
          expect(newChecks).toEqual([]);
          continue;
        }
        const bannedNow = gate.denies(key);
        // Joined (and still there, unless this very message got it banned as a short block).
        if (!(bannedNow && env.kind === 'block')) expect(ids.has(env.from)).toBe(true);
        for (const id of ids) expect(peersBefore.has(id) || id === env.from).toBe(true);
        for (const p of newPosts) {
          // A hello is answered with `present`; a sync request past the serving bound with a BUSY answer.
          expect(p.to).toBe(env.from);
          expect(p.kind === 'present' ? env.kind === 'hello' : p.kind === 'sync' && env.kind === 'sync').toBe(true);
        }
        if (env.kind === 'hello') expect(newPosts.filter((p) => p.kind === 'present')).toHaveLength(1);
        const data = env.data;
        let wantCheck: 'block' | 'tx' | undefined;
        if (env.kind === 'block' && data && data.length >= 80) {
          const k = Buffer.from(data.subarray(0, 80)).toString('hex');
          if (!seenBlocks.has(k)) wantCheck = 'block';
          seenBlocks.add(k);
        } else if (env.kind === 'block' && data) {
          // Shorter than a header: charged as malformed, never validated.
          expect(penalties.slice(penaltiesBefore).map((p) => [p.peer, p.offence])).toEqual([[key, 'malformedFrame']]);
        } else if (env.kind === 'tx' && data) {
          const k = Buffer.from(data).toString('hex');
          if (!seenTxs.has(k)) wantCheck = 'tx';
          seenTxs.add(k);
        }
        expect(newChecks.map((c) => [c.kind, c.from])).toEqual(wantCheck ? [[wantCheck, key]] : []);
      }
      // Let sync answers go out, then leave.
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      mesh.stop();
      expect(mesh.peerIds()).toEqual([]);
      for (const p of posted) {
        expectWellFormedPost(p);
        if (p.to !== undefined) expect(everJoined.has(meshPeerKey(p.to))).toBe(true);
      }
      // Penalties only ever fall on mesh identities.
      for (const p of penalties) expect(p.peer.startsWith('tab:')).toBe(true);
      return malformed === messages.length ? 'all malformed' : effects > 0 ? 'acted on' : 'ignored';
    },
    HERE,
    { mustSee: ['all malformed', 'acted on', 'ignored'] },
  );
});
