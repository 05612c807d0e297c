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
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type LaunchOptions } from 'playwright-core';
import { ensureBrowser, findBrowser, isExecutable, type SystemBrowser } from './system-browser.ts';

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

/** Where Chromium is looked for, and how Debian installs it. */
const CHROMIUM: SystemBrowser = {
  label: 'Chromium',
  envVar: 'CHROMIUM_PATH',
  names: ['chromium', 'chromium-browser', 'google-chrome'],
  fallback: '/usr/bin/chromium',
  installCommand: INSTALL_COMMAND,
  envHint: 'a Chromium/Chrome executable',
};

/**
 * The Chromium executable, or null if there is none.
 * @example findChromium() // '/usr/bin/chromium'
 */
export function findChromium(): string | null {
  return findBrowser(CHROMIUM);
}

/**
 * The Chromium executable, installing Debian's package first when missing and running as root.
 * Throws, naming the command to run, when it can do neither.
 * @example const path = ensureChromium();
 */
export function ensureChromium(log: (msg: string) => void = (m) => console.error(m)): string {
  return ensureBrowser(CHROMIUM, log);
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
