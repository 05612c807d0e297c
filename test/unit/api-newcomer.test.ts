/**
 * What the page needs from the API to spare a newcomer a misunderstanding (issue 12): what a
 * transaction sent now can spend and when maturing rewards unlock (`account()`), a dry run of any
 * wallet call with its exact fee and the numbers behind a refusal (`previewTx`), the fee of each
 * call (`fees`), mining rewards and what an offer acceptance traded in the history (`walletTxs`),
 * a search that finds what people know (`searchAll`), and what the tab knows of its network
 * (`connectionOf`).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { COIN } from '../../src/chain/index.ts';
import { ALONE_AFTER_RELAY_MS, ALONE_WITHOUT_RELAY_MS, RELAY_UNREACHED_MS, connectionOf, type ConnectionFacts } from '../../src/node/network/connection-state.ts';
import { SEARCH_MAX_HITS } from '../../src/node/explorer.ts';
import { outboxRebroadcast } from '../../src/node/network/attach.ts';
import { params, startRig, stopAll, type Profile, type Rig } from './helpers/wallet-node.ts';

afterEach(stopAll);

const TAB = (n: number | bigint) => (BigInt(n) * COIN).toString();

/** A and B on one node; A mined `blocks` blocks ('test' network: maturity 2, 2 s blocks). */
async function funded(blocks: number): Promise<{ rig: Rig; A: Profile; B: Profile }> {
  const rig = await startRig({ profiles: [{ name: 'A' }, { name: 'B' }] });
  const [A, B] = rig.profiles;
  await A.api.mineBlocks(blocks);
  return { rig, A, B };
}

describe('account: what can be spent now, and when the rest unlocks', () => {
  it('counts the reward the next block releases as available and lists the others with blocks and seconds left', async () => {
    const { A } = await funded(3); // rewards of blocks 1, 2, 3; a tx now goes into block 4
    const acc = await A.api.account();
    // Block 1's reward matured at 3; block 2's matures in block 4 (the next): both spendable now.
    expect(acc).toMatchObject({ balance: TAB(50), immature: TAB(100), available: TAB(100), incoming: '0' });
    expect(acc.maturing).toEqual([{ height: 3, amount: TAB(50), blocksLeft: 1, seconds: params.targetSpacing }]);
    expect(JSON.parse(JSON.stringify(acc))).toEqual(acc);
  });

  it('takes pending spends off `available` and shows pending payments to us as `incoming`', async () => {
    const { rig, A, B } = await funded(3);
    await A.api.send(B.wallet.address, TAB(7));
    const fee = BigInt((await A.api.outbox())[0].fee);
    expect((await A.api.account()).available).toBe((100n * COIN - 7n * COIN - fee).toString());
    expect(await B.api.account()).toMatchObject({ balance: '0', available: '0', incoming: TAB(7) });
    await rig.mineElsewhere(1);
    expect(await B.api.account()).toMatchObject({ balance: TAB(7), available: TAB(7), incoming: '0' });
  });
});

describe('previewTx and fees', () => {
  it('a send that maturing rewards will cover: IMMATURE with need, have and when it becomes possible — and nothing sent', async () => {
    const { rig, A, B } = await funded(3);
    const fees = await A.api.fees();
    const p = await A.api.previewTx({ kind: 'send', to: B.wallet.address, amount: TAB(120) });
    expect(p.fee).toBe(fees.send);
    expect(p.error).toMatchObject({
      code: 'IMMATURE',
      details: { type: 'shortfall', asset: 'coin', need: (120n * COIN + BigInt(p.fee)).toString(), have: TAB(100), fee: p.fee, maturing: TAB(50), enoughIn: { blocks: 1, seconds: params.targetSpacing } },
    });
    expect(p.error!.message).toMatch(/^IMMATURE: /);
    expect(rig.node.mempool.size).toBe(0);
    expect(A.outbox.list()).toEqual([]);
    // More than will ever mature: INSUFFICIENT_FUNDS, no unlock.
    const never = await A.api.previewTx({ kind: 'send', to: B.wallet.address, amount: TAB(1000) });
    expect(never.error?.code).toBe('INSUFFICIENT_FUNDS');
    expect(never.error?.details).toMatchObject({ asset: 'coin', have: TAB(100), maturing: TAB(50) });
    expect(never.error?.details && 'enoughIn' in never.error.details).toBe(false);
    // One that fits: no error, and the send then pays exactly the previewed fee.
    const ok = await A.api.previewTx({ kind: 'send', to: B.wallet.address, amount: TAB(1) });
    expect(ok.error).toBeNull();
    await A.api.send(B.wallet.address, TAB(1));
    expect((await A.api.outbox())[0].fee).toBe(ok.fee);
  });

  it('offering more items than held names the item shortfall, not coins; lots beyond an offer say how many are left', async () => {
    const { rig, A, B } = await funded(4);
    await A.api.send(B.wallet.address, TAB(20));
    const { itemId } = await A.api.createItem('MUG', 'Blue mug', 2);
    await rig.mineElsewhere(1);
    const offer = { give: { asset: itemId, amount: '1' }, want: { asset: 'coin', amount: TAB(3) }, lots: 5 };
    const p = await A.api.previewTx({ kind: 'createOffer', ...offer });
    expect(p.error).toMatchObject({ code: 'INSUFFICIENT_FUNDS', details: { type: 'shortfall', asset: itemId, need: '5', have: '2' } });
    expect(p.fee).toBe((await A.api.fees()).createOffer);
    // The real call is refused with the same details.
    const refused = await A.api.createOffer(offer).catch((e: unknown) => e as { code: string; details?: unknown });
    expect(refused).toMatchObject({ code: 'INSUFFICIENT_FUNDS', details: { asset: itemId, need: '5', have: '2' } });

    const offerId = await A.api.createOffer({ ...offer, lots: 2 });
    await rig.mineElsewhere(1);
    const take = await B.api.previewTx({ kind: 'acceptOffer', offerId, lots: 3 });
    expect(take.error).toMatchObject({ code: 'LOTS_EXCEEDED', details: { type: 'lots', asked: 3, left: 2 } });
  });

  it('taking lots that cost more than the taker has: a coin shortfall with the price of the lots and the fee', async () => {
    const { rig, A, B } = await funded(4);
    await A.api.send(B.wallet.address, TAB(5));
    const { itemId } = await A.api.createItem('LAMP', 'Desk lamp', 4);
    await rig.mineElsewhere(1);
    const offerId = await A.api.createOffer({ give: { asset: itemId, amount: '1' }, want: { asset: 'coin', amount: TAB(3) }, lots: 4 });
    await rig.mineElsewhere(1);
    const p = await B.api.previewTx({ kind: 'acceptOffer', offerId, lots: 2 });
    expect(p.error).toMatchObject({ code: 'INSUFFICIENT_FUNDS', details: { asset: 'coin', need: (6n * COIN + BigInt(p.fee)).toString(), have: TAB(5), maturing: '0' } });
    expect((await B.api.previewTx({ kind: 'acceptOffer', offerId, lots: 1 })).error).toBeNull();
  });

  it('malformed intents reject as the calls would', async () => {
    const { A, B } = await funded(3);
    const reject = (i: unknown) => A.api.previewTx(i as never).then(() => 'resolved', (e: { code: string }) => e.code);
    // A typo in the last character (never the character it replaces: random keys end in any).
    const last = B.wallet.address.slice(-1);
    expect(await reject({ kind: 'send', to: B.wallet.address.slice(0, -1) + (last === 'q' ? 'p' : 'q'), amount: '1' })).toBe('BAD_ADDRESS');
    expect(await reject({ kind: 'send', to: B.wallet.address, amount: '1.5' })).toBe('BAD_AMOUNT');
    expect(await reject({ kind: 'createItem', sku: '', name: 'x', quantity: 1 })).toBe('BAD_INPUT');
    expect(await reject({ kind: 'mintItem', itemId: 'xyz', quantity: 1 })).toBe('BAD_ID');
    expect(await reject({ kind: 'createOffer', give: { asset: 'coin', amount: '1' }, want: { asset: 'coin', amount: '1' }, lots: 1 })).toBe('BAD_INPUT');
    expect(await reject({ kind: 'nope' })).toBe('BAD_INPUT');
    expect(await reject(null)).toBe('BAD_INPUT');
  });

  it('fees: every call has its minimum fee, createItem the smallest one', async () => {
    const { A } = await funded(1);
    const fees = await A.api.fees();
    expect(Object.keys(fees).sort()).toEqual(['acceptOffer', 'burnItem', 'cancelOffer', 'createItem', 'createOffer', 'mintItem', 'send', 'transferItem']);
    for (const f of Object.values(fees)) expect(BigInt(f)).toBeGreaterThan(0n);
    const longer = await A.api.previewTx({ kind: 'createItem', sku: 'MUG-BLUE', name: 'Blue mug', quantity: 1 });
    expect(BigInt(longer.fee)).toBeGreaterThan(BigInt(fees.createItem));
  });
});

describe('walletTxs: rewards and what an acceptance traded', () => {
  it('lists our mining rewards with amount and maturesIn only when asked', async () => {
    const { A } = await funded(3);
    expect((await A.api.walletTxs()).filter((t) => t.kind === 'coinbase')).toEqual([]);
    const rewards = (await A.api.walletTxs({ rewards: true })).filter((t) => t.kind === 'coinbase');
    expect(rewards.map((t) => [t.blockHeight, t.amount, t.maturesIn, t.direction, t.state])).toEqual([
      [3, TAB(50), 1, 'in', 'confirmed'],
      [2, TAB(50), 0, 'in', 'confirmed'],
      [1, TAB(50), 0, 'in', 'confirmed'],
    ]);
  });

  it('an acceptance carries its offer maker and terms, also once the offer is fully taken', async () => {
    const { rig, A, B } = await funded(4);
    await A.api.send(B.wallet.address, TAB(20));
    const { itemId } = await A.api.createItem('LAMP', 'Desk lamp', 4);
    await rig.mineElsewhere(1);
    const offerId = await A.api.createOffer({ give: { asset: itemId, amount: '2' }, want: { asset: 'coin', amount: TAB(3) }, lots: 2 });
    await rig.mineElsewhere(1);
    const take = await B.api.acceptOffer(offerId, 2); // the offer closes
    await rig.mineElsewhere(1);
    const terms = { maker: A.wallet.address, give: { asset: itemId, amount: '2' }, want: { asset: 'coin', amount: TAB(3) }, lots: 2 };
    expect((await B.api.walletTxs()).find((t) => t.txid === take)).toMatchObject(terms);
    expect((await A.api.walletTxs()).find((t) => t.txid === take)).toMatchObject({ ...terms, direction: 'in' });
    expect(await B.api.tx(take)).toMatchObject(terms);
  });
});

describe('searchAll', () => {
  it('finds items by SKU and name, and blocks, transactions and addresses by the short ids the page shows', async () => {
    const { rig, A, B } = await funded(3);
    const sent = await A.api.send(B.wallet.address, TAB(1));
    const { itemId } = await A.api.createItem('MUG-BLUE', 'Blue mug', 2);
    await rig.mineElsewhere(1);
    const hits = async (q: string) => (await A.api.searchAll(q)).hits;
    expect(await hits('mug-blue')).toEqual([{ type: 'item', itemId }]);
    expect(await hits('blue MUG')).toEqual([{ type: 'item', itemId }]);
    expect(await hits('Blue')).toEqual([{ type: 'item', itemId }]);
    // A txid as the page shortens it, with the ellipsis, with three dots, or its first 8 digits.
    const short = `${sent.slice(0, 8)}…${sent.slice(-4)}`;
    expect(await hits(short)).toContainEqual({ type: 'tx', txid: sent });
    expect(await hits(`${sent.slice(0, 8)}...${sent.slice(-4)}`)).toContainEqual({ type: 'tx', txid: sent });
    expect(await hits(sent.slice(0, 8).toUpperCase())).toContainEqual({ type: 'tx', txid: sent });
    const tip = (await A.api.status()).tip;
    expect((await hits(tip.slice(0, 8)))[0]).toEqual({ type: 'block', hash: tip, height: 4 });
    expect(await hits(itemId.slice(0, 10))).toContainEqual({ type: 'item', itemId });
    // An address as the page shortens it: prefix and 5 characters, an ellipsis, 4 characters.
    const b = B.wallet.address;
    const sep = b.lastIndexOf('1');
    expect(await hits(`${b.slice(0, sep + 6)}…${b.slice(-4)}`)).toEqual([{ type: 'address', address: b }]);
    // What search() always found, it still finds first.
    expect(await A.api.search('2')).toMatchObject({ type: 'block', height: 2 });
    expect(await A.api.search(sent)).toEqual({ type: 'tx', txid: sent });
    expect(await A.api.search(b)).toEqual({ type: 'address', address: b });
    expect(await A.api.search('mug-blue')).toEqual({ type: 'item', itemId });
    for (const nothing of ['', ' ', 'no-such-thing', 'abc', '12345678901234', 'x'.repeat(300)]) expect(await hits(nothing)).toEqual([]);
  });

  it('returns at most SEARCH_MAX_HITS hits', async () => {
    const { rig, A } = await funded(3);
    for (let i = 0; i < SEARCH_MAX_HITS + 5; i++) await A.api.createItem(`CUP-${i}`, `Cup ${i}`, 1);
    await rig.mineElsewhere(1);
    expect((await A.api.searchAll('cup')).hits).toHaveLength(SEARCH_MAX_HITS);
  });
});

describe('connectionOf', () => {
  const base: ConnectionFacts = { browserOnline: true, isolated: false, answered: false, failed: false, sinceStart: 0, sinceReached: null, noRelay: false };
  it('connecting until a peer answered or the tab knows it is alone', () => {
    expect(connectionOf({ ...base, sinceStart: null })).toBe('connecting');
    expect(connectionOf({ ...base, sinceStart: 1000, sinceReached: 500 })).toBe('connecting');
    expect(connectionOf({ ...base, answered: true })).toBe('connected');
    expect(connectionOf({ ...base, sinceReached: ALONE_AFTER_RELAY_MS })).toBe('alone');
    expect(connectionOf({ ...base, noRelay: true, sinceStart: ALONE_WITHOUT_RELAY_MS - 1 })).toBe('connecting');
    expect(connectionOf({ ...base, noRelay: true, sinceStart: ALONE_WITHOUT_RELAY_MS })).toBe('alone');
    expect(connectionOf({ ...base, sinceStart: RELAY_UNREACHED_MS })).toBe('alone');
    for (const f of [{ browserOnline: false }, { failed: true }]) expect(connectionOf({ ...base, ...f })).toBe('alone');
    expect(connectionOf({ ...base, isolated: true, answered: true })).toBe('alone');
    // A tab of this browser answers over the mesh with the network gone: that is a peer.
    expect(connectionOf({ ...base, browserOnline: false, answered: true })).toBe('connected');
  });
});

describe('a queued transaction leaves once a peer is reachable', () => {
  it('a rebroadcast that reached no one is sent again while a chain peer is connected, a bounded number of times', async () => {
    vi.useFakeTimers();
    try {
      const reached = [0, 0, 1];
      const calls: number[] = [];
      let peers = [{ isRelay: true }, { isRelay: false }];
      const net = { broadcastTx: async () => (calls.push(Date.now()), reached.shift() ?? 0), peers: () => peers as never };
      const hook = outboxRebroadcast(net, [500, 2000, 5000]);
      await hook(new Uint8Array(1)); // returns at once: the outbox is not held up
      expect(calls).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(500);
      expect(calls).toHaveLength(2);
      await vi.advanceTimersByTimeAsync(2000);
      expect(calls).toHaveLength(3); // reached a peer: no more
      await vi.advanceTimersByTimeAsync(60_000);
      expect(calls).toHaveLength(3);

      // Nobody but the relay: no retries (the outbox's timer and the next peer's arrival cover it).
      calls.length = 0;
      peers = [{ isRelay: true }];
      await hook(new Uint8Array(1));
      await vi.advanceTimersByTimeAsync(60_000);
      expect(calls).toHaveLength(1);
      // Never reaching anyone: at most one try per delay.
      calls.length = 0;
      peers = [{ isRelay: false }];
      await hook(new Uint8Array(1));
      await vi.advanceTimersByTimeAsync(60_000);
      expect(calls).toHaveLength(4);
    } finally {
      vi.useRealTimers();
    }
  });
});
