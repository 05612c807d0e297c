/**
 * The network of a headless Node node (`npm run node`, integration tests, benches): TCP and
 * WebSockets listeners, the relay found through its `/bootstrap.json` (or given multiaddrs), the
 * profile's peer key and address book, all attached to a FullNode. Node only (TCP).
 *
 * A Node node joins the same relay as browser tabs: tabs reach it over its WebSocket address or
 * through its circuit relay reservation, Node nodes reach each other over TCP.
 * @module
 */
import { readBootstrap } from '../../p2p/bootstrap.ts';
import { announceOnAddressChange } from '../../p2p/discovery-announce.ts';
import { NetworkService, type NetworkServiceOptions } from '../../p2p/network-service.ts';
import { defaultNodeListen, nodeTransports } from '../../p2p/transports-node.ts';
import type { Libp2pNodeOptions } from '../../p2p/libp2p-node.ts';
import type { AddressBook } from '../../p2p/peer-manager.ts';
import type { PeerScoreConfig } from '../../p2p/peer-score.ts';
import type { ServeBudgetConfig } from '../../p2p/serve-budget.ts';
import type { PrivateKey } from '@libp2p/interface';
import type { FullNode } from '../full-node.ts';
import { attachNetwork } from './attach.ts';
import { loadOrCreatePeerKey } from './peer-key.ts';

export interface HeadlessNetworkOptions {
  /** Relay page URL: its /bootstrap.json is fetched (again on every redial). */
  relay?: string;
  /** Extra multiaddrs to keep connected (a relay, or another node). */
  bootstrap?: string[];
  /** Listen addresses; default TCP + WebSockets on 127.0.0.1 with free ports (+ a circuit reservation when a relay is given). */
  listen?: string[];
  /** Transports; default TCP + WebSockets + circuit relay (`nodeTransports`). The simulation (bench/sim/) passes an in-memory one. */
  transports?: Libp2pNodeOptions['transports'];
  /** Identity; default the profile's stored key (created on first use). */
  privateKey?: PrivateKey;
  /** Default: the node's store (its peer address book). Pass null for none. */
  addressBook?: AddressBook | null;
  targetPeers?: number;
  timing?: NetworkServiceOptions['timing'];
  scores?: Partial<PeerScoreConfig>;
  syncTimeoutMs?: number;
  /** What serving sync to peers may cost (requests and bytes per second; see serve-budget.ts). */
  serveBudget?: Partial<ServeBudgetConfig>;
  syncWindow?: number;
  /** Period of discovery announcements, ms (default 5 s; also announced whenever our addresses change). */
  discoveryIntervalMs?: number;
  /** false: never announce ourselves on the discovery topic (the simulation's nodes know peers from their address books). Default true. */
  announce?: boolean;
  log?: (msg: string) => void;
}

/** A started network with its unwiring. */
export interface HeadlessNetwork {
  net: NetworkService;
  /** Unwires the node's events and stops the network (the node keeps running). */
  stop(): Promise<void>;
}

/**
 * Creates, attaches and starts the network of a started FullNode.
 * @example
 * ```ts
 * const { net, stop } = await startHeadlessNetwork(node, { relay: 'http://127.0.0.1:8080' });
 * console.log(net.peerId, net.multiaddrs());
 * ```
 */
export async function startHeadlessNetwork(node: FullNode, opts: HeadlessNetworkOptions = {}): Promise<HeadlessNetwork> {
  const network = node.params.name;
  const extra = opts.bootstrap ?? [];
  const relay = opts.relay;
  const bootstrap =
    relay === undefined
      ? extra.length > 0
        ? extra
        : undefined
      : async () => {
          try {
            const info = await readBootstrap(new URL('/bootstrap.json', relay));
            if (info.network !== network) throw new Error(`the relay at ${relay} runs ${info.network}, this node ${network}`);
            return [...info.multiaddrs, ...extra];
          } catch (e) {
            opts.log?.(`bootstrap: ${(e as Error).message}`);
            return extra;
          }
        };
  const net = await NetworkService.create({
    network,
    transports: opts.transports ?? nodeTransports(),
    listen: opts.listen ?? defaultNodeListen('127.0.0.1', relay !== undefined || extra.length > 0),
    privateKey: opts.privateKey ?? (await loadOrCreatePeerKey(node.store)),
    bootstrap,
    addressBook: opts.addressBook === null ? undefined : (opts.addressBook ?? node.store),
    targetPeers: opts.targetPeers,
    timing: opts.timing,
    scores: opts.scores,
    syncTimeoutMs: opts.syncTimeoutMs,
    serveBudget: opts.serveBudget,
    syncWindow: opts.syncWindow,
    discoveryIntervalMs: opts.discoveryIntervalMs ?? 5000,
    announce: opts.announce,
    log: opts.log,
  });
  const detach = attachNetwork(node, net);
  // Announce at once when our addresses change (the relay reservation is made): nodes already on
  // the relay hear of us now rather than at our next periodic announcement.
  const stopAnnouncing = opts.announce === false ? () => undefined : announceOnAddressChange(net.libp2p, network);
  try {
    await net.start();
  } catch (e) {
    stopAnnouncing();
    detach();
    await net.stop().catch(() => undefined);
    throw e;
  }
  return {
    net,
    stop: async () => {
      stopAnnouncing();
      detach();
      await net.stop();
    },
  };
}
