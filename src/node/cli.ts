/**
 * The headless full node: `npm run node -- [--network dev|main|test] [--mine] [--workers N] [--data DIR]
 * [--relay URL] [--bootstrap MULTIADDR]… [--listen MULTIADDR]… [--offline]`.
 *
 * The same FullNode as a browser tab, in Node: MemoryStore by default (gone at exit), LevelStore
 * with `--data DIR` (reopens where it stopped, without replaying). Mined blocks pay the wallet key
 * kept in the store (src/node/wallet.ts creates it on first use), so a `--data` node keeps mining
 * to the same address across restarts. Prints the height on every new tip (at most
 * once a second) and a status line with the hashrate every `--status-every` seconds. SIGINT or
 * SIGTERM stops the miner and closes the store before exiting (a second signal exits at once).
 *
 * Network (src/node/network/headless.ts): listens on TCP and WebSockets on 127.0.0.1 with free
 * ports (or `--listen`), joins the relay whose page is at `--relay` (its /bootstrap.json, the same
 * relay browser tabs use) and/or keeps `--bootstrap` multiaddrs connected, finds peers, syncs
 * headers-first and gossips blocks and transactions. `--offline` runs without a network (then the
 * node counts as synced and mines at once).
 * @module
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { addressOf, getParams, hashToHex, type NetworkName } from '../chain/index.ts';
import type { ChainStore } from '../storage/chain-store.ts';
import { MemoryStore } from '../storage/memory-store.ts';
import { LevelStore } from '../storage/level-store.ts';
import { FullNode } from './full-node.ts';
import { startHeadlessNetwork, type HeadlessNetwork } from './network/headless.ts';
import { outboxRebroadcast, toApiPeers } from './network/attach.ts';
import { Wallet } from './wallet.ts';
import { Outbox } from './outbox.ts';
import { createTabchainApi } from './api.ts';
import { COOKIE_FILE, MIN_RPC_PASSWORD_CHARS, removeCookie, writeCookie, type RpcCredentials } from './rpc/auth.ts';
import { nodeMetrics, type NodeMetrics } from './rpc/metrics.ts';
import { startRpcServer, type RpcServer } from './rpc/server.ts';
import { parseHostPort, RPC_PASSWORD_ENV, UsageError } from './rpc/options.ts';

/** Parsed command line. */
export interface CliOptions {
  network: NetworkName;
  mine: boolean;
  workers?: number;
  data?: string;
  /** Seconds between status lines. */
  statusEvery: number;
  /** Relay page URL (its /bootstrap.json is read). */
  relay?: string;
  /** Multiaddrs to keep connected. */
  bootstrap: string[];
  /** Listen multiaddrs (default TCP + WebSockets on 127.0.0.1, free ports). */
  listen?: string[];
  /** No network at all. */
  offline: boolean;
  /** Serve JSON-RPC and /metrics here (rpc/server.ts). */
  rpc?: { host: string; port: number };
  /** The RPC's cookie file (default `<data>/.cookie`). */
  rpcCookie?: string;
  /** A configured RPC user (its password from the environment, {@link RPC_PASSWORD_ENV}). */
  rpcUser?: string;
}


export const USAGE = `usage: npm run node -- [--network dev|main|test] [--mine] [--workers N] [--data DIR] [--status-every SECONDS]
                       [--relay URL] [--bootstrap MULTIADDR]... [--listen MULTIADDR]... [--offline]
                       [--rpc [HOST:]PORT [--rpc-cookie FILE] [--rpc-user USER]]

  --network        chain to run (default dev)
  --mine           mine blocks (to this node's key, kept in the store)
  --workers N      miner worker threads (default: CPUs - 1)
  --data DIR       keep the chain in a LevelDB directory (default: in memory, gone at exit)
  --status-every S seconds between status lines (default 10)
  --relay URL      join the relay serving the app at URL (reads URL/bootstrap.json), e.g. http://127.0.0.1:8080
  --bootstrap MA   keep this multiaddr connected (a relay or another node); repeatable
  --listen MA      listen on this multiaddr (default /ip4/127.0.0.1/tcp/0 and /ip4/127.0.0.1/tcp/0/ws); repeatable
  --offline        no network (the node mines alone)
  --rpc [HOST:]PORT  serve JSON-RPC and /metrics on HOST (default 127.0.0.1) and PORT (npm run cli looks at 8339; 0 = any free port),
                   authenticated by a cookie file (--data DIR/.cookie, or --rpc-cookie FILE) and/or --rpc-user
  --rpc-cookie F   write the RPC cookie to file F (default DIR/.cookie with --data)
  --rpc-user U     accept user U with the password in $${RPC_PASSWORD_ENV} (at least ${MIN_RPC_PASSWORD_CHARS} characters)`;

export { UsageError };

/**
 * Parses the command line (without the node and script paths). Throws {@link UsageError}.
 * @example parseCliArgs(['--network', 'dev', '--mine', '--relay', 'http://127.0.0.1:8080']) // { network: 'dev', mine: true, relay: 'http://127.0.0.1:8080/', bootstrap: [], offline: false, statusEvery: 10 }
 */
export function parseCliArgs(argv: string[]): CliOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        network: { type: 'string' },
        mine: { type: 'boolean' },
        workers: { type: 'string' },
        data: { type: 'string' },
        'status-every': { type: 'string' },
        relay: { type: 'string' },
        bootstrap: { type: 'string', multiple: true },
        listen: { type: 'string', multiple: true },
        offline: { type: 'boolean' },
        rpc: { type: 'string' },
        'rpc-cookie': { type: 'string' },
        'rpc-user': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  if (values.help) throw new UsageError('');
  const network = values.network ?? 'dev';
  if (network !== 'dev' && network !== 'main' && network !== 'test') throw new UsageError(`--network must be dev, main or test, not "${network}"`);
  let workers: number | undefined;
  if (values.workers !== undefined) {
    workers = Number(values.workers);
    if (!/^\d+$/.test(values.workers) || workers < 1 || workers > 256) throw new UsageError(`--workers must be an integer from 1 to 256, not "${values.workers}"`);
  }
  if (values.data !== undefined && values.data.trim() === '') throw new UsageError('--data needs a directory');
  const statusEvery = values['status-every'] === undefined ? 10 : Number(values['status-every']);
  if (!(Number.isFinite(statusEvery) && statusEvery > 0)) throw new UsageError(`--status-every must be a positive number of seconds, not "${values['status-every']}"`);
  let relay: string | undefined;
  if (values.relay !== undefined) {
    try {
      const u = new URL(values.relay);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
      relay = u.toString();
    } catch {
      throw new UsageError(`--relay must be the relay's http(s) URL, not "${values.relay}"`);
    }
  }
  const bootstrap = values.bootstrap ?? [];
  for (const ma of [...bootstrap, ...(values.listen ?? [])]) {
    if (!ma.startsWith('/')) throw new UsageError(`"${ma}" is not a multiaddr (e.g. /ip4/127.0.0.1/tcp/4001)`);
  }
  const offline = values.offline ?? false;
  if (offline && (relay !== undefined || bootstrap.length > 0 || values.listen !== undefined)) throw new UsageError('--offline excludes --relay, --bootstrap and --listen');
  const rpc = values.rpc === undefined ? undefined : parseHostPort(values.rpc);
  const rpcCookie = values['rpc-cookie'];
  const rpcUser = values['rpc-user'];
  if (!rpc && (rpcCookie !== undefined || rpcUser !== undefined)) throw new UsageError('--rpc-cookie and --rpc-user need --rpc');
  if (rpcCookie !== undefined && rpcCookie.trim() === '') throw new UsageError('--rpc-cookie needs a file name');
  if (rpcUser !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(rpcUser)) throw new UsageError('--rpc-user is 1 to 64 letters, digits, "_", "." or "-"');
  if (rpc && values.data === undefined && rpcCookie === undefined && rpcUser === undefined) {
    throw new UsageError('--rpc needs credentials: --data DIR (its cookie file), --rpc-cookie FILE or --rpc-user USER');
  }
  return { network, mine: values.mine ?? false, workers, data: values.data, statusEvery, relay, bootstrap, listen: values.listen, offline, rpc, rpcCookie, rpcUser };
}

function formatRate(hs: number): string {
  if (hs >= 1e6) return `${(hs / 1e6).toFixed(2)} MH/s`;
  if (hs >= 1e3) return `${(hs / 1e3).toFixed(1)} kH/s`;
  return `${hs.toFixed(0)} H/s`;
}

/**
 * Runs the node until SIGINT/SIGTERM; resolves with the exit code.
 * @example process.exitCode = await runCli(process.argv.slice(2))
 */
export async function runCli(argv: string[], out: (line: string) => void = (l) => console.log(l)): Promise<number> {
  let opts: CliOptions;
  try {
    opts = parseCliArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    if (e.message) console.error(`error: ${e.message}`);
    console.error(USAGE);
    return e.message ? 2 : 0;
  }
  let userCredentials: RpcCredentials | undefined;
  if (opts.rpcUser !== undefined) {
    const password = process.env[RPC_PASSWORD_ENV] ?? '';
    if (password.length < MIN_RPC_PASSWORD_CHARS) {
      console.error(`error: --rpc-user needs its password in $${RPC_PASSWORD_ENV}, at least ${MIN_RPC_PASSWORD_CHARS} characters`);
      return 2;
    }
    userCredentials = { user: opts.rpcUser, password };
  }
  // Signals are caught from here on: one arriving while the node or its network is still starting
  // is acted on (a clean stop) once they are up, instead of killing the process half-way.
  const early: string[] = [];
  let onSignal: (signal: string) => void = (signal) => early.push(signal);
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  const params = getParams(opts.network);
  const store: ChainStore = opts.data ? new LevelStore({ network: opts.network, dir: opts.data }) : new MemoryStore({ network: opts.network });
  const node = new FullNode({ params, store, miner: { workers: opts.workers }, log: (m) => out(m) });
  // The wallet's transactions are tracked (and resubmitted) by an outbox, as in a tab; its
  // rebroadcast hook is the network's once that runs.
  const outbox = new Outbox({ node, store, log: (m) => out(m) });
  let wallet: Wallet;
  try {
    await node.start();
    // The profile's wallet key (created and stored on first use), as a browser tab does.
    wallet = await Wallet.open({ store, node, outbox });
    node.setMinerPubKey(wallet.publicKey);
  } catch (e) {
    console.error(`error: cannot start the node: ${e instanceof Error ? e.message : String(e)}`);
    await node.stop().catch(() => undefined);
    return 1;
  }
  out(`tabchain ${opts.network} node, ${opts.data ? `data in ${opts.data}` : 'in memory'}, miner address ${addressOf(node.minerPubKey!, params)}`);
  out(`height ${node.height} tip ${hashToHex(node.tip.hash)}`);

  let network: HeadlessNetwork | undefined;
  if (!opts.offline) {
    try {
      network = await startHeadlessNetwork(node, { relay: opts.relay, bootstrap: opts.bootstrap, listen: opts.listen, log: (m) => out(m) });
    } catch (e) {
      console.error(`error: cannot start the network: ${e instanceof Error ? e.message : String(e)}`);
      await node.stop().catch(() => undefined);
      return 1;
    }
    const net = network.net;
    out(`peer id ${net.peerId}`);
    for (const ma of net.multiaddrs()) out(`listening on ${ma}`);
    outbox.rebroadcastHook = outboxRebroadcast(net);
    net.events.on('synced', ({ synced }) => out(synced ? 'synced' : 'syncing'));
    net.events.on('banned', (b) => out(`banned ${b.peerId} (${b.offence}${b.why ? `: ${b.why}` : ''})`));
    let lastProgress = 0;
    net.events.on('sync-progress', (p) => {
      if (Date.now() - lastProgress < 1000 && p.done < p.total) return;
      lastProgress = Date.now();
      out(`sync ${p.phase} ${p.done}/${p.total}`);
    });
  }

  await outbox.start();

  let rpc: RpcServer | undefined;
  let metrics: NodeMetrics | undefined;
  let cookiePath: string | undefined;
  if (opts.rpc) {
    try {
      const credentials: RpcCredentials[] = userCredentials ? [userCredentials] : [];
      const cookieAt = opts.rpcCookie ?? (opts.data !== undefined ? join(opts.data, COOKIE_FILE) : undefined);
      if (cookieAt !== undefined) {
        const cookie = await writeCookie(cookieAt);
        cookiePath = cookie.path;
        credentials.push(cookie);
      }
      const net = network?.net;
      const api = createTabchainApi({
        node,
        wallet: wallet!,
        outbox,
        profile: 'headless',
        peerId: () => net?.peerId ?? '',
        peers: () => (net ? toApiPeers(net.peers()) : []),
        online: () => net !== undefined,
        connection: () => (!net ? 'alone' : net.peers().some((p) => !p.isRelay) ? 'connected' : 'connecting'),
      });
      metrics = nodeMetrics(node, net);
      rpc = await startRpcServer({ ...opts.rpc, credentials, context: { api }, metrics: metrics.registry, log: (m) => console.error(m) });
    } catch (e) {
      console.error(`error: cannot start the RPC server on ${opts.rpc.host}:${opts.rpc.port}: ${e instanceof Error ? e.message : String(e)}`);
      if (cookiePath) await removeCookie(cookiePath).catch(() => undefined);
      await outbox.stop().catch(() => undefined);
      await network?.stop().catch(() => undefined);
      await node.stop().catch(() => undefined);
      return 1;
    }
    out(`rpc listening on ${rpc.url}`);
    if (cookiePath) out(`rpc cookie ${cookiePath}`);
  }

  // Height on each new tip, at most once a second (the last one is never lost).
  let lastPrinted = 0;
  let pending: ReturnType<typeof setTimeout> | undefined;
  const printTip = () => {
    pending = undefined;
    lastPrinted = Date.now();
    out(`height ${node.height} tip ${hashToHex(node.tip.hash)}`);
  };
  node.events.on('tip', () => {
    if (pending !== undefined) return;
    pending = setTimeout(printTip, Math.max(0, lastPrinted + 1000 - Date.now()));
  });
  node.events.on('error', (e) => console.error(`error: ${e.message}`));
  const status = setInterval(() => {
    const m = node.miner.minerStatus();
    const peers = network ? network.net.peers().filter((p) => !p.isRelay).length : 0;
    const relays = network ? network.net.peers().filter((p) => p.isRelay).length : 0;
    out(
      `status height ${node.height} mempool ${node.mempool.size} mining ${m.mining ? 'yes' : 'no'} workers ${m.workers} hashrate ${formatRate(m.hashrate)} found ${m.blocksFound}` +
        (network ? ` peers ${peers} relays ${relays} synced ${node.synced ? 'yes' : 'no'}` : ''),
    );
  }, opts.statusEvery * 1000);

  if (opts.mine) await node.miner.startMining(opts.workers !== undefined ? { workers: opts.workers } : {});

  return new Promise<number>((resolve) => {
    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) {
        console.error(`${signal} again: exiting without a clean stop`);
        resolve(1);
        return;
      }
      stopping = true;
      out(`${signal}: stopping`);
      clearInterval(status);
      if (pending !== undefined) clearTimeout(pending);
      const rpcDown = Promise.all([
        rpc?.close(),
        cookiePath ? removeCookie(cookiePath) : undefined,
        outbox.stop(),
      ]).then(() => metrics?.stop(), (e: unknown) => console.error(`error while stopping the RPC: ${e instanceof Error ? e.message : String(e)}`));
      rpcDown
        .then(() => (network ? network.stop().catch((e: unknown) => console.error(`error while stopping the network: ${e instanceof Error ? e.message : String(e)}`)) : Promise.resolve()))
        .then(() => node.stop())
        .then(
        () => {
          out(`stopped at height ${node.height} tip ${hashToHex(node.tip.hash)}`);
          resolve(0);
        },
        (e: unknown) => {
          console.error(`error while stopping: ${e instanceof Error ? e.message : String(e)}`);
          resolve(1);
        },
      );
    };
    onSignal = shutdown;
    if (early.length > 0) shutdown(early[0]);
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const code = await runCli(process.argv.slice(2));
  process.exit(code);
}
