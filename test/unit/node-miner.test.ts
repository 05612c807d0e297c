/**
 * NodeMiner (src/node/node-miner.ts) follows its node through the node's events only: a new tip
 * gives continuous mining a new template at once (inside the processing step), an accepted
 * transaction after the debounce, the synced flag gates it; the node's stop closes it.
 * (Mining itself — blocks found, QUOTA_EXCEEDED, mineBlocks — is covered in full-node.test.ts.)
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { NETWORKS } from '../../src/chain/index.ts';
import { FullNode } from '../../src/node/full-node.ts';
import { MemoryStore } from '../../src/storage/index.ts';
import { ChainBuilder, wallets } from './helpers/chain-builder.ts';

const params = NETWORKS.test;
const [alice, bob] = wallets(2);
const DEBOUNCE_MS = 500;

const nodes: FullNode[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const n of nodes.splice(0)) await n.stop();
});

/** A started, unsynced node (its miner never scans, so no block of its own moves the tip) mining continuously, and a funded chain to feed it. */
async function miningNode() {
  const chain = ChainBuilder.funded([alice]);
  const node = new FullNode({
    params,
    store: new MemoryStore({ network: 'test' }),
    now: () => params.genesis.header.time + 100_000,
    minerPubKey: bob.pub,
    miner: { useWorkers: false },
    timing: { templateDebounceMs: DEBOUNCE_MS },
  });
  nodes.push(node);
  await node.start();
  node.setSynced(false);
  await node.miner.startMining({ workers: 1 });
  const template = vi.spyOn(node, 'template');
  return { node, chain, template };
}

describe('NodeMiner', () => {
  it('a new tip gives continuous mining a new template within the same processing step', async () => {
    const { node, chain, template } = await miningNode();
    expect(await node.processBlock(chain.blocks[1], 'peer')).toMatchObject({ status: 'extended' });
    expect(template).toHaveBeenCalledTimes(1);
    // Several blocks as one step: one tip event, one template.
    await node.processBlocks(chain.blocks.slice(2), 'peer');
    expect(template).toHaveBeenCalledTimes(2);
  });

  it('an accepted transaction reaches the template after the debounce; a refused one does not', async () => {
    const { node, chain, template } = await miningNode();
    await node.processBlocks(chain.blocks.slice(1), 'peer');
    template.mockClear();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    expect(await node.processTx(new Uint8Array([1, 2, 3]), 'local')).toMatchObject({ status: 'invalid' });
    vi.advanceTimersByTime(DEBOUNCE_MS);
    await node.runExclusive(() => undefined);
    expect(template).not.toHaveBeenCalled();
    const tx = chain.sign(alice, { kind: 'transfer', to: bob.pub, amount: 1000n });
    expect(await node.processTx(tx, 'local')).toMatchObject({ status: 'accepted' });
    expect(template).not.toHaveBeenCalled();
    vi.advanceTimersByTime(DEBOUNCE_MS - 1);
    expect(template).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    await node.runExclusive(() => undefined); // the refresh is queued behind the node's steps
    expect(template).toHaveBeenCalledTimes(1);
    expect(template.mock.results[0].value.block.txs).toHaveLength(2); // coinbase + the transfer
  });

  it('mines only while the node is synced: the status follows the node’s flag', async () => {
    const { node } = await miningNode();
    expect(node.miner.minerStatus()).toMatchObject({ started: true, synced: false, mining: false });
    const statuses: boolean[] = [];
    node.events.on('synced', () => statuses.push(node.miner.minerStatus().synced));
    node.setSynced(true);
    expect(statuses).toEqual([true]); // the miner heard it before any later listener
    await node.miner.stopMining();
    expect(node.miner.minerStatus().started).toBe(false);
  });

  it('stops with its node: a mineBlocks waiting for its turn rejects STOPPED', async () => {
    const { node, chain } = await miningNode();
    await node.processBlocks(chain.blocks.slice(1), 'peer');
    const first = node.miner.mineBlocks(1);
    const second = node.miner.mineBlocks(1); // queued behind the first
    nodes.splice(nodes.indexOf(node), 1);
    const stopping = node.stop();
    await expect(second).rejects.toMatchObject({ code: 'STOPPED' });
    await first.catch(() => undefined); // may have finished its block before the stop
    await stopping;
    expect(node.miner.minerStatus().started).toBe(false);
    await expect(node.miner.startMining()).rejects.toMatchObject({ code: 'STOPPED' });
  });
});
