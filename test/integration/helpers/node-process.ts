/**
 * The headless node as a user runs it: `node --import tsx src/node/cli.ts …` in a child process,
 * with its stdout read line by line. Every test that spawns the node uses this one helper.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root (the child's working directory). */
export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** A running `npm run node`. */
export interface NodeProcess {
  child: ChildProcessWithoutNullStreams;
  /** Every complete stdout line so far. */
  lines: string[];
  /** Everything printed on stderr so far. */
  stderr: () => string;
  /** Resolves with the first stdout line matching `re` (already printed or later); rejects on exit or timeout. */
  waitLine(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** The exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

/** Children still running, for {@link killNodes}. */
const running = new Set<ChildProcessWithoutNullStreams>();

/** Starts `src/node/cli.ts` with `args`. */
export function spawnNode(args: readonly string[]): NodeProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/node/cli.ts', ...args], { cwd: ROOT });
  running.add(child);
  const lines: string[] = [];
  let err = '';
  let partial = '';
  const waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
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
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  const output = () => `stdout:\n${lines.join('\n')}\nstderr:\n${err}`;
  return {
    child,
    lines,
    stderr: () => err,
    exited,
    waitLine(re, timeoutMs = 40_000) {
      for (const line of lines) {
        const m = line.match(re);
        if (m) return Promise.resolve(m);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no line matching ${re} within ${timeoutMs} ms; ${output()}`)), timeoutMs);
        waiters.push({
          re,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        });
        void exited.then(() => {
          clearTimeout(timer);
          reject(new Error(`node exited before printing ${re}; ${output()}`));
        });
      });
    },
  };
}

/** SIGKILLs every node this helper started that still runs (an afterEach/afterAll). */
export function killNodes(): void {
  for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  running.clear();
}
