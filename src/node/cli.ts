/**
 * The headless full node: `npm run node -- [--network dev|main|test] [--mine] [--workers N] [--data DIR]`.
 *
 * The same FullNode as a browser tab, in Node: MemoryStore by default (gone at exit), LevelStore
 * with `--data DIR` (reopens where it stopped, without replaying). Mined blocks pay the wallet key
 * kept in the store (src/node/wallet.ts creates it on first use), so a `--data` node keeps mining
 * to the same address across restarts. Prints the height on every new tip (at most
 * once a second) and a status line with the hashrate every `--status-every` seconds. SIGINT or
 * SIGTERM stops the miner and closes the store before exiting (a second signal exits at once).
 * @module
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { addressOf, getParams, hashToHex, type NetworkName } from '../chain/index.ts';
import type { ChainStore } from '../storage/chain-store.ts';
import { MemoryStore } from '../storage/memory-store.ts';
import { LevelStore } from '../storage/level-store.ts';
import { FullNode } from './full-node.ts';
import { Wallet } from './wallet.ts';

/** Parsed command line. */
export interface CliOptions {
  network: NetworkName;
  mine: boolean;
  workers?: number;
  data?: string;
  /** Seconds between status lines. */
  statusEvery: number;
}

export const USAGE = `usage: npm run node -- [--network dev|main|test] [--mine] [--workers N] [--data DIR] [--status-every SECONDS]

  --network        chain to run (default dev)
  --mine           mine blocks (to this node's key, kept in the store)
  --workers N      miner worker threads (default: CPUs - 1)
  --data DIR       keep the chain in a LevelDB directory (default: in memory, gone at exit)
  --status-every S seconds between status lines (default 10)`;

/** A command-line mistake: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * Parses the command line (without the node and script paths). Throws {@link UsageError}.
 * @example parseCliArgs(['--network', 'dev', '--mine']) // { network: 'dev', mine: true, statusEvery: 10 }
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
  return { network, mine: values.mine ?? false, workers, data: values.data, statusEvery };
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
  const params = getParams(opts.network);
  const store: ChainStore = opts.data ? new LevelStore({ network: opts.network, dir: opts.data }) : new MemoryStore({ network: opts.network });
  const node = new FullNode({ params, store, miner: { workers: opts.workers }, log: (m) => out(m) });
  try {
    await node.start();
    // The profile's wallet key (created and stored on first use), as a browser tab does.
    node.setMinerPubKey((await Wallet.open({ store, node })).publicKey);
  } catch (e) {
    console.error(`error: cannot start the node: ${e instanceof Error ? e.message : String(e)}`);
    await node.stop().catch(() => undefined);
    return 1;
  }
  out(`tabchain ${opts.network} node, ${opts.data ? `data in ${opts.data}` : 'in memory'}, miner address ${addressOf(node.minerPubKey!, params)}`);
  out(`height ${node.height} tip ${hashToHex(node.tip.hash)}`);

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
    const m = node.minerStatus();
    out(`status height ${node.height} mempool ${node.mempool.size} mining ${m.mining ? 'yes' : 'no'} workers ${m.workers} hashrate ${formatRate(m.hashrate)} found ${m.blocksFound}`);
  }, opts.statusEvery * 1000);

  if (opts.mine) await node.startMining(opts.workers !== undefined ? { workers: opts.workers } : {});

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
      node.stop().then(
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
    process.on('SIGINT', () => shutdown('SIGINT'));
    process.on('SIGTERM', () => shutdown('SIGTERM'));
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const code = await runCli(process.argv.slice(2));
  process.exit(code);
}
