/**
 * The SyncManager driving a real FullNode against peers served over in-memory ports (virtual
 * peers, as the tab mesh uses): bodies answered out of order still reach the node in chain order
 * as runs; a lost status or headers answer from the only peer ahead is asked again at once, then
 * within seconds.
 */
import type { PeerId } from '@libp2p/interface';
import { afterEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../support/wait.ts';
import { NETWORKS, hashToHex } from '../../src/chain/index.ts';
import { FullNode } from '../../src/node/full-node.ts';
import { chainAccessOf } from '../../src/node/network/attach.ts';
import { RemoteSyncError, SyncTimeoutError } from '../../src/p2p/errors.ts';
import type { TabchainLibp2p } from '../../src/p2p/libp2p-node.ts';
import { PeerGate } from '../../src/p2p/peer-gate.ts';
import { SyncClient, serveSyncPort } from '../../src/p2p/sync-client.ts';
import { SyncManager } from '../../src/p2p/sync-manager.ts';
import { MemoryStore } from '../../src/storage/memory-store.ts';
import { ChainBuilder } from './helpers/chain-builder.ts';
import { portPair, servedChain, type ServedChain } from './helpers/p2p-chain.ts';

const NO_LIBP2P = {} as TabchainLibp2p;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A started node on the served chain's network whose clock is past the chain's last block. */
async function freshNode(served: ServedChain): Promise<{ node: FullNode; store: MemoryStore }> {
  const store = new MemoryStore({ network: 'test' });
  const last = served.builder.tip.header.time;
  const node = new FullNode({ params: served.builder.params, store, now: () => last + 60, miner: { useWorkers: false } });
  await node.start();
  cleanups.push(() => node.stop());
  return { node, store };
}

/** A SyncClient talking to `served` over a port pair. `wrap` may intercept its requests. */
function clientFor(served: ServedChain): SyncClient {
  const [mine, theirs] = portPair();
  const stop = serveSyncPort(theirs, served.view, { maxConcurrent: 8 });
  cleanups.push(stop);
  return new SyncClient(mine, { timeoutMs: 5_000 });
}

function startSync(node: FullNode, gate = new PeerGate()): SyncManager {
  const sync = new SyncManager({ libp2p: NO_LIBP2P, gate, statusEveryMs: 60_000 });
  sync.attach(chainAccessOf(node));
  node.events.on('tip', () => sync.chainChanged());
  sync.start();
  cleanups.push(() => sync.stop());
  return sync;
}

describe('SyncManager', () => {
  it('bodies answered out of order by two peers reach the node in chain order, as runs of blocks', async () => {
    const served = servedChain(300);
    const { node, store } = await freshNode(served);
    const writes = { putBlock: 0, connectBlocks: 0 };
    const putBlock = store.putBlock.bind(store);
    store.putBlock = (h, b) => (writes.putBlock++, putBlock(h, b));
    const connectBlocks = store.connectBlocks.bind(store);
    store.connectBlocks = (list) => (writes.connectBlocks++, connectBlocks(list));
    // Two peers; the second answers each getBlocks late, so answers overtake one another.
    const slow = clientFor(served);
    const getBlocks = slow.getBlocks.bind(slow);
    slow.getBlocks = async (hashes, opts) => {
      await new Promise((r) => setTimeout(r, 30));
      return getBlocks(hashes, opts);
    };
    const sync = startSync(node);
    sync.addVirtualPeer('fast', clientFor(served));
    sync.addVirtualPeer('slow', slow);
    await waitUntil(() => node.height === 300, `height 300 (now ${node.height})`, 20_000);
    expect(hashToHex(node.tip.hash)).toBe(hashToHex(served.builder.tip.hash));
    expect(writes.putBlock).toBe(0); // no body stored aside and read back
    expect(writes.connectBlocks).toBeLessThan(300 / 4);
  });

  it('a lost status and a lost headers answer from the only peer ahead are retried within seconds, not at the next poll', async () => {
    const served = servedChain(50);
    const { node } = await freshNode(served);
    const flaky = clientFor(served);
    const getStatus = flaky.getStatus.bind(flaky);
    let statusCalls = 0;
    flaky.getStatus = async (opts) => {
      statusCalls++;
      if (statusCalls === 1) throw new SyncTimeoutError('getStatus timed out');
      return getStatus(opts);
    };
    const getHeaders = flaky.getHeaders.bind(flaky);
    let calls = 0;
    flaky.getHeaders = async (locator, opts) => {
      calls++;
      if (calls === 1) throw new SyncTimeoutError('getHeaders timed out');
      return getHeaders(locator, opts);
    };
    startSync(node).addVirtualPeer('flaky', flaky);
    // The status poll is a minute away: only the retry can bring the chain in this soon.
    await waitUntil(() => node.height === 50, () => `height 50 (now ${node.height}, ${statusCalls} status and ${calls} headers requests)`, 15_000);
    expect(statusCalls).toBeGreaterThanOrEqual(2);
    expect(calls).toBeGreaterThanOrEqual(2);
  });

  it('a first failed status and a first failed headers request are asked again at once: the chain is in when the loop goes idle, no timer needed', async () => {
    const served = servedChain(30);
    const { node } = await freshNode(served);
    const flaky = clientFor(served);
    const calls = { status: 0, headers: 0 };
    const getStatus = flaky.getStatus.bind(flaky);
    flaky.getStatus = async (opts) => {
      // The connection it went over closed under it.
      if (calls.status++ === 0) throw new Error('The connection muxer is "closed" and not "open"');
      return getStatus(opts);
    };
    const getHeaders = flaky.getHeaders.bind(flaky);
    flaky.getHeaders = async (locator, opts) => {
      if (calls.headers++ === 0) throw new SyncTimeoutError('getHeaders timed out');
      return getHeaders(locator, opts);
    };
    const logs: string[] = [];
    const sync = new SyncManager({ libp2p: NO_LIBP2P, gate: new PeerGate(), statusEveryMs: 60_000, log: (m) => logs.push(m) });
    sync.attach(chainAccessOf(node));
    node.events.on('tip', () => sync.chainChanged());
    sync.start();
    cleanups.push(() => sync.stop());
    sync.addVirtualPeer('flaky', flaky);
    // A retry left to a timer (RETRY_MS) would find the loop idle with nothing synced.
    await sync.idle();
    expect(node.height).toBe(30);
    expect(calls).toEqual({ status: 2, headers: 2 });
    expect(logs).toContain('sync: status of flaky failed: The connection muxer is "closed" and not "open"');
    expect(logs).toContain('sync: headers from flaky failed: getHeaders timed out');
    expect(logs.join('\n')).not.toMatch(/undefined/);
  });

  it('a peer whose requests keep failing is not asked in a tight loop: after the second failure in a row it waits', async () => {
    const served = servedChain(10);
    const { node } = await freshNode(served);
    const dead = clientFor(served);
    let statusCalls = 0;
    dead.getStatus = async () => {
      statusCalls++;
      throw new Error('The stream has been reset');
    };
    const sync = startSync(node);
    sync.addVirtualPeer('dead', dead);
    await sync.idle();
    expect(statusCalls).toBe(2);
    expect(node.height).toBe(0);
  });

  it('of two peers claiming the same chain, headers are asked of the one reached directly, not of the one reached only through a relay', async () => {
    const served = servedChain(20);
    const { node } = await freshNode(served);
    const clients: Record<string, SyncClient> = { relayed: clientFor(served), direct: clientFor(served) };
    const headersAsked: string[] = [];
    const libp2p = {
      // 'relayed' has only a limited (relayed) connection; 'direct' a WebRTC one.
      getConnections: (peer: PeerId) => [{ status: 'open', limits: peer.toString() === 'relayed' ? { bytes: 1n << 17n } : undefined }],
      services: {
        sync: {
          getStatus: (peer: PeerId) => clients[peer.toString()].getStatus(),
          getHeaders: (peer: PeerId, locator: Uint8Array[], opts?: { max?: number }) => {
            headersAsked.push(peer.toString());
            return clients[peer.toString()].getHeaders(locator, opts);
          },
          getBlocks: (peer: PeerId, hashes: Uint8Array[]) => clients[peer.toString()].getBlocks(hashes),
        },
      },
    } as unknown as TabchainLibp2p;
    const sync = new SyncManager({ libp2p, gate: new PeerGate(), statusEveryMs: 60_000 });
    sync.attach(chainAccessOf(node));
    node.events.on('tip', () => sync.chainChanged());
    // Both known before the loop first runs (their statuses arrive together); the relayed one
    // first: the first of equal claims was the one taken.
    sync.addPeer({ toString: () => 'relayed' } as PeerId);
    sync.addPeer({ toString: () => 'direct' } as PeerId);
    sync.start();
    cleanups.push(() => sync.stop());
    sync.kick();
    await waitUntil(() => node.height === 20, () => `height 20 (now ${node.height})`, 15_000);
    expect(headersAsked.length).toBeGreaterThan(0);
    expect(headersAsked.every((p) => p === 'direct')).toBe(true);
  });

  it('BUSY from the only peer ahead (its serving budget is spent) pauses it briefly: asked again soon, not charged, not its blocks given up', async () => {
    const served = servedChain(80);
    const { node } = await freshNode(served);
    const busy = clientFor(served);
    const calls = { headers: 0, blocks: 0 };
    const getHeaders = busy.getHeaders.bind(busy);
    busy.getHeaders = async (locator, opts) => {
      if (calls.headers++ === 0) throw new RemoteSyncError('BUSY', 'over the bytes per second of all peers');
      return getHeaders(locator, opts);
    };
    const getBlocks = busy.getBlocks.bind(busy);
    busy.getBlocks = async (hashes, opts) => {
      // The first batches asked at once are refused: the peer is at its budget's edge.
      if (calls.blocks++ < 3) throw new RemoteSyncError('BUSY', "over this peer's requests per second");
      return getBlocks(hashes, opts);
    };
    const gate = new PeerGate();
    const sync = startSync(node, gate);
    sync.addVirtualPeer('busy', busy);
    // The status poll is a minute away: only a retry after BUSY can bring the chain in this soon.
    await waitUntil(() => node.height === 80, `height 80 (now ${node.height}, ${calls.headers} headers and ${calls.blocks} blocks requests)`, 15_000);
    expect(gate.scores.score('busy')).toBe(0);
  });

  describe('isAhead: whether a peer showed us a chain we lacked (the peer manager keeps its extra peer for it)', () => {
    it('a peer with a chain we lacked: unknown before its status, ahead once its headers passed our checks', async () => {
      const served = servedChain(40);
      const { node } = await freshNode(served);
      const sync = startSync(node);
      expect(sync.isAhead('ahead')).toBeUndefined(); // not a peer
      sync.addVirtualPeer('ahead', clientFor(served));
      expect(sync.isAhead('ahead')).toBeUndefined(); // no status yet
      await waitUntil(() => node.height === 40, () => `height 40 (now ${node.height})`, 15_000);
      expect(sync.isAhead('ahead')).toBe(true);
    });

    it('a peer on our own chain, or on a shorter branch we did not know, is not ahead', async () => {
      // main: 40 blocks; branch: 5 other blocks on main's first 20 (less work, a tip we never saw).
      const main = new ChainBuilder(NETWORKS.test);
      while (main.height < 20) main.mine();
      const fork = main.fork();
      for (let i = 0; i < 5; i++) fork.mine({ extraNonce: 1n });
      const servedMain = servedChain(40, main);
      const servedBranch = servedChain(25, fork);
      const { node } = await freshNode(servedMain);
      const sync = startSync(node);
      sync.addVirtualPeer('first', clientFor(servedMain));
      await waitUntil(() => node.height === 40, () => `height 40 (now ${node.height})`, 15_000);
      sync.addVirtualPeer('same', clientFor(servedMain));
      sync.addVirtualPeer('branch', clientFor(servedBranch));
      await waitUntil(() => sync.isAhead('same') !== undefined && sync.isAhead('branch') !== undefined, 'both statuses', 15_000);
      expect(sync.isAhead('same')).toBe(false);
      expect(sync.isAhead('branch')).toBe(false);
      expect(sync.isAhead('first')).toBe(true); // it did bring us main
      expect(node.height).toBe(40);
    });

    it('a liar claiming more work on a tip it cannot back with headers is never ahead', async () => {
      const served = servedChain(10);
      const { node } = await freshNode(served);
      const liar = clientFor(served);
      const getStatus = liar.getStatus.bind(liar);
      liar.getStatus = async (opts) => ({ ...(await getStatus(opts)), height: 1_000_000, chainwork: 2n ** 200n, tipHash: new Uint8Array(32).fill(0xab) });
      liar.getHeaders = async () => [];
      const sync = startSync(node);
      const seen: (boolean | undefined)[] = [];
      sync.addVirtualPeer('liar', liar);
      await waitUntil(() => (seen.push(sync.isAhead('liar')), seen.at(-1) === false), () => `liar judged (seen ${[...new Set(seen)].join(', ')})`, 15_000);
      expect(seen).not.toContain(true);
      expect(node.height).toBe(0);
    });
  });
});
