/**
 * Headers-first sync's step (Bitcoin Core's `ProcessNewBlockHeaders`): headers are checked in
 * order — proof of work against their own bits, then context against the parent — and stored as
 * 'headers-only', without bodies. The first header that is invalid, has an unknown parent or is
 * too far in the future (TIME_TOO_NEW: held, never a verdict) ends the run.
 * @module
 */
import { RuleError, blockHash, checkProofOfWork, hashToHex, type BlockHeader, type HeaderEntry, type RuleCode } from '../chain/index.ts';
import type { ActiveChain } from './active-chain.ts';

/** What {@link FullNode.processHeaders} did. */
export interface ProcessHeadersResult {
  /** Headers newly added to the index (as 'headers-only'). */
  added: number;
  /** The first header that broke a rule; processing stopped there (it and its descendants are invalid). */
  invalid?: { hash: string; code: RuleCode };
  /** The first header whose parent is unknown; processing stopped there. */
  unconnected?: string;
  /** The first header too far in the future (TIME_TOO_NEW); processing stopped there, nothing marked. */
  held?: string;
  /** Bodies to fetch, oldest first, along the best header chain (see {@link FullNode.missingBodies}). */
  needBodies: string[];
}

/**
 * Checks and stores `headers` in order (one store write); `added` are the entries now in the
 * index as 'headers-only' (their orphans can go through the block path). `result.needBodies` is
 * left for the caller.
 * @example const { result, added } = await acceptHeaders(chain, headers, now)
 */
export async function acceptHeaders(chain: ActiveChain, headers: BlockHeader[], now: number): Promise<{ result: ProcessHeadersResult; added: HeaderEntry[] }> {
  const result: ProcessHeadersResult = { added: 0, needBodies: [] };
  const toStore: HeaderEntry[] = [];
  for (const header of headers) {
    let hash: Uint8Array;
    try {
      hash = blockHash(header);
    } catch {
      result.invalid = { hash: '', code: 'MALFORMED' };
      break;
    }
    const hex = hashToHex(hash);
    const known = chain.headers.get(hash);
    if (known) {
      if (known.status === 'invalid') {
        result.invalid = { hash: hex, code: chain.invalidCode(hex) ?? 'BAD_PREV' };
        break;
      }
      continue;
    }
    const prev = chain.headers.get(header.prevHash);
    if (!prev) {
      result.unconnected = hex;
      break;
    }
    try {
      checkProofOfWork(hash, header.bits, chain.params.powLimit);
    } catch (e) {
      if (!(e instanceof RuleError)) throw e;
      result.invalid = { hash: hex, code: e.code };
      break;
    }
    try {
      chain.checkContext(header, prev, now);
    } catch (e) {
      if (!(e instanceof RuleError)) throw e;
      if (e.code === 'TIME_TOO_NEW') {
        result.held = hex;
        break;
      }
      toStore.push(chain.headers.add(header, { status: 'invalid', hasBody: false }));
      chain.rememberInvalid(hex, e.code);
      result.invalid = { hash: hex, code: e.code };
      break;
    }
    toStore.push(chain.headers.add(header, { status: 'headers-only', hasBody: false }));
    result.added++;
  }
  if (toStore.length > 0) await chain.store.putHeaders(toStore.map((e) => ({ ...e })));
  return { result, added: toStore.filter((e) => e.status !== 'invalid') };
}
