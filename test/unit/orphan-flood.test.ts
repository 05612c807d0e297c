/**
 * Issue 11 item 2, "junk orphan blocks relayed": an orphan's proof of work was checked only
 * against its own bits (any bits ≤ powLimit) and its body not at all, it was relayed, and one peer
 * could flush every other peer's orphans. Now an orphan is kept only if its bits are near our
 * tip's difficulty and its body matches its header, per-source shares bound what one peer holds,
 * and the gossip path names the peer (node/network/attach.ts passes gossip's `from` down).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TopicValidatorResult } from '@libp2p/gossipsub';
import {
  bitsToTarget,
  blockHash,
  encodeBlock,
  hashToHex,
  makeCoinbase,
  merkleRoot,
  NETWORKS,
  targetToBits,
  workForBits,
  type Block,
  type NetworkParams,
  type Transaction,
} from '../../src/chain/index.ts';
import { DEFAULT_MAX_ORPHANS_PER_SOURCE, ORPHAN_MAX_EASIER } from '../../src/chain/orphans.ts';
import { FullNode } from '../../src/node/full-node.ts';
import { chainAccessOf } from '../../src/node/network/attach.ts';
import { ChainGossip } from '../../src/p2p/gossip.ts';
import type { TabchainLibp2p } from '../../src/p2p/libp2p-node.ts';
import { PeerGate, type PenaltyEvent } from '../../src/p2p/peer-gate.ts';
import { MemoryStore } from '../../src/storage/memory-store.ts';
import { ChainBuilder, mineHeader, wallet } from './helpers/chain-builder.ts';

const NO_LIBP2P = {} as TabchainLibp2p;
const nodes: FullNode[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) await n.stop();
});

async function startNode(params: NetworkParams) {
  const node = new FullNode({ params, store: new MemoryStore({ network: params.name }), now: () => params.genesis.header.time + 100_000, miner: { useWorkers: false } });
  await node.start();
  nodes.push(node);
  const gate = new PeerGate();
  const penalties: PenaltyEvent[] = [];
  gate.onPenalty((p) => penalties.push(p));
  const asked: string[] = [];
  const gossip = new ChainGossip({ libp2p: NO_LIBP2P, network: params.name, gate, onOrphan: (peer) => asked.push(peer) });
  gossip.attach(chainAccessOf(node));
  return { node, gossip, penalties, asked };
}

let salt = 0;
/** A mined block on an unknown parent with `bits`, its body `txs` (default: a coinbase). */
function orphanBlock(params: NetworkParams, bits: number, txs?: Transaction[], root?: Uint8Array): Block {
  const body = txs ?? [makeCoinbase(params, 5, wallet('orphan-miner').pub, BigInt(++salt))];
  const prevHash = new Uint8Array(32).fill(0xa5);
  prevHash[0] = salt & 0xff;
  const header = mineHeader({ version: 1, prevHash, merkleRoot: root ?? merkleRoot(body), time: params.genesis.header.time + 10, bits, nonce: 0 });
  return { header, txs: body };
}

describe('orphans kept only when near the tip and well formed', () => {
  it("an orphan far easier than the tip's difficulty is not kept ('low-work', ignored, no penalty); one near it is", async () => {
    // No block is easier than genesis (powLimit = genesis target), so a node at genesis keeps any
    // orphan with proof of work: the tip must be harder. Blocks a few seconds ahead of schedule
    // (each dated the median time past + 1) make ASERT raise the test network's difficulty.
    const params = NETWORKS.test;
    const fast = new ChainBuilder(params);
    while (workForBits(fast.nextBits()) < 64n * BigInt(ORPHAN_MAX_EASIER) * workForBits(params.powLimitBits)) fast.mine({ time: fast.mtp() + 1 });
    const { node, gossip, penalties, asked } = await startNode(params);
    for (const b of fast.blocks.slice(1)) expect((await node.processBlock(b, 'local')).status).toBe('extended');
    const tipWork = workForBits(fast.nextBits());
    const easiest = params.powLimitBits;
    expect(workForBits(easiest) * BigInt(ORPHAN_MAX_EASIER)).toBeLessThan(tipWork);
    const junk = orphanBlock(params, easiest);
    expect(await node.processBlock(junk, 'peer', { unrequested: true })).toEqual({ status: 'low-work', hash: hashToHex(blockHash(junk.header)) });
    expect(await gossip.checkBlock('junk-peer', encodeBlock(orphanBlock(params, easiest)))).toBe(TopicValidatorResult.Ignore);
    expect(node.orphanCount).toBe(0);
    // A quarter of the tip's work (within the factor) is kept.
    const near = orphanBlock(params, targetToBits(bitsToTarget(fast.nextBits()) * 4n));
    expect(workForBits(near.header.bits) * BigInt(ORPHAN_MAX_EASIER)).toBeGreaterThanOrEqual(tipWork);
    expect(await gossip.checkBlock('near-peer', encodeBlock(near))).toBe(TopicValidatorResult.Ignore);
    expect(node.orphanCount).toBe(1);
    expect(asked).toEqual(['near-peer']);
    expect(penalties).toEqual([]);
  });

  it('an orphan whose body does not match its header is not kept; its gossiping sender is charged, nothing is marked', async () => {
    const params = NETWORKS.test;
    const { node, gossip, penalties } = await startNode(params);
    const cb = makeCoinbase(params, 5, wallet('m').pub, 1n);
    const mutated = orphanBlock(params, params.genesis.header.bits, [cb], new Uint8Array(32).fill(7));
    expect(await node.processBlock(mutated, 'peer')).toMatchObject({ status: 'invalid', code: 'BAD_MERKLE' });
    const other = orphanBlock(params, params.genesis.header.bits, [cb], new Uint8Array(32).fill(8));
    expect(await gossip.checkBlock('p', encodeBlock(other))).toBe(TopicValidatorResult.Reject);
    expect(node.orphanCount).toBe(0);
    // Charged (no honest peer forwards a body its node refused), not banned, header not marked.
    expect(penalties.map((p) => [p.peer, p.offence, p.decision])).toEqual([['p', 'malformedFrame', 'ok']]);
    expect(node.headers.has(blockHash(other.header))).toBe(false);
  });

  it('an orphan whose header commits to a body without a coinbase first is invalid and not kept', async () => {
    const params = NETWORKS.test;
    const { node } = await startNode(params);
    const cb = makeCoinbase(params, 5, wallet('m').pub, 2n);
    const cb2 = makeCoinbase(params, 5, wallet('m').pub, 3n);
    expect(await node.processBlock(orphanBlock(params, params.genesis.header.bits, [cb, cb2]), 'peer')).toMatchObject({ status: 'invalid', code: 'BAD_COINBASE' });
    expect(node.orphanCount).toBe(0);
  });
});

describe('per-source orphan shares', () => {
  it("100 tiny orphans gossiped by one peer do not flush another peer's orphan", async () => {
    const params = NETWORKS.test;
    const { node, gossip } = await startNode(params);
    const honest = new ChainBuilder(params);
    honest.miner = wallet('honest').pub;
    honest.mine();
    honest.mine();
    expect(await gossip.checkBlock('honest-peer', encodeBlock(honest.blocks[2]))).toBe(TopicValidatorResult.Ignore);
    const evil = new ChainBuilder(params);
    evil.miner = wallet('evil').pub;
    while (evil.height < 101) evil.mine();
    for (const b of evil.blocks.slice(2)) await gossip.checkBlock('evil-peer', encodeBlock(b));
    expect(node.orphanCount).toBeLessThanOrEqual(1 + DEFAULT_MAX_ORPHANS_PER_SOURCE);
    // The honest orphan is still there: its parent connects it.
    expect(await node.processBlock(honest.blocks[1], 'peer')).toMatchObject({ status: 'extended', height: 1 });
    expect(node.height).toBe(2);
    expect(hashToHex(node.tip.hash)).toBe(hashToHex(honest.tip.hash));
  });
});
