/**
 * A home-network lab out of Linux network namespaces, for test/integration/nat-netns.test.ts:
 *
 * ```
 *            "public" ns  (relays on 198.18.0.1 and 198.18.0.2, on its lo; forwards between WANs)
 *            /  w1       \ w2        \ w3
 *   198.18.1.2 nat1   198.18.2.2 nat2  198.18.3.2 nat3    (nftables masquerade; nat3 `random`)
 *           | lan         | lan          | lan
 *   198.19.1.2 home1  198.19.2.2 home2  198.19.3.2 home3   (Chromium runs here)
 * ```
 *
 * Every address is in 198.18.0.0/15 (RFC 2544's benchmark range), and no namespace has a route
 * out: the public namespace knows only its links to the NATs, so a home's own address is reachable
 * from nowhere but its NAT. Host names given are written to `/etc/netns/<home>/hosts`. Namespaces are named `tcnat-<pid>-…`; {@link cleanupLeftovers} removes
 * those of test processes that are gone (a run killed before its `finally`).
 *
 * A cone NAT is Linux's plain masquerade: it keeps the source port when it can (endpoint-
 * independent mapping) and lets in only replies (address-and-port-dependent filtering), like most
 * home routers. `masquerade random` picks a new port per destination: a symmetric NAT, where the
 * address learned from STUN is useless to anyone else.
 * @module
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, rmSync, writeFileSync } from 'node:fs';

export const NETNS_PREFIX = 'tcnat-';
/** The Debian command that installs nftables. */
export const NFT_INSTALL = 'apt-get update && apt-get install -y nftables';

export type NatKind = 'cone' | 'symmetric';

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function inNs(ns: string, ...cmd: string[]): string {
  return ip('netns', 'exec', ns, ...cmd);
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Why namespaces cannot be made here, or null when they can (root, iproute2, a kernel that allows it). */
export function netnsUnavailable(): string | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'not running as root';
  const probe = `${NETNS_PREFIX}${process.pid}-probe`;
  const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (add.error) return `no ip command (${add.error.message})`;
  if (add.status !== 0) return `ip netns add failed: ${add.stderr.trim()}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return null;
}

/** The nft binary, installing Debian's nftables when missing (as root), like scripts/chromium.ts does Chromium. */
export function ensureNft(log: (msg: string) => void = (m) => console.error(m)): string {
  for (const p of ['/usr/sbin/nft', '/sbin/nft', '/usr/bin/nft']) if (executable(p)) return p;
  log(`nft not found; installing Debian's package: ${NFT_INSTALL}`);
  const r = spawnSync('sh', ['-c', NFT_INSTALL], { encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  for (const p of ['/usr/sbin/nft', '/sbin/nft']) if (executable(p)) return p;
  throw new Error(`installing nftables failed (exit ${r.status}); run: ${NFT_INSTALL}\n${(r.stdout ?? '') + (r.stderr ?? '')}`.slice(0, 2000));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes `tcnat-<pid>-*` namespaces whose process is gone. Returns how many. */
export function cleanupLeftovers(): number {
  let removed = 0;
  for (const line of ip('netns', 'list').split('\n')) {
    const name = line.split(' ')[0];
    const m = new RegExp(`^${NETNS_PREFIX}(\\d+)-`).exec(name);
    if (!m || alive(Number(m[1]))) continue;
    spawnSync('ip', ['netns', 'del', name]);
    rmSync(`/etc/netns/${name}`, { recursive: true, force: true });
    removed++;
  }
  return removed;
}

/** The lab: namespace names and addresses. */
export interface NatLab {
  pub: string;
  /** Relay addresses in the public namespace. */
  relayIps: [string, string];
  homes: { ns: string; nat: string; kind: NatKind; ip: string; wanIp: string }[];
  /** Removes every namespace of the lab (idempotent). */
  destroy(): void;
}

/**
 * Builds the lab: the public namespace with both relay addresses, and one home behind its own NAT
 * per entry of `kinds`. On any failure what was built is removed before the error is thrown.
 * @example const lab = buildNatLab(['cone', 'cone', 'symmetric'], { hosts: { 'relay1.example': '198.18.0.1' } }); try { … } finally { lab.destroy() }
 */
export function buildNatLab(kinds: NatKind[], opts: { hosts?: Record<string, string>; tag?: string } = {}): NatLab {
  const tag = opts.tag ?? String(process.pid);
  const prefix = `${NETNS_PREFIX}${tag}-`;
  const made: string[] = [];
  const destroy = () => {
    for (const ns of made.splice(0).reverse()) {
      spawnSync('ip', ['netns', 'del', ns]);
      rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
    }
  };
  // Names for a namespace (`ip netns exec` mounts /etc/netns/<ns>/hosts over /etc/hosts): what the
  // homes' and the relays' DNS would answer for the relays' names.
  const writeHosts = (ns: string) => {
    if (!opts.hosts) return;
    mkdirSync(`/etc/netns/${ns}`, { recursive: true });
    writeFileSync(`/etc/netns/${ns}/hosts`, `127.0.0.1 localhost\n${Object.entries(opts.hosts).map(([name, addr]) => `${addr} ${name}\n`).join('')}`);
  };
  const addNs = (name: string) => {
    ip('netns', 'add', name);
    made.push(name);
    ip('-n', name, 'link', 'set', 'lo', 'up');
  };
  try {
    const pub = `${prefix}pub`;
    addNs(pub);
    const relayIps: [string, string] = ['198.18.0.1', '198.18.0.2'];
    for (const a of relayIps) ip('-n', pub, 'addr', 'add', `${a}/32`, 'dev', 'lo');
    inNs(pub, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
    writeHosts(pub);
    const homes = kinds.map((kind, k) => {
      const i = k + 1;
      const nat = `${prefix}nat${i}`;
      const home = `${prefix}home${i}`;
      addNs(nat);
      addNs(home);
      const wanIp = `198.18.${i}.2`;
      ip('-n', pub, 'link', 'add', `w${i}`, 'type', 'veth', 'peer', 'name', 'wan', 'netns', nat);
      ip('-n', pub, 'addr', 'add', `198.18.${i}.1/24`, 'dev', `w${i}`);
      ip('-n', pub, 'link', 'set', `w${i}`, 'up');
      ip('-n', nat, 'addr', 'add', `${wanIp}/24`, 'dev', 'wan');
      ip('-n', nat, 'link', 'set', 'wan', 'up');
      ip('-n', nat, 'route', 'add', 'default', 'via', `198.18.${i}.1`);
      ip('-n', nat, 'link', 'add', 'lan', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', home);
      ip('-n', nat, 'addr', 'add', `198.19.${i}.1/24`, 'dev', 'lan');
      ip('-n', nat, 'link', 'set', 'lan', 'up');
      const homeIp = `198.19.${i}.2`;
      ip('-n', home, 'addr', 'add', `${homeIp}/24`, 'dev', 'eth0');
      ip('-n', home, 'link', 'set', 'eth0', 'up');
      ip('-n', home, 'route', 'add', 'default', 'via', `198.19.${i}.1`);
      inNs(nat, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
      writeHosts(home);
      inNs(nat, 'nft', 'add', 'table', 'ip', 'nat');
      inNs(nat, 'nft', 'add chain ip nat post { type nat hook postrouting priority srcnat ; }');
      inNs(nat, 'nft', 'add', 'rule', 'ip', 'nat', 'post', 'oifname', 'wan', 'masquerade', ...(kind === 'symmetric' ? ['random'] : []));
      // Like a home router: nothing unsolicited from outside reaches the router itself. Dropped in
      // input, such a packet's conntrack entry is never confirmed — otherwise a peer's early hole-
      // punching packet would leave an entry that makes masquerade pick another port for our own
      // reply (Linux's known clash), turning a cone NAT symmetric.
      inNs(nat, 'nft', 'add', 'table', 'ip', 'filter');
      inNs(nat, 'nft', 'add chain ip filter input { type filter hook input priority filter ; policy drop ; }');
      inNs(nat, 'nft', 'add', 'rule', 'ip', 'filter', 'input', 'ct', 'state', 'established,related', 'accept');
      inNs(nat, 'nft', 'add', 'rule', 'ip', 'filter', 'input', 'iifname', '!=', 'wan', 'accept');
      return { ns: home, nat, kind, ip: homeIp, wanIp };
    });
    return { pub, relayIps, homes, destroy };
  } catch (e) {
    destroy();
    throw e;
  }
}
