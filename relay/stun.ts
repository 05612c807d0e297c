/**
 * The relay's own STUN server (RFC 5389 Binding only), so that tabs behind home NATs learn their
 * public address — their server-reflexive ICE candidate — from the relay they already trust, and
 * connect to each other directly over WebRTC without any third party. `/bootstrap.json` advertises
 * it (`iceServers: ['stun:<host the page used>:<port>']`, relay/server.ts).
 *
 * The protocol is the `stun` npm package's (nodertc/stun: decoding, XOR-MAPPED-ADDRESS encoding,
 * its dgram server); this module only bounds it. A STUN server on UDP answers anyone who sends it
 * a datagram, from any claimed source address, so:
 * - only **Binding requests** are answered (indications, responses, other methods — TURN's
 *   Allocate — get nothing); the answer carries the sender's address and nothing from the request
 *   but its transaction id, so it is barely larger than the request (no amplifier);
 * - every datagram counts against its source's budget **before** it is decoded:
 *   {@link STUN_DATAGRAMS_PER_SECOND_PER_CLIENT} per client (relay/clients.ts `clientKey`: an IPv4
 *   address or an IPv6 /64) and {@link STUN_MAX_CLIENTS_PER_SECOND} distinct clients a second, so
 *   neither a flood nor a spoofed-source reflection costs more than that;
 * - datagrams over {@link STUN_MAX_DATAGRAM_BYTES} and anything that does not decode are dropped
 *   silently (the library's decode error goes to a listener that ignores it: an unheard 'error'
 *   event would crash the relay).
 * @module
 */
import { createSocket, type RemoteInfo } from 'node:dgram';
import stun, { type StunServer } from 'stun';
import { clientKey } from './clients.ts';

/**
 * Datagrams one client may send a second. ICE sends one Binding request per local interface and
 * STUN server for each peer connection, retransmitted a few times when unanswered: a tab dialling
 * 8 peers sends a few dozen; a classroom of tabs behind one NAT shares the budget.
 */
export const STUN_DATAGRAMS_PER_SECOND_PER_CLIENT = 128;
/** Distinct clients answered in one second; further clients wait for the next second. Bounds the ledger's memory. */
export const STUN_MAX_CLIENTS_PER_SECOND = 4096;
/** Largest datagram looked at (RFC 5389 §7.1: messages fit 576-byte paths, 548 bytes of UDP payload). */
export const STUN_MAX_DATAGRAM_BYTES = 548;

export interface StunOptions {
  port: number;
  host: string;
  /** Clock (tests). */
  now?: () => number;
}

export interface RelayStun {
  /** The UDP port it answers on. */
  port: number;
  /** Datagrams dropped so far (over budget, too large, not a Binding request, malformed). */
  dropped(): number;
  close(): Promise<void>;
}

/** Per-client datagram counts in the current one-second window. */
class StunBudget {
  readonly #counts = new Map<string, number>();
  #windowEnd = 0;
  constructor(private readonly now: () => number) {}

  take(address: string): boolean {
    const t = this.now();
    if (t >= this.#windowEnd) {
      this.#counts.clear();
      this.#windowEnd = t + 1_000;
    }
    const key = clientKey(address);
    const n = this.#counts.get(key);
    if (n === undefined) {
      if (this.#counts.size >= STUN_MAX_CLIENTS_PER_SECOND) return false;
      this.#counts.set(key, 1);
      return true;
    }
    if (n >= STUN_DATAGRAMS_PER_SECOND_PER_CLIENT) return false;
    this.#counts.set(key, n + 1);
    return true;
  }
}

/**
 * Starts the STUN Binding server on UDP `host`:`port`; rejects when the port cannot be bound.
 * @example
 * ```ts
 * const s = await startStun({ port: 8080, host: '0.0.0.0' });
 * // bootstrap: iceServers: [`stun:${pageHost}:${s.port}`]
 * await s.close();
 * ```
 */
export async function startStun(opts: StunOptions): Promise<RelayStun> {
  const { STUN_BINDING_REQUEST, STUN_BINDING_RESPONSE, STUN_EVENT_BINDING_REQUEST } = stun.constants;
  const type = opts.host.includes(':') ? 'udp6' : 'udp4';
  // Our own socket (the library's documented `socket` option): we bind it, read its port, close it.
  const socket = createSocket(type);
  const server: StunServer = stun.createServer({ type, socket });
  const budget = new StunBudget(opts.now ?? Date.now);
  let dropped = 0;
  // Budget and size first, then the library decodes (process() is what its socket listener calls).
  const decodeAndDispatch = server.process.bind(server);
  server.process = (message: Buffer, rinfo: RemoteInfo) => {
    if (message.length > STUN_MAX_DATAGRAM_BYTES || !budget.take(rinfo.address)) {
      dropped++;
      return;
    }
    decodeAndDispatch(message, rinfo);
  };
  server.on(STUN_EVENT_BINDING_REQUEST, (request: { type: number; transactionId: Buffer }, rinfo: RemoteInfo) => {
    // The library emits every request class here, whatever its method (TURN Allocate too).
    if (request.type !== STUN_BINDING_REQUEST) {
      dropped++;
      return;
    }
    const response = stun.createMessage(STUN_BINDING_RESPONSE, request.transactionId);
    response.addXorAddress(rinfo.address, rinfo.port);
    server.send(response, rinfo.port, rinfo.address);
  });
  // Undecodable datagrams and error responses arrive as 'error' events: ignore them (count only).
  server.on('error', () => {
    dropped++;
  });
  const port = await new Promise<number>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(opts.port, opts.host, () => {
      socket.off('error', reject);
      resolve(socket.address().port);
    });
  });
  // A send to an unreachable address fails later, on the socket: nothing to do about it.
  socket.on('error', () => {
    dropped++;
  });
  return {
    port,
    dropped: () => dropped,
    close: () =>
      new Promise<void>((resolve) => {
        server.close();
        socket.close(() => resolve());
      }),
  };
}
