/**
 * Finds (or installs) Firefox ESR and launches it headless with puppeteer-core over WebDriver BiDi
 * — which, like playwright-core for Chromium (scripts/chromium.ts), never downloads a browser of
 * its own. Used by the Firefox e2e tests and benchmarks. (playwright-core drives only its own
 * patched Firefox builds, so puppeteer-core, which speaks the standard protocol, drives this one.)
 *
 * Lookup order: `FIREFOX_PATH`, then `firefox-esr` / `firefox` on PATH, then /usr/bin/firefox-esr.
 * If none is found and we run as root, Debian's package is installed
 * (`apt-get update && apt-get install -y firefox-esr`); otherwise the error says which command to run.
 *
 * Usage from a shell: `npx tsx scripts/firefox.ts` prints the path (installing if needed).
 * @module
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, realpathSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type LaunchOptions } from 'puppeteer-core';

/** The Debian command that installs Firefox ESR. */
export const FIREFOX_INSTALL_COMMAND = 'apt-get update && apt-get install -y firefox-esr';

/**
 * Preferences of the test profile.
 * - `media.peerconnection.ice.loopback`: Firefox leaves loopback addresses out of its ICE
 *   candidates; on a machine whose only network is loopback (CI, the tests' own relay on
 *   127.0.0.1) it would gather none, and no WebRTC connection could open.
 * - `permissions.default.camera`: with camera permission granted Firefox shows host candidates as
 *   they are instead of hiding them behind mDNS names (`….local`), which nothing resolves here.
 * - the rest keep a test browser quiet: no first-run pages, updates or telemetry.
 */
export const FIREFOX_PREFS: Readonly<Record<string, unknown>> = {
  'media.peerconnection.ice.loopback': true,
  'permissions.default.camera': 1,
  'app.update.enabled': false,
  'browser.shell.checkDefaultBrowser': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.enabled': false,
};

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The Firefox executable, or null if there is none.
 * @example findFirefox() // '/usr/bin/firefox-esr'
 */
export function findFirefox(): string | null {
  const fromEnv = process.env.FIREFOX_PATH;
  if (fromEnv) {
    if (isExecutable(fromEnv)) return fromEnv;
    throw new Error(`FIREFOX_PATH=${fromEnv} is not an executable file`);
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    for (const name of ['firefox-esr', 'firefox']) {
      const file = join(dir, name);
      if (isExecutable(file)) return file;
    }
  }
  return isExecutable('/usr/bin/firefox-esr') ? '/usr/bin/firefox-esr' : null;
}

/**
 * The Firefox executable, installing Debian's firefox-esr first when missing and running as root.
 * Throws, naming the command to run, when it can do neither.
 * @example const path = ensureFirefox();
 */
export function ensureFirefox(log: (msg: string) => void = (m) => console.error(m)): string {
  const found = findFirefox();
  if (found) return found;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !isExecutable('/usr/bin/apt-get')) {
    throw new Error(`Firefox not found (looked at FIREFOX_PATH, PATH and /usr/bin/firefox-esr). Install it with:\n  sudo sh -c '${FIREFOX_INSTALL_COMMAND}'\nor set FIREFOX_PATH to a Firefox executable.`);
  }
  log(`Firefox not found; installing Debian's package: ${FIREFOX_INSTALL_COMMAND}`);
  const r = spawnSync('sh', ['-c', FIREFOX_INSTALL_COMMAND], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  const again = findFirefox();
  if (r.status !== 0 || !again) {
    const tail = `${r.stdout?.toString() ?? ''}${r.stderr?.toString() ?? ''}`.split('\n').slice(-15).join('\n');
    throw new Error(`installing Firefox failed (exit ${r.status}). Run it yourself:\n  ${FIREFOX_INSTALL_COMMAND}\n${tail}`);
  }
  return again;
}

/**
 * Launches headless Firefox via puppeteer-core (WebDriver BiDi) with {@link FIREFOX_PREFS}.
 * Open pages as windows (`context.newPage({ type: 'window' })`): Firefox throttles the timers of
 * background tabs, which slows a tab's miner and its network.
 * @example
 * ```ts
 * const browser = await launchFirefox();
 * const page = await (await browser.createBrowserContext()).newPage({ type: 'window' });
 * await browser.close();
 * ```
 */
export async function launchFirefox(opts: LaunchOptions = {}): Promise<Browser> {
  const executablePath = ensureFirefox();
  return puppeteer.launch({
    browser: 'firefox',
    headless: true,
    ...opts,
    executablePath,
    extraPrefsFirefox: { ...FIREFOX_PREFS, ...opts.extraPrefsFirefox },
  });
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(ensureFirefox());
}
