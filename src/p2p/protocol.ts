/**
 * Protocol ids and gossip topics of one tabchain network, `/tabchain/<network>/<name>/<version>`
 * (docs/ARCHITECTURE.md §The libp2p stack and transports). The network name is part of every id,
 * so nodes of different networks (main, dev, test) never negotiate a stream or share a gossip
 * topic even when they meet on the same relay.
 *
 * This file has no imports so that the relay (which may import nothing else from src/) can use it.
 * @module
 */

/** The ids one network speaks. */
export interface ProtocolIds {
  /** libp2p stream protocol of the request/response sync protocol (status, headers, blocks). */
  sync: string;
  /**
   * The same messages, many requests on one stream (sync-session.ts): `/tabchain/<network>/sync/2`.
   * Served beside `sync` (old nodes speak only that one).
   */
  syncSession: string;
  /** gossipsub topic of new blocks. */
  blocksTopic: string;
  /** gossipsub topic of new transactions. */
  txsTopic: string;
  /** gossipsub topic of @libp2p/pubsub-peer-discovery (peers announce their addresses). */
  discoveryTopic: string;
}

/** Network names are short lowercase words (they end up in protocol ids and file names). */
const NETWORK_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;

/**
 * Whether a string is usable as a network name in protocol ids.
 * @example
 * ```ts
 * isNetworkName('main') // true
 * isNetworkName('Main/1') // false
 * ```
 */
export function isNetworkName(network: string): boolean {
  return typeof network === 'string' && NETWORK_NAME.test(network);
}

/**
 * The protocol ids and topics of a network.
 * @example
 * ```ts
 * protocolIds('dev').sync // '/tabchain/dev/sync/1'
 * protocolIds('dev').syncSession // '/tabchain/dev/sync/2'
 * protocolIds('dev').blocksTopic // '/tabchain/dev/blocks/1'
 * ```
 */
export function protocolIds(network: string): ProtocolIds {
  if (!isNetworkName(network)) throw new TypeError(`protocolIds: bad network name ${JSON.stringify(network)}`);
  const id = (name: string, version = 1) => `/tabchain/${network}/${name}/${version}`;
  return Object.freeze({
    sync: id('sync'),
    syncSession: id('sync', 2),
    blocksTopic: id('blocks'),
    txsTopic: id('txs'),
    discoveryTopic: id('discovery'),
  });
}
