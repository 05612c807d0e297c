import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DecodeError, Writer, decodeHeader as decodeHeaderBytes, encodeHeader } from '../../src/chain/index.ts';
import {
  blocksThatFit,
  decodeMessage,
  decodeRequest,
  decodeResponse,
  encodeMessage,
  isRequest,
  isRequestTag,
  MAX_BLOCK_BYTES,
  MAX_ERROR_ANSWER_BYTES,
  MAX_MESSAGE_BYTES,
  MAX_REQUEST_BYTES,
  MAX_STATUS_ANSWER_BYTES,
  maxAnswerBytes,
  type SyncMessage,
} from '../../src/p2p/messages.ts';
import { arbHash, arbHeader } from './arbitraries.ts';
import { arbChainStatus } from '../fuzz/arb-p2p.ts';

const arbId = fc.integer({ min: 0, max: 0xffffffff });
const arbErrorCode = fc.constantFrom('BAD_REQUEST' as const, 'BUSY' as const, 'INTERNAL' as const);

const arbMessage: fc.Arbitrary<SyncMessage> = fc.oneof(
  fc.record({ type: fc.constant('getStatus' as const), id: arbId }),
  fc.record({ type: fc.constant('status' as const), id: arbId, status: arbChainStatus }),
  fc.record({
    type: fc.constant('getHeaders' as const),
    id: arbId,
    locator: fc.array(arbHash, { maxLength: 64 }),
    stopHash: fc.option(arbHash, { nil: null }),
    max: fc.integer({ min: 1, max: 2000 }),
  }),
  fc.record({ type: fc.constant('headers' as const), id: arbId, headers: fc.array(arbHeader, { maxLength: 40 }) }),
  fc.record({ type: fc.constant('getBlocks' as const), id: arbId, hashes: fc.array(arbHash, { minLength: 1, maxLength: 16 }) }),
  fc
    .record({
      type: fc.constant('blocks' as const),
      id: arbId,
      blocks: fc.array(fc.uint8Array({ maxLength: 400 }), { maxLength: 8 }),
      notFound: fc.array(arbHash, { maxLength: 8 }),
    }),
  fc.record({ type: fc.constant('error' as const), id: arbId, code: arbErrorCode, message: fc.string({ maxLength: 60 }) }),
);

/** Hand-built bytes: tag, id, then the body written by `body`. */
function raw(tag: number, body: (w: Writer) => void = () => {}, id = 1): Uint8Array {
  const w = new Writer().u8(tag).u32(id);
  body(w);
  return w.finish();
}

const hash = (b: number) => new Uint8Array(32).fill(b);

describe('sync messages: codec', () => {
  it('round-trips every message type', () => {
    fc.assert(
      fc.property(arbMessage, (msg) => {
        const bytes = encodeMessage(msg);
        expect(decodeMessage(bytes)).toEqual(msg);
        // Canonical: decoding then encoding gives the same bytes.
        expect(encodeMessage(decodeMessage(bytes))).toEqual(bytes);
      }),
      { numRuns: 300 },
    );
  });

  it('lays out tag, u32 LE request id and body as documented', () => {
    expect([...encodeMessage({ type: 'getStatus', id: 0x01020304 })]).toEqual([1, 4, 3, 2, 1]);
    expect([...encodeMessage({ type: 'getBlocks', id: 1, hashes: [hash(0xab)] })]).toEqual([5, 1, 0, 0, 0, 1, ...hash(0xab)]);
    const gh = encodeMessage({ type: 'getHeaders', id: 2, locator: [hash(1)], stopHash: null, max: 2000 });
    // locator count 1, hash, stop flag 0, max 2000 as CompactSize fd d0 07
    expect([...gh]).toEqual([3, 2, 0, 0, 0, 1, ...hash(1), 0, 0xfd, 0xd0, 0x07]);
    const st = encodeMessage({
      type: 'status',
      id: 3,
      status: { network: 'dev', chainId: 7, height: 258, tipHash: hash(2), chainwork: 0x0102n, genesisHash: hash(3) },
    });
    const chainwork = new Uint8Array(32);
    chainwork[0] = 0x02;
    chainwork[1] = 0x01;
    expect([...st]).toEqual([2, 3, 0, 0, 0, 3, 0x64, 0x65, 0x76, 7, 0, 0, 0, 2, 1, 0, 0, ...hash(2), ...chainwork, ...hash(3)]);
  });

  it('cuts long error texts to 256 UTF-8 bytes without splitting a character', () => {
    const msg = encodeMessage({ type: 'error', id: 1, code: 'BUSY', message: 'é'.repeat(200) });
    const back = decodeMessage(msg);
    expect(back.type === 'error' && back.message).toBe('é'.repeat(128));
  });

  it('refuses to encode out-of-range fields (sender bugs)', () => {
    expect(() => encodeMessage({ type: 'getHeaders', id: 1, locator: Array(65).fill(hash(1)), stopHash: null, max: 1 })).toThrow(TypeError);
    expect(() => encodeMessage({ type: 'getHeaders', id: 1, locator: [], stopHash: null, max: 0 })).toThrow(TypeError);
    expect(() => encodeMessage({ type: 'getBlocks', id: 1, hashes: [] })).toThrow(TypeError);
    expect(() => encodeMessage({ type: 'getBlocks', id: 1, hashes: [new Uint8Array(31)] })).toThrow(TypeError);
    expect(() => encodeMessage({ type: 'getStatus', id: -1 })).toThrow(TypeError);
    const status = { network: 'main', chainId: 1, height: 1, tipHash: hash(1), chainwork: 1n << 256n, genesisHash: hash(2) };
    expect(() => encodeMessage({ type: 'status', id: 1, status })).toThrow(TypeError);
    expect(() => encodeMessage({ type: 'status', id: 1, status: { ...status, chainwork: 1n, network: 'Main' } })).toThrow(TypeError);
    // Two 1 MiB blocks do not fit one 2 MiB message.
    const big = new Uint8Array(MAX_BLOCK_BYTES);
    expect(() => encodeMessage({ type: 'blocks', id: 1, blocks: [big, big], notFound: [] })).toThrow(TypeError);
    expect(() => encodeMessage({ type: 'blocks', id: 1, blocks: [new Uint8Array(MAX_BLOCK_BYTES + 1)], notFound: [] })).toThrow(TypeError);
  });
});

describe('sync messages: decoding hostile bytes', () => {
  const rejects = (bytes: Uint8Array) => expect(() => decodeMessage(bytes)).toThrow(DecodeError);

  it('bounds every count before allocating', () => {
    rejects(raw(3, (w) => w.varint(65))); // locator of 65
    rejects(raw(3, (w) => w.varint(0).u8(0).varint(2001))); // max 2001
    rejects(raw(3, (w) => w.varint(0).u8(0).varint(0))); // max 0
    rejects(raw(4, (w) => w.varint(2001))); // 2001 headers
    rejects(raw(4, (w) => w.varint(2000))); // 2000 headers announced, none there
    rejects(raw(5, (w) => w.varint(0))); // getBlocks of nothing
    rejects(raw(5, (w) => w.varint(17)));
    rejects(raw(6, (w) => w.varint(17)));
    rejects(raw(6, (w) => w.varint(1).varint(MAX_BLOCK_BYTES + 1))); // block over 1 MiB announced
    rejects(raw(6, (w) => w.varint(1).varint(MAX_BLOCK_BYTES))); // 1 MiB announced, not there
    rejects(raw(6, (w) => w.varint(0).varint(17)));
    // 9 blocks + 8 notFound = 17 items: more than any request may ask for
    rejects(
      raw(6, (w) => {
        w.varint(9);
        for (let i = 0; i < 9; i++) w.varBytes(new Uint8Array(1), 10);
        w.varint(8);
        for (let i = 0; i < 8; i++) w.bytes(hash(i));
      }),
    );
  });

  it('rejects unknown tags and codes, bad flags, bad names, truncation and trailing bytes', () => {
    rejects(raw(0));
    rejects(raw(8));
    rejects(raw(7, (w) => w.u8(9).string('x', 10))); // unknown error code
    rejects(raw(3, (w) => w.varint(0).u8(2).varint(1))); // stop flag 2
    rejects(raw(2, (w) => w.string('MAIN', 32).u32(1).u32(1).bytes(hash(1)).bytes(hash(0)).bytes(hash(2))));
    rejects(new Uint8Array([1, 0, 0])); // truncated id
    rejects(new Uint8Array(0));
    const ok = encodeMessage({ type: 'getBlocks', id: 5, hashes: [hash(1)] });
    rejects(ok.subarray(0, ok.length - 1));
    const trailing = new Uint8Array(ok.length + 1);
    trailing.set(ok);
    rejects(trailing);
    rejects(new Uint8Array(MAX_MESSAGE_BYTES + 1));
  });

  it('headers must be exactly 80 bytes each', () => {
    const h = { version: 1, prevHash: hash(1), merkleRoot: hash(2), time: 3, bits: 4, nonce: 5 };
    rejects(raw(4, (w) => w.varint(2).bytes(encodeHeader(h)).bytes(encodeHeader(h).subarray(0, 79))));
  });

  it('tells requests from answers', () => {
    const req = encodeMessage({ type: 'getStatus', id: 1 });
    const res = encodeMessage({ type: 'error', id: 1, code: 'BUSY', message: '' });
    expect(decodeRequest(req).type).toBe('getStatus');
    expect(decodeResponse(res).type).toBe('error');
    expect(() => decodeRequest(res)).toThrow(DecodeError);
    expect(() => decodeResponse(req)).toThrow(DecodeError);
  });

  it('random and mutated bytes only ever raise DecodeError', () => {
    const check = (bytes: Uint8Array) => {
      try {
        const msg = decodeMessage(bytes);
        expect(encodeMessage(msg)).toEqual(bytes); // anything accepted is canonical
      } catch (e) {
        expect(e).toBeInstanceOf(DecodeError);
      }
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), check), { numRuns: 2000 });
    fc.assert(
      fc.property(arbMessage, fc.nat(), fc.integer({ min: 0, max: 255 }), (msg, at, byte) => {
        const bytes = encodeMessage(msg);
        bytes[at % bytes.length] = byte;
        check(bytes);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('blocksThatFit', () => {
  it('counts how many bodies fit one message, and the result really encodes', () => {
    const big = MAX_BLOCK_BYTES;
    expect(blocksThatFit([big, big, big])).toBe(1);
    expect(blocksThatFit(Array(16).fill(1000))).toBe(16);
    expect(blocksThatFit([])).toBe(0);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: MAX_BLOCK_BYTES }), { maxLength: 6 }), fc.integer({ min: 0, max: 4 }), (sizes, nf) => {
        const n = blocksThatFit(sizes, nf);
        const blocks = sizes.slice(0, n).map((s) => new Uint8Array(s));
        const notFound = Array.from({ length: nf }, (_, i) => hash(i));
        if (blocks.length + notFound.length > 16) return;
        expect(encodeMessage({ type: 'blocks', id: 1, blocks, notFound }).length).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
        if (n < sizes.length) {
          const more = sizes.slice(0, n + 1).map((s) => new Uint8Array(s));
          expect(() => encodeMessage({ type: 'blocks', id: 1, blocks: more, notFound })).toThrow(TypeError);
        }
      }),
      { numRuns: 30 },
    );
  });
});

describe('size caps', () => {
  it('MAX_REQUEST_BYTES holds the largest legal request (getHeaders: 64 locator hashes, a stop hash, max 2000)', () => {
    const largest = encodeMessage({ type: 'getHeaders', id: 0xffffffff, locator: Array.from({ length: 64 }, (_, i) => hash(i)), stopHash: hash(99), max: 2000 });
    expect(largest.length).toBe(2090);
    expect(largest.length).toBeLessThanOrEqual(MAX_REQUEST_BYTES);
    expect(encodeMessage({ type: 'getBlocks', id: 1, hashes: Array.from({ length: 16 }, (_, i) => hash(i)) }).length).toBe(518);
    fc.assert(
      fc.property(arbMessage, (msg) => {
        const bytes = encodeMessage(msg);
        expect(isRequestTag(bytes[0])).toBe(isRequest(msg));
        if (isRequest(msg)) expect(bytes.length).toBeLessThanOrEqual(MAX_REQUEST_BYTES);
      }),
    );
  });

  it('maxAnswerBytes is the size of the largest honest answer to each request, exactly', () => {
    const status = { type: 'getStatus' as const, id: 1 };
    const longestError = encodeMessage({ type: 'error', id: 1, code: 'INTERNAL', message: 'x'.repeat(300) });
    const longestStatus = encodeMessage({
      type: 'status',
      id: 1,
      status: { network: 'a'.repeat(32), chainId: 1, height: 1, tipHash: hash(1), chainwork: (1n << 256n) - 1n, genesisHash: hash(2) },
    });
    expect([longestError.length, longestStatus.length]).toEqual([MAX_ERROR_ANSWER_BYTES, MAX_STATUS_ANSWER_BYTES]);
    expect(maxAnswerBytes(status)).toBe(Math.max(MAX_ERROR_ANSWER_BYTES, MAX_STATUS_ANSWER_BYTES));
    const header = encodeHeader({ version: 1, prevHash: hash(1), merkleRoot: hash(2), time: 1, bits: 0x207fffff, nonce: 0 });
    const headers = (n: number) => encodeMessage({ type: 'headers', id: 1, headers: Array.from({ length: n }, () => decodeHeaderBytes(header)) });
    for (const max of [1, 10, 252, 253, 2000]) {
      const req = { type: 'getHeaders' as const, id: 1, locator: [], stopHash: null, max };
      expect(maxAnswerBytes(req)).toBe(Math.max(headers(max).length, MAX_ERROR_ANSWER_BYTES));
    }
    const oneBlock = encodeMessage({ type: 'blocks', id: 1, blocks: [new Uint8Array(MAX_BLOCK_BYTES)], notFound: [] });
    expect(maxAnswerBytes({ type: 'getBlocks', id: 1, hashes: [hash(1)] })).toBe(oneBlock.length);
    expect(maxAnswerBytes({ type: 'getBlocks', id: 1, hashes: Array.from({ length: 16 }, (_, i) => hash(i)) })).toBe(MAX_MESSAGE_BYTES);
  });
});
