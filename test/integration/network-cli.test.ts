/**
 * The headless node's network as a user runs it: two `npm run node` processes (node --import tsx
 * src/node/cli.ts) join the same relay with `--relay URL`; one mines, the other follows over the
 * network; both stop cleanly on SIGTERM.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRelay } from './helpers/net-nodes.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const children: ChildProcessWithoutNullStreams[] = [];
let relay: Awaited<ReturnType<typeof startTestRelay>>;

interface Run {
  child: ChildProcessWithoutNullStreams;
  lines: string[];
  waitLine(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

function runNode(args: string[]): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/node/cli.ts', ...args], { cwd: root });
  children.push(child);
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      for (const w of [...waiters]) {
        const m = line.match(w.re);
        if (m) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    }
  });
  child.stderr.resume();
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    lines,
    exited,
    waitLine(re, timeoutMs = 40_000) {
      for (const line of lines) {
        const m = line.match(re);
        if (m) return Promise.resolve(m);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no line matching ${re} in ${timeoutMs} ms; stdout:\n${lines.join('\n')}`)), timeoutMs);
        waiters.push({
          re,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        });
      });
    },
  };
}

beforeAll(async () => {
  relay = await startTestRelay('test');
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await relay?.close();
});

describe('npm run node -- --relay URL', () => {
  it('two headless nodes meet through the relay; one mines, the other follows', async () => {
    const miner = runNode(['--network', 'test', '--mine', '--workers', '1', '--relay', relay.url(), '--status-every', '1']);
    const follower = runNode(['--network', 'test', '--relay', relay.url(), '--status-every', '1']);
    await miner.waitLine(/^peer id 12D3KooW\S+$/);
    await follower.waitLine(/^listening on \/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//);
    // The follower mines nothing: every block it has came over the network.
    const [, height] = await follower.waitLine(/^height ([3-9]|\d{2,}) tip [0-9a-f]{64}$/);
    expect(Number(height)).toBeGreaterThanOrEqual(3);
    await follower.waitLine(/^status height \d+ .* peers 1 relays 1 synced yes$/);

    for (const run of [miner, follower]) run.child.kill('SIGTERM');
    expect(await miner.exited).toBe(0);
    expect(await follower.exited).toBe(0);
    await follower.waitLine(/^stopped at height \d+ /);
  });
});
