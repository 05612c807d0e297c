/**
 * The answering side of the sync protocol, independent of the carrier: a function from a request
 * to its answer over a small {@link ChainView} of the node's chain, plus {@link chainViewOf}, the
 * view over src/chain's HeaderIndex and a block-bytes getter (the FullNode passes its store).
 *
 * What it serves (Bitcoin Core's `getheaders` / `getdata` handlers in net_processing.cpp):
 * - `getStatus` → the active tip, height, chainwork and genesis;
 * - `getHeaders` → headers after the locator's fork point along the active chain, at most `max`
 *   (≤ 2000), stopping after `stopHash`;
 * - `getBlocks` → the bodies we have, in request order, as many as fit one message; the others
 *   in `notFound`; a hash asked for twice is answered once. Only blocks of the active chain are
 *   served (like Core, which serves only blocks it validated): a body we stored but did not
 *   connect might be invalid.
 * @module
 */
import { hashToHex, type HeaderEntry, type HeaderIndex, type NetworkParams, type BlockHeader } from '../chain/index.ts';
import { blocksThatFit, MAX_BLOCK_BYTES, MAX_HEADERS_PER_REQUEST, type SyncRequest, type SyncResponse, type SyncStatus } from './messages.ts';

/** What the sync server needs to know about the node's chain. Methods may be async (storage). */
export interface ChainView {
  /** The node's status (network, active tip, chainwork, genesis). */
  status(): SyncStatus | Promise<SyncStatus>;
  /** Headers after the fork point of `locator` along the active chain, at most `max`, ending at `stop` if reached. */
  headersAfter(locator: readonly Uint8Array[], max: number, stop: Uint8Array | null): BlockHeader[] | Promise<BlockHeader[]>;
  /** Encoded bodies of the given blocks (undefined where we have none to serve), same order. */
  getBlocks(hashes: readonly Uint8Array[]): (Uint8Array | undefined)[] | Promise<(Uint8Array | undefined)[]>;
}

/**
 * Answers one request. Never throws for a peer's sake: a failure of the view becomes an
 * `INTERNAL` error answer (the caller may log it via `onError`).
 * @example
 * ```ts
 * const res = await handleSyncRequest(decodeRequest(frame), view);
 * stream.send(encodeFrame(encodeMessage(res)));
 * ```
 */
export async function handleSyncRequest(req: SyncRequest, view: ChainView, onError?: (err: unknown) => void): Promise<SyncResponse> {
  const id = req.id;
  try {
    switch (req.type) {
      case 'getStatus':
        return { type: 'status', id, status: await view.status() };
      case 'getHeaders': {
        const max = Math.min(req.max, MAX_HEADERS_PER_REQUEST);
        const headers = await view.headersAfter(req.locator, max, req.stopHash);
        return { type: 'headers', id, headers: headers.slice(0, max) };
      }
      case 'getBlocks': {
        const bodies = await view.getBlocks(req.hashes);
        const found: Uint8Array[] = [];
        const notFound: Uint8Array[] = [];
        // A hash asked for twice is answered once, in one list: a block also listed as notFound
        // contradicts itself, and the requester's checkResponse refuses it as unsolicited.
        const answered = new Set<string>();
        req.hashes.forEach((h, i) => {
          const key = hashToHex(h);
          if (answered.has(key)) return;
          answered.add(key);
          const body = bodies[i];
          if (body === undefined || body.length > MAX_BLOCK_BYTES) notFound.push(h);
          else found.push(body);
        });
        // Bodies beyond what fits one message are left out (the requester asks again); the
        // notFound list is fixed-size, so compute it first.
        const n = blocksThatFit(found.map((b) => b.length), notFound.length);
        return { type: 'blocks', id, blocks: found.slice(0, n), notFound };
      }
      default:
        return { type: 'error', id, code: 'BAD_REQUEST', message: `unknown request ${(req as { type: string }).type}` };
    }
  } catch (err) {
    onError?.(err);
    return { type: 'error', id, code: 'INTERNAL', message: 'internal error' };
  }
}

/** Where {@link chainViewOf} gets its data. */
export interface HeaderIndexViewSource {
  params: Pick<NetworkParams, 'name' | 'chainId' | 'genesisHash'>;
  index: HeaderIndex;
  /**
   * The active (connected) tip. Default: `index.bestFullTip()`; the FullNode should pass its own
   * active tip, which may lag behind while blocks are being connected.
   */
  activeTip?: () => HeaderEntry;
  /** The encoded blocks of some hashes, in order, undefined where not stored (FullNode: its ChainStore, one read). */
  getBlocksBytes(hashes: Uint8Array[]): (Uint8Array | undefined)[] | Promise<(Uint8Array | undefined)[]>;
}

/**
 * A {@link ChainView} over a HeaderIndex and a block-bytes getter.
 * @example
 * ```ts
 * const view = chainViewOf({ params, index, activeTip: () => node.tip, getBlocksBytes: (hs) => store.getBlocks(hs) });
 * ```
 */
export function chainViewOf(src: HeaderIndexViewSource): ChainView {
  const { params, index } = src;
  const tipOf = src.activeTip ?? (() => index.bestFullTip());
  return {
    status: () => {
      const tip = tipOf();
      return { network: params.name, chainId: params.chainId, height: tip.height, tipHash: tip.hash, chainwork: tip.chainwork, genesisHash: params.genesisHash };
    },
    headersAfter: (locator, max, stop) => index.headersAfter(locator, max, stop ?? undefined, tipOf()).map((e) => e.header),
    getBlocks: async (hashes) => {
      const tip = tipOf();
      // Each hash at most once per answer: a request repeating one hash 16 times gets it once.
      const seen = new Set<string>();
      const served = hashes.map((h) => {
        const key = hashToHex(h);
        const entry = index.get(h);
        if (seen.has(key) || !entry || !entry.hasBody || entry.status === 'invalid' || !index.isAncestor(entry, tip)) return false;
        seen.add(key);
        return true;
      });
      const wanted = hashes.filter((_, i) => served[i]);
      const bodies = wanted.length > 0 ? await src.getBlocksBytes(wanted) : [];
      let j = 0;
      return served.map((ok) => (ok ? bodies[j++] : undefined));
    },
  };
}
