/**
 * Which discovered addresses a page may dial, from the page's own host.
 *
 * Peers announce their addresses to each other (pubsub discovery, identify), and a tab dials what
 * it is told. Were a page served from a public host to dial private, loopback or link-local
 * addresses (10/8, 172.16/12, 192.168/16, 127/8, 169.254/16, 100.64/10, fc00::/7, fe80::/10, ::1)
 * or mDNS `.local` names, any peer could announce such addresses and make every visitor's tab
 * probe the visitor's own network — a LAN scanner in each tab. So such a page refuses them — except
 * the hosts of its own relay (the bootstrap addresses its origin served), which it trusts anyway.
 * A page served from localhost or a LAN address keeps dialling everything: tests, and classrooms
 * whose relay and tabs share one network. (WebRTC's ICE candidates are not multiaddrs and are not
 * concerned: `.local` candidates are how tabs of one machine or LAN reach each other.)
 *
 * libp2p's browser build has a default filter of its own that refuses every private address and
 * every `ws://` address — which breaks the localhost page — and any gater with its own
 * `denyDialMultiaddr` replaces it (see peer-gate.ts): this is ours. The ranges are @libp2p/utils'
 * (`isPrivateIp`, the list libp2p's default uses), not hand-written CIDR maths.
 * @module
 */
import { isPrivateIp, tryGetNetConfig } from '@libp2p/utils';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';

/**
 * Whether a host name or IP literal (a page's `location.hostname`, a multiaddr's host) is on the
 * local machine or network: a private, loopback, link-local, CGNAT or ULA address, `localhost`
 * (and `*.localhost`, RFC 6761), or an mDNS `*.local` name (RFC 6762).
 * @example isLocalHost('192.168.1.10') // true; isLocalHost('tabchain.example.org') // false
 */
export function isLocalHost(host: string): boolean {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1); // an IPv6 literal in a URL
  if (h.endsWith('.')) h = h.slice(0, -1);
  if (h === 'localhost' || h.endsWith('.localhost') || h.endsWith('.local')) return true;
  return isPrivateIp(h) === true;
}

/** The host an address is dialled at (its first ip/dns component), if it has one. */
function hostOf(ma: Multiaddr): string | undefined {
  const config = tryGetNetConfig(ma);
  if (!config) return undefined;
  return config.type === 'dnsaddr' ? config.host.replace(/^_dnsaddr\./, '') : config.host;
}

export interface DialFilterOptions {
  /** Addresses whose hosts are dialled whatever they are: the relay's bootstrap addresses. */
  trusted?: () => Iterable<string>;
}

/**
 * The `denyDialMultiaddr` of a page served from `pageHost`: on a public host, true (refuse) for
 * an address whose host is local ({@link isLocalHost}) unless it is a trusted (bootstrap) host;
 * on a local host, never.
 * @example
 * ```ts
 * NetworkService.create({ ..., denyDialMultiaddr: dialFilterForPage(location.hostname, { trusted: () => bootstrapAddrs }) });
 * ```
 */
export function dialFilterForPage(pageHost: string, opts: DialFilterOptions = {}): (ma: Multiaddr) => boolean {
  if (isLocalHost(pageHost)) return () => false;
  const trustedHosts = (): Set<string> => {
    const out = new Set<string>();
    for (const a of opts.trusted?.() ?? []) {
      try {
        const h = hostOf(multiaddr(a));
        if (h !== undefined) out.add(h.toLowerCase());
      } catch {
        // not a multiaddr: trusts nothing
      }
    }
    return out;
  };
  return (ma) => {
    const host = hostOf(ma);
    if (host === undefined || !isLocalHost(host)) return false;
    return !trustedHosts().has(host.toLowerCase());
  };
}
