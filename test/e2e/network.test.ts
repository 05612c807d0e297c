/**
 * The network for real, end to end: the built app served by the real relay (relay/server.ts as a
 * child process, NETWORK=dev, a free port, a temp data dir; harness.ts) and THREE tabs in isolated
 * Chromium contexts (each its own IndexedDB, profile, wallet and libp2p identity).
 *
 * One scenario, in order, each step building on the last (the chain grows as a user's would):
 * direct WebRTC between every pair of tabs → mining in one tab reaches the others → an item is
 * created, offered and bought across tabs, and all three agree on balances and inventories → bad
 * inputs are refused with their codes and change nothing → a reload keeps chain, wallet and
 * inventory and reconnects → with the relay killed, blocks still travel over WebRTC.
 *
 * Waits are generous but finite, and nothing asserts on time (timing is bench/p2p-browser).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2e, type E2e } from './harness.ts';
import { hasWebrtcTo, sleep, Tab, waitReady, type TabStatus } from './net-harness.ts';

const PEER_WAIT_MS = 60_000;
const HEIGHT_WAIT_MS = 30_000;

let e2e: E2e | undefined;
const tabs: Tab[] = [];

/** Every tab at `height` with the same tip; returns that tip. */
async function allAt(height: number): Promise<string> {
  await Promise.all(tabs.map((t) => t.call('waitForHeight', height, HEIGHT_WAIT_MS)));
  const tips = await Promise.all(tabs.map(async (t) => (await t.status()).tip));
  // Heights agree; tips agree once every tab has the same blocks (a tie would be resolved by the next block).
  expect(new Set(tips).size, `tips ${tips.join(', ')}`).toBe(1);
  return tips[0];
}

/** Waits until every tab has its peer id and a direct WebRTC connection to every other tab. */
async function fullWebrtcMesh(): Promise<TabStatus[]> {
  const until = Date.now() + PEER_WAIT_MS;
  for (;;) {
    const statuses = await Promise.all(tabs.map((t) => t.status()));
    const ids = statuses.map((s) => s.peerId);
    const ok = ids.every((id) => id !== '') && statuses.every((s, i) => hasWebrtcTo(s, ids.filter((_, j) => j !== i)));
    if (ok) return statuses;
    if (Date.now() > until) {
      const view = statuses.map((s, i) => `${tabs[i].name} ${s.peerId || '(no peer id)'}: ${s.peers.map((p) => `${p.id.slice(-6)}/${p.transport}`).join(' ')}`);
      throw new Error(`no full WebRTC mesh within ${PEER_WAIT_MS} ms:\n${view.join('\n')}`);
    }
    await sleep(250);
  }
}

describe('three tabs over the real relay and WebRTC', () => {
  beforeAll(async () => {
    e2e = await startE2e({ network: 'dev' });
    for (const name of ['A', 'B', 'C']) tabs.push(Tab.of(name, await e2e.visit()));
  }, 300_000);

  afterAll(async () => {
    await e2e?.close();
  });

  it('every tab gets direct WebRTC peers (and knows its own peer id)', async () => {
    const statuses = await fullWebrtcMesh();
    for (const s of statuses) {
      expect(s.network).toBe('dev');
      expect(s.peerId).toMatch(/^12D3KooW/);
      expect(s.online).toBe(true);
      expect(s.peers.filter((p) => p.transport === 'webrtc').length).toBeGreaterThanOrEqual(2);
    }
    expect(new Set(statuses.map((s) => s.peerId)).size).toBe(3);
  });

  it('blocks mined in one tab reach the others', async () => {
    const [a] = tabs;
    const start = (await a.status()).height;
    const hashes = await a.call<string[]>('mineBlocks', 3);
    expect(hashes).toHaveLength(3);
    const tip = await allAt(start + 3);
    expect(tip).toBe(hashes[2]);
  });

  it('an item created in A, offered for coins, is bought by B; all three tabs agree', async () => {
    const [a, b, c] = tabs;
    const addrA = (await a.status()).address;
    const addrB = (await b.status()).address;
    // B needs spendable coins: mine past coinbase maturity (2 on dev) in B.
    await b.call('mineBlocks', 3);
    let height = (await b.status()).height;
    await allAt(height);

    const { itemId } = await a.call<{ txid: string; itemId: string }>('createItem', 'WIDGET-1', 'Blue widget', 100);
    await a.call('mineBlocks', 1);
    height += 1;
    await allAt(height);

    const offerId = await a.call<string>('createOffer', { give: { asset: itemId, amount: '10' }, want: { asset: 'coin', amount: '1000' }, lots: 5 });
    await a.call('mineBlocks', 1);
    height += 1;
    await allAt(height);
    // Every tab lists the offer (it came to B and C in a block).
    for (const t of tabs) {
      const offers = await t.call<{ offerId: string; lotsLeft: number }[]>('offers');
      expect(offers.find((o) => o.offerId === offerId)?.lotsLeft, t.name).toBe(5);
    }

    const balanceB = BigInt(await b.call<string>('balance'));
    await b.call('acceptOffer', offerId, 2);
    // C mines: the accept travelled to C as a gossiped transaction.
    await c.waitStatus('the accept in its mempool', (s) => s.mempool >= 1, HEIGHT_WAIT_MS);
    await c.call('mineBlocks', 1);
    height += 1;
    await allAt(height);

    const views = await Promise.all(
      tabs.map(async (t) => ({
        invA: await t.call<{ itemId: string; quantity: number }[]>('inventory', addrA),
        invB: await t.call<{ itemId: string; quantity: number }[]>('inventory', addrB),
        balA: await t.call<string>('balance', addrA),
        balB: await t.call<string>('balance', addrB),
        offers: await t.call<{ offerId: string; lotsLeft: number }[]>('offers'),
      })),
    );
    for (const v of views) expect(v).toEqual(views[0]);
    const v = views[0];
    expect(v.invB.find((i) => i.itemId === itemId)?.quantity).toBe(20);
    // 5 lots × 10 went into escrow when the offer was made: A keeps 50, 30 stay escrowed.
    expect(v.invA.find((i) => i.itemId === itemId)?.quantity).toBe(50);
    expect(v.offers.find((o) => o.offerId === offerId)?.lotsLeft).toBe(3);
    // B paid 2 lots × 1000 plus a fee, and earned nothing meanwhile (C mined).
    const paid = balanceB - BigInt(v.balB);
    expect(paid).toBeGreaterThanOrEqual(2000n);
    expect(paid).toBeLessThan(2000n + 100_000n);
  });

  it('bad inputs are refused with their codes and change nothing, on any tab', async () => {
    const [a, b] = tabs;
    const offers = await b.call<{ offerId: string; lotsLeft: number; maker: string }[]>('offers');
    const found = offers.find((o) => o.lotsLeft > 0);
    expect(found?.lotsLeft).toBeGreaterThan(0); // the offer of the trade test is still open
    const open = found!;
    const before = await Promise.all(tabs.map((t) => t.status()));
    const balanceB = await b.call<string>('balance');

    const tooMany = await b.try('acceptOffer', open.offerId, open.lotsLeft + 1);
    expect(tooMany.ok ? 'accepted' : tooMany.code).toBe('LOTS_EXCEEDED');
    const overspend = await b.try('send', (await a.status()).address, (BigInt(balanceB) + 1n).toString());
    expect(overspend.ok ? 'accepted' : overspend.code).toBe('INSUFFICIENT_FUNDS');
    const badAddress = await b.try('send', 'tabdev1notanaddress', '1');
    expect(badAddress.ok ? 'accepted' : badAddress.code).toBe('BAD_ADDRESS');

    const after = await Promise.all(tabs.map((t) => t.status()));
    for (let i = 0; i < tabs.length; i++) {
      expect(after[i].mempool, tabs[i].name).toBe(before[i].mempool);
      expect(after[i].tip, tabs[i].name).toBe(before[i].tip);
    }
    expect(await b.call('balance')).toBe(balanceB);
    const offersAfter = await b.call<{ offerId: string; lotsLeft: number }[]>('offers');
    expect(offersAfter.find((o) => o.offerId === open.offerId)?.lotsLeft).toBe(open.lotsLeft);
  });

  it('a reload keeps chain, wallet and inventory, and reconnects over WebRTC', async () => {
    const [, b] = tabs;
    const before = await b.status();
    const inventory = await b.call('inventory');
    const balance = await b.call('balance');
    await b.page.reload();
    await waitReady(b);
    // `ready` never waits for the network: the peer id appears once networking has started.
    const after = await b.waitStatus('its peer id', (s) => s.peerId !== '', PEER_WAIT_MS);
    expect({ address: after.address, profile: after.profile, peerId: after.peerId }).toEqual({ address: before.address, profile: before.profile, peerId: before.peerId });
    expect(after.height).toBeGreaterThanOrEqual(before.height);
    expect(await b.call('inventory')).toEqual(inventory);
    expect(await b.call('balance')).toBe(balance);
    await fullWebrtcMesh();
    // And blocks flow to and from the reloaded tab.
    const hashes = await b.call<string[]>('mineBlocks', 1);
    expect(await allAt(after.height + 1)).toBe(hashes[0]);
  });

  it('with the relay gone, the tabs still exchange blocks over WebRTC', async () => {
    const [, , c] = tabs;
    await fullWebrtcMesh();
    await e2e!.relay.stop();
    const height = (await c.status()).height;
    const hashes = await c.call<string[]>('mineBlocks', 2);
    expect(await allAt(height + 2)).toBe(hashes[1]);
    for (const t of tabs) {
      const s = await t.status();
      expect(s.peers.filter((p) => p.transport === 'webrtc').length, t.name).toBeGreaterThanOrEqual(2);
    }
  });
});
