/**
 * The backdated-anchor attack (issue 11, item 3). ASERT is anchored at block 1's time, and block 1's
 * miner may date it just after the genesis timestamp (the median-time-past rule only asks for
 * time > genesis time). With a genesis two weeks old, the chain then looks two weeks behind
 * schedule from block 3 on, and ASERT eased every following block down towards powLimit until the
 * schedule caught up: on main ~134,000 blocks cheaper than the genesis difficulty (~6.7M TAB for
 * ~3.7·10^10 hashes). The rule that closes it: powLimit IS the genesis target (params.ts), so no
 * block is ever easier than the first one.
 *
 * The first test mines such a chain through a real FullNode on the dev network (genesis ≈ 15,000
 * hashes, so a block is mined in a fraction of a second here) and checks what the node required.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { bitsToTarget, nextBits, NETWORKS, type NetworkParams } from '../../src/chain/index.ts';
import { MemoryStore } from '../../src/storage/memory-store.ts';
import { FullNode } from '../../src/node/full-node.ts';
import { ChainBuilder } from './helpers/chain-builder.ts';

const DAY = 24 * 3600;
const nodes: FullNode[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) await n.stop();
});

describe('a backdated block 1 buys no cheap blocks', () => {
  it('dev: a chain whose block 1 is dated just after genesis, mined two weeks later, pays the genesis difficulty for every block', async () => {
    const params = NETWORKS.dev;
    const G = params.genesis.header.time;
    const now = G + 14 * DAY;
    const node = new FullNode({ params, store: new MemoryStore({ network: 'dev' }), now: () => now, miner: { useWorkers: false } });
    nodes.push(node);
    await node.start();

    // The attacker's chain: block 1 one second after genesis, then blocks at the real time.
    const attacker = new ChainBuilder(params);
    attacker.mine({ time: G + 1 });
    for (let i = 0; i < 6; i++) attacker.mine({ time: now - 60 + i });
    const genesisTarget = bitsToTarget(params.genesisBits);
    for (const block of attacker.blocks.slice(1)) {
      const r = await node.processBlock(block, 'peer');
      expect(r.status).toBe('extended');
      // What the node demanded of the block (the builder mined the bits the rules require).
      expect(bitsToTarget(block.header.bits) <= genesisTarget).toBe(true);
    }
    expect(node.height).toBe(7);

    // A block at the bits the old rule allowed (regtest's powLimit, ~2 hashes) is refused.
    const cheap = attacker.fork();
    const easy = cheap.build([], { time: now - 50, bits: 0x207fffff });
    const r = await node.processBlock(easy, 'peer');
    expect(r.status).toBe('invalid');
    expect(r.code).toBe('BAD_BITS');
  });

  it.each([['main'], ['dev']] as const)('%s: every block after a backdated block 1 needs at least the genesis difficulty', (name) => {
    const params: NetworkParams = NETWORKS[name];
    const G = params.genesis.header.time;
    const block1Time = G + 1;
    const genesisTarget = bitsToTarget(params.genesisBits);
    // Parents (height ≥ 2) dated "now", two weeks and a year after genesis, at heights across the old window.
    for (const now of [G + 14 * DAY, G + 365 * DAY]) {
      for (const h of [2, 10, 1_000, 100_000, 134_399, 1_000_000]) {
        const target = bitsToTarget(nextBits(params, { height: h, time: now }, block1Time));
        expect(target <= genesisTarget, `height ${h + 1}`).toBe(true);
      }
    }
    expect(params.powLimit).toBe(genesisTarget);
  });
});
