/**
 * fast-check arbitraries for the sync protocol's messages (src/p2p/messages.ts): any request,
 * any answer, and the honest answers to a given request (the largest answers an honest peer may
 * give, for the answer-size caps).
 * @module
 */
import fc from 'fast-check';
import { MAX_BLOCK_BYTES, MAX_ERROR_MESSAGE_BYTES, type SyncMessage, type SyncRequest, type SyncResponse } from '../../src/p2p/messages.ts';
import { arbHash, arbHeader } from '../unit/arbitraries.ts';

export const arbRequestId = fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(0, 1, 0xffffffff));

/** Network names at the edges of what a status may carry (1..32 chars of [a-z0-9-]). */
export const arbNetworkName = fc.oneof(
  fc.constantFrom('main', 'dev', 'test', 'x', 'a-very-long-network-name-0123456'),
  fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,31}$/),
);

const arbErrorText = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 300 }), // lone surrogates and multi-byte characters, cut to 256 bytes
  fc.constant('é'.repeat(MAX_ERROR_MESSAGE_BYTES)),
);

export const arbGetStatus: fc.Arbitrary<SyncRequest> = fc.record({ type: fc.constant('getStatus' as const), id: arbRequestId });
export const arbGetHeaders: fc.Arbitrary<SyncRequest> = fc.record({
  type: fc.constant('getHeaders' as const),
  id: arbRequestId,
  locator: fc.array(arbHash, { maxLength: 64 }),
  stopHash: fc.option(arbHash, { nil: null }),
  max: fc.oneof(fc.integer({ min: 1, max: 2000 }), fc.constantFrom(1, 2000)),
});
export const arbGetBlocks: fc.Arbitrary<SyncRequest> = fc.record({ type: fc.constant('getBlocks' as const), id: arbRequestId, hashes: fc.array(arbHash, { minLength: 1, maxLength: 16 }) });

export const arbRequest: fc.Arbitrary<SyncRequest> = fc.oneof(arbGetStatus, arbGetHeaders, arbGetBlocks);

/** The body of a status answer: any value each field may take on the wire. */
export const arbChainStatus = fc.record({
  network: arbNetworkName,
  chainId: fc.integer({ min: 0, max: 0xffffffff }),
  height: fc.integer({ min: 0, max: 0xffffffff }),
  tipHash: arbHash,
  chainwork: fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }),
  genesisHash: arbHash,
});

export const arbResponse: fc.Arbitrary<SyncResponse> = fc.oneof(
  fc.record({ type: fc.constant('status' as const), id: arbRequestId, status: arbChainStatus }),
  fc.record({ type: fc.constant('headers' as const), id: arbRequestId, headers: fc.array(arbHeader, { maxLength: 20 }) }),
  fc
    .record({ blocks: fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 6 }), notFound: fc.array(arbHash, { maxLength: 6 }), id: arbRequestId })
    .map(({ blocks, notFound, id }) => ({ type: 'blocks' as const, id, blocks, notFound })),
  fc.record({ type: fc.constant('error' as const), id: arbRequestId, code: fc.constantFrom('BAD_REQUEST' as const, 'BUSY' as const, 'INTERNAL' as const), message: arbErrorText }),
);

export const arbMessage: fc.Arbitrary<SyncMessage> = fc.oneof(arbRequest, arbResponse);

/**
 * An answer an honest peer may give to `req`: the matching type within the request's contract, or
 * an error; biased towards the largest ones (the most headers asked for, 1 MiB bodies, long
 * network names and error texts), since those are what the caps must admit.
 */
export function arbHonestAnswer(req: SyncRequest): fc.Arbitrary<SyncResponse> {
  const id = req.id;
  const error = fc.record({ type: fc.constant('error' as const), id: fc.constant(id), code: fc.constantFrom('BAD_REQUEST' as const, 'BUSY' as const, 'INTERNAL' as const), message: arbErrorText });
  switch (req.type) {
    case 'getStatus':
      return fc.oneof(
        fc.record({
          type: fc.constant('status' as const),
          id: fc.constant(id),
          status: fc.record({
            network: arbNetworkName,
            chainId: fc.integer({ min: 0, max: 0xffffffff }),
            height: fc.integer({ min: 0, max: 0xffffffff }),
            tipHash: arbHash,
            chainwork: fc.oneof(fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }), fc.constant((1n << 256n) - 1n)),
            genesisHash: arbHash,
          }),
        }),
        error,
      );
    case 'getHeaders': {
      const most = Math.min(req.max, 2000);
      return fc.oneof(
        // one header repeated: the size is what matters here, and 2000 distinct headers per input would be slow
        fc.tuple(fc.oneof(fc.integer({ min: 0, max: most }), fc.constant(most)), arbHeader).map(([n, h]) => ({ type: 'headers' as const, id, headers: Array<typeof h>(n).fill(h) })),
        error,
      );
    }
    case 'getBlocks': {
      const n = req.hashes.length;
      return fc.oneof(
        fc
          .tuple(
            fc.integer({ min: 0, max: n }),
            fc.array(fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 80, max: 2000 }) }, { weight: 1, arbitrary: fc.constantFrom(MAX_BLOCK_BYTES - 1, MAX_BLOCK_BYTES) }), { minLength: n, maxLength: n }),
          )
          .map(([found, sizes]) => {
            // Bodies for the first `found` hashes as far as they fit one message (as the server
            // does), the rest listed as not found.
            const blocks: Uint8Array[] = [];
            let total = 1 + 4 + 1 + 1 + (n - found) * 32;
            for (const size of sizes.slice(0, found)) {
              const add = (size < 0xfd ? 1 : size <= 0xffff ? 3 : 5) + size;
              if (total + add > 2 * 1024 * 1024) break;
              total += add;
              blocks.push(new Uint8Array(size));
            }
            return { type: 'blocks' as const, id, blocks, notFound: req.hashes.slice(found) };
          }),
        error,
      );
    }
  }
}
