import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { concatBytes } from '../../src/chain/bytes.ts';
import { decodeFrames, encodeFrame, FrameDecoder, MAX_FRAME_BYTES } from '../../src/p2p/frames.ts';
import { FrameTooLargeError, FrameTruncatedError, offenceOf } from '../../src/p2p/errors.ts';
import { chunked } from '../fuzz/mutate.ts';

describe('frames', () => {
  it('a frame is a u32 little-endian length then the payload', () => {
    expect([...encodeFrame(new Uint8Array([0xaa, 0xbb, 0xcc]))]).toEqual([3, 0, 0, 0, 0xaa, 0xbb, 0xcc]);
    expect([...encodeFrame(new Uint8Array(0))]).toEqual([0, 0, 0, 0]);
  });

  it('decodes any sequence of frames however the bytes are chunked', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 20 }), (payloads, cuts) => {
        const wire = concatBytes(...payloads.map((p) => encodeFrame(p)));
        const decoder = new FrameDecoder();
        const got: Uint8Array[] = [];
        for (const chunk of chunked(wire, cuts)) got.push(...decoder.push(chunk));
        decoder.end();
        expect(got).toEqual(payloads);
        expect(decoder.buffered).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it('rejects an oversized length as soon as the 4-byte prefix is complete, before buffering any payload', () => {
    const decoder = new FrameDecoder(16);
    const prefix = encodeFrame(new Uint8Array(17), 17).subarray(0, 4);
    expect(decoder.push(prefix.subarray(0, 3))).toEqual([]);
    let err: unknown;
    try {
      decoder.push(prefix.subarray(3));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FrameTooLargeError);
    expect((err as FrameTooLargeError).length).toBe(17);
    expect((err as FrameTooLargeError).max).toBe(16);
    expect(offenceOf(err)).toBe('oversizedFrame');
    expect(decoder.buffered).toBe(0);
    // The stream is out of sync for good.
    expect(() => decoder.push(new Uint8Array(1))).toThrow(FrameTooLargeError);
  });

  it('rejects a 4 GiB length with the default 2 MiB maximum, and accepts exactly the maximum', () => {
    expect(() => new FrameDecoder().push(new Uint8Array([0xff, 0xff, 0xff, 0xff]))).toThrow(FrameTooLargeError);
    const over = new Uint8Array(4);
    new DataView(over.buffer).setUint32(0, MAX_FRAME_BYTES + 1, true);
    expect(() => new FrameDecoder().push(over)).toThrow(FrameTooLargeError);
    const payload = new Uint8Array(MAX_FRAME_BYTES).fill(7);
    payload[MAX_FRAME_BYTES - 1] = 8;
    const frames = decodeFrames(encodeFrame(payload));
    expect(frames.length).toBe(1);
    expect(Buffer.from(frames[0]).equals(payload)).toBe(true);
  });

  it('refuses to encode a payload over the maximum', () => {
    expect(() => encodeFrame(new Uint8Array(17), 16)).toThrow(TypeError);
  });

  it('end() reports a stream cut inside a frame or inside a prefix', () => {
    const wire = encodeFrame(new Uint8Array([1, 2, 3, 4]));
    const d1 = new FrameDecoder();
    d1.push(wire.subarray(0, 6));
    expect(() => d1.end()).toThrow(FrameTruncatedError);
    const d2 = new FrameDecoder();
    d2.push(wire.subarray(0, 2));
    expect(() => d2.end()).toThrow(FrameTruncatedError);
    expect(offenceOf(new FrameTruncatedError('x'))).toBe('malformedFrame');
    expect(() => decodeFrames(wire.subarray(0, wire.length - 1))).toThrow(FrameTruncatedError);
  });

  it('returns copies: reusing the chunk buffer afterwards does not change a decoded frame', () => {
    const chunk = encodeFrame(new Uint8Array([9, 9, 9]));
    const [frame] = new FrameDecoder().push(chunk);
    chunk.fill(0);
    expect([...frame]).toEqual([9, 9, 9]);
  });
});
