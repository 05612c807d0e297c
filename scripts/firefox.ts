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
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type LaunchOptions } from 'puppeteer-core';
import { ensureBrowser, findBrowser, type SystemBrowser } from './system-browser.ts';

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

/** Where Firefox is looked for, and how Debian installs it. */
const FIREFOX: SystemBrowser = {
  label: 'Firefox',
  envVar: 'FIREFOX_PATH',
  names: ['firefox-esr', 'firefox'],
  fallback: '/usr/bin/firefox-esr',
  installCommand: FIREFOX_INSTALL_COMMAND,
  envHint: 'a Firefox executable',
};

/**
 * The Firefox executable, or null if there is none.
 * @example findFirefox() // '/usr/bin/firefox-esr'
 */
export function findFirefox(): string | null {
  return findBrowser(FIREFOX);
}

/**
 * The Firefox executable, installing Debian's firefox-esr first when missing and running as root.
 * Throws, naming the command to run, when it can do neither.
 * @example const path = ensureFirefox();
 */
export function ensureFirefox(log: (msg: string) => void = (m) => console.error(m)): string {
  return ensureBrowser(FIREFOX, log);
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
