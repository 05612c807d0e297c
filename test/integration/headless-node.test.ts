/**
 * The headless node as a user runs it: `node --import tsx src/node/cli.ts …` in a child process,
 * mining into a LevelDB directory, stopped by SIGTERM, restarted on the same directory.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killNodes, spawnNode } from './helpers/node-process.ts';

afterEach(killNodes);

describe('headless node (npm run node)', () => {
  it('mines into --data, stops cleanly on SIGTERM, and reopens at the same tip', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tabchain-headless-'));
    try {
      const first = spawnNode(['--network', 'test', '--mine', '--workers', '1', '--data', dir]);
      await first.waitLine(/^height ([3-9]|\d{2,}) /);
      first.child.kill('SIGTERM');
      const [, height, tip] = await first.waitLine(/^stopped at height (\d+) tip ([0-9a-f]{64})$/);
      expect(await first.exited).toBe(0);
      expect(Number(height)).toBeGreaterThanOrEqual(3);
      const address = first.lines.find((l) => l.includes('miner address'))!.split('miner address ')[1];

      const second = spawnNode(['--network', 'test', '--data', dir]);
      const [, height2, tip2] = await second.waitLine(/^height (\d+) tip ([0-9a-f]{64})$/);
      expect([height2, tip2]).toEqual([height, tip]);
      // Same key: the node keeps mining to the address it had.
      expect(second.lines.find((l) => l.includes('miner address'))).toContain(address);
      second.child.kill('SIGINT');
      await second.waitLine(/^stopped at height /);
      expect(await second.exited).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects bad arguments with a clear message and exit code 2', async () => {
    const run = spawnNode(['--network', 'moon']);
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toMatch(/--network must be dev, main or test, not "moon"/);
    expect(run.stderr()).toMatch(/usage: npm run node --/);
  });
});
