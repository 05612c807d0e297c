/**
 * Bundle size of the app (suite 'app'): the JavaScript a first visit must download before the page
 * runs — the entry script of index.html and the modules it preloads — gzipped (level 9, as a
 * server would send it). Target from the browser-app issue: ≤ 300 KB. Also reported: the same
 * raw, the CSS, and everything else the build emits (lazy chunks, the miner worker, wasm), and
 * what the service worker precaches for offline starts (vite.config.ts: every file its Workbox
 * precache manifest in sw.js lists, downloaded once in the background after the first visit).
 * Builds into a temporary directory (never touches dist/).
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';
import type { BenchContext, BenchRow } from './run.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else out.push(p);
  }
  return out;
}

export default async function bundle(ctx: BenchContext): Promise<BenchRow[]> {
  const out = await mkdtemp(join(tmpdir(), 'tabchain-bundle-'));
  try {
    await build({ root: ROOT, configFile: join(ROOT, 'vite.config.ts'), logLevel: 'error', build: { outDir: out, emptyOutDir: true } });
    const html = await readFile(join(out, 'index.html'), 'utf8');
    // Initial JS: <script type="module" src> and <link rel="modulepreload" href> of index.html.
    const initial = new Set<string>();
    for (const m of html.matchAll(/<script[^>]+type="module"[^>]+src="([^"]+)"/g)) initial.add(m[1]);
    for (const m of html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+)"/g)) initial.add(m[1]);
    const css = [...html.matchAll(/<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"/g)].map((m) => m[1]);
    const size = async (urls: Iterable<string>) => {
      let raw = 0;
      let gz = 0;
      for (const u of urls) {
        const bytes = await readFile(join(out, u.replace(/^\.?\//, '')));
        raw += bytes.length;
        gz += gzipSync(bytes, { level: 9 }).length;
      }
      return { raw, gz };
    };
    const js = await size(initial);
    const styles = await size(css);
    // The service worker's own scripts are counted on their own below.
    const all = (await filesUnder(out)).filter((f) => /\.(js|wasm)$/.test(f) && !/\/(sw|workbox-[^/]+)\.js$/.test(f));
    let restGz = 0;
    for (const f of all) if (![...initial].some((u) => f.endsWith(u.replace(/^\.?\//, '')))) restGz += gzipSync(await readFile(f), { level: 9 }).length;
    // The precache manifest inlined in sw.js: [{url:"assets/x.js",revision:…},…] (duplicates collapse).
    const sw = await readFile(join(out, 'sw.js'), 'utf8');
    const precached = new Set([...sw.matchAll(/\{url:"([^"]+)",revision:/g)].map((m) => m[1]));
    const precache = await size(precached);
    const swOwn = await size(['sw.js', ...(await readdir(out)).filter((f) => /^workbox-.+\.js$/.test(f))]);
    ctx.log(`initial scripts: ${[...initial].join(', ')}`);
    const KB = 1024;
    return [
      { suite: 'app', name: 'initial JS (gzip)', value: js.gz / KB, unit: 'KB', target: '<= 300', note: `${initial.size} file(s)` },
      { suite: 'app', name: 'initial JS (raw)', value: js.raw / KB, unit: 'KB' },
      { suite: 'app', name: 'CSS (gzip)', value: styles.gz / KB, unit: 'KB' },
      { suite: 'app', name: 'lazy chunks + workers + wasm (gzip)', value: restGz / KB, unit: 'KB', note: 'loaded later (miner worker on first mining)' },
      { suite: 'app', name: 'service worker precache (raw)', value: precache.raw / KB, unit: 'KB', note: `${precached.size} files, cached after the first visit` },
      { suite: 'app', name: 'service worker precache (gzip)', value: precache.gz / KB, unit: 'KB' },
      { suite: 'app', name: 'service worker script (gzip)', value: swOwn.gz / KB, unit: 'KB', note: 'sw.js + Workbox runtime' },
    ];
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}
