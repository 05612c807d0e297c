/**
 * The network of one node, platform-neutral: a libp2p node (libp2p-node.ts, with the platform's
 * transports) plus
 * - {@link PeerManager}: bootstrap relay kept connected, discovered peers dialled up to a target,
 *   address book, RTTs, bans and isolation;
 * - {@link ChainGossip}: block and transaction gossip validated by the node;
 * - {@link SyncManager}: headers-first sync from the best peer, bodies from several, `synced`;
 * - the sync protocol server (libp2p-sync.ts) answering from the node's chain.
 *
 * It knows the node only through {@link ChainAccess} (src/node/network/attach.ts's `attachNetwork`
 * adapts a FullNode and feeds it the node's events). The browser and the headless node differ
 * only in the transports and listen addresses they pass to {@link NetworkService.create}.
 * @module
 */
import type { NetworkName } from '../chain/index.ts';
import type { ChainAccess } from './chain-access.ts';
import { Emitter } from './emitter.ts';
import { ChainGossip } from './gossip.ts';
import { createLibp2pNode, type Libp2pNodeOptions, type TabchainLibp2p } from './libp2p-node.ts';
import { PeerGate } from './peer-gate.ts';
import { PeerScores, type PeerScoreConfig } from './peer-score.ts';
import { PeerManager, type AddressBook, type DialPolicy, type NetworkPeer, type PeerManagerTiming } from './peer-manager.ts';
import { protocolIds } from './protocol.ts';
import { chainViewOf } from './sync-server.ts';
import { SyncManager } from './sync-manager.ts';

/** Events of the network. */
export interface NetworkEvents {
  /** The connected peers changed (connect, disconnect, RTT). Throttled. */
  peers: { peers: NetworkPeer[] };
  /** Sync progress, counted from the start of each phase. */
  'sync-progress': { phase: 'headers' | 'blocks'; done: number; total: number };
  /** No peer claims more work than our tip (true), or one does (false). */
  synced: { synced: boolean };
  /** At least one open connection (true) or none (false). */
  online: { online: boolean };
  /** A peer was banned (and hung up). */
  banned: { peerId: string; until: number; offence: string; why?: string };
}

export interface NetworkServiceOptions {
  /** Network name (protocol ids, topics). */
  network: string;
  libp2p: TabchainLibp2p;
  /** The gate given to createLibp2pNode. */
  gate: PeerGate;
  /** Relay addresses to keep connected, or a function returning them (called again on each redial). */
  bootstrap?: string[] | (() => Promise<string[]>);
  addressBook?: AddressBook;
  /** Direct chain peers wanted (default 8). */
  targetPeers?: number;
  dialPolicy?: DialPolicy;
  log?: (msg: string) => void;
  timing?: PeerManagerTiming & {
    /** Status poll period, ms (default 10 s). */
    statusEveryMs?: number;
    /** Minimum spacing of 'peers' events, ms (default 250). */
    peersEventMs?: number;
  };
  /** Sync: bodies requested ahead of the tip at most (default 1024). */
  syncWindow?: number;
}

/** Options of {@link NetworkService.create}: the libp2p node's and the service's, minus what create makes. */
export type CreateNetworkOptions = Omit<Libp2pNodeOptions, 'gate' | 'start'> &
  Omit<NetworkServiceOptions, 'libp2p' | 'gate'> & {
    /** Peer score configuration (ban threshold, weights…). */
    scores?: Partial<PeerScoreConfig>;
  };

/**
 * A node's network.
 * @example
 * ```ts
 * const net = await NetworkService.create({ network: 'dev', transports: nodeTransports(), listen: defaultNodeListen(), bootstrap });
 * attachNetwork(node, net); // src/node/network/attach.ts
 * await net.start();
 * net.events.on('sync-progress', ({ phase, done, total }) => render(phase, done, total));
 * ```
 */
export class NetworkService {
  readonly events = new Emitter<NetworkEvents>();
  readonly libp2p: TabchainLibp2p;
  readonly gate: PeerGate;
  readonly network: string;
  readonly peerManager: PeerManager;
  readonly sync: SyncManager;
  readonly gossip: ChainGossip;
  readonly #opts: NetworkServiceOptions;
  #chain: ChainAccess | undefined;
  #state: 'new' | 'running' | 'stopped' = 'new';
  #online = false;
  #peersTimer: ReturnType<typeof setTimeout> | undefined;
  #offs: (() => void)[] = [];

  /**
   * Creates the libp2p node (with a fresh PeerGate) and the service around it.
   * @example const net = await NetworkService.create({ network: 'dev', transports: nodeTransports(), listen: defaultNodeListen() })
   */
  static async create(opts: CreateNetworkOptions): Promise<NetworkService> {
    const gate = new PeerGate(new PeerScores(opts.scores));
    const libp2p = await createLibp2pNode({ ...opts, gate, start: false });
    return new NetworkService({ ...opts, libp2p, gate });
  }

  constructor(opts: NetworkServiceOptions) {
    this.#opts = opts;
    this.network = opts.network;
    this.libp2p = opts.libp2p;
    this.gate = opts.gate;
    const ids = protocolIds(opts.network);
    this.peerManager = new PeerManager({
      libp2p: opts.libp2p,
      gate: opts.gate,
      syncProtocol: ids.sync,
      bootstrap: opts.bootstrap,
      addressBook: opts.addressBook,
      targetPeers: opts.targetPeers,
      dialPolicy: opts.dialPolicy,
      timing: opts.timing,
      log: opts.log,
      onChainPeer: (id) => this.sync.addPeer(id),
      onPeerGone: (id) => this.sync.removePeer(id),
      isAhead: (id) => this.sync.isAhead(id),
      onChange: () => this.#peersChanged(),
    });
    this.sync = new SyncManager({ libp2p: opts.libp2p, gate: opts.gate, statusEveryMs: opts.timing?.statusEveryMs, window: opts.syncWindow, log: opts.log });
    this.gossip = new ChainGossip({ libp2p: opts.libp2p, network: opts.network, gate: opts.gate, log: opts.log, onOrphan: (peer) => this.sync.requestFrom(peer) });
    this.#offs.push(
      this.sync.events.on('sync-progress', (p) => this.events.emit('sync-progress', p)),
      this.sync.events.on('synced', (s) => this.events.emit('synced', s)),
      this.sync.events.on('status', () => this.#peersChanged()),
      this.gate.onPenalty((p) => {
        if (p.decision !== 'ban') return;
        this.sync.removePeer(p.peer);
        this.events.emit('banned', { peerId: p.peer, until: this.gate.scores.bannedUntil(p.peer) ?? Date.now(), offence: p.offence, ...(p.why ? { why: p.why } : {}) });
      }),
    );
  }

  /**
   * The chain to serve, validate against and sync (attachNetwork does this). Before start().
   * @example net.attach(chainAccess)
   */
  attach(chain: ChainAccess): void {
    if (chain.params.name !== this.network) throw new TypeError(`NetworkService: the chain is ${chain.params.name}, the network ${this.network}`);
    this.#chain = chain;
    this.gossip.attach(chain);
    this.sync.attach(chain);
    this.libp2p.services.sync.setChainView(
      chainViewOf({
        params: { name: chain.params.name as NetworkName, chainId: chain.params.chainId, genesisHash: chain.params.genesisHash },
        index: chain.headers,
        activeTip: () => chain.tip(),
        getBlocksBytes: (hs) => chain.getBlocksBytes(hs),
      }),
    );
  }

  /** Our libp2p peer id. @example net.peerId // '12D3KooW…' */
  get peerId(): string {
    return this.libp2p.peerId.toString();
  }

  /** Whether at least one connection is open. @example net.online */
  get online(): boolean {
    return this.libp2p.getConnections().some((c) => c.status === 'open');
  }

  /** Whether no peer claims more work than our tip. @example net.synced */
  get synced(): boolean {
    return this.sync.synced;
  }

  /** Whether the isolate switch is on. @example net.isolated */
  get isolated(): boolean {
    return this.gate.isolated;
  }

  /** Our listen addresses (with /p2p/<id>). @example net.multiaddrs() */
  multiaddrs(): string[] {
    return this.libp2p.getMultiaddrs().map((m) => m.toString());
  }

  /** Connected peers. @example net.peers().filter((p) => !p.isRelay).length */
  peers(): NetworkPeer[] {
    return this.peerManager.peers((id) => this.sync.statusOf(id)?.height);
  }

  /**
   * Starts libp2p, the sync server, gossip, dialling and sync. Requires {@link attach}.
   * @example await net.start()
   */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new Error(`NetworkService.start: already ${this.#state}`);
    if (!this.#chain) throw new Error('NetworkService.start: attach a chain first');
    this.#state = 'running';
    await this.libp2p.start();
    this.gossip.start();
    this.sync.start();
    await this.peerManager.start();
    this.#peersChanged();
  }

  /** Stops everything (libp2p included). @example await net.stop() */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    const wasRunning = this.#state === 'running';
    this.#state = 'stopped';
    if (this.#peersTimer !== undefined) clearTimeout(this.#peersTimer);
    for (const off of this.#offs) off();
    this.#offs = [];
    this.peerManager.stop();
    this.gossip.stop();
    // Stopping libp2p aborts the sync loop's requests in flight, so the loop ends at once.
    const syncStopped = this.sync.stop();
    if (wasRunning) await this.libp2p.stop();
    await syncStopped;
  }

  /**
   * Isolates the node (drops and refuses every peer but `allow`) or ends isolation (redials).
   * @example net.setIsolated(true); net.setIsolated(false)
   */
  setIsolated(on: boolean, opts: { allow?: string[] } = {}): void {
    this.gate.setIsolated(on, opts.allow ?? []);
    this.peerManager.enforceGate();
    this.sync.chainChanged();
  }

  /** Publishes one of our blocks. Resolves with the number of peers it was sent to. @example await net.broadcastBlock(bytes) */
  broadcastBlock(bytes: Uint8Array): Promise<number> {
    return this.gossip.publishBlock(bytes);
  }

  /** Publishes one of our transactions. @example await net.broadcastTx(bytes) */
  broadcastTx(bytes: Uint8Array): Promise<number> {
    return this.gossip.publishTx(bytes);
  }

  /** Our tip changed: re-evaluate `synced`. @example node.events.on('tip', () => net.chainChanged()) */
  chainChanged(): void {
    this.sync.chainChanged();
  }

  /** Asks every peer for its status now (and syncs if one is ahead). @example net.syncNow() */
  syncNow(): void {
    for (const id of this.sync.peerIds()) this.sync.requestFrom(id);
    this.sync.kick();
  }

  #peersChanged(): void {
    if (this.#state !== 'running') return;
    const online = this.online;
    if (online !== this.#online) {
      this.#online = online;
      this.events.emit('online', { online });
    }
    if (this.#peersTimer !== undefined) return;
    this.#peersTimer = setTimeout(() => {
      this.#peersTimer = undefined;
      if (this.#state === 'running') this.events.emit('peers', { peers: this.peers() });
    }, this.#opts.timing?.peersEventMs ?? 250);
    (this.#peersTimer as { unref?: () => void }).unref?.();
  }
}
