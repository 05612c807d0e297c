/**
 * The headless node as a user runs it: `node --import tsx src/node/cli.ts …` in a child process,
 * mining into a LevelDB directory, stopped by SIGTERM, restarted on the same directory.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface Run {
  child: ChildProcessWithoutNullStreams;
  lines: string[];
  stderr: () => string;
  /** Resolves with the first stdout line matching `re` (already printed or later). */
  waitLine(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

const children: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function runNode(args: string[]): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/node/cli.ts', ...args], { cwd: root });
  children.push(child);
  const lines: string[] = [];
  let err = '';
  let partial = '';
  const waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    partial += chunk;
    const parts = partial.split('\n');
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
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    lines,
    stderr: () => err,
    exited,
    waitLine(re, timeoutMs = 30_000) {
      for (const line of lines) {
        const m = line.match(re);
        if (m) return Promise.resolve(m);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no line matching ${re} within ${timeoutMs} ms; stdout:\n${lines.join('\n')}\nstderr:\n${err}`)), timeoutMs);
        waiters.push({
          re,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        });
        void exited.then(() => {
          clearTimeout(timer);
          reject(new Error(`node exited before printing ${re}; stdout:\n${lines.join('\n')}\nstderr:\n${err}`));
        });
      });
    },
  };
}

describe('headless node (npm run node)', () => {
  it('mines into --data, stops cleanly on SIGTERM, and reopens at the same tip', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tabchain-headless-'));
    try {
      const first = runNode(['--network', 'test', '--mine', '--workers', '1', '--data', dir]);
      await first.waitLine(/^height ([3-9]|\d{2,}) /);
      first.child.kill('SIGTERM');
      const [, height, tip] = await first.waitLine(/^stopped at height (\d+) tip ([0-9a-f]{64})$/);
      expect(await first.exited).toBe(0);
      expect(Number(height)).toBeGreaterThanOrEqual(3);
      const address = first.lines.find((l) => l.includes('miner address'))!.split('miner address ')[1];

      const second = runNode(['--network', 'test', '--data', dir]);
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
    const run = runNode(['--network', 'moon']);
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toMatch(/--network must be dev, main or test, not "moon"/);
    expect(run.stderr()).toMatch(/usage: npm run node --/);
  });
});
