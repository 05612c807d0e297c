/**
 * Finding, or installing from Debian, a browser the system provides: the one lookup and install
 * path behind scripts/chromium.ts and scripts/firefox.ts. Neither test driver (playwright-core,
 * puppeteer-core) downloads a browser of its own.
 * @module
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Where one browser is looked for, and how Debian installs it. */
export interface SystemBrowser {
  /** Its name in messages: 'Chromium', 'Firefox'. */
  label: string;
  /** The environment variable that names its executable first: 'CHROMIUM_PATH'. */
  envVar: string;
  /** Executable names looked for on PATH, in order. */
  names: readonly string[];
  /** Looked at last, when PATH has none. */
  fallback: string;
  /** The Debian command that installs it (run as root when it is missing). */
  installCommand: string;
  /** What the environment variable may name, for the error: 'a Chromium/Chrome executable'. */
  envHint: string;
}

/** Whether `file` exists and may be run. */
export function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The browser's executable (its environment variable, then PATH, then the fallback), or null. */
export function findBrowser(b: SystemBrowser): string | null {
  const fromEnv = process.env[b.envVar];
  if (fromEnv) {
    if (isExecutable(fromEnv)) return fromEnv;
    throw new Error(`${b.envVar}=${fromEnv} is not an executable file`);
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    for (const name of b.names) {
      const file = join(dir, name);
      if (isExecutable(file)) return file;
    }
  }
  return isExecutable(b.fallback) ? b.fallback : null;
}

/**
 * The browser's executable, installing Debian's package first when missing and running as root.
 * Throws, naming the command to run, when it can do neither.
 */
export function ensureBrowser(b: SystemBrowser, log: (msg: string) => void): string {
  const found = findBrowser(b);
  if (found) return found;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !isExecutable('/usr/bin/apt-get')) {
    throw new Error(`${b.label} not found (looked at ${b.envVar}, PATH and ${b.fallback}). Install it with:\n  sudo sh -c '${b.installCommand}'\nor set ${b.envVar} to ${b.envHint}.`);
  }
  log(`${b.label} not found; installing Debian's package: ${b.installCommand}`);
  const r = spawnSync('sh', ['-c', b.installCommand], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  const again = findBrowser(b);
  if (r.status !== 0 || !again) {
    const tail = `${r.stdout?.toString() ?? ''}${r.stderr?.toString() ?? ''}`.split('\n').slice(-15).join('\n');
    throw new Error(`installing ${b.label} failed (exit ${r.status}). Run it yourself:\n  ${b.installCommand}\n${tail}`);
  }
  return again;
}
