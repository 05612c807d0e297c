/**
 * Transports of a headless Node node: TCP (Node nodes among themselves), WebSockets (the relay,
 * and browser tabs dialling a Node node's /ws address) and the circuit relay transport (reserving
 * a slot on the relay so that tabs that cannot reach us directly still can through it).
 *
 * Node only: it imports @libp2p/tcp, which needs node:net. The browser has its own list (WebRTC,
 * WebSockets, circuit relay); nothing common imports this file.
 *
 * WebRTC in Node would go through the native node-datachannel module (installed with
 * @libp2p/webrtc, as a per-platform prebuilt binary) — it is not used: a Node node reaches tabs
 * over WebSockets or through the relay.
 * @module
 */
import { tcp } from '@libp2p/tcp';
import { webSockets } from '@libp2p/websockets';
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import type { Libp2pNodeOptions } from './libp2p-node.ts';

/**
 * TCP + WebSockets + circuit relay.
 * @example
 * ```ts
 * const libp2p = await createLibp2pNode({ network: 'dev', transports: nodeTransports(), listen: defaultNodeListen(), gate });
 * ```
 */
export function nodeTransports(): Libp2pNodeOptions['transports'] {
  return [tcp(), webSockets(), circuitRelayTransport({ reservationCompletionTimeout: 10_000 })];
}

/**
 * Default listen addresses of a Node node: TCP and WebSockets on `host` (127.0.0.1: reachable
 * from this machine only) with free ports; plus `/p2p-circuit` (a reservation on the relay we
 * connect to) when `relayed` is set.
 * @example defaultNodeListen('0.0.0.0', true) // ['/ip4/0.0.0.0/tcp/0', '/ip4/0.0.0.0/tcp/0/ws', '/p2p-circuit']
 */
export function defaultNodeListen(host = '127.0.0.1', relayed = false): string[] {
  const family = host.includes(':') ? 'ip6' : 'ip4';
  const out = [`/${family}/${host}/tcp/0`, `/${family}/${host}/tcp/0/ws`];
  if (relayed) out.push('/p2p-circuit');
  return out;
}
