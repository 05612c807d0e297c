/**
 * Announces this node on the discovery topic as soon as its addresses change, on top of
 * pubsub-peer-discovery's periodic announcements.
 *
 * Why: pubsub-peer-discovery announces once at start — before a tab has even reached its relay,
 * so nobody hears it — and then every `interval`. A tab's addresses that other tabs can dial
 * (`<relay>/p2p-circuit/webrtc/p2p/<us>`) exist only once its relay reservation is made; publishing
 * them at that moment lets the tabs already there dial us at once instead of at our next periodic
 * announcement. The message is exactly pubsub-peer-discovery's (its `Peer` protobuf), so every
 * listener treats it as one of its own.
 * @module
 */
import { publicKeyToProtobuf } from '@libp2p/crypto/keys';
import type { Libp2p, PeerInfo } from '@libp2p/interface';
import { protocolIds } from './protocol.ts';

/** Appends a protobuf varint. */
function varint(out: number[], n: number): void {
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
}

/**
 * pubsub-peer-discovery's record: `message Peer { bytes publicKey = 1; repeated bytes addrs = 2; }`.
 * @example encodeDiscoveryRecord(publicKeyToProtobuf(peerId.publicKey), addrs.map((a) => a.bytes))
 */
export function encodeDiscoveryRecord(publicKey: Uint8Array, addrs: readonly Uint8Array[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const field = (tag: number, bytes: Uint8Array) => {
    const prefix: number[] = [tag];
    varint(prefix, bytes.length);
    parts.push(Uint8Array.from(prefix), bytes);
  };
  field(10, publicKey);
  for (const a of addrs) field(18, a);
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The piece of libp2p this needs (gossipsub as service `pubsub`). */
export type AnnouncingLibp2p = Pick<Libp2p, 'peerId' | 'getMultiaddrs' | 'addEventListener' | 'removeEventListener'> & {
  services: { pubsub: { publish(topic: string, data: Uint8Array): Promise<unknown>; getSubscribers(topic: string): unknown[] } };
};

/**
 * Publishes our discovery record now (if anyone listens on the topic). Resolves false when
 * nothing was sent (no subscriber yet, no address, or publish failed).
 * @example await announceNow(libp2p, 'dev')
 */
export async function announceNow(libp2p: AnnouncingLibp2p, network: string): Promise<boolean> {
  const topic = protocolIds(network).discoveryTopic;
  const key = libp2p.peerId.publicKey;
  const addrs = libp2p.getMultiaddrs();
  if (!key || addrs.length === 0 || libp2p.services.pubsub.getSubscribers(topic).length === 0) return false;
  try {
    await libp2p.services.pubsub.publish(topic, encodeDiscoveryRecord(publicKeyToProtobuf(key), addrs.map((a) => a.bytes)));
    return true;
  } catch {
    return false;
  }
}

/** How many of the tabs that hear of a newcomer answer it with an announcement, on average (the peer manager dials 4 at a time). */
export const REANNOUNCE_FANOUT = 3;

/**
 * Announces whenever our addresses change (a relay reservation made or renewed, a relay lost; not
 * for other changes of our peer record)
 * and, sometimes, when we discover a peer we had not seen (so a tab that just joined learns about
 * us at once: with browserDialPolicy it may be the one to dial). Each of the two reasons has its
 * own budget of one announcement per `minGapMs` (default 1 s; a trigger inside its gap is
 * announced at the gap's end), so at most two go out per gap, and an answer to a newcomer never
 * holds back the announcement of a reservation made just after it. Returns a function that stops it.
 *
 * When: at libp2p's `transport:listening` / `transport:close` (a listener — the circuit relay
 * transport once its reservation is made — gained or lost addresses) and `self:peer:update`.
 * The first is what makes a newcomer known at once: libp2p's address manager debounces
 * `self:peer:update` by a second, and announcing only then left every new tab unknown, and
 * undialled, for that second (bench/p2p-browser.bench.ts's timeline, issue 14).
 *
 * "Sometimes": with `k` peers heard of, a new one triggers an announcement with probability
 * `min(1, REANNOUNCE_FANOUT / k)`: while a tab knows ≤ 3 peers it answers every newcomer as
 * before; in a network of n tabs about {@link REANNOUNCE_FANOUT} do, and the newcomer hears of
 * the rest from the periodic announcements (every 5 s in a tab). Answering always made every
 * join cost n announcements, each flooded to all n tabs (n × D copies, D the gossipsub mesh
 * degree): n² announcements per join, which at 100 simulated nodes saturated the CPU and cut
 * connections (bench/sim/, docs/SIMULATION.md).
 * @example const stop = announceOnAddressChange(libp2p, 'dev')
 */
export function announceOnAddressChange(libp2p: AnnouncingLibp2p, network: string, opts: { minGapMs?: number; random?: () => number; onSent?: () => void; now?: () => number } = {}): () => void {
  const gap = opts.minGapMs ?? 1000;
  const random = opts.random ?? Math.random;
  const now = opts.now ?? Date.now;
  /** When the last announcement for an address change, and for an answer, went out (each reason's budget). */
  let lastChange = -Infinity;
  let lastAnswer = -Infinity;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timerAt = Infinity;
  let stopped = false;
  // libp2p sends 'self:peer:update' for any change of our peer record (protocols, metadata, an
  // address observed by a peer's identify), not only when our addresses change: an announcement
  // is owed only when the addresses differ from those last announced, or a newcomer is answered.
  let announced = '';
  let owed = false;
  const addrsNow = () =>
    libp2p
      .getMultiaddrs()
      .map((a) => a.toString())
      .join(' ');
  /** The earliest time an announcement may go out for what is pending (Infinity: nothing is). */
  const dueAt = () => Math.min(addrsNow() !== announced ? lastChange + gap : Infinity, owed ? lastAnswer + gap : Infinity);
  const fire = () => {
    timer = undefined;
    timerAt = Infinity;
    if (stopped) return;
    const addrs = addrsNow();
    const changed = addrs !== announced;
    if (!owed && !changed) return;
    const t = now();
    if (changed) lastChange = t;
    if (owed) lastAnswer = t;
    owed = false;
    void announceNow(libp2p, network).then((sent) => {
      if (!sent) return;
      announced = addrs;
      opts.onSent?.();
    });
  };
  const schedule = () => {
    if (stopped) return;
    const at = dueAt();
    if (at === Infinity || at >= timerAt) return;
    if (timer !== undefined) clearTimeout(timer);
    timerAt = at;
    timer = setTimeout(fire, Math.max(0, at - now()));
  };
  const onUpdate = () => schedule();
  const seen = new Set<string>();
  const onDiscovery = (evt: CustomEvent<PeerInfo>) => {
    const id = evt.detail.id.toString();
    if (seen.has(id)) return;
    seen.add(id);
    if (seen.size > 4096) seen.delete(seen.values().next().value!);
    if (random() * seen.size < REANNOUNCE_FANOUT) {
      owed = true;
      schedule();
    }
  };
  libp2p.addEventListener('self:peer:update', onUpdate);
  libp2p.addEventListener('transport:listening', onUpdate);
  libp2p.addEventListener('transport:close', onUpdate);
  libp2p.addEventListener('peer:discovery', onDiscovery);
  return () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    libp2p.removeEventListener('self:peer:update', onUpdate);
    libp2p.removeEventListener('transport:listening', onUpdate);
    libp2p.removeEventListener('transport:close', onUpdate);
    libp2p.removeEventListener('peer:discovery', onDiscovery);
  };
}
