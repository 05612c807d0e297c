/**
 * Many tabs from one address: two tabs stay open while twelve more join one after another (each
 * closed before the next opens, as visitors come and go). Every one of them must find a direct
 * WebRTC peer. All of them reach the relay from 127.0.0.1 — like a classroom behind one NAT —
 * which is what broke discovery past the tenth tab when the relay's gossipsub penalised peers
 * sharing an IP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2e, type E2e } from './harness.ts';
import { Tab, waitReady } from './net-harness.ts';

const JOINS = 12;
let e2e: E2e | undefined;

describe('tabs joining one after another', () => {
  beforeAll(async () => {
    e2e = await startE2e({ network: 'dev' });
    for (let i = 0; i < 2; i++) await e2e.visit();
  }, 300_000);

  afterAll(async () => {
    await e2e?.close();
  });

  it(`each of ${JOINS} joining tabs gets a direct WebRTC peer`, async () => {
    const found: string[] = [];
    for (let j = 0; j < JOINS; j++) {
      const context = await e2e!.browser.newContext();
      try {
        const page = await context.newPage();
        await page.goto(e2e!.url);
        const tab = new Tab(`join ${j}`, context, page);
        await waitReady(tab);
        const s = await tab.waitStatus('a WebRTC peer', (st) => st.peers.some((p) => p.transport === 'webrtc'), 30_000);
        found.push(s.peerId);
      } finally {
        await context.close();
      }
    }
    expect(new Set(found).size).toBe(JOINS);
  });
});
