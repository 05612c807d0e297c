/**
 * Crash safety of the headless node (issue 16 item 3): `npm run node -- --data DIR` (LevelDB) syncs
 * from a feeder that keeps getting longer chains and heavier competing branches, and is SIGKILLed
 * at seeded random moments after it starts fetching bodies — in the middle of connecting a run of
 * blocks, or of a reorg (side-branch bodies stored one by one, disconnects, batched connects).
 * After every kill the LevelDB directory is opened here and replayed from genesis (verifyStore):
 * tip, state, undo records and the txid index must agree with the replay. At the end the node
 * catches up with the feeder, follows one more reorg while running, and mines a block the feeder
 * takes.
 *
 * CRASH_KILLS (default 30) and CRASH_SEED (default: the time) tune a run; `npm run stress:crash`
 * runs it with 100 kills. The seed is printed so a failure can be replayed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NETWORKS, bytesToHex, hashToHex } from '../../src/chain/index.ts';
import { LevelStore } from '../../src/storage/level-store.ts';
import { verifyStore, type StoreVerification } from '../../src/storage/verify-store.ts';
import { seededRandom } from '../../bench/sim/seeded-random.ts';
import { batchesBeforeKill } from '../support/crash-chain.ts';
import { startFeeder, type Feeder } from './helpers/crash-feeder.ts';
import { killNodes, spawnNode } from './helpers/node-process.ts';

const params = NETWORKS.test;
const KILLS = Number(process.env.CRASH_KILLS ?? 30);
const SEED = Number(process.env.CRASH_SEED ?? Date.now() % 2 ** 31);
/** Blocks the feeder holds before the first start. */
const INITIAL_BLOCKS = 300;
/** A kill comes this long at most after the body request chosen for it (ms). */
const KILL_JITTER_MS = 150;
/** How long a start may take to reach its kill point (a loaded machine starts tsx slowly). */
const KILL_POINT_MS = 60_000;

let feeder: Feeder | undefined;
let dir: string | undefined;

afterAll(async () => {
  killNodes();
  await feeder?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Opens the killed node's directory and replays it. */
async function verifyDir(path: string): Promise<{ v: StoreVerification; betterStored: boolean }> {
  const store = new LevelStore({ network: 'test', dir: path });
  try {
    await store.open();
    const snap = await store.readAll();
    const tip = snap.headers.find((e) => snap.meta.tipHash !== null && bytesToHex(e.hash) === bytesToHex(snap.meta.tipHash));
    // A stored branch with more work than the stored tip: killed between storing and connecting it.
    const betterStored = tip !== undefined && snap.headers.some((e) => e.hasBody && e.status !== 'invalid' && e.chainwork > tip.chainwork);
    return { v: verifyStore(snap, params), betterStored };
  } finally {
    await store.close();
  }
}

describe('headless node under SIGKILL', () => {
  it(`reopens consistent after ${KILLS} kills during runs and reorgs, then syncs and mines on`, { timeout: 300_000 + KILLS * 60_000 }, async () => {
    console.log(`crash-headless: seed ${SEED}, ${KILLS} kills`);
    const random = seededRandom(SEED);
    dir = await mkdtemp(join(tmpdir(), 'tabchain-crash-'));
    feeder = await startFeeder('test', INITIAL_BLOCKS);
    const bootstrap = feeder.net.net.multiaddrs().find((m) => m.includes('/tcp/') && !m.includes('/ws'))!;
    const args = ['--network', 'test', '--data', dir, '--bootstrap', bootstrap, '--workers', '1'];
    let stored = -1;
    const tally = { kills: 0, consistent: 0, midSync: 0, betweenBranches: 0, reorgs: 0 };

    const tipLine = (hex: string) => new RegExp(`^height \\d+ tip ${hex}$`);
    const t0 = Date.now();
    for (let k = 0; k < KILLS; k++) {
      // Something to connect: more blocks, or (once the node has a chain) a heavier branch forking below its stored tip.
      if (stored > 10 && random() < 0.5) {
        const fork = Math.max(8, stored - 1 - Math.floor(random() * 40));
        await feeder.reorg(fork, `branch${k}`, 1 + Math.floor(random() * 60));
        tally.reorgs++;
      } else await feeder.extend(20 + Math.floor(random() * 130));

      // The kill point: after a random one of the body requests this sync takes, or once it is over.
      const target = feeder.served() + batchesBeforeKill(random, feeder.branch.height - stored);
      const victim = spawnNode(args);
      const point = await Promise.race([
        feeder.waitServed(target, KILL_POINT_MS).then(() => 'mid-sync', () => 'timeout'),
        victim.waitLine(tipLine(hashToHex(feeder.branch.tip.hash)), KILL_POINT_MS).then(() => 'synced', () => 'timeout'),
        victim.exited.then(() => 'exited'),
      ]);
      if (point === 'exited' || point === 'timeout') throw new Error(`kill ${k}: the node ${point} before its kill point; ${victim.stderr()}`);
      await new Promise((r) => setTimeout(r, random() * KILL_JITTER_MS));
      victim.child.kill('SIGKILL');
      await victim.exited;
      tally.kills++;

      const { v, betterStored } = await verifyDir(dir);
      expect(v.discrepancies, `kill ${k} (seed ${SEED}) at height ${v.tipHeight}`).toEqual([]);
      tally.consistent++;
      if (v.tipHeight < feeder.branch.height) tally.midSync++;
      if (betterStored) tally.betweenBranches++;
      stored = v.tipHeight;
      console.log(`crash-headless: kill ${k} at +${Date.now() - t0} ms: stored ${v.tipHeight} of the feeder's ${feeder.branch.height}, ${v.replayed} replayed${betterStored ? ', a better branch stored' : ''}`);
    }

    // Alive after all that: catches up, and follows a reorg while running…
    const follower = spawnNode([...args, '--status-every', '1']);
    await follower.waitLine(tipLine(hashToHex(feeder.branch.tip.hash)), 120_000);
    await feeder.reorg(feeder.branch.height - 5, 'last', 10, true);
    await follower.waitLine(tipLine(hashToHex(feeder.branch.tip.hash)), 60_000);
    follower.child.kill('SIGTERM');
    expect(await follower.exited).toBe(0);
    // …then mines on the feeder's tip, and the feeder takes its block.
    const before = feeder.net.node.height;
    const miner = spawnNode([...args, '--mine', '--status-every', '1']);
    const deadline = Date.now() + 120_000;
    while (feeder.net.node.height <= before) {
      if (Date.now() > deadline) throw new Error(`the node mined nothing the feeder took:\n${miner.lines.slice(-20).join('\n')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    miner.child.kill('SIGTERM');
    expect(await miner.exited).toBe(0);
    const { v } = await verifyDir(dir);
    expect(v.discrepancies).toEqual([]);
    expect(v.tipHeight).toBeGreaterThan(before);
    console.log(`crash-headless: seed ${SEED}: ${JSON.stringify(tally)}, final height ${v.tipHeight}`);
    expect(tally.consistent).toBe(KILLS);
  });
});
