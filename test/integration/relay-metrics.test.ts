/**
 * The relay's /metrics (relay/metrics.ts): off without METRICS_TOKEN, refused without the bearer
 * token, and with it the front door's counts (sockets, WebSockets, refusals by reason), circuit
 * relay reservations and discovery messages — two headless nodes joining the relay drive them —
 * plus libp2p's own metrics.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { optionsFromEnv, startRelay, type Relay } from '../../relay/server.ts';
import { MIN_METRICS_TOKEN_CHARS, bearerMatches, parseMetricsToken } from '../../relay/metrics.ts';
import { startNetNode, waitUntil, type NetNode } from './helpers/net-nodes.ts';

const TOKEN = 'metrics-token-0123456789abcdef';
const tmp = mkdtempSync(join(tmpdir(), 'tabchain-relay-metrics-'));
const distDir = join(tmp, 'dist');
let relay: Relay;
const nodes: NetNode[] = [];

beforeAll(async () => {
  mkdirSync(distDir, { recursive: true });
  writeFileSync(join(distDir, 'index.html'), '<!doctype html><title>tabchain</title>');
  relay = await startRelay({ port: 0, host: '127.0.0.1', network: 'test' as 'dev', distDir, dataDir: join(tmp, 'data'), wsPort: 0, metricsToken: TOKEN, stunPort: null });
});

afterAll(async () => {
  for (const n of nodes) await n.stop();
  await relay?.close();
  rmSync(tmp, { recursive: true, force: true });
});

const url = (path: string) => `http://127.0.0.1:${relay.port}${path}`;

async function scrape(): Promise<string> {
  const res = await fetch(url('/metrics'), { headers: { Authorization: `Bearer ${TOKEN}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  return res.text();
}

/** The value of a series in a scrape (0 when absent). */
function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe('relay /metrics', () => {
  it('refuses a missing, wrong or non-bearer token', async () => {
    const refused: Record<string, string>[] = [{}, { Authorization: `Bearer ${TOKEN}x` }, { Authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` }, { Authorization: TOKEN }, { Authorization: `Bearer ${'a'.repeat(5000)}` }];
    for (const headers of refused) {
      const res = await fetch(url('/metrics'), { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    expect(bearerMatches(`Bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(bearerMatches(`bearer   ${TOKEN}`, TOKEN)).toBe(true);
    expect(bearerMatches(undefined, TOKEN)).toBe(false);
  });

  it('counts sockets, WebSockets, refusals, reservations and discovery messages, with libp2p\'s metrics', async () => {
    for (const name of ['a', 'b']) nodes.push(await startNetNode(name, { relay: url('/') }));
    await waitUntil(async () => {
      const t = await scrape();
      return value(t, 'tabchain_relay_reservations') >= 2 && value(t, 'tabchain_relay_discovery_messages_total') >= 2 && value(t, 'tabchain_relay_websockets') >= 2;
    }, 'two reservations, discovery messages and WebSockets counted');
    // An upgrade that is not a WebSocket: refused and counted by its reason.
    await new Promise<void>((resolve, reject) => {
      const s = connect(relay.port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n'));
      s.on('data', (d) => {
        expect(d.toString()).toMatch(/^HTTP\/1\.1 400/);
        s.destroy();
        resolve();
      });
      s.on('error', reject);
    });
    const text = await scrape();
    expect(value(text, 'tabchain_relay_refused_total{reason="not-websocket"}')).toBe(1);
    expect(value(text, 'tabchain_relay_sockets{server="http"}')).toBeGreaterThanOrEqual(1); // this scrape's own socket at least
    expect(value(text, 'tabchain_relay_libp2p_connections')).toBeGreaterThanOrEqual(2);
    expect(text).toMatch(/^libp2p_\w+/m); // @libp2p/prometheus-metrics, in the same registry
    expect(text).toMatch(/^tabchain_relay_process_resident_memory_bytes \d+/m);
  });

  it('is off without METRICS_TOKEN, and a short token is refused at start', async () => {
    const plain = await startRelay({ port: 0, host: '127.0.0.1', network: 'test' as 'dev', distDir, dataDir: join(tmp, 'data2'), wsPort: 0, stunPort: null });
    try {
      expect((await fetch(`http://127.0.0.1:${plain.port}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
    } finally {
      await plain.close();
    }
    expect(() => parseMetricsToken('x'.repeat(MIN_METRICS_TOKEN_CHARS - 1))).toThrow(/at least 16 characters/);
    expect(() => optionsFromEnv({ METRICS_TOKEN: 'short' }, [])).toThrow(/METRICS_TOKEN must be at least/);
    expect(() => parseMetricsToken(`${'x'.repeat(20)} y`)).toThrow(/printable ASCII/);
    expect(parseMetricsToken('')).toBeUndefined();
    expect(optionsFromEnv({ METRICS_TOKEN: TOKEN }, []).metricsToken).toBe(TOKEN);
  });
});
