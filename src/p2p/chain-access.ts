/**
 * What the network layer needs of a node's chain, as a structural interface: src/p2p may not
 * import src/node (docs/ARCHITECTURE.md §Layout and dependency direction), so src/node/network/attach.ts
 * adapts its FullNode to this shape and hands it to {@link NetworkService.attach}.
 *
 * Every block and transaction from the network goes through `processBlock` / `processTx`, the
 * node's ONE serialized path; the verdicts below are the FullNode's results (a subset of their
 * fields), which the gossip validators and the sync manager turn into accept / ignore / reject and
 * peer penalties.
 * @module
 */
import { MUTATION_CODES, type BlockHeader, type HeaderEntry, type HeaderIndex, type RuleCode } from '../chain/index.ts';

/**
 * What became of a block. FullNode's `ProcessBlockResult` (src/node/events.ts, where each status
 * is explained) is this with `code` narrowed to a RuleCode: the statuses are written once, here,
 * since src/p2p may not import src/node.
 */
export interface BlockVerdict {
  status: 'extended' | 'reorged' | 'orphan' | 'duplicate' | 'side' | 'held' | 'low-work' | 'invalid';
  code?: string;
  /** Display hex ('' if the bytes did not even hold a header). */
  hash: string;
  height?: number;
}

/** What became of a transaction (FullNode's `ProcessTxResult` is this with `code` a RuleCode). */
export interface TxVerdict {
  status: 'accepted' | 'duplicate' | 'invalid';
  /** Accepted only as waiting behind a nonce gap: kept, not relayed. */
  future?: true;
  code?: string;
  /** Display hex; '' when the bytes did not decode. */
  txid: string;
}

/** What a batch of headers did (FullNode `processHeaders`). */
export interface HeadersVerdict {
  added: number;
  invalid?: { hash: string; code: string };
  unconnected?: string;
  held?: string;
  needBodies: string[];
}

/** The chain as the network sees it. */
export interface ChainAccess {
  readonly params: { readonly name: string; readonly chainId: number; readonly genesisHash: Uint8Array; readonly powLimit: bigint };
  /** The node's header index (read only: locators, serving headers, looking up hashes). */
  readonly headers: HeaderIndex;
  /** The active (connected) tip. */
  tip(): HeaderEntry;
  /** Encoded blocks by hash (internal order), in order, undefined where not stored: one store read. */
  getBlocksBytes(hashes: Uint8Array[]): Promise<(Uint8Array | undefined)[]>;
  /**
   * An unrequested block from peer `from` (gossip) through the node's block path: one on a branch
   * far below the tip's work is answered 'low-work' and not stored (blocks sync asked for go
   * through {@link processBlocks}); an orphan counts against `from`'s share of the orphan pool.
   */
  processBlock(bytes: Uint8Array, from: string): Promise<BlockVerdict>;
  /**
   * Blocks from peers through the node's block path as ONE step, in order (a run of consecutive
   * blocks during sync: the node writes their connects together). Verdicts in input order.
   */
  processBlocks(bytes: Uint8Array[]): Promise<BlockVerdict[]>;
  /** A transaction from peer `from` through the node's transaction path. */
  processTx(bytes: Uint8Array, from: string): Promise<TxVerdict>;
  /** Headers-first: validate and store headers (no bodies). */
  processHeaders(headers: BlockHeader[]): Promise<HeadersVerdict>;
  /** Display hashes of bodies to fetch along the best header chain, oldest first, at most `max`. */
  missingBodies(max: number): string[];
  /** Display hashes of parents that orphan blocks wait for. */
  missingParents(): string[];
  /** The network's verdict on whether the node has caught up (the miner waits for it). */
  setSynced(synced: boolean): void;
}

/**
 * Transaction rule codes no honest peer relays: they do not depend on the chain state or the
 * mempool (a malformed or badly signed transaction, another chain's, oversized, bad amounts, a
 * coinbase). Contextual failures (nonce, funds, fee, items) happen to honest peers whose tip or
 * mempool differs from ours for a moment, so they are ignored without penalty — as Bitcoin Core
 * punishes only consensus-invalid transactions, not mempool policy.
 */
export const PUNISHABLE_TX_CODES: ReadonlySet<string> = new Set<RuleCode>(['MALFORMED', 'BAD_SIGNATURE', 'WRONG_CHAIN', 'TX_TOO_LARGE', 'BAD_AMOUNT', 'BAD_COINBASE']);

/**
 * Whether an invalid-block code only says the body does not match its header (BAD_MERKLE,
 * DUPLICATE_TX: Core's BLOCK_MUTATED) — the header may be fine and someone mangled the body.
 * @example if (isMutationCode(v.code)) return 'ignore'
 */
export function isMutationCode(code: string | undefined): boolean {
  return code !== undefined && MUTATION_CODES.has(code);
}
