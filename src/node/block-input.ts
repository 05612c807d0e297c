/**
 * The first step of a node's block path: a block as it came (bytes from a peer, or a Block from
 * the miner or the local API) → the decoded block, its bytes and its hash — or the MALFORMED
 * verdict, with whatever hash the input still yields. And the test that tells a mutated body
 * (one that does not match its header) from a bad block.
 * @module
 */
import { RuleError, blockHash, decodeBlock, encodeBlock, equalBytes, hashToHex, merkleRoot, sha256d, type Block, type HeaderEntry, type NetworkParams } from '../chain/index.ts';
import type { ProcessBlockResult, Source } from './events.ts';

/** A block on the node's path, and where it came from. */
export interface BlockWork {
  input: Block | Uint8Array;
  source: Source;
  /** Came without being asked for (gossip): subject to the anti-DoS work check. */
  unrequested?: boolean;
  /** The peer that sent it: an orphan counts against that peer's share of the orphan pool. */
  peer?: string;
  /** The input decoded, if a step before the queue already did (signature preverification). */
  decoded?: DecodedBlock | { invalid: ProcessBlockResult };
}

/** A block that decoded: the block, its encoding, its hash (internal order) and display hex. */
export interface DecodedBlock {
  block: Block;
  bytes: Uint8Array;
  hash: Uint8Array;
  hex: string;
}

/** A decoded block on the path, with its header index entry if the header is known. */
export interface Candidate extends DecodedBlock {
  known: HeaderEntry | undefined;
}

/**
 * Decodes (bytes) or encodes (a Block) the input; MALFORMED if that fails, with the hash of the
 * first 80 bytes (or of the header) when there is one.
 * @example
 * ```ts
 * const d = decodeBlockInput(bytes, params);
 * if ('invalid' in d) return d.invalid;
 * ```
 */
export function decodeBlockInput(input: Block | Uint8Array, params: NetworkParams): DecodedBlock | { invalid: ProcessBlockResult } {
  let block: Block;
  let bytes: Uint8Array;
  if (input instanceof Uint8Array) {
    bytes = input;
    try {
      block = decodeBlock(bytes, params);
    } catch (e) {
      if (!(e instanceof RuleError)) throw e;
      return { invalid: { status: 'invalid', code: 'MALFORMED', hash: bytes.length >= 80 ? hashToHex(sha256d(bytes.subarray(0, 80))) : '' } };
    }
  } else {
    block = input;
    try {
      bytes = encodeBlock(block);
    } catch {
      let hash = '';
      try {
        hash = hashToHex(blockHash(block.header));
      } catch {
        // not even the header encodes
      }
      return { invalid: { status: 'invalid', code: 'MALFORMED', hash } };
    }
  }
  const hash = blockHash(block.header);
  return { block, bytes, hash, hex: hashToHex(hash) };
}

/**
 * Whether the block's merkle root matches its header (a body failing the checks may just be
 * mutated: that says nothing about the header).
 * @example if (!bodyMatchesHeader(block)) return 'mutated'
 */
export function bodyMatchesHeader(block: Block): boolean {
  try {
    return block.txs.length > 0 && equalBytes(merkleRoot(block.txs), block.header.merkleRoot);
  } catch {
    return false;
  }
}
