/**
 * The network layer's public surface: protocol ids, frames, sync messages and their codec, peer
 * scoring, the carrier-agnostic sync server/client and their libp2p adapter, and the network
 * service (libp2p node factory, peer gate, peer manager, gossip, sync manager).
 * @module
 */
export * from './protocol.ts';
export * from './errors.ts';
export * from './frames.ts';
export * from './messages.ts';
export * from './peer-score.ts';
export * from './sync-server.ts';
export * from './sync-client.ts';
export * from './libp2p-sync.ts';
export * from './chain-access.ts';
export * from './emitter.ts';
export * from './peer-gate.ts';
export * from './libp2p-node.ts';
export * from './gossip.ts';
export * from './sync-manager.ts';
export * from './peer-manager.ts';
export * from './network-service.ts';
export * from './tab-mesh.ts';
// Not re-exported, being platform-specific: transports-node.ts (TCP, Node only) and
// transports-browser.ts (WebRTC, browser only).
