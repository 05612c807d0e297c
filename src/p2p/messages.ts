/**
 * Messages of the sync protocol (`/tabchain/<network>/sync/1`) and their canonical binary codec,
 * built on the chain codec ({@link Writer} / {@link Reader}: little-endian integers, minimal
 * CompactSize lengths, every length bounded before allocating, trailing bytes rejected).
 *
 * Every message is `u8 tag | u32 requestId | body`. The requester picks the id; the answer repeats
 * it, so a carrier that multiplexes several requests (a MessagePort, a BroadcastChannel) can match
 * answers to questions. Requests and their answers, after Bitcoin's headers-first sync
 * (`getheaders`/`headers`, `getdata`/`block`/`notfound`):
 *
 * | tag | message    | body                                                                   |
 * |-----|------------|------------------------------------------------------------------------|
 * | 1   | getStatus  | (empty)                                                                |
 * | 2   | status     | network (string ≤ 32), chainId u32, height u32, tipHash 32,            |
 * |     |            | chainwork 32 (u256 little-endian), genesisHash 32                      |
 * | 3   | getHeaders | locator: count ≤ 64 × hash 32; hasStop u8 (0/1) [stopHash 32]; max 1..2000 |
 * | 4   | headers    | count ≤ 2000 × header 80                                               |
 * | 5   | getBlocks  | count 1..16 × hash 32                                                  |
 * | 6   | blocks     | count ≤ 16 × block bytes (each ≤ 1 MiB); notFound: count ≤ 16 × hash 32 |
 * | 7   | error      | code u8 (1 BAD_REQUEST, 2 BUSY, 3 INTERNAL); message (string ≤ 256)    |
 *
 * A whole message is at most {@link MAX_MESSAGE_BYTES} (one frame); a request at most
 * {@link MAX_REQUEST_BYTES}, and an answer at most {@link maxAnswerBytes} of its request (the
 * longest honest answer: carriers refuse anything longer before decoding or buffering it — caps on
 * what we accept, the encoding is unchanged). A `blocks` answer holds the requested blocks in
 * request order as far as they fit in one message; hashes the peer does not have are listed in
 * `notFound`; hashes in neither list were left out for size and can be asked for again.
 *
 * Block bodies travel as bytes: this layer bounds their size but does not decode or validate them
 * (the node does, with decodeBlock and the consensus rules).
 * @module
 */
import { DecodeError, HEADER_BYTES, MAX_HEADERS_RESULTS, Reader, Writer, decodeHeader, encodeHeader, leToBigInt, utf8Bytes, varintSize } from '../chain/index.ts';
import type { BlockHeader } from '../chain/index.ts';
import { MAX_FRAME_BYTES } from './frames.ts';
import { isNetworkName } from './protocol.ts';

/** Largest encoded message: one frame. */
export const MAX_MESSAGE_BYTES = MAX_FRAME_BYTES;
/** Most hashes in a locator (a locator of a 2^50-block chain has ~60). */
export const MAX_LOCATOR_HASHES = 64;
/** Most headers asked for or returned at once (Bitcoin Core `MAX_HEADERS_RESULTS`). */
export const MAX_HEADERS_PER_REQUEST = MAX_HEADERS_RESULTS;
/** Most blocks asked for at once. */
export const MAX_BLOCKS_PER_REQUEST = 16;
/** Largest block body carried (the consensus maximum block size, 1 MiB). */
export const MAX_BLOCK_BYTES = 1024 * 1024;
/** Longest error message, in UTF-8 bytes. */
export const MAX_ERROR_MESSAGE_BYTES = 256;
/** Longest network name, in bytes. */
export const MAX_NETWORK_NAME_BYTES = 32;

const HASH = 32;

/**
 * Largest request message accepted, in bytes. Requests are small: the largest legal one is a
 * `getHeaders` with a full locator and a stop hash — tag 1 + id 4 + count 1 + 64 × 32 + flag 1 +
 * stop 32 + max 3 (CompactSize of 2000) = 2,090 bytes; a full `getBlocks` is 1 + 4 + 1 + 16 × 32 =
 * 518. Rounded up to 4 KiB, so that a peer cannot make a server buffer a 2 MiB frame to read a
 * request (the frame length is checked against this before any payload byte is kept).
 */
export const MAX_REQUEST_BYTES = 4096;

/**
 * Largest `error` answer: tag 1 + id 4 + code 1 + message length 3 (CompactSize of 256) + 256.
 * Any request may be answered with one.
 */
export const MAX_ERROR_ANSWER_BYTES = 1 + 4 + 1 + 3 + MAX_ERROR_MESSAGE_BYTES;

/**
 * Largest `status` answer: tag 1 + id 4 + network (length 1 + 32) + chainId 4 + height 4 +
 * tipHash 32 + chainwork 32 + genesisHash 32 = 142 bytes.
 */
export const MAX_STATUS_ANSWER_BYTES = 1 + 4 + 1 + MAX_NETWORK_NAME_BYTES + 4 + 4 + HASH + 32 + HASH;

/** Wire tags (stable: part of the encoding). */
export const MESSAGE_TAGS = {
  getStatus: 1,
  status: 2,
  getHeaders: 3,
  headers: 4,
  getBlocks: 5,
  blocks: 6,
  error: 7,
} as const;

/** Error codes a peer may answer with, and their wire values (stable). */
export const SYNC_ERROR_CODES = { BAD_REQUEST: 1, BUSY: 2, INTERNAL: 3 } as const;
export type SyncErrorCode = keyof typeof SYNC_ERROR_CODES;

/** A node's view of its own chain, as told to peers. */
export interface SyncStatus {
  network: string;
  chainId: number;
  height: number;
  /** Hash of the active tip, internal byte order. */
  tipHash: Uint8Array;
  /** Cumulative work of the active chain (< 2^256). */
  chainwork: bigint;
  genesisHash: Uint8Array;
}

export type SyncRequest =
  | { type: 'getStatus'; id: number }
  | { type: 'getHeaders'; id: number; locator: Uint8Array[]; stopHash: Uint8Array | null; max: number }
  | { type: 'getBlocks'; id: number; hashes: Uint8Array[] };

export type SyncResponse =
  | { type: 'status'; id: number; status: SyncStatus }
  | { type: 'headers'; id: number; headers: BlockHeader[] }
  | { type: 'blocks'; id: number; blocks: Uint8Array[]; notFound: Uint8Array[] }
  | { type: 'error'; id: number; code: SyncErrorCode; message: string };

export type SyncMessage = SyncRequest | SyncResponse;

/** The answer type each request expects (besides `error`). */
export const RESPONSE_TYPE_OF = { getStatus: 'status', getHeaders: 'headers', getBlocks: 'blocks' } as const satisfies Record<SyncRequest['type'], SyncResponse['type']>;

/**
 * Whether a message is a request (as opposed to an answer).
 * @example
 * ```ts
 * if (isRequest(msg)) reply(await handleSyncRequest(msg, view));
 * ```
 */
export function isRequest(msg: SyncMessage): msg is SyncRequest {
  return msg.type === 'getStatus' || msg.type === 'getHeaders' || msg.type === 'getBlocks';
}

/**
 * The largest answer an honest peer can give to `req`, in bytes: the encoding is canonical, so no
 * valid answer is longer. A requester reads the answer's frame with this maximum, so a hostile
 * answerer cannot make it buffer 2 MiB for a status request (a `status` or `error` is at most
 * 265 bytes, `headers` 5 + 3 + max × 80 ≤ 160,008; only `blocks` may need the whole frame).
 * @example
 * ```ts
 * const frame = await readOneFrame(stream, signal, maxAnswerBytes(req));
 * ```
 */
export function maxAnswerBytes(req: SyncRequest): number {
  switch (req.type) {
    case 'getStatus':
      return Math.max(MAX_STATUS_ANSWER_BYTES, MAX_ERROR_ANSWER_BYTES);
    case 'getHeaders': {
      const max = Math.min(Math.max(1, req.max), MAX_HEADERS_PER_REQUEST);
      return Math.max(1 + 4 + varintSize(max) + max * HEADER_BYTES, MAX_ERROR_ANSWER_BYTES);
    }
    case 'getBlocks': {
      // Each hash asked for comes back as a body (length ≤ 5 bytes + 1 MiB) or a notFound hash
      // (32 bytes, smaller): tag, id, the two counts (1 byte each, ≤ 16), then the items.
      const n = Math.min(Math.max(1, req.hashes.length), MAX_BLOCKS_PER_REQUEST);
      const most = 1 + 4 + 1 + 1 + n * (varintSize(MAX_BLOCK_BYTES) + MAX_BLOCK_BYTES);
      return Math.min(MAX_MESSAGE_BYTES, Math.max(most, MAX_ERROR_ANSWER_BYTES));
    }
  }
}

/**
 * Whether a message's first byte (its tag) says it is a request. Lets a carrier apply the request
 * size cap before decoding.
 * @example if (isRequestTag(bytes[0]) && bytes.length > MAX_REQUEST_BYTES) refuse();
 */
export function isRequestTag(tag: number | undefined): boolean {
  return tag === MESSAGE_TAGS.getStatus || tag === MESSAGE_TAGS.getHeaders || tag === MESSAGE_TAGS.getBlocks;
}

const U256_MAX = (1n << 256n) - 1n;

function u256ToLe(n: bigint): Uint8Array {
  if (typeof n !== 'bigint' || n < 0n || n > U256_MAX) throw new TypeError(`chainwork out of range: ${String(n)}`);
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

function checkId(id: number): void {
  if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) throw new TypeError(`request id must be a u32, got ${id}`);
}

function checkCount(what: string, n: number, min: number, max: number): void {
  if (n < min || n > max) throw new TypeError(`${what}: ${n} items, expected ${min}..${max}`);
}

function writeHashes(w: Writer, hashes: readonly Uint8Array[], min: number, max: number, what: string): void {
  if (!Array.isArray(hashes)) throw new TypeError(`${what}: expected an array of hashes`);
  checkCount(what, hashes.length, min, max);
  w.varint(hashes.length);
  for (const h of hashes) w.bytes(h, HASH);
}

function readHashes(r: Reader, min: number, max: number, what: string): Uint8Array[] {
  const n = r.varint(max);
  if (n < min) throw new DecodeError(`${what}: ${n} hashes, at least ${min} required`);
  // Bounded before allocating: n ≤ max, and each hash must actually be there.
  if (n * HASH > r.remaining) throw new DecodeError(`${what}: ${n} hashes announced, ${r.remaining} bytes left`);
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) out.push(r.bytes(HASH));
  return out;
}

/**
 * Canonical bytes of a message. TypeError if a field is out of range or the message would not fit
 * in one frame (a bug of the sender, which must build messages within the limits).
 * @example
 * ```ts
 * const bytes = encodeMessage({ type: 'getHeaders', id: 7, locator: index.locator(), stopHash: null, max: 2000 });
 * ```
 */
export function encodeMessage(msg: SyncMessage): Uint8Array {
  checkId(msg.id);
  const tag = MESSAGE_TAGS[msg.type];
  if (tag === undefined) throw new TypeError(`unknown message type ${String((msg as { type: unknown }).type)}`);
  const w = new Writer(64);
  w.u8(tag).u32(msg.id);
  switch (msg.type) {
    case 'getStatus':
      break;
    case 'status': {
      const s = msg.status;
      if (!isNetworkName(s.network)) throw new TypeError(`status: bad network name ${JSON.stringify(s.network)}`);
      w.string(s.network, MAX_NETWORK_NAME_BYTES).u32(s.chainId).u32(s.height);
      w.bytes(s.tipHash, HASH).bytes(u256ToLe(s.chainwork), 32).bytes(s.genesisHash, HASH);
      break;
    }
    case 'getHeaders':
      writeHashes(w, msg.locator, 0, MAX_LOCATOR_HASHES, 'getHeaders.locator');
      if (msg.stopHash === null) w.u8(0);
      else w.u8(1).bytes(msg.stopHash, HASH);
      if (!Number.isInteger(msg.max)) throw new TypeError(`getHeaders.max must be an integer, got ${msg.max}`);
      checkCount('getHeaders.max', msg.max, 1, MAX_HEADERS_PER_REQUEST);
      w.varint(msg.max);
      break;
    case 'headers':
      checkCount('headers', msg.headers.length, 0, MAX_HEADERS_PER_REQUEST);
      w.varint(msg.headers.length);
      for (const h of msg.headers) w.bytes(encodeHeader(h));
      break;
    case 'getBlocks':
      writeHashes(w, msg.hashes, 1, MAX_BLOCKS_PER_REQUEST, 'getBlocks.hashes');
      break;
    case 'blocks':
      checkCount('blocks', msg.blocks.length, 0, MAX_BLOCKS_PER_REQUEST);
      w.varint(msg.blocks.length);
      for (const b of msg.blocks) w.varBytes(b, MAX_BLOCK_BYTES);
      writeHashes(w, msg.notFound, 0, MAX_BLOCKS_PER_REQUEST, 'blocks.notFound');
      checkCount('blocks + notFound', msg.blocks.length + msg.notFound.length, 0, MAX_BLOCKS_PER_REQUEST);
      break;
    case 'error': {
      const code = SYNC_ERROR_CODES[msg.code];
      if (code === undefined) throw new TypeError(`unknown error code ${String(msg.code)}`);
      w.u8(code).string(truncateUtf8(msg.message, MAX_ERROR_MESSAGE_BYTES), MAX_ERROR_MESSAGE_BYTES);
      break;
    }
  }
  if (w.length > MAX_MESSAGE_BYTES) throw new TypeError(`message of ${w.length} bytes over the maximum ${MAX_MESSAGE_BYTES}`);
  return w.finish();
}

/** Cuts a string to at most maxBytes of UTF-8 without splitting a character (error texts only). */
function truncateUtf8(s: string, maxBytes: number): string {
  const cleaned = s.replace(/\p{Cs}/gu, '\uFFFD'); // lone surrogates have no UTF-8 encoding
  let out = '';
  let bytes = 0;
  for (const ch of cleaned) {
    const n = utf8Bytes(ch).length;
    if (bytes + n > maxBytes) break;
    out += ch;
    bytes += n;
  }
  return out;
}

/**
 * Parses one message. DecodeError on anything but a canonical encoding: unknown tag, a count or
 * length over its bound (checked before allocating), truncation, trailing bytes, a bad network
 * name, an unknown error code.
 * @example
 * ```ts
 * const msg = decodeMessage(frame);
 * if (msg.type === 'headers') for (const h of msg.headers) index.add(h, opts);
 * ```
 */
export function decodeMessage(bytes: Uint8Array): SyncMessage {
  if (!(bytes instanceof Uint8Array)) throw new DecodeError('message: expected a Uint8Array');
  if (bytes.length > MAX_MESSAGE_BYTES) throw new DecodeError(`message of ${bytes.length} bytes over the maximum ${MAX_MESSAGE_BYTES}`);
  const r = new Reader(bytes);
  const tag = r.u8();
  const id = r.u32();
  let msg: SyncMessage;
  switch (tag) {
    case MESSAGE_TAGS.getStatus:
      msg = { type: 'getStatus', id };
      break;
    case MESSAGE_TAGS.status: {
      const network = r.string(MAX_NETWORK_NAME_BYTES);
      if (!isNetworkName(network)) throw new DecodeError(`status: bad network name ${JSON.stringify(network)}`);
      const chainId = r.u32();
      const height = r.u32();
      const tipHash = r.bytes(HASH);
      const chainwork = leToBigInt(r.bytes(32));
      const genesisHash = r.bytes(HASH);
      msg = { type: 'status', id, status: { network, chainId, height, tipHash, chainwork, genesisHash } };
      break;
    }
    case MESSAGE_TAGS.getHeaders: {
      const locator = readHashes(r, 0, MAX_LOCATOR_HASHES, 'getHeaders.locator');
      const hasStop = r.u8();
      if (hasStop > 1) throw new DecodeError(`getHeaders: bad stop flag ${hasStop}`);
      const stopHash = hasStop === 1 ? r.bytes(HASH) : null;
      const max = r.varint(MAX_HEADERS_PER_REQUEST);
      if (max < 1) throw new DecodeError('getHeaders: max must be at least 1');
      msg = { type: 'getHeaders', id, locator, stopHash, max };
      break;
    }
    case MESSAGE_TAGS.headers: {
      const n = r.varint(MAX_HEADERS_PER_REQUEST);
      if (n * HEADER_BYTES > r.remaining) throw new DecodeError(`headers: ${n} announced, ${r.remaining} bytes left`);
      const headers: BlockHeader[] = [];
      for (let i = 0; i < n; i++) headers.push(decodeHeader(r.bytes(HEADER_BYTES)));
      msg = { type: 'headers', id, headers };
      break;
    }
    case MESSAGE_TAGS.getBlocks:
      msg = { type: 'getBlocks', id, hashes: readHashes(r, 1, MAX_BLOCKS_PER_REQUEST, 'getBlocks.hashes') };
      break;
    case MESSAGE_TAGS.blocks: {
      const n = r.varint(MAX_BLOCKS_PER_REQUEST);
      const blocks: Uint8Array[] = [];
      // varBytes checks each length against MAX_BLOCK_BYTES and against the bytes left.
      for (let i = 0; i < n; i++) blocks.push(r.varBytes(MAX_BLOCK_BYTES));
      const notFound = readHashes(r, 0, MAX_BLOCKS_PER_REQUEST, 'blocks.notFound');
      if (blocks.length + notFound.length > MAX_BLOCKS_PER_REQUEST) throw new DecodeError('blocks: more items than a request may ask for');
      msg = { type: 'blocks', id, blocks, notFound };
      break;
    }
    case MESSAGE_TAGS.error: {
      const wire = r.u8();
      const code = (Object.keys(SYNC_ERROR_CODES) as SyncErrorCode[]).find((k) => SYNC_ERROR_CODES[k] === wire);
      if (code === undefined) throw new DecodeError(`error: unknown code ${wire}`);
      msg = { type: 'error', id, code, message: r.string(MAX_ERROR_MESSAGE_BYTES) };
      break;
    }
    default:
      throw new DecodeError(`unknown message tag ${tag}`);
  }
  r.end();
  return msg;
}

/**
 * Parses a message that must be a request (DecodeError otherwise).
 * @example
 * ```ts
 * const req = decodeRequest(frame);
 * ```
 */
export function decodeRequest(bytes: Uint8Array): SyncRequest {
  const msg = decodeMessage(bytes);
  if (!isRequest(msg)) throw new DecodeError(`expected a request, got ${msg.type}`);
  return msg;
}

/**
 * Parses a message that must be an answer (DecodeError otherwise).
 * @example
 * ```ts
 * const res = decodeResponse(frame);
 * ```
 */
export function decodeResponse(bytes: Uint8Array): SyncResponse {
  const msg = decodeMessage(bytes);
  if (isRequest(msg)) throw new DecodeError(`expected a response, got ${msg.type}`);
  return msg;
}

/** Fixed bytes of a `blocks` message besides the block bodies: tag, id, two counts, notFound hashes. */
function blocksOverhead(notFound: number): number {
  return 1 + 4 + varintSize(MAX_BLOCKS_PER_REQUEST) + varintSize(MAX_BLOCKS_PER_REQUEST) + notFound * HASH;
}

/**
 * How many of `sizes` (block byte lengths, in order) fit in one `blocks` message that also lists
 * `notFound` hashes. A single block within MAX_BLOCK_BYTES always fits.
 * @example
 * ```ts
 * const n = blocksThatFit(bodies.map((b) => b.length), missing.length);
 * ```
 */
export function blocksThatFit(sizes: readonly number[], notFound = 0): number {
  let total = blocksOverhead(notFound);
  let n = 0;
  for (const size of sizes) {
    total += varintSize(size) + size;
    if (total > MAX_MESSAGE_BYTES) break;
    n++;
  }
  return n;
}
