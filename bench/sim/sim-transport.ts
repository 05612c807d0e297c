/**
 * The simulation's wire: libp2p's in-memory transport (@libp2p/memory) wrapped by
 * {@link SimWire}, which adds what the memory transport lacks — per-chunk latency with jitter,
 * loss, partitions — and counts every byte each node sends.
 *
 * Why a wrapper: @libp2p/memory's own `latency` delays each chunk one after another on the
 * receiving side (a 1 MiB block in 64 KiB chunks waits 16 × latency) and has no jitter, no loss
 * and no way to cut a link. So the memory transport runs with latency 0 and the wrapper shapes
 * the bytes where they leave a connection (`sendData` of its MultiaddrConnection, the layer below
 * noise and yamux): every chunk is counted for the sending node, then handed to the memory pipe at
 * `max(previous chunk's delivery, now + latency + U(0, jitter))` — one queue per direction, so a
 * byte stream stays in order, as over TCP or an SCTP data channel.
 *
 * **Loss** is modelled as a reliable stream sees it: every connection here carries noise over a
 * byte stream, which cannot lose bytes without breaking, and the memory transport cannot drop
 * anyway. A chunk "lost" (probability `loss`) is retransmitted after {@link retransmitTimeoutMs}
 * and everything behind it on that connection waits (head-of-line blocking), which is what TCP
 * and WebRTC's ordered data channels do.
 *
 * **Partitions**: {@link SimWire.setSide} puts nodes on sides; a dial across sides fails like an
 * unreachable host. Cutting the connections that already cross is the caller's job (it aborts
 * them through libp2p, sim-network.ts).
 * @module
 */
import { memory } from '@libp2p/memory';
import { serviceCapabilities, transportSymbol, type Connection, type CreateListenerOptions, type DialTransportOptions, type Listener, type MultiaddrConnection, type Transport, type Upgrader } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';
import type { Libp2pNodeOptions } from '../../src/p2p/libp2p-node.ts';

/** Link model of the whole simulated network. */
export interface LinkModel {
  /** One-way latency of every link, ms. */
  latencyMs: number;
  /** Extra one-way delay per chunk, uniform in [0, jitterMs). */
  jitterMs: number;
  /** Probability that a chunk is lost and must be retransmitted (0..1). */
  loss: number;
}

/** Retransmission timeout of a lost chunk: Linux's TCP minimum RTO (200 ms) or four round trips, whichever is longer. */
export function retransmitTimeoutMs(m: LinkModel): number {
  return Math.max(200, 4 * 2 * m.latencyMs);
}

/** The listen address of simulated node `i`. */
export function simAddress(i: number): string {
  return `/memory/sim-${i}`;
}

/** Node index from an address made by {@link simAddress} (undefined for any other). */
function indexOfAddress(ma: Multiaddr): number | undefined {
  const m = /^\/memory\/sim-(\d+)(\/|$)/.exec(ma.toString());
  return m ? Number(m[1]) : undefined;
}

/** What the wrapper touches of @libp2p/memory's connection (its fields, see pushable-to-conn.js). */
interface MemoryMaConn {
  sendData(data: { byteLength: number }): { sentBytes: number; canSendMore: boolean };
  sendClose(options?: { signal?: AbortSignal }): Promise<void>;
  localPushable: { push(data: unknown): void; end(err?: Error): void };
}

/** One direction of one connection: chunks delivered in order at their due times. */
class Pipe {
  readonly #queue: { at: number; run: () => void }[] = [];
  #last = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** Runs `run` after `delayMs`, never before an earlier chunk of this pipe. */
  send(delayMs: number, run: () => void): void {
    const at = Math.max(this.#last, performance.now() + delayMs);
    this.#last = at;
    this.#queue.push({ at, run });
    if (this.#timer === undefined) this.#arm();
  }

  #arm(): void {
    const head = this.#queue[0];
    if (!head) return;
    this.#timer = setTimeout(() => this.#drain(), Math.max(0, head.at - performance.now()));
  }

  #drain(): void {
    this.#timer = undefined;
    const now = performance.now();
    while (this.#queue.length > 0 && this.#queue[0].at <= now + 0.5) this.#queue.shift()!.run();
    this.#arm();
  }
}

/**
 * The shared medium of a simulation: link model, sides of a partition, bytes sent per node.
 * @example
 * ```ts
 * const wire = new SimWire(200, { latencyMs: 50, jitterMs: 20, loss: 0.01 }, random);
 * const net = await startHeadlessNetwork(node, { transports: wire.transports(7), listen: [simAddress(7)] });
 * ```
 */
export class SimWire {
  readonly model: LinkModel;
  /** Bytes each node has handed to the wire (noise + yamux frames included), by node index. */
  readonly bytesSent: Float64Array;
  readonly #random: () => number;
  readonly #side: Uint8Array;
  readonly #indexOfPeer = new Map<string, number>();
  #partitioned = false;

  constructor(nodes: number, model: LinkModel, random: () => number) {
    if (!(model.loss >= 0 && model.loss < 1)) throw new RangeError(`loss must be in [0, 1), not ${model.loss}`);
    if (!(model.latencyMs >= 0 && model.jitterMs >= 0)) throw new RangeError('latency and jitter must be ≥ 0');
    this.model = model;
    this.bytesSent = new Float64Array(nodes);
    this.#side = new Uint8Array(nodes);
    this.#random = random;
  }

  /** Total bytes sent by all nodes so far. @example wire.totalBytes() */
  totalBytes(): number {
    let t = 0;
    for (const b of this.bytesSent) t += b;
    return t;
  }

  /** Tells the wire which node a peer id is (an inbound connection names only its dialer's peer id). */
  registerPeer(peerId: string, index: number): void {
    this.#indexOfPeer.set(peerId, index);
  }

  /** Splits the network: `sideOf(i)` for every node; dials across sides fail until {@link heal}. */
  partition(sideOf: (i: number) => 0 | 1): void {
    for (let i = 0; i < this.#side.length; i++) this.#side[i] = sideOf(i);
    this.#partitioned = true;
  }

  /** Ends the partition. */
  heal(): void {
    this.#partitioned = false;
  }

  /** Whether nodes `a` and `b` may reach each other now. */
  reachable(a: number, b: number): boolean {
    return !this.#partitioned || this.#side[a] === this.#side[b];
  }

  /** The transports of node `index` (give it {@link simAddress}(index) to listen on). */
  transports(index: number): Libp2pNodeOptions['transports'] {
    return [(components: Parameters<ReturnType<typeof memory>>[0]) => new ShapedMemoryTransport(this, index, memory({ latency: 0 })(components))];
  }

  /**
   * Wraps a fresh MultiaddrConnection of node `from` to node `to` (undefined: read the dialer's
   * peer id from an inbound connection's address): count, delay, lose — and cut it if it crosses
   * a partition (one being set up when the split came would otherwise slip through).
   */
  shape(maConn: MultiaddrConnection, from: number, to?: number): void {
    const conn = maConn as unknown as MemoryMaConn;
    const remote = to ?? this.#indexOfPeer.get(/\/p2p\/(\w+)$/.exec(maConn.remoteAddr.toString())?.[1] ?? '');
    let cut = false;
    const pipe = new Pipe();
    const { latencyMs, jitterMs, loss } = this.model;
    const rto = retransmitTimeoutMs(this.model);
    const shaped = latencyMs > 0 || jitterMs > 0 || loss > 0;
    conn.sendData = (data) => {
      if (remote !== undefined && !this.reachable(from, remote)) {
        // Across a partition nothing arrives; the connection dies as a real one would.
        if (!cut) queueMicrotask(() => maConn.abort(new Error('sim: partition')));
        cut = true;
        return { sentBytes: data.byteLength, canSendMore: true };
      }
      this.bytesSent[from] += data.byteLength;
      if (!shaped) conn.localPushable.push(data);
      else {
        const delay = latencyMs + this.#random() * jitterMs + (this.#random() < loss ? rto : 0);
        pipe.send(delay, () => conn.localPushable.push(data));
      }
      return { sentBytes: data.byteLength, canSendMore: true };
    };
    // A close travels behind the data still in the pipe.
    conn.sendClose = async (options) => {
      options?.signal?.throwIfAborted();
      if (!shaped) conn.localPushable.end();
      else pipe.send(0, () => conn.localPushable.end());
    };
  }
}

/** @libp2p/memory with every connection shaped by a {@link SimWire}. */
class ShapedMemoryTransport implements Transport {
  readonly [transportSymbol] = true as const;
  readonly [Symbol.toStringTag] = '@tabchain/sim-memory';
  readonly [serviceCapabilities] = ['@libp2p/transport'];
  readonly #wire: SimWire;
  readonly #index: number;
  readonly #inner: Transport;

  constructor(wire: SimWire, index: number, inner: Transport) {
    this.#wire = wire;
    this.#index = index;
    this.#inner = inner;
  }

  async dial(ma: Multiaddr, options: DialTransportOptions): Promise<Connection> {
    const to = indexOfAddress(ma);
    if (to !== undefined && !this.#wire.reachable(this.#index, to)) throw new Error(`sim: ${ma.toString()} is unreachable (partition)`);
    return this.#inner.dial(ma, { ...options, upgrader: this.#upgrader(options.upgrader, to) });
  }

  createListener(options: CreateListenerOptions): Listener {
    return this.#inner.createListener({ ...options, upgrader: this.#upgrader(options.upgrader) });
  }

  listenFilter(addrs: Multiaddr[]): Multiaddr[] {
    return this.#inner.listenFilter(addrs);
  }

  dialFilter(addrs: Multiaddr[]): Multiaddr[] {
    return this.#inner.dialFilter(addrs);
  }

  /** The libp2p upgrader, shaping each connection before it is upgraded (both directions). */
  #upgrader(u: Upgrader, to?: number): Upgrader {
    const wire = this.#wire;
    const from = this.#index;
    return new Proxy(u, {
      get(target, prop) {
        if (prop === 'upgradeOutbound' || prop === 'upgradeInbound') {
          return (maConn: MultiaddrConnection, opts: never) => {
            wire.shape(maConn, from, to);
            return prop === 'upgradeOutbound' ? target.upgradeOutbound(maConn, opts) : target.upgradeInbound(maConn, opts);
          };
        }
        const v = Reflect.get(target, prop) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  }
}
