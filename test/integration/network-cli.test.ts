/**
 * The headless node's network as a user runs it: two `npm run node` processes (node --import tsx
 * src/node/cli.ts) join the same relay with `--relay URL`; one mines, the other follows over the
 * network; both stop cleanly on SIGTERM.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killNodes, spawnNode } from './helpers/node-process.ts';
import { startTestRelay } from './helpers/net-nodes.ts';

let relay: Awaited<ReturnType<typeof startTestRelay>>;

beforeAll(async () => {
  relay = await startTestRelay('test');
});

afterAll(async () => {
  killNodes();
  await relay?.close();
});

describe('npm run node -- --relay URL', () => {
  it('two headless nodes meet through the relay; one mines, the other follows', async () => {
    const miner = spawnNode(['--network', 'test', '--mine', '--workers', '1', '--relay', relay.url(), '--status-every', '1']);
    const follower = spawnNode(['--network', 'test', '--relay', relay.url(), '--status-every', '1']);
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
