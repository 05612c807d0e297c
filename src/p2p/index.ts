/**
 * The network layer's public surface: protocol ids, frames, sync messages and their codec, peer
 * scoring, the carrier-agnostic sync server/client and their libp2p adapter.
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
export * from './gater.ts';
