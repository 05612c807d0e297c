import { beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { build } from 'vite';
import { ensureChromium, launchChromium } from '../../scripts/chromium.ts';

// The miner in a real browser: the page (built by vite, exactly as the app's bundle would be)
// runs every kernel on the main thread and the MinerPool on Web Workers.

const MIME: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.json': 'application/json' };

async function serve(dir: string): Promise<Server> {
  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const file = join(dir, path === '/' ? 'index.html' : path);
    if (!file.startsWith(dir) || path.includes('..')) return void res.writeHead(403).end();
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch {
      return void res.writeHead(404).end();
    }
    res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream' }).end(body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('miner in Chromium', () => {
  // On a machine without Chromium this installs Debian's package (root) or fails saying how.
  beforeAll(() => void ensureChromium(), 600_000);

  it('kernels find the real nonces, the pool mines on Web Workers and rolls the extraNonce', async () => {
    const out = await mkdtemp(join(tmpdir(), 'tabchain-miner-test-'));
    const server = await (async () => {
      await build({
        root: fileURLToPath(new URL('./miner-browser-page/', import.meta.url)),
        configFile: false,
        logLevel: 'error',
        base: './',
        build: { outDir: out, emptyOutDir: true, target: 'es2022', minify: false },
        worker: { format: 'es' },
      });
      return serve(out);
    })();
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      await page.waitForFunction(() => {
        const w = window as unknown as { minerTest?: unknown; minerTestError?: string };
        return w.minerTest !== undefined || w.minerTestError !== undefined;
      }, null, { timeout: 60_000 });
      const { result, error } = await page.evaluate(() => {
        const w = window as unknown as { minerTest?: unknown; minerTestError?: string };
        return { result: w.minerTest, error: w.minerTestError };
      });
      expect(error).toBeUndefined();
      expect(errors).toEqual([]);
      const r = result as { kernels: Record<string, number[]>; expected: number[]; moduleScan: number; scanKind: string; transports: string[]; rolls: number; extraNonce: number; valid: boolean };
      expect(r.expected.length).toBeGreaterThanOrEqual(5);
      expect(Object.keys(r.kernels).sort()).toEqual(['js', 'wasm', 'wasm-simd']);
      for (const kind of Object.keys(r.kernels)) expect(r.kernels[kind], kind).toEqual(r.expected);
      expect(r.moduleScan).toBe(r.expected[0]);
      expect(r.scanKind).toBe('wasm-simd');
      expect(r.transports).toEqual(['web', 'web']);
      expect(r.valid).toBe(true);
      expect(r.rolls).toBeGreaterThanOrEqual(r.extraNonce);
    } finally {
      await browser.close();
      server.close();
      await rm(out, { recursive: true, force: true });
    }
  });
});
