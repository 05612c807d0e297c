/**
 * Fuzz targets of the node's block and transaction paths from the network: the gossip validators
 * (ChainGossip.checkBlock / checkTx, which gossipsub and the tab mesh call) over a real FullNode,
 * and the sync path (FullNode.processBlocks), fed junk and mutations of real blocks and signed
 * transactions: a valid next block with transfers and an item, a side block, an orphan, a
 * duplicate, a future block, blocks with a bad signature, another network's transaction, a bad
 * coinbase, a mangled merkle root; valid, gapped, badly signed and foreign transactions.
 *
 * Properties: FullNode.processBlock / processBlocks / processTx never throw on bytes (the gossip
 * validator would hide such a throw as Ignore: the wrapper below records it and fails); every
 * verdict is one of the node's statuses with a known rule code and the hash of the bytes' header;
 * bytes that do not decode are `invalid MALFORMED`; the gossip verdict is Accept / Ignore / Reject
 * and the sender is charged exactly as gossip.ts's table says.
 *
 * Each input runs against the same node state: after an input that changed the node (a block
 * stored, an orphan or held block kept, a header marked invalid, a transaction pooled) the node is
 * rebuilt from the chain, so a counterexample replays alone.
 */
import { afterAll, beforeAll, describe, expect } from 'vitest';
import fc from 'fast-check';
import { TopicValidatorResult } from '@libp2p/gossipsub';
import {
  decodeBlock,
  decodeTx,
  encodeBlock,
  encodeTx,
  hashToHex,
  NETWORKS,
  RULE_CODES,
  sha256d,
  signTx,
  txid,
  type Block,
  type Transaction,
} from '../../src/chain/index.ts';
import { FullNode } from '../../src/node/full-node.ts';
import { chainAccessOf } from '../../src/node/network/attach.ts';
import { isMutationCode, PUNISHABLE_TX_CODES, type BlockVerdict, type ChainAccess, type TxVerdict } from '../../src/p2p/chain-access.ts';
import { ChainGossip } from '../../src/p2p/gossip.ts';
import type { TabchainLibp2p } from '../../src/p2p/libp2p-node.ts';
import { PeerGate, type PenaltyEvent } from '../../src/p2p/peer-gate.ts';
import { MemoryStore } from '../../src/storage/memory-store.ts';
import { ChainBuilder, wallet, wallets } from '../unit/helpers/chain-builder.ts';
import { fuzzAsync } from './harness.ts';
import { arbNoise, mutated, mutatedInPlace } from './mutate.ts';

const HERE = import.meta.url;
const params = NETWORKS.test;
const NO_LIBP2P = {} as TabchainLibp2p;
const BLOCK_STATUSES = ['extended', 'reorged', 'orphan', 'duplicate', 'side', 'held', 'low-work', 'invalid'];
const TX_STATUSES = ['accepted', 'duplicate', 'invalid'];
const PEER = 'peer-fuzz';

let chain: ChainBuilder;
let chainBytes: Uint8Array[];
let now: number;
/** Real blocks in every relation to the node's chain, as bytes (the mutation sources). */
let blockPool: Uint8Array[];
/** Real signed transactions, as bytes. */
let txPool: Uint8Array[];

beforeAll(() => {
  const [alice, bob, carol, dave] = wallets(4);
  chain = ChainBuilder.funded([alice, bob, carol, dave]);
  now = chain.tip.header.time + 60;
  chainBytes = chain.blocks.slice(1).map(encodeBlock);
  const other = wallet('other');

  const next = chain.fork();
  next.add(alice, { kind: 'transfer', to: bob.pub, amount: 1_000n });
  next.add(bob, { kind: 'item.create', sku: 'MUG-1', name: 'Blue mug', quantity: 10n });
  next.add(carol, { kind: 'transfer', to: other.pub, amount: 7n });
  const nextBlock = next.build(next.queue);

  const side = chain.fork();
  side.disconnect();
  const sideBlock = side.build([], { extraNonce: 5n });

  const ahead = chain.fork();
  ahead.mine({ extraNonce: 9n });
  const orphanBlock = ahead.build([], { extraNonce: 9n });

  const forged = chain.fork().sign(dave, { kind: 'transfer', to: other.pub, amount: 3n });
  const badSig = { ...forged, signature: forged.signature.map((b, i) => (i === 0 ? b ^ 1 : b)) } as Transaction;
  const badSigBlock = chain.fork().build([badSig]);

  const foreign = chain.fork().sign(dave, { kind: 'transfer', to: other.pub, amount: 3n }, { chainId: NETWORKS.dev.chainId });
  const foreignBlock = chain.fork().build([foreign]);
  const badCoinbaseBlock = chain.fork().build([], { coinbaseHeight: chain.height + 5 });
  const badMerkleBlock = chain.fork().build([], { merkleRoot: new Uint8Array(32).fill(7) });
  const futureBlock = chain.fork().build([], { time: now + 3_600 });
  const tipBlock = chain.blocks[chain.height];

  blockPool = [nextBlock, sideBlock, orphanBlock, badSigBlock, foreignBlock, badCoinbaseBlock, badMerkleBlock, futureBlock, tipBlock].map((b: Block) => encodeBlock(b));

  const base = chain.fork();
  txPool = [
    base.sign(alice, { kind: 'transfer', to: bob.pub, amount: 5n }),
    base.sign(bob, { kind: 'item.create', sku: 'CUP', name: 'Cup', quantity: 3n }),
    base.sign(carol, { kind: 'transfer', to: bob.pub, amount: 5n }, { nonce: 3 }), // behind a nonce gap: future
    base.sign(dave, { kind: 'transfer', to: bob.pub, amount: 10n ** 15n }), // more than dave has
    badSig,
    foreign,
    signTx({ chainId: params.chainId, kind: 'transfer', from: other.pub, nonce: 1, fee: 5_000n, to: bob.pub, amount: 1n }, other.priv) as Transaction, // no funds
    chain.blocks[1].txs[0], // a coinbase
  ].map(encodeTx);
});

/** A node holding the chain, its gossip, and what the last input did to it. */
interface Rig {
  node: FullNode;
  gossip: ChainGossip;
  gate: PeerGate;
  penalties: PenaltyEvent[];
  orphansAsked: [string, string][];
  /** Verdicts the node gave (through the wrapper) and anything it threw. */
  blockVerdicts: BlockVerdict[];
  txVerdicts: TxVerdict[];
  thrown: unknown[];
  baseline: string;
}

let rig: Rig | undefined;

function fingerprint(node: FullNode): string {
  return [hashToHex(node.tip.hash), node.headers.size, node.orphanCount, node.heldCount, node.mempool.size].join('/');
}

async function freshRig(): Promise<Rig> {
  const node = new FullNode({ params, store: new MemoryStore({ network: 'test' }), now: () => now, miner: { useWorkers: false } });
  await node.start();
  await node.processBlocks(chainBytes, 'local');
  const gate = new PeerGate();
  const penalties: PenaltyEvent[] = [];
  gate.onPenalty((p) => penalties.push(p));
  const orphansAsked: [string, string][] = [];
  const gossip = new ChainGossip({ libp2p: NO_LIBP2P, network: 'test', gate, onOrphan: (peer, hash) => orphansAsked.push([peer, hash]) });
  const r: Rig = { node, gossip, gate, penalties, orphansAsked, blockVerdicts: [], txVerdicts: [], thrown: [], baseline: fingerprint(node) };
  const access = chainAccessOf(node);
  // Records the node's verdicts, and any throw (gossip would turn it into a quiet Ignore).
  const recorded: ChainAccess = {
    ...access,
    processBlock: (bytes, from) =>
      access.processBlock(bytes, from).then(
        (v) => (r.blockVerdicts.push(v), v),
        (e) => (r.thrown.push(e), Promise.reject(e)),
      ),
    processTx: (bytes, from) =>
      access.processTx(bytes, from).then(
        (v) => (r.txVerdicts.push(v), v),
        (e) => (r.thrown.push(e), Promise.reject(e)),
      ),
  };
  gossip.attach(recorded);
  return r;
}

/** The rig for the next input: the same state as after startup. */
async function rigForInput(): Promise<Rig> {
  if (rig && fingerprint(rig.node) !== rig.baseline) {
    await rig.node.stop();
    rig = undefined;
  }
  rig ??= await freshRig();
  rig.penalties.length = 0;
  rig.orphansAsked.length = 0;
  rig.blockVerdicts.length = 0;
  rig.txVerdicts.length = 0;
  rig.thrown.length = 0;
  for (const e of rig.node.mempool.all()) rig.node.mempool.remove(e.id);
  return rig;
}

afterAll(async () => {
  await rig?.node.stop();
  rig = undefined;
});

const decodes = (f: () => unknown) => {
  try {
    f();
    return true;
  } catch {
    return false;
  }
};

/** A block verdict is well-formed and names the bytes' header. */
function expectBlockVerdict(v: BlockVerdict, bytes: Uint8Array): void {
  expect(BLOCK_STATUSES).toContain(v.status);
  if (v.code !== undefined) expect(RULE_CODES).toContain(v.code);
  expect(v.hash).toBe(bytes.length >= 80 ? hashToHex(sha256d(bytes.subarray(0, 80))) : '');
  if (!decodes(() => decodeBlock(bytes, params))) expect(v).toMatchObject({ status: 'invalid', code: 'MALFORMED' });
}

/** The penalties of one gossip verdict, as gossip.ts's table says. */
function expectedBlockPenalty(v: BlockVerdict | undefined, size: number): { verdict: TopicValidatorResult; offence?: string } {
  if (!v) return size > 1024 * 1024 ? { verdict: TopicValidatorResult.Reject, offence: 'invalidBlock' } : { verdict: TopicValidatorResult.Ignore };
  switch (v.status) {
    case 'extended':
    case 'reorged':
    case 'side':
      return { verdict: TopicValidatorResult.Accept };
    case 'orphan':
    case 'duplicate':
    case 'held':
    case 'low-work':
      return { verdict: TopicValidatorResult.Ignore };
    case 'invalid':
      return { verdict: TopicValidatorResult.Reject, offence: isMutationCode(v.code) ? 'malformedFrame' : 'invalidBlock' };
  }
}

const arbBlockBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 8 }).map((i) => blockPool[i]) },
  { weight: 6, arbitrary: mutated(fc.integer({ min: 0, max: 8 }).map((i) => blockPool[i])) },
  { weight: 6, arbitrary: mutatedInPlace(fc.integer({ min: 0, max: 8 }).map((i) => blockPool[i])) },
  { weight: 1, arbitrary: arbNoise(300) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 64 }).map((n) => new Uint8Array(1024 * 1024 + n)) },
);

const arbTxBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 7 }).map((i) => txPool[i]) },
  { weight: 6, arbitrary: mutated(fc.integer({ min: 0, max: 7 }).map((i) => txPool[i])) },
  { weight: 6, arbitrary: mutatedInPlace(fc.integer({ min: 0, max: 7 }).map((i) => txPool[i])) },
  { weight: 1, arbitrary: arbNoise(200) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 64 }).map((n) => new Uint8Array(8192 + n)) },
);

describe('node paths from the network', () => {
  fuzzAsync(
    'ChainGossip.checkBlock → FullNode.processBlock',
    arbBlockBytes,
    async (bytes) => {
      const r = await rigForInput();
      const verdict = await r.gossip.checkBlock(PEER, bytes);
      expect(r.thrown).toEqual([]);
      expect(r.blockVerdicts.length).toBeLessThanOrEqual(1);
      const v = r.blockVerdicts[0];
      if (v) expectBlockVerdict(v, bytes);
      const want = expectedBlockPenalty(v, bytes.length);
      expect(verdict).toBe(want.verdict);
      expect(r.penalties.map((p) => [p.peer, p.offence])).toEqual(want.offence ? [[PEER, want.offence]] : []);
      expect(r.orphansAsked).toEqual(v?.status === 'orphan' ? [[PEER, v.hash]] : []);
      return v ? `${v.status}${v.code ? ' ' + v.code : ''}` : 'oversized';
    },
    HERE,
    { mustSee: ['extended', 'side', 'orphan', 'duplicate', 'held TIME_TOO_NEW', 'invalid MALFORMED', 'invalid BAD_POW', 'invalid BAD_MERKLE', 'invalid BAD_SIGNATURE', 'oversized'] },
  );

  fuzzAsync(
    'ChainGossip.checkTx → FullNode.processTx',
    arbTxBytes,
    async (bytes) => {
      const r = await rigForInput();
      const verdict = await r.gossip.checkTx(PEER, bytes);
      expect(r.thrown).toEqual([]);
      const v = r.txVerdicts[0];
      let want: { verdict: TopicValidatorResult; offence?: string };
      if (!v) {
        expect(bytes.length).toBeGreaterThan(8192);
        want = { verdict: TopicValidatorResult.Reject, offence: 'invalidTx' };
      } else {
        expect(TX_STATUSES).toContain(v.status);
        if (v.code !== undefined) expect(RULE_CODES).toContain(v.code);
        let decoded: Transaction | undefined;
        try {
          decoded = decodeTx(bytes, params.maxTxBytes);
        } catch {
          decoded = undefined;
        }
        if (decoded) expect(v.txid).toBe(hashToHex(txid(decoded)));
        else expect(v).toEqual({ status: 'invalid', code: 'MALFORMED', txid: '' });
        if (v.status === 'accepted') want = { verdict: v.future ? TopicValidatorResult.Ignore : TopicValidatorResult.Accept };
        else if (v.status === 'invalid' && v.code !== undefined && PUNISHABLE_TX_CODES.has(v.code)) want = { verdict: TopicValidatorResult.Reject, offence: 'invalidTx' };
        else want = { verdict: TopicValidatorResult.Ignore };
      }
      expect(verdict).toBe(want.verdict);
      expect(r.penalties.map((p) => [p.peer, p.offence])).toEqual(want.offence ? [[PEER, want.offence]] : []);
      return v ? `${v.status}${v.future ? ' future' : ''}${v.code ? ' ' + v.code : ''}` : 'oversized';
    },
    HERE,
    { mustSee: ['accepted', 'accepted future', 'invalid MALFORMED', 'invalid BAD_SIGNATURE', 'invalid WRONG_CHAIN', 'invalid INSUFFICIENT_FUNDS', 'oversized'] },
  );

  fuzzAsync(
    'FullNode.processBlocks (sync path)',
    fc.array(arbBlockBytes.filter((b) => b.length <= 1024 * 1024), { minLength: 1, maxLength: 4 }),
    async (batch) => {
      const r = await rigForInput();
      const tipWork = r.node.tip.chainwork;
      let results: BlockVerdict[];
      try {
        results = await r.node.processBlocks(batch, 'peer');
      } catch (e) {
        expect.fail(`processBlocks threw ${String(e)}`);
      }
      expect(results.length).toBe(batch.length);
      results.forEach((v, i) => expectBlockVerdict(v, batch[i]));
      // Junk never lowers the active chain's work.
      expect(r.node.tip.chainwork >= tipWork).toBe(true);
      return results.some((v) => v.status === 'extended' || v.status === 'reorged') ? 'tip moved' : results.every((v) => v.status === 'invalid') ? 'all invalid' : 'other';
    },
    HERE,
    { mustSee: ['tip moved', 'all invalid', 'other'] },
  );
});
