/**
 * Storage layer: the ChainStore interface, its browser (IndexedDB) and memory implementations,
 * profiles, and storage errors. The Node-only LevelStore is NOT re-exported here (it pulls in a
 * native addon and node:fs); import it from './level-store.ts'.
 * @module
 */
export * from './chain-store.ts';
export * from './errors.ts';
export * from './memory-store.ts';
export * from './idb-store.ts';
export * from './profiles.ts';
export { EngineChainStore } from './engine-chain-store.ts';
export { encodeValue, decodeValue } from './value-codec.ts';
export * from './verify-store.ts';
