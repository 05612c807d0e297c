/**
 * The hostile-peer harness (issue 11): a scripted attacker that speaks tabchain's real protocols
 * over real libp2p (TCP, noise, yamux, gossipsub, the sync protocol) against an honest headless
 * node (the victim), with a second honest node that talks only to the victim (the bystander) to
 * show that the victim keeps serving honest peers and forwards nothing the attacker sent.
 *
 * The attacker is a full tabchain libp2p node (createLibp2pNode), so gossipsub message ids and
 * topics are the real ones; its sync protocol handler can be replaced by a script
 * ({@link Hostile.serve}) and it can write raw bytes on a sync stream ({@link Hostile.rawRequest}).
 *
 * Memory: every structure an attacker can fill is bounded by count and bytes; {@link budgetOf}
 * reads them from the victim, and {@link BUDGET} states the bounds each test checks after its attack.
 */
import type { Stream } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { expect } from 'vitest';
import { blockHash, hashToHex, type Block } from '../../../src/chain/index.ts';
import { createLibp2pNode, type TabchainLibp2p } from '../../../src/p2p/libp2p-node.ts';
import { readOneFrame, writeAll } from '../../../src/p2p/libp2p-sync.ts';
import { encodeFrame, MAX_FRAME_BYTES } from '../../../src/p2p/frames.ts';
import { decodeRequest, encodeMessage, type SyncRequest, type SyncResponse } from '../../../src/p2p/messages.ts';
import { PeerGate } from '../../../src/p2p/peer-gate.ts';
import type { PenaltyEvent } from '../../../src/p2p/peer-gate.ts';
import { protocolIds } from '../../../src/p2p/protocol.ts';
import { nodeTransports } from '../../../src/p2p/transports-node.ts';
import type { HeadlessNetworkOptions } from '../../../src/node/network/headless.ts';
import { startNetNode, waitUntil, type NetNode } from '../../integration/helpers/net-nodes.ts';
import type { ChainBuilder } from '../../unit/helpers/chain-builder.ts';

export const ids = protocolIds('test');

/**
 * What one attacker may make the victim hold, at most, in the structures it can fill (the
 * victim's own accounting, checked after every attack). The real heap one attacker and 50 Sybils
 * pin is measured by `npm run bench -- hostile`.
 */
export const BUDGET = {
  /** Mempool bytes (the pool's own cap, 8 MiB by default). */
  mempoolBytes: 8 * 1024 * 1024,
  /** Orphan blocks held. */
  orphans: 100,
  /** Held (TIME_TOO_NEW) blocks. */
  held: 64,
} as const;

/** The victim's bounded structures, as it counts them. */
export function budgetOf(victim: NetNode): { mempoolBytes: number; orphans: number; held: number } {
  return { mempoolBytes: victim.node.mempool.bytes, orphans: victim.node.orphanCount, held: victim.node.heldCount };
}

/** Checks the victim stays within {@link BUDGET}. */
export function expectWithinBudget(victim: NetNode): void {
  const b = budgetOf(victim);
  expect(b.mempoolBytes).toBeLessThanOrEqual(BUDGET.mempoolBytes);
  expect(b.orphans).toBeLessThanOrEqual(BUDGET.orphans);
  expect(b.held).toBeLessThanOrEqual(BUDGET.held);
}

/** A scripted sync answerer: gets each inbound request (undefined if it did not decode) and its stream. */
export type SyncScript = (req: SyncRequest | undefined, stream: Stream) => Promise<void> | void;

export interface Hostile {
  libp2p: TabchainLibp2p;
  id: string;
  addr: string;
  /** Replaces the sync protocol answerer by `script` (the attacker still identifies as a chain peer). */
  serve(script: SyncScript): Promise<void>;
  /** Publishes raw bytes on the blocks or txs topic (once `victim` is subscribed to it). */
  publish(topic: 'blocks' | 'txs', bytes: Uint8Array, victim: NetNode): Promise<void>;
  /** Opens a sync stream to `peer`, writes `bytes` as they are, and reads one answer frame. */
  rawRequest(peer: string, bytes: Uint8Array, opts?: { timeoutMs?: number; max?: number }): Promise<Uint8Array>;
  stop(): Promise<void>;
}

const stoppers: (() => Promise<void>)[] = [];

/** Stops everything the harness started (afterAll / afterEach). */
/** Registers something to stop with the rest ({@link stopAllHostile}). */
export function onStop(fn: () => Promise<void>): void {
  stoppers.push(fn);
}

export async function stopAllHostile(): Promise<void> {
  await Promise.all(stoppers.splice(0).map((s) => s().catch(() => undefined)));
}

/** A started attacker listening on 127.0.0.1. */
export async function startHostile(): Promise<Hostile> {
  const libp2p = await createLibp2pNode({
    network: 'test',
    transports: nodeTransports(),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    gate: new PeerGate(),
    // It announces nothing on the discovery topic that matters within a test.
    discoveryIntervalMs: 3_600_000,
    syncTimeoutMs: 5_000,
    start: true,
  });
  libp2p.services.pubsub.subscribe(ids.blocksTopic);
  libp2p.services.pubsub.subscribe(ids.txsTopic);
  const stop = async (): Promise<void> => {
    await libp2p.stop();
  };
  stoppers.push(stop);
  const h: Hostile = {
    libp2p,
    id: libp2p.peerId.toString(),
    addr: libp2p.getMultiaddrs()[0].toString(),
    async serve(script) {
      // The script speaks sync/1 only: victims fall back to it (their sync/2 offer is refused).
      await libp2p.unhandle(ids.syncSession);
      await libp2p.unhandle(ids.sync);
      await libp2p.handle(
        ids.sync,
        async (stream) => {
          let req: SyncRequest | undefined;
          try {
            req = decodeRequest(await readOneFrame(stream, AbortSignal.timeout(10_000)));
          } catch {
            req = undefined;
          }
          try {
            await script(req, stream);
          } catch {
            // the victim hung up on us: fine, we are the attacker
          }
        },
        { runOnLimitedConnection: true, maxInboundStreams: 64 },
      );
    },
    async publish(topic, bytes, victim) {
      const t = topic === 'blocks' ? ids.blocksTopic : ids.txsTopic;
      const victimId = victim.net.libp2p.peerId;
      await waitUntil(() => libp2p.services.pubsub.getSubscribers(t).some((p) => p.equals(victimId)), `the victim subscribed to ${topic}`, 15_000);
      await libp2p.services.pubsub.publish(t, bytes);
    },
    async rawRequest(peer, bytes, opts = {}) {
      const signal = AbortSignal.timeout(opts.timeoutMs ?? 10_000);
      const stream = await libp2p.dialProtocol(peerIdFromString(peer), ids.sync, { signal, runOnLimitedConnection: true });
      try {
        await writeAll(stream, bytes, signal);
        await stream.close({ signal });
        return await readOneFrame(stream, signal, opts.max ?? MAX_FRAME_BYTES);
      } catch (e) {
        stream.abort(e as Error);
        throw e;
      }
    },
    stop,
  };
  return h;
}

/** Answers a request from a chain (the honest answer), as the attacker's base behaviour. */
export function frameOf(res: SyncResponse): Uint8Array {
  return encodeFrame(encodeMessage(res));
}

/** Sends `bytes` on a stream and closes our end (errors ignored: the victim may have hung up). */
export async function sendAndClose(stream: Stream, bytes: Uint8Array): Promise<void> {
  const signal = AbortSignal.timeout(10_000);
  await writeAll(stream, bytes, signal);
  await stream.close({ signal });
}

export interface Arena {
  victim: NetNode;
  /** An honest node connected only to the victim (it refuses everyone else). */
  bystander: NetNode;
  /** Penalties the victim handed out, in order. */
  penalties: PenaltyEvent[];
  /** Display hashes of every block offered to the bystander (any verdict). */
  bystanderBlocks: Set<string>;
}

/**
 * A victim holding `chain` (its blocks preloaded) and a bystander that synced from it and talks
 * to nobody else. The attacker, when given, is a bootstrap peer of the victim.
 */
export async function startArena(
  name: string,
  chain: ChainBuilder,
  opts: { attacker?: Hostile; syncTimeoutMs?: number; extraBootstrap?: string[]; serveBudget?: HeadlessNetworkOptions['serveBudget'] } = {},
): Promise<Arena> {
  const bootstrap = [...(opts.attacker ? [opts.attacker.addr] : []), ...(opts.extraBootstrap ?? [])];
  const victim = await startNetNode(`victim-${name}`, {
    blocks: chain.blocks.slice(1),
    bootstrap: bootstrap.length > 0 ? bootstrap : undefined,
    ...(opts.syncTimeoutMs === undefined ? {} : { syncTimeoutMs: opts.syncTimeoutMs }),
    ...(opts.serveBudget === undefined ? {} : { serveBudget: opts.serveBudget }),
  });
  stoppers.push(() => victim.stop());
  const penalties: PenaltyEvent[] = [];
  victim.net.gate.onPenalty((p) => penalties.push(p));
  const bystander = await startNetNode(`bystander-${name}`, { bootstrap: [victim.net.multiaddrs()[0]] });
  stoppers.push(() => bystander.stop());
  bystander.net.setIsolated(true, { allow: [victim.net.peerId] });
  const bystanderBlocks = new Set<string>();
  bystander.node.events.on('block', (e) => bystanderBlocks.add(e.hash));
  await waitUntil(() => bystander.node.height >= chain.height, 'the bystander synced from the victim', 30_000);
  return { victim, bystander, penalties, bystanderBlocks };
}

/** Connects the attacker to the victim (the victim accepts an inbound connection). */
export async function connect(attacker: Hostile, victim: NetNode): Promise<void> {
  await attacker.libp2p.dial(multiaddr(victim.net.multiaddrs()[0]), { signal: AbortSignal.timeout(10_000) });
}

/**
 * The victim is fine: its tip is `tip` (display hex), and the bystander can still ask it for its
 * status and the tip's body over the sync protocol.
 */
export async function expectServing(arena: Arena, tip: Uint8Array): Promise<void> {
  const { victim, bystander } = arena;
  expect(hashToHex(victim.node.tip.hash)).toBe(hashToHex(tip));
  const peer = peerIdFromString(victim.net.peerId);
  const status = await bystander.net.libp2p.services.sync.getStatus(peer, { signal: AbortSignal.timeout(10_000) });
  expect(hashToHex(status.tipHash)).toBe(hashToHex(tip));
  const got = await bystander.net.libp2p.services.sync.getBlocks(peer, [tip], { signal: AbortSignal.timeout(10_000) });
  expect(got.blocks.map((b) => hashToHex(b.hash))).toEqual([hashToHex(tip)]);
}

/** The penalties of one peer, by offence. */
export function offencesOf(arena: Arena, peer: string): string[] {
  return arena.penalties.filter((p) => p.peer === peer).map((p) => p.offence);
}

/** Whether the bystander was ever offered this block (the victim forwarded it, or served it). */
export function bystanderSaw(arena: Arena, block: Block): boolean {
  const hex = hashToHex(blockHash(block.header));
  return arena.bystanderBlocks.has(hex) || arena.bystander.node.headers.has(hex);
}
