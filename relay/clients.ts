/**
 * Who a socket belongs to, and how much of the relay each client holds: the per-client ledger of
 * the relay's front door (relay/server.ts), so that one machine cannot take the slots everyone
 * shares.
 *
 * A client is its IPv4 address, or its IPv6 /64: an IPv6 host usually has a whole /64 (the
 * smallest subnet; RFC 6177 sites get a /56 or /48) and may pick any address in it, so counting
 * single IPv6 addresses would give it 2^64 budgets. A /64 is what rate limiters commonly count.
 * IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`, what a dual-stack socket reports) are the IPv4
 * client.
 *
 * `X-Forwarded-For` is never trusted: any client can send one. (A relay behind a reverse proxy
 * would see one client — the proxy — and would also need `X-Forwarded-Proto` for its
 * /bootstrap.json; that deployment is not supported.)
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { RelayLimits } from './limits.ts';

const MAPPED_IPV4 = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i;

/** The 8 16-bit groups of a valid IPv6 address (zone id dropped, embedded IPv4 as two groups). */
function ipv6Groups(address: string): number[] {
  const parse = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((g) => {
          if (!g.includes('.')) return [parseInt(g, 16)];
          const [a, b, c, d] = g.split('.').map(Number);
          return [(a << 8) | b, (c << 8) | d];
        });
  const [head, tail] = address.split('%')[0].split('::');
  const h = parse(head);
  if (tail === undefined) return h;
  const t = parse(tail);
  return [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
}

/**
 * The client a remote address belongs to: the IPv4 address, or the IPv6 /64 it lies in.
 * @example
 * clientKey('::ffff:192.0.2.7') // '192.0.2.7'
 * clientKey('2001:db8::1')      // '2001:db8:0:0::/64'
 */
export function clientKey(address: string): string {
  const mapped = MAPPED_IPV4.exec(address);
  if (mapped) return mapped[1];
  if (isIPv4(address)) return address;
  if (isIPv6(address.split('%')[0])) {
    return `${ipv6Groups(address)
      .slice(0, 4)
      .map((g) => g.toString(16))
      .join(':')}::/64`;
  }
  return address;
}

/** Why a new WebSocket connection was refused. */
export type ConnectionRefusal = 'too-many-connections' | 'too-fast';

export type ClientLimits = Pick<RelayLimits, 'maxSocketsPerIp' | 'maxConnectionsPerIp' | 'inboundConnectionThreshold'>;

/**
 * Counts what each client holds right now — TCP sockets on the relay's ports, WebSocket connections
 * through them — and how many connections it opened this second. Only clients holding something
 * have an entry, so memory is bounded by the open sockets (and by one second's arrivals).
 * @example
 * ```ts
 * const ledger = new ClientLedger(DEFAULT_RELAY_LIMITS);
 * if (!ledger.openSocket(key)) socket.destroy();
 * else socket.once('close', () => ledger.closeSocket(key));
 * ```
 */
export class ClientLedger {
  readonly #limits: ClientLimits;
  readonly #now: () => number;
  readonly #sockets = new Map<string, number>();
  readonly #connections = new Map<string, number>();
  /** Connections opened per client in the current one-second window. */
  readonly #arrivals = new Map<string, number>();
  #windowEnd = 0;

  constructor(limits: ClientLimits, now: () => number = Date.now) {
    this.#limits = limits;
    this.#now = now;
  }

  /** Takes a socket slot for `key`; false (take nothing) if it holds its cap already. */
  openSocket(key: string): boolean {
    if (count(this.#sockets, key) >= this.#limits.maxSocketsPerIp) return false;
    add(this.#sockets, key, 1);
    return true;
  }

  closeSocket(key: string): void {
    add(this.#sockets, key, -1);
  }

  /** Takes a connection slot for `key`, or says why not (then takes nothing). */
  openConnection(key: string): ConnectionRefusal | undefined {
    if (count(this.#connections, key) >= this.#limits.maxConnectionsPerIp) return 'too-many-connections';
    const now = this.#now();
    if (now >= this.#windowEnd) {
      this.#arrivals.clear();
      this.#windowEnd = now + 1_000;
    }
    if (count(this.#arrivals, key) >= this.#limits.inboundConnectionThreshold) return 'too-fast';
    add(this.#arrivals, key, 1);
    add(this.#connections, key, 1);
    return undefined;
  }

  closeConnection(key: string): void {
    add(this.#connections, key, -1);
  }

  /** What `key` holds now. */
  held(key: string): { sockets: number; connections: number } {
    return { sockets: count(this.#sockets, key), connections: count(this.#connections, key) };
  }
}

function count(map: Map<string, number>, key: string): number {
  return map.get(key) ?? 0;
}

function add(map: Map<string, number>, key: string, delta: number): void {
  const n = count(map, key) + delta;
  if (n > 0) map.set(key, n);
  else map.delete(key);
}
