/**
 * Fuzz targets of the sync protocol's wire formats (src/p2p/frames.ts, src/p2p/messages.ts):
 *
 * - FrameDecoder, fed streams of frames, noise and oversized prefixes in random chunkings, against
 *   a reference parser: the same frames in order, FrameTooLargeError in the very push that
 *   completes an oversized prefix (before any of its payload is buffered), FrameTruncatedError at
 *   end() for a stream cut inside a frame, never another error, and never more than `max + 3`
 *   bytes held between pushes.
 * - decodeMessage / decodeRequest / decodeResponse on random, hand-shaped and mutated bytes:
 *   canonical or DecodeError; requests and answers told apart by their tag; every request that
 *   decodes fits the servers' request cap (MAX_REQUEST_BYTES).
 * - The per-type answer caps (maxAnswerBytes): every honest answer to every request fits its cap,
 *   so the cap a requester applies before buffering never refuses an honest peer.
 */
import { describe, expect } from 'vitest';
import fc from 'fast-check';
import { Writer } from '../../src/chain/codec.ts';
import { bytesToHex, concatBytes, equalBytes } from '../../src/chain/bytes.ts';
import { DecodeError } from '../../src/chain/errors.ts';
import { FrameTooLargeError, FrameTruncatedError } from '../../src/p2p/errors.ts';
import { encodeFrame, FrameDecoder, MAX_FRAME_BYTES } from '../../src/p2p/frames.ts';
import {
  decodeMessage,
  decodeRequest,
  decodeResponse,
  encodeMessage,
  isRequest,
  isRequestTag,
  MAX_REQUEST_BYTES,
  maxAnswerBytes,
  MESSAGE_TAGS,
} from '../../src/p2p/messages.ts';
import { fuzz, thrownBy } from './harness.ts';
import { arbHonestAnswer, arbMessage, arbRequest, arbRequestId } from './arb-p2p.ts';
import { arbNoise, chunked, mutated } from './mutate.ts';
import { expectCanonicalOrRefused, expectOneOf } from './properties.ts';

const HERE = import.meta.url;

/** What the reference parser makes of a whole stream. */
interface Expected {
  frames: Uint8Array[];
  error?: 'tooLarge' | 'truncated';
  /** tooLarge: the stream offset at which the oversized prefix is complete. */
  errorAt?: number;
}

function referenceFrames(stream: Uint8Array, max: number): Expected {
  const frames: Uint8Array[] = [];
  const view = new DataView(stream.buffer, stream.byteOffset, stream.byteLength);
  let at = 0;
  for (;;) {
    const left = stream.length - at;
    if (left === 0) return { frames };
    if (left < 4) return { frames, error: 'truncated' };
    const len = view.getUint32(at, true);
    if (len > max) return { frames, error: 'tooLarge', errorAt: at + 4 };
    if (left - 4 < len) return { frames, error: 'truncated' };
    frames.push(stream.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
}

const arbSegment = (max: number): fc.Arbitrary<Uint8Array> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.uint8Array({ maxLength: Math.min(max, 300) }).map((p) => encodeFrame(p, max)) },
    { weight: 1, arbitrary: arbNoise(12) },
    // a prefix announcing more than the maximum (up to 4 GiB), then a little payload
    { weight: 1, arbitrary: fc.tuple(fc.integer({ min: max + 1, max: 0xffffffff }), fc.uint8Array({ maxLength: 8 })).map(([len, tail]) => concatBytes(new Writer().u32(len).finish(), tail)) },
  );

const arbFrameStream = fc
  .constantFrom(0, 1, 16, 300, MAX_FRAME_BYTES)
  .chain((max) => fc.record({ max: fc.constant(max), segments: fc.array(arbSegment(max), { maxLength: 8 }), cuts: fc.array(fc.nat(), { maxLength: 24 }) }));

/** Tag and id, then noise: reaches every body decoder. */
const arbShapedMessage = fc
  .tuple(fc.constantFrom(...Object.values(MESSAGE_TAGS), 0, 8, 255), arbRequestId, arbNoise(200))
  .map(([tag, id, rest]) => concatBytes(new Writer().u8(tag).u32(id).finish(), rest));

/** Where a message has CompactSize prefixes: right after tag and id (every counted body starts there). */
const messagePrefixOffsets = () => [5];

describe('sync wire formats', () => {
  fuzz(
    'FrameDecoder (chunked streams)',
    arbFrameStream,
    ({ max, segments, cuts }) => {
      const stream = concatBytes(...segments);
      const want = referenceFrames(stream, max);
      const decoder = new FrameDecoder(max);
      const got: Uint8Array[] = [];
      let offset = 0;
      for (const chunk of chunked(stream, cuts)) {
        const start = offset;
        offset += chunk.length;
        let frames: Uint8Array[];
        try {
          frames = decoder.push(chunk);
        } catch (e) {
          expectOneOf(e, [FrameTooLargeError], bytesToHex(stream));
          // Raised by the push that completed the oversized prefix: nothing of its payload was kept.
          expect(want.error).toBe('tooLarge');
          expect(start < want.errorAt! && want.errorAt! <= offset).toBe(true);
          // The decoder stays failed.
          expectOneOf(thrownBy(() => decoder.push(new Uint8Array(1))), [FrameTooLargeError]);
          expectOneOf(thrownBy(() => decoder.end()), [FrameTooLargeError]);
          // Frames given out so far are the stream's first frames.
          expect(got.length).toBeLessThanOrEqual(want.frames.length);
          got.forEach((f, i) => expect(equalBytes(f, want.frames[i])).toBe(true));
          return 'tooLarge';
        }
        got.push(...frames);
        expect(decoder.buffered).toBeLessThanOrEqual(max + 3);
      }
      expect(want.error).not.toBe('tooLarge');
      expect(got.length).toBe(want.frames.length);
      got.forEach((f, i) => expect(equalBytes(f, want.frames[i])).toBe(true));
      const end = thrownBy(() => decoder.end());
      if (want.error === 'truncated') {
        expectOneOf(end, [FrameTruncatedError]);
        return 'truncated';
      }
      expect(end).toBeUndefined();
      return 'whole';
    },
    HERE,
    { mustSee: ['tooLarge', 'truncated', 'whole'] },
  );

  fuzz(
    'decodeMessage / decodeRequest / decodeResponse',
    fc.oneof(
      arbMessage.map((m) => ({ msg: m, bytes: encodeMessage(m) })),
      arbNoise(120).map((bytes) => ({ bytes, msg: undefined })),
      arbShapedMessage.map((bytes) => ({ bytes, msg: undefined })),
      { weight: 4, arbitrary: mutated(arbMessage.map(encodeMessage), messagePrefixOffsets).map((bytes) => ({ bytes, msg: undefined })) },
    ),
    ({ bytes, msg }) => {
      const value = expectCanonicalOrRefused(bytes, decodeMessage, encodeMessage, (e) => e instanceof DecodeError);
      if (msg?.type === 'error') {
        // Error texts are cut to 256 bytes of UTF-8 (lone surrogates replaced) when encoded.
        expect(value).toMatchObject({ type: 'error', id: msg.id, code: msg.code });
      } else if (msg) expect(value).toEqual(msg);
      const asRequest = thrownBy(() => decodeRequest(bytes));
      const asResponse = thrownBy(() => decodeResponse(bytes));
      if (value === undefined) {
        expectOneOf(asRequest, [DecodeError]);
        expectOneOf(asResponse, [DecodeError]);
        return 'refused';
      }
      // Exactly one of the two accepts it, as its tag says.
      expect(isRequest(value)).toBe(isRequestTag(bytes[0]));
      expect(asRequest === undefined).toBe(isRequest(value));
      expect(asResponse === undefined).toBe(!isRequest(value));
      // A request that decodes is within the cap servers apply before reading it.
      if (isRequest(value)) expect(bytes.length).toBeLessThanOrEqual(MAX_REQUEST_BYTES);
      return isRequest(value) ? 'request' : 'answer';
    },
    HERE,
    { mustSee: ['refused', 'request', 'answer'] },
  );

  fuzz(
    'maxAnswerBytes (honest answers fit their cap)',
    arbRequest.chain((req) => fc.tuple(fc.constant(req), arbHonestAnswer(req))),
    ([req, answer]) => {
      const bytes = encodeMessage(answer);
      const cap = maxAnswerBytes(req);
      expect(cap).toBeLessThanOrEqual(MAX_FRAME_BYTES);
      if (bytes.length > cap) expect.fail(`${answer.type} answer of ${bytes.length} bytes to ${req.type} is over its cap ${cap}`);
      expect(decodeResponse(bytes).id).toBe(req.id);
      return answer.type;
    },
    HERE,
    { mustSee: ['status', 'headers', 'blocks', 'error'] },
  );
});
