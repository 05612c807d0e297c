/**
 * Several relays, one network (issue 15): two relay processes told of each other (RELAY_PEERS),
 * each with its own key. A tab loaded from relay 1 and a tab loaded from relay 2 find each other
 * (discovery announcements cross between the relays) and connect directly; each tab holds a
 * reservation on both relays (its discovery record carries both circuit addresses). Relay 1 is
 * killed: the tabs keep their peers, and a tab joining through relay 2 finds both of them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { loadOrCreateKey } from '../../relay/keys.ts';
import { ensureDist, startE2e, startRelay, type E2e, type RelayProcess } from './harness.ts';
import { hasWebrtcTo, Tab, waitReady } from './net-harness.ts';
import { freePort } from '../support/ports.ts';

const PEER_WAIT_MS = 60_000;

/** A relay's data dir with its key made in advance, and the peer id it gives. */
async function keyedDir(): Promise<{ dir: string; id: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'tabchain-e2e-relays-'));
  return { dir, id: peerIdFromPrivateKey(await loadOrCreateKey(dir)).toString() };
}

let e2e: E2e | undefined;
let relay2: RelayProcess | undefined;
const tabs: Tab[] = [];

async function open(name: string, url: string): Promise<Tab> {
  const context = await e2e!.browser.newContext();
  const page = await context.newPage();
  await page.goto(url);
  const tab = new Tab(name, context, page);
  await waitReady(tab);
  tabs.push(tab);
  return tab;
}

describe('two relays, one network', () => {
  let relayIds: string[] = [];
  beforeAll(async () => {
    const [k1, k2] = [await keyedDir(), await keyedDir()];
    const [p1, p2] = [await freePort(), await freePort()];
    relayIds = [k1.id, k2.id];
    const addr = (port: number, id: string) => `/ip4/127.0.0.1/tcp/${port}/ws/p2p/${id}`;
    e2e = await startE2e({ network: 'dev', relay: { dataDir: k1.dir, env: { PORT: String(p1), RELAY_PEERS: addr(p2, k2.id) } } });
    relay2 = await startRelay(await ensureDist(), 'dev', { dataDir: k2.dir, env: { PORT: String(p2), RELAY_PEERS: addr(p1, k1.id) } });
  }, 300_000);

  afterAll(async () => {
    for (const t of tabs) await t.context.close().catch(() => undefined);
    await relay2?.stop();
    await e2e?.close();
  });

  it('each /bootstrap.json lists both relays and its own STUN server', async () => {
    for (const url of [e2e!.url, relay2!.url]) {
      const body = (await (await fetch(new URL('/bootstrap.json', url))).json()) as { multiaddrs: string[]; iceServers: string[] };
      const ids = new Set(body.multiaddrs.map((a) => a.slice(a.lastIndexOf('/p2p/') + 5)));
      expect([...ids].sort()).toEqual([...relayIds].sort());
      expect(body.iceServers).toEqual([`stun:127.0.0.1:${new URL(url).port}`]);
    }
  });

  it('a tab of relay 1 and a tab of relay 2 find each other, and each keeps both relays', async () => {
    const a = await open('A (relay 1)', e2e!.url);
    const b = await open('B (relay 2)', relay2!.url);
    const [sa, sb] = [await a.waitStatus('a peer id', (s) => s.peerId !== ''), await b.waitStatus('a peer id', (s) => s.peerId !== '')];
    await a.waitStatus('a direct peer B', (s) => hasWebrtcTo(s, [sb.peerId]), PEER_WAIT_MS);
    await b.waitStatus('a direct peer A', (s) => hasWebrtcTo(s, [sa.peerId]), PEER_WAIT_MS);
    for (const t of [a, b]) {
      await t.waitStatus('connections to both relays', (s) => relayIds.every((id) => s.peers.some((p) => p.id === id)), PEER_WAIT_MS);
    }
  });

  it('relay 1 killed: the tabs keep each other, and a tab joining through relay 2 finds both', async () => {
    const [a, b] = tabs;
    const ids = [(await a.status()).peerId, (await b.status()).peerId];
    await e2e!.relay.stop();
    const c = await open('C (relay 2, after relay 1 died)', relay2!.url);
    const sc = await c.waitStatus('direct peers A and B', (s) => hasWebrtcTo(s, ids), PEER_WAIT_MS);
    await a.waitStatus('a direct peer C', (s) => hasWebrtcTo(s, [sc.peerId, ids[1]]), PEER_WAIT_MS);
    // And blocks flow: B mines, A and C get it.
    const height = (await b.status()).height;
    const [hash] = await b.call<string[]>('mineBlocks', 1);
    for (const t of [a, c]) {
      await t.call('waitForHeight', height + 1, 30_000);
      expect((await t.status()).tip).toBe(hash);
    }
  });
});
