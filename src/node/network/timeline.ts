/**
 * The start-up timeline of a tab's network, as `performance.mark('tabchain:<step>')` entries (the
 * first occurrence of each step only): node started, network chunk loaded, libp2p started, relay
 * connected, relay slot reserved, first announcement sent, first tab discovered, first dial,
 * first WebRTC connection open, first WebRTC connection carrying a stream. Marks are relative to
 * navigation start, cost nothing when unread, and are what bench/p2p-browser.bench.ts prints with
 * `BENCH_P2P_LOGS=1` (issue 14: where a new tab's first second goes).
 * @module
 */
import type { Connection, PeerInfo } from '@libp2p/interface';
import type { TabchainLibp2p } from '../../p2p/libp2p-node.ts';

const marked = new Set<string>();

/**
 * Marks `step` once per page (later calls are ignored); whether this call marked it.
 * @example markOnce('node-started')
 */
export function markOnce(step: string): boolean {
  if (marked.has(step)) return false;
  marked.add(step);
  try {
    globalThis.performance?.mark?.(`tabchain:${step}`);
  } catch {
    // no User Timing here: no timeline
  }
  return true;
}

/**
 * Marks the libp2p steps of the timeline as they first happen; returns a function that stops.
 * @example const stop = watchTimeline(net.libp2p, () => relayIds)
 */
export function watchTimeline(libp2p: TabchainLibp2p, isRelay: (id: string) => boolean, log?: (msg: string) => void): () => void {
  const seen = new Set<string>();
  const at = () => `at ${performance.now().toFixed(0)} ms`;
  const onOpen = (e: CustomEvent<Connection>) => {
    const c = e.detail;
    const id = c.remotePeer.toString();
    if (isRelay(id) && c.limits === undefined) markOnce('relay-connected');
    else if (/\/webrtc(\/|$)/.test(c.remoteAddr.toString()) && c.limits === undefined) {
      markOnce(`webrtc-open-${c.direction}`);
      log?.(`timeline: WebRTC ${c.direction} connection with ${id} open ${at()}`);
    }
  };
  const onUpdate = () => {
    if (libp2p.getMultiaddrs().some((a) => a.toString().includes('/p2p-circuit'))) markOnce('reserved');
  };
  const onDiscovery = (e: CustomEvent<PeerInfo>) => {
    const id = e.detail.id.toString();
    if (isRelay(id)) return;
    markOnce('discovered');
    if (seen.has(id) || seen.size >= 1024) return;
    seen.add(id);
    log?.(`timeline: discovered ${id} ${at()}`);
  };
  libp2p.addEventListener('connection:open', onOpen);
  libp2p.addEventListener('self:peer:update', onUpdate);
  libp2p.addEventListener('transport:listening', onUpdate);
  libp2p.addEventListener('peer:discovery', onDiscovery);
  return () => {
    libp2p.removeEventListener('connection:open', onOpen);
    libp2p.removeEventListener('self:peer:update', onUpdate);
    libp2p.removeEventListener('transport:listening', onUpdate);
    libp2p.removeEventListener('peer:discovery', onDiscovery);
  };
}
