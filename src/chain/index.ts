/**
 * The public surface of the consensus core. Every module of src/chain re-exports here; other
 * layers import from this file.
 * @module
 */
export * from './types.ts';
export * from './errors.ts';
export * from './bytes.ts';
export * from './hash.ts';
export * from './header.ts';
export * from './pow.ts';
export * from './asert.ts';
export * from './header-index.ts';
export * from './orphans.ts';
export * from './codec.ts';
export * from './keys.ts';
export * from './tx.ts';
export * from './sigcache.ts';
export * from './sig-precheck.ts';
export * from './block.ts';
export * from './params.ts';
export * from './state.ts';
export * from './apply.ts';
export * from './validate.ts';
export * from './mempool.ts';
export * from './template.ts';
