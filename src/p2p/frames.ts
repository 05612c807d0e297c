/**
 * Length-prefixed frames for carrying messages over byte streams (a libp2p stream, a WebSocket,
 * anything that delivers bytes in arbitrary chunks).
 *
 * Frame = u32 little-endian payload length, then the payload. Little-endian like every integer of
 * the chain codec; fixed width so that the decoder knows after exactly 4 bytes whether a frame is
 * acceptable. A length above the maximum (2 MiB by default, docs/ARCHITECTURE.md §Sync protocol)
 * is rejected with {@link FrameTooLargeError} the moment the prefix is read, before a single
 * payload byte is buffered: a peer cannot make us hold more than `max + 3` bytes by announcing a
 * huge frame.
 *
 * Pure functions over Uint8Array chunks, with no knowledge of the carrier: the libp2p adapter feeds
 * stream chunks in, and a BroadcastChannel or MessagePort carrier (which keeps message boundaries
 * itself) does not need frames at all.
 * @module
 */
import { FrameTooLargeError, FrameTruncatedError } from './errors.ts';

/** Largest payload of one frame: 2 MiB (a full 1 MiB block plus room for the envelope). */
export const MAX_FRAME_BYTES = 2 * 1024 * 1024;

/** Size of the length prefix. */
export const FRAME_PREFIX_BYTES = 4;

function checkMax(max: number): void {
  if (!Number.isSafeInteger(max) || max < 0 || max > 0xffffffff) throw new TypeError(`frame maximum out of range: ${max}`);
}

/**
 * One frame: the 4-byte length then the payload. TypeError if the payload is over `max` (a
 * sender-side bug: the sender must build messages that fit).
 * @example
 * ```ts
 * stream.send(encodeFrame(encodeMessage(msg)));
 * ```
 */
export function encodeFrame(payload: Uint8Array, max: number = MAX_FRAME_BYTES): Uint8Array {
  checkMax(max);
  if (!(payload instanceof Uint8Array)) throw new TypeError('encodeFrame: expected a Uint8Array');
  if (payload.length > max) throw new TypeError(`encodeFrame: payload of ${payload.length} bytes over the maximum ${max}`);
  const out = new Uint8Array(FRAME_PREFIX_BYTES + payload.length);
  new DataView(out.buffer).setUint32(0, payload.length, true);
  out.set(payload, FRAME_PREFIX_BYTES);
  return out;
}

/**
 * Streaming frame decoder: push chunks as they arrive, get back every frame they complete.
 * Chunks are kept as a list and copied once into their frame, so a frame arriving in thousands of
 * small chunks costs O(frame size), not O(size × chunks).
 *
 * After an error the decoder is unusable (the stream is out of sync): drop the connection.
 * @example
 * ```ts
 * const decoder = new FrameDecoder();
 * for await (const chunk of stream) {
 *   for (const payload of decoder.push(chunk)) handle(payload);
 * }
 * decoder.end(); // FrameTruncatedError if the stream stopped inside a frame
 * ```
 */
export class FrameDecoder {
  readonly max: number;
  /** Maximum of the n-th frame (0-based, counted over the decoder's life), when it varies per frame. */
  private readonly maxOf: ((index: number) => number) | undefined;
  /** Frames completed so far. */
  private completed = 0;
  private chunks: Uint8Array[] = [];
  private bufferedBytes = 0;
  /** Payload length of the frame being read, once its prefix is complete. */
  private need: number | undefined;
  private failed: Error | undefined;

  /**
   * `max`: the largest payload of any frame, or a function giving the largest payload of the n-th
   * frame (0-based) — a stream carrying several answers bounds each by its own request.
   */
  constructor(max: number | ((index: number) => number) = MAX_FRAME_BYTES) {
    if (typeof max === 'function') {
      this.maxOf = max;
      this.max = MAX_FRAME_BYTES;
    } else {
      checkMax(max);
      this.max = max;
    }
  }

  /** Bytes held that do not yet make a whole frame. @example decoder.buffered // 0 between frames */
  get buffered(): number {
    return this.bufferedBytes;
  }

  /**
   * Feeds bytes in; returns the payloads of the frames completed (possibly none, possibly many).
   * Throws FrameTooLargeError as soon as a length prefix over the maximum is complete.
   * @example
   * ```ts
   * const frames = decoder.push(chunk);
   * ```
   */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.failed) throw this.failed;
    if (!(chunk instanceof Uint8Array)) throw new TypeError('FrameDecoder.push: expected a Uint8Array');
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.bufferedBytes += chunk.length;
    }
    const out: Uint8Array[] = [];
    for (;;) {
      if (this.need === undefined) {
        if (this.bufferedBytes < FRAME_PREFIX_BYTES) break;
        const prefix = this.take(FRAME_PREFIX_BYTES);
        const length = new DataView(prefix.buffer, prefix.byteOffset, FRAME_PREFIX_BYTES).getUint32(0, true);
        const max = this.maxOf ? Math.min(this.max, this.maxOf(this.completed)) : this.max;
        if (length > max) {
          this.failed = new FrameTooLargeError(length, max);
          this.chunks = [];
          this.bufferedBytes = 0;
          throw this.failed;
        }
        this.need = length;
      }
      if (this.bufferedBytes < this.need) break;
      out.push(this.take(this.need));
      this.need = undefined;
      this.completed++;
    }
    return out;
  }

  /**
   * Declares the end of the byte stream: throws FrameTruncatedError if part of a frame is
   * buffered.
   * @example
   * ```ts
   * stream.addEventListener('remoteCloseWrite', () => decoder.end());
   * ```
   */
  end(): void {
    if (this.failed) throw this.failed;
    if (this.need !== undefined || this.bufferedBytes > 0) {
      const have = this.bufferedBytes;
      this.failed = new FrameTruncatedError(
        this.need === undefined ? `stream ended inside a frame prefix (${have} of ${FRAME_PREFIX_BYTES} bytes)` : `stream ended inside a frame (${have} of ${this.need} bytes)`,
      );
      throw this.failed;
    }
  }

  /**
   * Removes and returns exactly n buffered bytes (n ≤ bufferedBytes) as a fresh copy, so a frame
   * never aliases (and keeps alive) a carrier's larger receive buffer.
   */
  private take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const c = this.chunks[0];
      const use = Math.min(c.length, n - at);
      out.set(c.subarray(0, use), at);
      at += use;
      if (use === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(use);
    }
    this.bufferedBytes -= n;
    return out;
  }
}

/**
 * Splits bytes that must hold whole frames only (a complete buffer, not a stream).
 * @example
 * ```ts
 * const [payload] = decodeFrames(encodeFrame(bytes));
 * ```
 */
export function decodeFrames(bytes: Uint8Array, max: number = MAX_FRAME_BYTES): Uint8Array[] {
  const decoder = new FrameDecoder(max);
  const frames = decoder.push(bytes);
  decoder.end();
  return frames;
}
