/**
 * The same-browser tab mesh: tabs of one origin on one network meet over a BroadcastChannel
 * (`tabchain-<network>-mesh`) and speak the SAME protocols as over libp2p — one implementation,
 * two carriers:
 * - sync: each pair of tabs gets a point-to-point {@link SyncPort} on the shared channel (messages
 *   carry `from` / `to`); our requests go through a {@link SyncClient} that the SyncManager drives
 *   like any libp2p peer (`sync.addVirtualPeer`), theirs are answered by {@link serveSyncPort};
 * - gossip: block / tx announcements go to every tab at once and are fed through the gossip
 *   topics' validators (`ChainGossip.checkBlock` / `checkTx`), so they are processed, scored and
 *   deduplicated exactly like gossipsub messages.
 *
 * It needs no relay and no network. Presence: `hello` on start (everyone answers with a
 * `present` addressed to the newcomer), `heartbeat` every few seconds, `bye` on stop (the page
 * calls {@link TabMesh.stop} on pagehide); a tab silent for {@link TabMeshOptions.peerTimeoutMs}
 * is dropped. A tab that also has a WebRTC link to another tab gets each block twice (mesh and
 * gossipsub): the mesh remembers what it has seen (block hash, tx bytes' hash) and drops repeats
 * before the node sees them, the node answers 'duplicate' to the rest, and the mesh never
 * re-broadcasts what it received (every tab hears every broadcast itself).
 *
 * Misbehaving tabs are scored by the same PeerGate as libp2p peers (the validators penalize,
 * sync offences are charged), but under their own key, {@link meshPeerKey} (`tab:<id>`): a mesh id
 * is whatever a message's `from` says, so it must never name a libp2p peer — two junk blocks
 * "from" the relay's peer id would otherwise ban the relay. The SyncManager, likewise, knows a tab
 * reached both ways as two peers, one per carrier. A tab the gate denies (banned, or we are
 * isolated) is dropped and its messages ignored. At most {@link MAX_MESH_PEERS} tabs are known at
 * once; new ids beyond that are ignored.
 *
 * Trust: a BroadcastChannel is same-origin, so whoever posts on it is code running on our origin
 * (another tab of the app, or a script injected into the page). Mesh ids are NOT authenticated:
 * such code can speak as another tab's mesh id, and get that identity dropped or banned on the
 * mesh (`tab:<id>` only). What it can never do through the mesh is cost a libp2p peer anything.
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { blockHash, decodeHeader, hashToHex, HEADER_BYTES, bytesToHex } from '../chain/index.ts';
import { MAX_MESSAGE_BYTES } from './messages.ts';
import { serveSyncPort, SyncClient, type SyncPort } from './sync-client.ts';
import type { ChainView } from './sync-server.ts';
import type { PeerGate } from './peer-gate.ts';
import { chainViewOf } from './sync-server.ts';
import type { ChainAccess } from './chain-access.ts';
import type { ChainGossip } from './gossip.ts';
import type { SyncManager } from './sync-manager.ts';

/** Verdict of a gossip validator: gossipsub's TopicValidatorResult values ('accept' | 'ignore' | 'reject'). */
export type MeshVerdict = string;

/** The broadcast channel's part we use (the DOM's and Node's BroadcastChannel fit). */
export interface MeshChannel {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (e: MessageEvent) => void): void;
  removeEventListener(type: 'message', listener: (e: MessageEvent) => void): void;
  close(): void;
}

/** What travels on the channel. `to` absent = everyone. */
export interface MeshEnvelope {
  v: 1;
  kind: 'hello' | 'present' | 'heartbeat' | 'bye' | 'sync' | 'block' | 'tx';
  from: string;
  to?: string;
  data?: Uint8Array;
}

export interface TabMeshOptions {
  network: string;
  /** Our id on the mesh (the tab's libp2p peer id when it has one). */
  id: string;
  /** What we serve to other tabs' sync requests. */
  view: ChainView;
  /** Scores and the isolate switch, shared with libp2p (mesh tabs under {@link meshPeerKey}). */
  gate: PeerGate;
  /** The blocks topic's validator (ChainGossip.checkBlock); `from` is the sender's meshPeerKey. */
  checkBlock(from: string, bytes: Uint8Array): Promise<MeshVerdict>;
  /** The txs topic's validator (ChainGossip.checkTx); `from` is the sender's meshPeerKey. */
  checkTx(from: string, bytes: Uint8Array): Promise<MeshVerdict>;
  /** A tab joined: its key (meshPeerKey) and sync client (give them to SyncManager.addVirtualPeer). */
  onPeerJoined?(key: string, client: SyncClient): void;
  /** A tab left, timed out, was banned, or we isolated ourselves (its meshPeerKey). */
  onPeerLeft?(key: string): void;
  /** Mesh peers at most (default {@link MAX_MESH_PEERS}). */
  maxPeers?: number;
  /** The channel (default: `new BroadcastChannel(meshChannelName(network))`). */
  channel?: MeshChannel;
  heartbeatMs?: number;
  peerTimeoutMs?: number;
  /** Sync answer timeout, ms (default 10 s). */
  syncTimeoutMs?: number;
  log?: (msg: string) => void;
}

/**
 * The channel name of a network's mesh.
 * @example meshChannelName('dev') // 'tabchain-dev-mesh'
 */
export function meshChannelName(network: string): string {
  return `tabchain-${network}-mesh`;
}

/**
 * Mesh peers at most. A classroom has tens of tabs per browser at most; hellos and heartbeats of
 * new ids beyond it are ignored (no join, no answer), so spoofed ids cannot make us create a sync
 * client and a server per id without end.
 */
export const MAX_MESH_PEERS = 64;

/**
 * The key a mesh identity is scored, banned and synced under (PeerGate, gossip validators,
 * SyncManager): `tab:<id>`, a key space apart from libp2p peer ids — a mesh message "from" the
 * relay's peer id can only ever cost `tab:<relay id>`, never the relay.
 * @example meshPeerKey('12D3KooW…') // 'tab:12D3KooW…'
 */
export function meshPeerKey(id: string): string {
  return `tab:${id}`;
}

/** Remembered announcement keys, at most this many (oldest forgotten first). */
const SEEN_MAX = 4096;
/**
 * A transaction is dropped as a repeat for this long only, ms: a later announcement is a
 * deliberate rebroadcast (outbox, reorg readmission) that a tab which lost it must get — like the
 * txs topic, which keeps gossipsub's per-publish ids for that reason.
 */
const TX_SEEN_MS = 30_000;
/**
 * Largest block or transaction payload accepted from the channel (a block, 1 MiB, plus a margin:
 * the gossip validator charges a block over 1 MiB as invalid).
 */
const MAX_DATA_BYTES = 1_100_000;

interface MeshPeer {
  id: string;
  lastSeen: number;
  client: SyncClient;
  stopServing: () => void;
  handlers: Set<(m: Uint8Array) => void>;
}

/**
 * One tab's endpoint on the mesh.
 * @example
 * ```ts
 * const mesh = new TabMesh({ network: 'dev', id: net.peerId, view, gate: net.gate,
 *   checkBlock: async (f, b) => verdictOf(await net.gossip.checkBlock(f, b)), checkTx: …,
 *   onPeerJoined: (id, c) => net.sync.addVirtualPeer(id, c), onPeerLeft: (id) => net.sync.removePeer(id) });
 * mesh.start();
 * addEventListener('pagehide', () => mesh.stop());
 * ```
 */
export class TabMesh {
  readonly id: string;
  readonly #opts: TabMeshOptions;
  readonly #peers = new Map<string, MeshPeer>();
  /** Announcement key → when it was processed (ms). */
  readonly #seen = new Map<string, number>();
  #channel: MeshChannel | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #isolated = false;
  readonly #onMessage = (e: MessageEvent) => this.#receive(e.data);

  constructor(opts: TabMeshOptions) {
    if (!opts.id) throw new TypeError('TabMesh: id required');
    this.id = opts.id;
    this.#opts = opts;
  }

  /** Ids of the tabs we currently know. @example mesh.peerIds() */
  peerIds(): string[] {
    return [...this.#peers.keys()];
  }

  /** Whether the mesh is running. @example mesh.started */
  get started(): boolean {
    return this.#channel !== undefined;
  }

  /** Joins the channel and says hello. @example mesh.start() */
  start(): void {
    if (this.#channel) return;
    this.#channel = this.#opts.channel ?? (new BroadcastChannel(meshChannelName(this.#opts.network)) as MeshChannel);
    this.#channel.addEventListener('message', this.#onMessage);
    const every = this.#opts.heartbeatMs ?? 5_000;
    this.#timer = setInterval(() => this.#tick(), every);
    (this.#timer as { unref?: () => void }).unref?.();
    if (!this.#isolated) this.#post({ v: 1, kind: 'hello', from: this.id });
  }

  /** Says bye and leaves the channel (call on pagehide). @example mesh.stop() */
  stop(): void {
    const ch = this.#channel;
    if (!ch) return;
    if (!this.#isolated) this.#post({ v: 1, kind: 'bye', from: this.id });
    for (const id of [...this.#peers.keys()]) this.#drop(id);
    ch.removeEventListener('message', this.#onMessage);
    if (!this.#opts.channel) ch.close();
    this.#channel = undefined;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * The isolate switch for mesh peers: on → bye, drop every tab, ignore the channel; off → hello.
   * @example mesh.setIsolated(true)
   */
  setIsolated(on: boolean): void {
    if (on === this.#isolated) return;
    if (on) {
      if (this.#channel) this.#post({ v: 1, kind: 'bye', from: this.id });
      this.#isolated = true;
      for (const id of [...this.#peers.keys()]) this.#drop(id);
    } else {
      this.#isolated = false;
      if (this.#channel) this.#post({ v: 1, kind: 'hello', from: this.id });
    }
  }

  /** Whether the switch is on. @example mesh.isolated */
  get isolated(): boolean {
    return this.#isolated;
  }

  /**
   * Announces a block of ours to every tab; returns how many tabs were there to hear it.
   * @example await mesh.broadcastBlock(encodeBlock(block))
   */
  broadcastBlock(bytes: Uint8Array): number {
    if (bytes.length >= HEADER_BYTES) this.#remember(blockKey(bytes));
    return this.#announce('block', bytes);
  }

  /** Announces a transaction of ours. @example mesh.broadcastTx(encodeTx(tx)) */
  broadcastTx(bytes: Uint8Array): number {
    // Not remembered: a rebroadcast of ours (outbox) must reach tabs that joined since.
    return this.#announce('tx', bytes);
  }

  #announce(kind: 'block' | 'tx', bytes: Uint8Array): number {
    if (!this.#channel || this.#isolated || this.#peers.size === 0) return 0;
    this.#post({ v: 1, kind, from: this.id, data: bytes });
    return this.#peers.size;
  }

  #post(env: MeshEnvelope): void {
    try {
      this.#channel?.postMessage(env);
    } catch (e) {
      this.#opts.log?.(`mesh: post failed: ${(e as Error).message}`);
    }
  }

  #tick(): void {
    if (this.#isolated || !this.#channel) return;
    this.#post({ v: 1, kind: 'heartbeat', from: this.id });
    const limit = Date.now() - (this.#opts.peerTimeoutMs ?? 15_000);
    for (const p of [...this.#peers.values()]) if (p.lastSeen < limit) this.#drop(p.id);
  }

  #receive(raw: unknown): void {
    if (this.#isolated || !this.#channel) return;
    const env = parseEnvelope(raw);
    if (!env || env.from === this.id) return;
    if (env.to !== undefined && env.to !== this.id) return; // point-to-point for someone else
    const from = env.from;
    if (this.#opts.gate.denies(meshPeerKey(from))) {
      if (this.#peers.has(from)) this.#drop(from);
      return;
    }
    if (env.kind === 'bye') {
      this.#drop(from);
      return;
    }
    let peer = this.#peers.get(from);
    if (!peer) {
      // A new id beyond the cap: ignored (no join, no answer).
      if (this.#peers.size >= (this.#opts.maxPeers ?? MAX_MESH_PEERS)) return;
      peer = this.#join(from);
    }
    peer.lastSeen = Date.now();
    switch (env.kind) {
      case 'hello':
        this.#post({ v: 1, kind: 'present', from: this.id, to: from });
        return;
      case 'sync':
        if (env.data) for (const h of [...peer.handlers]) h(env.data);
        return;
      case 'block':
      case 'tx':
        if (env.data) void this.#gossip(from, env.kind, env.data);
        return;
      default:
        return; // present, heartbeat: presence only
    }
  }

  async #gossip(from: string, kind: 'block' | 'tx', data: Uint8Array): Promise<void> {
    const key = meshPeerKey(from);
    if (kind === 'block' && data.length < HEADER_BYTES) {
      if (this.#opts.gate.penalize(key, 'malformedFrame', 'mesh block shorter than a header').decision === 'ban') this.#drop(from);
      return;
    }
    const seenKey = kind === 'block' ? blockKey(data) : `t:${bytesToHex(sha256(data))}`;
    const at = this.#seen.get(seenKey);
    // Already processed (from the mesh or gossipsub): a cheap drop, never a re-broadcast.
    if (at !== undefined && (kind === 'block' || Date.now() - at < TX_SEEN_MS)) return;
    this.#remember(seenKey);
    let verdict: MeshVerdict;
    try {
      verdict = kind === 'block' ? await this.#opts.checkBlock(key, data) : await this.#opts.checkTx(key, data);
    } catch (e) {
      this.#opts.log?.(`mesh: ${kind} from ${from} not processed: ${(e as Error).message}`);
      this.#seen.delete(seenKey);
      return;
    }
    // A penalty may have banned it: the gate now denies it.
    if (verdict === 'reject' && this.#opts.gate.denies(key)) this.#drop(from);
  }

  /**
   * Marks a block processed (the node processed it, whatever carried it: gossipsub, sync), so a
   * repeat over the mesh is dropped before the node.
   * @example node.events.on('block', ({ hash }) => mesh.markSeenBlockHash(hash))
   */
  markSeenBlockHash(displayHex: string): void {
    this.#remember(`b:${displayHex}`);
  }

  #remember(key: string): void {
    this.#seen.delete(key); // re-inserted last: the oldest entries go first
    this.#seen.set(key, Date.now());
    if (this.#seen.size > SEEN_MAX) {
      const oldest = this.#seen.keys().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
  }

  #join(id: string): MeshPeer {
    const key = meshPeerKey(id);
    const handlers = new Set<(m: Uint8Array) => void>();
    const port: SyncPort = {
      send: (message) => this.#post({ v: 1, kind: 'sync', from: this.id, to: id, data: message }),
      subscribe: (h) => {
        handlers.add(h);
        return () => handlers.delete(h);
      },
    };
    const client = new SyncClient(port, {
      timeoutMs: this.#opts.syncTimeoutMs,
      onOffence: (offence, err) => this.#opts.gate.penalize(key, offence, `mesh sync: ${err.message}`),
    });
    const stopServing = serveSyncPort(port, this.#opts.view, { onError: (e) => this.#opts.log?.(`mesh: serving ${id} failed: ${(e as Error).message}`) });
    const peer: MeshPeer = { id, lastSeen: Date.now(), client, stopServing, handlers };
    this.#peers.set(id, peer);
    this.#opts.log?.(`mesh: tab ${id} joined`);
    this.#opts.onPeerJoined?.(key, client);
    return peer;
  }

  #drop(id: string): void {
    const p = this.#peers.get(id);
    if (!p) return;
    this.#peers.delete(id);
    p.client.close();
    p.stopServing();
    p.handlers.clear();
    this.#opts.log?.(`mesh: tab ${id} left`);
    this.#opts.onPeerLeft?.(meshPeerKey(id));
  }
}

function blockKey(bytes: Uint8Array): string {
  return `b:${hashToHex(blockHash(decodeHeader(bytes.subarray(0, HEADER_BYTES))))}`;
}

const KINDS = new Set(['hello', 'present', 'heartbeat', 'bye', 'sync', 'block', 'tx']);

/** Checks a channel message's shape (other code of the origin may use the channel too). */
function parseEnvelope(raw: unknown): MeshEnvelope | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const e = raw as Partial<MeshEnvelope>;
  if (e.v !== 1 || typeof e.kind !== 'string' || !KINDS.has(e.kind)) return undefined;
  if (typeof e.from !== 'string' || e.from.length === 0 || e.from.length > 128) return undefined;
  if (e.to !== undefined && typeof e.to !== 'string') return undefined;
  // A sync answer may fill a whole frame (two blocks of 700 KB); blocks and transactions not.
  const maxData = e.kind === 'sync' ? MAX_MESSAGE_BYTES : MAX_DATA_BYTES;
  if (e.data !== undefined && (!(e.data instanceof Uint8Array) || e.data.length > maxData)) return undefined;
  return e as MeshEnvelope;
}

/** The parts of a network a mesh plugs into (a NetworkService has them all: gate, gossip, sync). */
export interface MeshParts {
  id: string;
  network: string;
  chain: ChainAccess;
  gate: PeerGate;
  gossip: Pick<ChainGossip, 'checkBlock' | 'checkTx'>;
  sync: Pick<SyncManager, 'addVirtualPeer' | 'removeVirtualPeer'>;
  channel?: MeshChannel;
  heartbeatMs?: number;
  peerTimeoutMs?: number;
  log?: (msg: string) => void;
  /** Told when the set of mesh tabs changes (their mesh ids; the meshPeerKey of a tab that joined). */
  onPeersChanged?: (ids: string[], joined?: string) => void;
}

/**
 * A {@link TabMesh} wired into a network's own sync manager and gossip validators (so there is
 * one sync and one validation path for both carriers). Not started.
 * @example
 * ```ts
 * const mesh = createTabMesh({ id: net.peerId, network, chain: chainAccessOf(node), gate: net.gate, gossip: net.gossip, sync: net.sync });
 * mesh.start();
 * ```
 */
export function createTabMesh(parts: MeshParts): TabMesh {
  const { chain } = parts;
  const view = chainViewOf({
    params: { name: chain.params.name as never, chainId: chain.params.chainId, genesisHash: chain.params.genesisHash },
    index: chain.headers,
    activeTip: () => chain.tip(),
    getBlocksBytes: (hs) => chain.getBlocksBytes(hs),
  });
  const mesh: TabMesh = new TabMesh({
    network: parts.network,
    id: parts.id,
    view,
    gate: parts.gate,
    channel: parts.channel,
    heartbeatMs: parts.heartbeatMs,
    peerTimeoutMs: parts.peerTimeoutMs,
    log: parts.log,
    checkBlock: (from, bytes) => parts.gossip.checkBlock(from, bytes),
    checkTx: (from, bytes) => parts.gossip.checkTx(from, bytes),
    onPeerJoined: (key, client) => {
      parts.sync.addVirtualPeer(key, client);
      parts.onPeersChanged?.(mesh.peerIds(), key);
    },
    onPeerLeft: (key) => {
      parts.sync.removeVirtualPeer(key);
      parts.onPeersChanged?.(mesh.peerIds());
    },
  });
  return mesh;
}
