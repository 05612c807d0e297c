/**
 * The libp2p node of a tabchain peer, the same in the browser and in Node except for the
 * transports, which the platform passes in (transports-node.ts: TCP + WebSockets + circuit relay;
 * the browser: WebRTC + WebSockets + circuit relay). Common pieces:
 *
 * - noise encryption and yamux multiplexing on every connection;
 * - identify (protocols and listen addresses) and ping (round-trip time);
 * - gossipsub as service `pubsub`, carrying `/tabchain/<net>/blocks/1` and `/tabchain/<net>/txs/1`
 *   (validated by gossip.ts) and the discovery topic. Gossip runs on relayed connections too (two
 *   tabs behind NATs may only reach each other through the relay). Inbound RPCs are bounded to a
 *   full block plus slack ({@link MAX_GOSSIP_RPC_BYTES}) before they are decoded;
 * - pubsub-peer-discovery on `/tabchain/<net>/discovery/1` (the relay forwards it);
 * - the sync protocol as service `sync` (libp2p-sync.ts), offences reported to the gate;
 * - the {@link PeerGate}'s connection gater (bans, isolation; every address dialable).
 *
 * Message ids: on the block topic a message's id is a hash of its content, so the same block
 * published by several nodes (a miner and a node that relays it after fetching it) is one message
 * to gossipsub, deduplicated and forwarded once. Other topics keep gossipsub's default id
 * (publisher key + sequence number): on the discovery topic the relay uses it too (ids travel in
 * IHAVE/IWANT gossip, so every node on a topic must compute the same id) and announcements repeat
 * the same content on purpose; on the transaction topic a wallet's periodic rebroadcast, or the
 * transactions a reorg returned to the mempool, must go out again even though their bytes were
 * published before (a content id would sit in every seen-cache and be dropped).
 * @module
 */
import { createLibp2p, type Libp2p, type Libp2pOptions } from 'libp2p';
import { noise } from '@libp2p/noise';
import { yamux } from '@libp2p/yamux';
import { identify, type Identify } from '@libp2p/identify';
import { ping, type Ping } from '@libp2p/ping';
import { gossipsub, type GossipSub, type Message } from '@libp2p/gossipsub';
import { pubsubPeerDiscovery } from '@libp2p/pubsub-peer-discovery';
import { publicKeyToProtobuf } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';
import { sha256 } from '@noble/hashes/sha2.js';
import type { RPC } from '@libp2p/gossipsub/message';
import { bytesToHex, concatBytes, utf8Bytes } from '../chain/index.ts';
import { MAX_BLOCK_BYTES } from './messages.ts';
import type { PeerGate } from './peer-gate.ts';
import { protocolIds } from './protocol.ts';
import { tabchainSync, type TabchainSync } from './libp2p-sync.ts';
import { ServeBudget, type ServeBudgetConfig } from './serve-budget.ts';

/** The services every tabchain libp2p node has. */
export type TabchainServices = {
  identify: Identify;
  ping: Ping;
  pubsub: GossipSub;
  sync: TabchainSync;
};

/** A tabchain libp2p node. */
export type TabchainLibp2p = Libp2p<TabchainServices>;

/** Largest inbound gossipsub RPC: one full block plus room for the envelope and piggybacked control messages. */
export const MAX_GOSSIP_RPC_BYTES = MAX_BLOCK_BYTES + 512 * 1024;

export interface Libp2pNodeOptions {
  /** Network name ('main', 'dev', 'test'): protocol ids and topics. */
  network: string;
  /** The platform's transports (transports-node.ts, or the browser's). */
  transports: NonNullable<Libp2pOptions['transports']>;
  /** Listen addresses. Default none (dial only). Node: `defaultNodeListen()` (TCP and WebSockets on 127.0.0.1, plus `/p2p-circuit` behind a relay); browser: `['/p2p-circuit', '/webrtc']`. */
  listen?: string[];
  /** Identity; a fresh one if absent. */
  privateKey?: PrivateKey;
  /** Bans and isolation (its scores get the sync service's offences). */
  gate: PeerGate;
  /** Addresses never to dial (default: none refused). */
  denyDialMultiaddr?: (ma: Multiaddr) => boolean | Promise<boolean>;
  /** Open connections at most (default 64). */
  maxConnections?: number;
  /** Period of discovery announcements, ms (default 10 s). */
  discoveryIntervalMs?: number;
  /** false: listen to discovery but never announce ourselves (default true). */
  announce?: boolean;
  /** Time a sync request may take, ms (default 10 s). */
  syncTimeoutMs?: number;
  /** What serving sync may cost (default: serve-budget.ts's DEFAULT_SERVE_BUDGET); operators and tests may tighten it. */
  serveBudget?: Partial<ServeBudgetConfig>;
  /** Start the node now (default false: NetworkService.start() does). */
  start?: boolean;
  /** Our own failures while serving sync requests, for logs. */
  onError?: (err: unknown) => void;
}

/**
 * Gossipsub's default id of a signed message (`msgIdFnStrictSign`: the publisher's protobuf public
 * key then the sequence number as 8 big-endian bytes), reproduced so that ids match the relay's.
 */
function signedMessageId(msg: Message): Uint8Array {
  if (msg.type !== 'signed') throw new Error('expected a signed message');
  const key = msg.from.publicKey ?? msg.key;
  const seq = new Uint8Array(8);
  new DataView(seq.buffer).setBigUint64(0, BigInt.asUintN(64, msg.sequenceNumber));
  return concatBytes(publicKeyToProtobuf(key), seq);
}

/**
 * The message-id function (see the module note): content hash on the block topic, gossipsub's
 * default elsewhere.
 * @example gossipsub({ msgIdFn: messageIdFn(protocolIds('dev')) })
 */
export function messageIdFn(ids: { blocksTopic: string }): (msg: Message) => Uint8Array {
  return (msg) => {
    if (msg.topic === ids.blocksTopic) return sha256(concatBytes(utf8Bytes(msg.topic), msg.data));
    return signedMessageId(msg);
  };
}

/** Bytes of a length-prefixed field, so that two different field lists never hash alike. */
function field(b: Uint8Array | undefined): Uint8Array {
  const len = new Uint8Array(4);
  new DataView(len.buffer).setUint32(0, b?.length ?? 0xffffffff);
  return b ? concatBytes(len, b) : len;
}

/**
 * Gossipsub's fast message id, computed on the raw message before anything else. Without it
 * gossipsub verifies the publisher's signature of **every copy** (one from each mesh peer, and
 * more from IWANT answers) and only then finds the message seen: a node verified each
 * announcement and block D times (bench/sim/ at 100+ nodes spent a quarter of its CPU there).
 * With it, a copy whose fast id is known is a duplicate at once. Gossipsub remembers a fast id
 * only once the message under it passed validation, so a forged copy sent first is rejected and
 * shadows nothing. On the block topic it is the content hash, like the message id; elsewhere a
 * hash of topic, publisher, sequence number and data (a copy is the same message only if all agree).
 * @example gossipsub({ fastMsgIdFn: fastMessageIdFn(protocolIds('dev')) })
 */
export function fastMessageIdFn(ids: { blocksTopic: string }): (msg: RPC.Message) => string {
  return (msg) => {
    const data = msg.data ?? new Uint8Array(0);
    const bytes = msg.topic === ids.blocksTopic ? concatBytes(utf8Bytes(msg.topic), data) : concatBytes(field(utf8Bytes(msg.topic)), field(msg.from), field(msg.seqno), field(data));
    return bytesToHex(sha256(bytes));
  };
}

/** How often libp2p's connection monitor measures each connection's RTT, ms (its default is 10 s; the peer manager pings direct peers every 15 s as well). */
const CONNECTION_MONITOR_EVERY_MS = 30_000;

/**
 * Creates the libp2p node (not started unless `start: true`).
 * @example
 * ```ts
 * const gate = new PeerGate();
 * const libp2p = await createLibp2pNode({ network: 'dev', transports: nodeTransports(), listen: ['/ip4/127.0.0.1/tcp/0'], gate });
 * ```
 */
export async function createLibp2pNode(opts: Libp2pNodeOptions): Promise<TabchainLibp2p> {
  const ids = protocolIds(opts.network);
  if (!opts.gate) throw new TypeError('createLibp2pNode: a PeerGate is required');
  const gate = opts.gate;
  return createLibp2p<TabchainServices>({
    start: opts.start ?? false,
    ...(opts.privateKey ? { privateKey: opts.privateKey } : {}),
    addresses: { listen: opts.listen ?? [] },
    transports: opts.transports,
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: gate.gater({ denyDialMultiaddr: opts.denyDialMultiaddr }),
    // RTTs of every connection (relayed ones too), but no verdicts: libp2p aborts a connection
    // at one ping slower than 5 s, and a stall of our own loop (a phone, a background tab, many
    // nodes on one thread) failed them all at once — every link cut, then a redial storm (bench/sim
    // at 200 nodes). The peer manager judges silence instead, allowing for our loop's own lag.
    connectionMonitor: { abortConnectionOnPingFailure: false, pingInterval: CONNECTION_MONITOR_EVERY_MS },
    connectionManager: {
      maxConnections: opts.maxConnections ?? 64,
      // Tests and classrooms open many connections from one host (127.0.0.1, one NAT).
      inboundConnectionThreshold: 100,
      maxIncomingPendingConnections: 32,
    },
    services: {
      identify: identify({ runOnLimitedConnection: true }),
      ping: ping({ runOnLimitedConnection: true }),
      pubsub: gossipsub({
        allowPublishToZeroTopicPeers: true,
        ignoreDuplicatePublishError: true,
        runOnLimitedConnection: true,
        maxInboundDataLength: MAX_GOSSIP_RPC_BYTES,
        // Blocks are up to 1 MiB; a few in the outbound buffer of a slow peer is fine, more is not.
        maxOutboundBufferSize: 8 * MAX_GOSSIP_RPC_BYTES,
        msgIdFn: messageIdFn(ids),
        fastMsgIdFn: fastMessageIdFn(ids),
        // Peers we learn through gossipsub's peer exchange are dialled by our own peer manager.
        doPX: false,
      }),
      sync: tabchainSync({
        network: opts.network,
        timeoutMs: opts.syncTimeoutMs,
        ...(opts.serveBudget ? { budget: new ServeBudget(opts.serveBudget) } : {}),
        onOffence: (peer, offence, err) => gate.penalize(peer.toString(), offence, err.message),
        onError: opts.onError,
      }),
    },
    peerDiscovery: [pubsubPeerDiscovery({ topics: [ids.discoveryTopic], interval: opts.discoveryIntervalMs ?? 10_000, listenOnly: opts.announce === false })],
  });
}
