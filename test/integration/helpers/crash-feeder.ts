/**
 * The peer the crash tests sync their victim from: an in-process node (memory store, headless
 * network) that holds a {@link Branch} and can be handed more blocks or a heavier competing branch,
 * and that reports each `getBlocks` it serves — the moment the victim starts connecting a run of
 * blocks or a reorg, from which the tests time their kills.
 */
import { encodeBlock, type NetworkName } from '../../../src/chain/index.ts';
import { MemoryStore } from '../../../src/storage/memory-store.ts';
import { Branch } from '../../support/crash-chain.ts';
import { startNetNode, type NetNode } from './net-nodes.ts';
import type { HeadlessNetworkOptions } from '../../../src/node/network/headless.ts';

/** A feeder node and the branch it holds. */
export interface Feeder {
  net: NetNode;
  /** The branch the feeder's active chain follows. */
  branch: Branch;
  /** Bodies served so far (getBlocks requests answered). */
  served(): number;
  /** Resolves once `count` getBlocks have been served in all (at once if they have). */
  waitServed(count: number, timeoutMs: number): Promise<void>;
  /**
   * Mines `n` blocks on the branch and gives them to the feeder. Quietly (as if from a peer: not
   * gossiped, so a victim gets them by sync, in runs) unless `announce` (as its own: gossiped).
   */
  extend(n: number, announce?: boolean): Promise<void>;
  /** Forks at `height` (a fresh miner key `name`), mines past the branch by `extra` blocks and gives the new branch to the feeder (it reorgs); quietly unless `announce`. */
  reorg(height: number, name: string, extra: number, announce?: boolean): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a feeder on `network` holding `initial` blocks above genesis. */
export async function startFeeder(network: NetworkName, initial: number, opts: HeadlessNetworkOptions = {}): Promise<Feeder> {
  const store = new MemoryStore({ network });
  let served = 0;
  /** Called after each getBlocks served; each removes itself once satisfied. */
  let waiters: Array<() => void> = [];
  const getBlocks = store.getBlocks.bind(store);
  store.getBlocks = (hashes) => {
    served++;
    for (const w of [...waiters]) w();
    return getBlocks(hashes);
  };
  const net = await startNetNode('feeder', { network, store, ...opts });
  const feeder: Feeder = {
    net,
    branch: new Branch(net.node.params),
    served: () => served,
    waitServed(count, timeoutMs) {
      if (served >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w !== check);
          reject(new Error(`the victim asked for ${served} batches of blocks, not ${count}, within ${timeoutMs} ms`));
        }, timeoutMs);
        const check = () => {
          if (served < count) return;
          clearTimeout(timer);
          waiters = waiters.filter((w) => w !== check);
          resolve();
        };
        waiters.push(check);
      });
    },
    async extend(n, announce = false) {
      await give(feeder.branch.mine(n), announce);
    },
    async reorg(height, name, extra, announce = false) {
      const old = feeder.branch;
      const b = old.forkAt(height, name);
      const blocks = b.mine(old.height - height + extra);
      feeder.branch = b;
      await give(blocks, announce);
    },
    stop: () => net.stop(),
  };
  async function give(blocks: ReturnType<Branch['mine']>, announce: boolean): Promise<void> {
    const results = await net.node.processBlocks(blocks.map(encodeBlock), announce ? 'local' : 'peer');
    const bad = results.find((r) => !['extended', 'reorged', 'side'].includes(r.status));
    if (bad) throw new Error(`feeder refused block ${bad.height} ${bad.hash}: ${bad.status} ${bad.code ?? ''}`);
    const tip = feeder.branch.tip;
    if (net.node.tip.hash.some((x, i) => x !== tip.hash[i])) throw new Error(`feeder is at ${net.node.height}, not on its branch at ${tip.height}`);
  }
  await feeder.extend(initial);
  return feeder;
}
