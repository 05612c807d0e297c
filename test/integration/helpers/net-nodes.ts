/**
 * Test helper for network integration tests: in-process FullNodes (MemoryStore, same-thread miner)
 * with their headless network (TCP + WebSockets on 127.0.0.1), the real relay with a temp dist and
 * data dir, and small waiting utilities.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NETWORKS, encodeBlock, type NetworkName, type Block } from '../../../src/chain/index.ts';
import { FullNode } from '../../../src/node/full-node.ts';
import { startHeadlessNetwork, type HeadlessNetwork, type HeadlessNetworkOptions } from '../../../src/node/network/headless.ts';
import type { NetworkService } from '../../../src/p2p/network-service.ts';
import { MemoryStore } from '../../../src/storage/memory-store.ts';
import type { ChainStore } from '../../../src/storage/chain-store.ts';
import { startRelay, type Relay, type RelayOptions } from '../../../relay/server.ts';
import { wallet, type Wallet } from '../../unit/helpers/chain-builder.ts';

export { waitUntil } from '../../support/wait.ts';

export interface NetNode {
  name: string;
  node: FullNode;
  net: NetworkService;
  /** The network with its unwiring (stop it to restart the network on the same node). */
  network: HeadlessNetwork;
  wallet: Wallet;
  log: string[];
  stop(): Promise<void>;
}

/** Fast timings for tests: quick maintenance and status polls. */
export const FAST_TIMING = { maintainEveryMs: 300, redialBaseMs: 300, redialMaxMs: 2000, statusEveryMs: 1000, pingEveryMs: 2000, peersEventMs: 50, dialTimeoutMs: 3000 };

/** A started FullNode on `network` with a started network. */
export async function startNetNode(name: string, opts: HeadlessNetworkOptions & { network?: NetworkName; blocks?: Block[]; store?: ChainStore } = {}): Promise<NetNode> {
  const chainName = opts.network ?? 'test';
  const w = wallet(name);
  const store = opts.store ?? new MemoryStore({ network: chainName });
  const node = new FullNode({ params: NETWORKS[chainName], store, minerPubKey: w.pub, miner: { useWorkers: false } });
  await node.start();
  for (const b of opts.blocks ?? []) {
    const r = await node.processBlock(encodeBlock(b), 'local');
    if (r.status !== 'extended' && r.status !== 'duplicate') throw new Error(`preload block ${r.hash}: ${r.status} ${r.code ?? ''}`);
  }
  const log: string[] = [];
  const network = await startHeadlessNetwork(node, {
    timing: FAST_TIMING,
    discoveryIntervalMs: 500,
    syncTimeoutMs: 5000,
    addressBook: null,
    ...opts,
    log: (m) => log.push(m),
  });
  return {
    name,
    node,
    net: network.net,
    network,
    wallet: w,
    log,
    stop: async () => {
      await network.stop();
      await node.stop();
    },
  };
}

/** A relay on a temp dist (dummy index.html) and data dir; `restart` keeps data dir and HTTP port. */
export async function startTestRelay(network: 'main' | 'dev' | 'test' = 'test'): Promise<{ relay: Relay; url: () => string; restart(): Promise<void>; close(): Promise<void> }> {
  const tmp = mkdtempSync(join(tmpdir(), 'tabchain-net-'));
  const distDir = join(tmp, 'dist');
  mkdirSync(distDir, { recursive: true });
  writeFileSync(join(distDir, 'index.html'), '<!doctype html><title>tabchain</title>');
  // The relay's options name main and dev; its libp2p node takes any network name, and the
  // 'test' network keeps mining instant.
  const opts: RelayOptions = { port: 0, host: '127.0.0.1', network: network as 'dev', distDir, dataDir: join(tmp, 'data'), wsPort: 0 };
  const handle = {
    relay: await startRelay(opts),
    url: () => `http://127.0.0.1:${handle.relay.port}`,
    async restart() {
      const port = handle.relay.port;
      await handle.relay.close();
      handle.relay = await startRelay({ ...opts, port });
    },
    async close() {
      await handle.relay.close();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
  return handle;
}
