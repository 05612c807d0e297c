/**
 * The explorer section of the extended API (src/node/explorer.ts) over a real FullNode: blocks by
 * height and hash with header fields and transactions, transaction detail through pending →
 * confirmed, the address view, the header tree with a side branch and a reorg, chain numbers,
 * every item, search, the event subscription and the profile list.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { COIN, workForBits } from '../../src/chain/index.ts';
import { createTabchainApi, type TabchainApiExtended } from '../../src/node/api.ts';
import type { ApiEvent } from '../../src/node/explorer.ts';
import { codeOf, copyBlocks, params, startRig, stopAll } from './helpers/wallet-node.ts';

afterEach(stopAll);

const TAB = (n: number) => (BigInt(n) * COIN).toString();

describe('blocks and transactions', () => {
  it('block by height and by hash: header fields, transactions, confirmations and the next link', async () => {
    const rig = await startRig({ profiles: [{ name: 'A' }, { name: 'B' }] });
    const [A, B] = rig.profiles;
    const hashes = await A.api.mineBlocks(3);
    const txid = await A.api.send(B.wallet.address, TAB(7));
    await rig.mineElsewhere(1);

    const b4 = (await A.api.block(4))!;
    expect(b4.height).toBe(4);
    expect(b4.active).toBe(true);
    expect(b4.confirmations).toBe(1);
    expect(b4.next).toBeNull();
    expect(b4.header.prevHash).toBe(hashes[2]);
    expect(b4.header.bits).toBe(params.genesisBits.toString(16).padStart(8, '0'));
    expect(b4.txCount).toBe(2);
    expect(b4.txs[0].kind).toBe('coinbase');
    expect(b4.txs[0].from).toBeNull();
    expect(b4.txs[1]).toMatchObject({ txid, kind: 'transfer', from: A.wallet.address, to: B.wallet.address, amount: TAB(7), nonce: 1 });
    expect(JSON.parse(JSON.stringify(b4))).toEqual(b4);

    const b2 = (await A.api.block(hashes[1]))!;
    expect(b2.height).toBe(2);
    expect(b2.confirmations).toBe(3);
    expect(b2.next).toBe(hashes[2]);
    expect(b2.miner).toBe(A.wallet.address);
    expect(await A.api.block(hashes[1].toUpperCase())).toEqual(b2);

    expect(await A.api.block(99)).toBeNull();
    expect(await A.api.block('00'.repeat(32))).toBeNull();
    expect(await codeOf(A.api.block('xyz'))).toBe('BAD_ID');
    expect(await codeOf(A.api.block(-1))).toBe('BAD_INPUT');

    const latest = await A.api.latestBlocks(3);
    expect(latest.map((b) => b.height)).toEqual([4, 3, 2]);
    expect(latest[1].hash).toBe(hashes[2]);
  });

  it('tx detail follows a transaction from the mempool into a block; unknown ids are null', async () => {
    const rig = await startRig({ profiles: [{ name: 'A' }, { name: 'B' }] });
    const [A, B] = rig.profiles;
    await A.api.mineBlocks(3);
    const txid = await A.api.send(B.wallet.address, TAB(1));
    expect(await A.api.tx(txid)).toMatchObject({ txid, state: 'pending', blockHash: null, blockHeight: null, confirmations: 0, kind: 'transfer' });
    expect((await A.api.mempoolTxs()).map((t) => t.txid)).toEqual([txid]);
    const [h] = await rig.mineElsewhere(1);
    await rig.mineElsewhere(1);
    expect(await A.api.tx(txid)).toMatchObject({ txid, state: 'confirmed', blockHash: h, blockHeight: 4, confirmations: 2 });
    expect(await A.api.tx('ab'.repeat(32))).toBeNull();
    expect(await codeOf(A.api.tx('nope'))).toBe('BAD_ID');
  });
});

describe('address view, items and offers', () => {
  it('shows balance, holdings, open offers and the transactions that touch the address', async () => {
    const rig = await startRig({ profiles: [{ name: 'A' }, { name: 'B' }] });
    const [A, B] = rig.profiles;
    await A.api.mineBlocks(4);
    const { itemId, txid: createTx } = await A.api.createItem('LAMP', 'Desk lamp', 10);
    const sendTx = await A.api.send(B.wallet.address, TAB(5));
    await rig.mineElsewhere(1);
    const offerId = await A.api.createOffer({ give: { asset: itemId, amount: '1' }, want: { asset: 'coin', amount: TAB(2) }, lots: 3 });
    await rig.mineElsewhere(1);
    const take = await B.api.acceptOffer(offerId, 1);

    const pending = await A.api.addressView(A.wallet.address);
    expect(pending.txs[0]).toMatchObject({ txid: take, kind: 'offer.accept', blockHeight: null }); // B took A's offer: it touches A

    await rig.mineElsewhere(1);
    const a = await A.api.addressView(A.wallet.address);
    expect(a.address).toBe(A.wallet.address);
    expect(a.balance).toBe(await A.api.balance());
    expect(a.holdings).toEqual([{ itemId, sku: 'LAMP', name: 'Desk lamp', issuer: A.wallet.address, quantity: '7' }]); // 10 − 3 escrowed
    expect(a.offers).toMatchObject([{ offerId, maker: A.wallet.address, lotsLeft: 2, lotsTotal: 3, expiresAtHeight: null, createdHeight: 6 }]);
    const kinds = a.txs.map((t) => [t.kind, t.blockHeight]);
    expect(kinds.slice(0, 3)).toEqual([['offer.accept', 7], ['offer.create', 6], ['item.create', 5]]);
    expect(a.txs.map((t) => t.txid)).toEqual(expect.arrayContaining([createTx, sendTx, take, offerId]));
    expect(a.txs.filter((t) => t.kind === 'coinbase')).toHaveLength(4);

    const b = await A.api.addressView(B.wallet.address, { blocks: 3 });
    expect(b.scannedFromHeight).toBe(5);
    expect(b.txs.map((t) => t.kind)).toEqual(['offer.accept', 'transfer']);
    expect(b.holdings.map((h) => [h.sku, h.quantity])).toEqual([['LAMP', '1']]);
    expect(await codeOf(A.api.addressView('tabtest1notanaddress'))).toBe('BAD_ADDRESS');

    const bWallet = await B.api.walletTxs();
    expect(bWallet.map((t) => [t.kind, t.direction, t.state, t.blockHeight])).toEqual([
      ['offer.accept', 'out', 'confirmed', 7],
      ['transfer', 'in', 'confirmed', 5],
    ]);
    expect(bWallet[1]).toMatchObject({ txid: sendTx, from: A.wallet.address, amount: TAB(5), confirmations: 3, createdAt: null });
    const aWallet = await A.api.walletTxs();
    expect(aWallet.map((t) => [t.kind, t.direction])).toEqual([
      ['offer.accept', 'in'], // B took our offer
      ['offer.create', 'out'],
      ['transfer', 'out'], // same block as item.create, sent after it
      ['item.create', 'out'],
    ]);
    expect(aWallet.every((t) => t.state === 'confirmed')).toBe(true);

    const items = await B.api.allItems();
    expect(items).toEqual([{ itemId, sku: 'LAMP', name: 'Desk lamp', issuer: A.wallet.address, supply: '10', createdHeight: 5, holders: 2 }]);
    expect(await B.api.offerViews()).toEqual(a.offers);

    expect(await A.api.search('5')).toMatchObject({ type: 'block', height: 5 });
    expect(await A.api.search(` ${(await A.api.status()).tip} `)).toMatchObject({ type: 'block', height: 7 });
    expect(await A.api.search(sendTx)).toEqual({ type: 'tx', txid: sendTx });
    expect(await A.api.search(offerId)).toEqual({ type: 'offer', offerId });
    expect(await A.api.search(itemId)).toEqual({ type: 'item', itemId });
    expect(await A.api.search(B.wallet.address)).toEqual({ type: 'address', address: B.wallet.address });
    expect(await A.api.search('hello')).toBeNull();
    expect(await A.api.search('999')).toBeNull();
  });
});

describe('chain numbers and the header tree', () => {
  it('chainInfo gives the next block difficulty, expected hashes and reward', async () => {
    const rig = await startRig();
    const [A] = rig.profiles;
    await A.api.mineBlocks(2);
    const info = await A.api.chainInfo();
    expect(info).toMatchObject({ network: 'test', height: 2, bestHeaderHeight: 2, targetSpacing: params.targetSpacing, coinbaseMaturity: params.coinbaseMaturity, nextReward: TAB(50), addressPrefix: 'tabtest' });
    // The test network mines at its easiest target throughout: difficulty 1.
    expect(info.difficulty).toBe(1);
    expect(info.expectedHashes).toBe(workForBits(params.powLimitBits).toString());
    expect(info.nextBits).toBe(params.powLimitBits.toString(16).padStart(8, '0'));
  });

  it('the header tree shows a side branch, then the switch when that branch gets ahead', async () => {
    const rig = await startRig();
    const other = await startRig();
    const [A] = rig.profiles;
    const [main1, main2] = await A.api.mineBlocks(2);
    await copyBlocks(rig.node, other.node, 1, 1);
    const [side2] = await other.profiles[0].api.mineBlocks(1); // a different miner: a different block 2
    await copyBlocks(other.node, rig.node, 2, 2);

    const tree = await A.api.headerTree(3);
    expect(tree.fromHeight).toBe(0);
    expect(tree.tip).toBe(main2);
    const at2 = tree.entries.filter((e) => e.height === 2);
    expect(at2.map((e) => [e.hash, e.active])).toEqual([
      [main2, true],
      [side2, false],
    ]);
    expect(at2.every((e) => e.prevHash === main1)).toBe(true);
    expect((await A.api.block(side2))!).toMatchObject({ active: false, confirmations: 0, next: null });

    const [side3] = await other.profiles[0].api.mineBlocks(1);
    await copyBlocks(other.node, rig.node, 3, 3);
    const after = await A.api.headerTree(3);
    expect(after.tip).toBe(side3);
    expect(after.entries.filter((e) => e.height === 2).map((e) => [e.hash, e.active])).toEqual([
      [side2, true],
      [main2, false],
    ]);
    expect(await codeOf(A.api.headerTree(0))).toBe('BAD_INPUT');
  });
});

describe('events and profiles', () => {
  it('subscribe delivers node events and outbox changes until unsubscribed', async () => {
    const rig = await startRig({ profiles: [{ name: 'A' }, { name: 'B' }] });
    const [A, B] = rig.profiles;
    const seen: ApiEvent[] = [];
    const off = await A.api.subscribe((e) => seen.push(e));
    await A.api.mineBlocks(3);
    expect(seen.filter((e) => e.type === 'tip').map((e) => (e.payload as { height: number }).height)).toEqual([1, 2, 3]);
    const txid = await A.api.send(B.wallet.address, TAB(1));
    await rig.mineElsewhere(1);
    const outbox = seen.filter((e) => e.type === 'outbox').map((e) => e.payload);
    expect(outbox).toContainEqual({ txid, state: 'confirmed' });
    off();
    const count = seen.length;
    await rig.mineElsewhere(1);
    expect(seen.length).toBe(count);
    expect(await codeOf(A.api.subscribe(42 as unknown as () => void))).toBe('BAD_INPUT');
  });

  it('lists, labels and deletes profiles through the given profile list; none without one', async () => {
    const rig = await startRig();
    const [A] = rig.profiles;
    expect(await A.api.profiles()).toEqual([]);
    const rows = [
      { id: 'p1', createdAt: 1, lastUsed: 3, locked: true, current: true },
      { id: 'p2', label: 'shop', createdAt: 2, lastUsed: 2, locked: false, current: false },
    ];
    const api: TabchainApiExtended = createTabchainApi({
      node: rig.node,
      wallet: A.wallet,
      outbox: A.outbox,
      profile: 'p1',
      profiles: {
        list: async () => rows,
        deleteProfile: async (id) => void rows.splice(rows.findIndex((r) => r.id === id), 1),
        setLabel: async (id, label) => void Object.assign(rows.find((r) => r.id === id)!, { label }),
      },
    });
    expect(await api.profiles()).toEqual([
      { id: 'p1', label: null, createdAt: 1, lastUsed: 3, locked: true, current: true },
      { id: 'p2', label: 'shop', createdAt: 2, lastUsed: 2, locked: false, current: false },
    ]);
    await api.labelProfile('p1', '  till  ');
    await api.deleteProfile('p2');
    expect(await api.profiles()).toEqual([{ id: 'p1', label: 'till', createdAt: 1, lastUsed: 3, locked: true, current: true }]);
    expect(await codeOf(api.labelProfile('p1', 'x'.repeat(41)))).toBe('BAD_INPUT');
    expect(await codeOf(A.api.deleteProfile('p1'))).toBe('BAD_INPUT');
  });
});
