/**
 * A tab that reloads and then loses the relay keeps (or regains) working direct connections
 * (issue 15): three tabs in a full WebRTC mesh, B reloads, and the moment B lists direct peers
 * again the relay is killed; a block mined in A must still reach B, and one mined in B must reach A
 * and C. Before the fix, B could list a direct connection that carried nothing (a stale one from
 * before the reload) and stay behind for good once the relay was gone.
 *
 * The pages' network log (`[tabchain] …` console lines) is kept and printed when a wait fails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2e, type E2e } from './harness.ts';
import { hasWebrtcTo, sleep, Tab, waitReady } from './net-harness.ts';

const PEER_WAIT_MS = 60_000;
const HEIGHT_WAIT_MS = 30_000;

let e2e: E2e | undefined;
const tabs: Tab[] = [];
const logs = new Map<string, string[]>();

function keepLog(tab: Tab): void {
  const lines = logs.get(tab.name) ?? [];
  logs.set(tab.name, lines);
  tab.page.on('console', (m) => {
    if (m.text().startsWith('[tabchain]')) lines.push(`${new Date().toISOString().slice(11, 23)} ${m.text()}`);
    if (lines.length > 400) lines.splice(0, lines.length - 400);
  });
}

function logDump(): string {
  return [...logs].map(([name, lines]) => `--- ${name}\n${lines.slice(-60).join('\n')}`).join('\n');
}

async function fullMesh(): Promise<void> {
  const until = Date.now() + PEER_WAIT_MS;
  for (;;) {
    const statuses = await Promise.all(tabs.map((t) => t.status()));
    const ids = statuses.map((s) => s.peerId);
    if (ids.every((id) => id !== '') && statuses.every((s, i) => hasWebrtcTo(s, ids.filter((_, j) => j !== i)))) return;
    if (Date.now() > until) throw new Error(`no full WebRTC mesh within ${PEER_WAIT_MS} ms\n${logDump()}`);
    await sleep(250);
  }
}

async function reaches(tab: Tab, height: number): Promise<void> {
  const r = await tab.try('waitForHeight', height, HEIGHT_WAIT_MS);
  if (!r.ok) {
    const s = await tab.status();
    throw new Error(`${tab.name} stayed at ${s.height} (wanted ${height}); peers ${JSON.stringify(s.peers)}\n${logDump()}`);
  }
}

describe('a reloaded tab after the relay is gone', () => {
  beforeAll(async () => {
    e2e = await startE2e({ network: 'dev' });
    for (const name of ['A', 'B', 'C']) {
      const tab = Tab.of(name, await e2e.visit());
      keepLog(tab);
      tabs.push(tab);
    }
  }, 300_000);

  afterAll(async () => {
    await e2e?.close();
  });

  it('B reloads, the relay dies as soon as B lists direct peers, and blocks still flow both ways', async () => {
    const [a, b, c] = tabs;
    await fullMesh();
    // A shared chain first, so B's reload has something to keep.
    const start = (await a.status()).height;
    await a.call('mineBlocks', 1);
    for (const t of tabs) await reaches(t, start + 1);

    await b.page.reload();
    await waitReady(b);
    const ids = [(await a.status()).peerId, (await c.status()).peerId];
    await b.waitStatus('direct peers again after the reload', (s) => hasWebrtcTo(s, ids), PEER_WAIT_MS);
    await e2e!.relay.stop();

    const height = (await a.status()).height;
    const [fromA] = await a.call<string[]>('mineBlocks', 1);
    await reaches(b, height + 1);
    expect((await b.status()).tip).toBe(fromA);
    const [fromB] = await b.call<string[]>('mineBlocks', 1);
    await reaches(a, height + 2);
    await reaches(c, height + 2);
    expect((await c.status()).tip).toBe(fromB);
  });
});
