/**
 * Finds (or installs) the system Chromium and launches it with playwright-core — which never
 * downloads a browser of its own. Used by the Chromium benchmarks and the e2e tests.
 *
 * Lookup order: `CHROMIUM_PATH`, then `chromium` / `chromium-browser` / `google-chrome` on PATH,
 * then /usr/bin/chromium. If none is found and we run as root, Debian's package is installed
 * (`apt-get update && apt-get install -y chromium`); otherwise the error says which command to run.
 *
 * Usage from a shell: `npx tsx scripts/chromium.ts` prints the path (installing if needed).
 * @module
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, realpathSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type LaunchOptions } from 'playwright-core';

/** The Debian command that installs Chromium. */
export const INSTALL_COMMAND = 'apt-get update && apt-get install -y chromium';

/** Flags for a quiet, sandbox-free headless Chromium (containers, CI). */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The Chromium executable, or null if there is none.
 * @example findChromium() // '/usr/bin/chromium'
 */
export function findChromium(): string | null {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (isExecutable(fromEnv)) return fromEnv;
    throw new Error(`CHROMIUM_PATH=${fromEnv} is not an executable file`);
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
      const file = join(dir, name);
      if (isExecutable(file)) return file;
    }
  }
  return isExecutable('/usr/bin/chromium') ? '/usr/bin/chromium' : null;
}

/**
 * The Chromium executable, installing Debian's package first when missing and running as root.
 * Throws, naming the command to run, when it can do neither.
 * @example const path = ensureChromium();
 */
export function ensureChromium(log: (msg: string) => void = (m) => console.error(m)): string {
  const found = findChromium();
  if (found) return found;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = isExecutable('/usr/bin/apt-get');
  if (!isRoot || !hasApt) {
    throw new Error(`Chromium not found (looked at CHROMIUM_PATH, PATH and /usr/bin/chromium). Install it with:\n  sudo sh -c '${INSTALL_COMMAND}'\nor set CHROMIUM_PATH to a Chromium/Chrome executable.`);
  }
  log(`Chromium not found; installing Debian's package: ${INSTALL_COMMAND}`);
  const r = spawnSync('sh', ['-c', INSTALL_COMMAND], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  const again = findChromium();
  if (r.status !== 0 || !again) {
    const tail = `${r.stdout?.toString() ?? ''}${r.stderr?.toString() ?? ''}`.split('\n').slice(-15).join('\n');
    throw new Error(`installing Chromium failed (exit ${r.status}). Run it yourself:\n  ${INSTALL_COMMAND}\n${tail}`);
  }
  return again;
}

/**
 * The real binary behind Debian's /usr/bin/chromium shell wrapper (the wrapper only adds flags
 * from /etc/chromium.d and can print noise); other paths are returned unchanged.
 */
function resolveBinary(file: string): string {
  try {
    const real = realpathSync(file);
    if (real === '/usr/bin/chromium' && isExecutable('/usr/lib/chromium/chromium')) return '/usr/lib/chromium/chromium';
    return real;
  } catch {
    return file;
  }
}

/**
 * Launches headless Chromium via playwright-core with {@link CHROMIUM_ARGS}.
 * @example
 * ```ts
 * const browser = await launchChromium();
 * const page = await browser.newPage();
 * await browser.close();
 * ```
 */
export async function launchChromium(opts: LaunchOptions = {}): Promise<Browser> {
  const executablePath = resolveBinary(ensureChromium());
  return chromium.launch({ headless: true, ...opts, executablePath, args: [...CHROMIUM_ARGS, ...(opts.args ?? [])] });
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(ensureChromium());
}
