/**
 * window.tabchain over a real FullNode ('test' network, MemoryStore, injected clock), called
 * directly as a script would: every method, its JSON output, and the error code of each kind of
 * bad input or broken rule — with the guarantee that a refused call adds nothing to the mempool.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { COIN, bytesToHex, encodeAddress, generatePrivateKey, hashToHex, itemIdFor, publicKeyOf } from '../../src/chain/index.ts';
import { createTabchainApi, deferTabchainApi, type TabchainApiExtended } from '../../src/node/api.ts';
import { parseAmount, parseId, parseLots, parseQuantity } from '../../src/node/api-input.ts';
import { ApiError } from '../../src/node/errors.ts';
import { codeOf, params, startRig, stopAll, type Profile, type Rig } from './helpers/wallet-node.ts';

afterEach(stopAll);

const TAB = (n: number | bigint) => (BigInt(n) * COIN).toString();

/** JSON round trip equals the value: what crosses page.evaluate is what the method returned. */
function expectJson(v: unknown): void {
  expect(JSON.parse(JSON.stringify(v))).toEqual(v);
}

/** Calls that must be refused leave the mempool and the outbox as they were. */
async function expectRefused(rig: Rig, p: Profile, call: Promise<unknown>, code: string): Promise<void> {
  const mempool = rig.node.mempool.size;
  const outbox = p.outbox.list().length;
  expect(await codeOf(call)).toBe(code);
  expect(rig.node.mempool.size).toBe(mempool);
  expect(p.outbox.list().length).toBe(outbox);
}

/** A rig whose profile A has mined `blocks` blocks (A's spendable = (blocks − 2) × 50 TAB). */
async function funded(blocks = 4): Promise<{ rig: Rig; A: Profile; B: Profile }> {
  const rig = await startRig({ profiles: [{ name: 'A' }, { name: 'B' }] });
  const [A, B] = rig.profiles;
  await A.api.mineBlocks(blocks);
  return { rig, A, B };
}

/** Mines one block elsewhere and waits for the outboxes. */
async function confirm(rig: Rig, n = 1): Promise<void> {
  await rig.mineElsewhere(n);
}

describe('status, mining and waiting', () => {
  it('starts offline with a fresh address, never mining, and reports every status field', async () => {
    const rig = await startRig();
    const [A] = rig.profiles;
    await A.api.ready;
    const s = await A.api.status();
    expectJson(s);
    expect(s).toEqual({
      network: 'test',
      profile: 'A',
      peerId: '',
      address: A.wallet.address,
      height: 0,
      tip: hashToHex(params.genesisHash),
      chainwork: rig.node.tip.chainwork.toString(16).padStart(64, '0'),
      synced: true,
      online: true,
      mining: false,
      workers: expect.any(Number),
      hashrate: 0,
      mempool: 0,
      peers: [],
      connection: 'alone', // no network given: the node is on its own
    });
    expect(s.address.startsWith('tabtest1')).toBe(true);
    expect(await A.api.address()).toBe(s.address);
    expect(await A.api.balance()).toBe('0');
    expect(await A.api.storage()).toBeNull(); // no storage estimate given (the page passes navigator.storage's)
  });

  it('mineBlocks returns the display hashes of connected blocks, paying this profile (spendable after maturity)', async () => {
    const rig = await startRig();
    const [A] = rig.profiles;
    const hashes = await A.api.mineBlocks(3);
    expectJson(hashes);
    expect(hashes).toHaveLength(3);
    const s = await A.api.status();
    expect(s.height).toBe(3);
    expect(s.tip).toBe(hashes[2]);
    expect(hashToHex((await rig.node.getBlockAtHeight(1))!.header.prevHash)).toBe(hashToHex(params.genesisHash));
    // Block 1's reward matured at height 3 (maturity 2); blocks 2 and 3 are still maturing.
    expect(await A.api.balance()).toBe(TAB(50));
    expect(await A.api.account()).toMatchObject({ balance: TAB(50), immature: TAB(100), nonce: 0 });
    expect(await A.api.balance(A.wallet.address)).toBe(TAB(50));
    expect(await codeOf(A.api.mineBlocks(0))).toBe('BAD_INPUT');
  });

  it('waitForHeight resolves at once, resolves when the chain gets there, and rejects with TIMEOUT', async () => {
    const rig = await startRig();
    const [A] = rig.profiles;
    await A.api.waitForHeight(0);
    const waiting = A.api.waitForHeight(2, 10_000);
    await A.api.mineBlocks(2);
    await waiting;
    expect(await codeOf(A.api.waitForHeight(50, 20))).toBe('TIMEOUT');
    expect(await codeOf(A.api.waitForHeight(-1))).toBe('BAD_INPUT');
  });

  it('startMining / stopMining switch the miner (mining only when asked)', async () => {
    const rig = await startRig();
    const [A] = rig.profiles;
    expect(await codeOf(A.api.startMining({ workers: 0 }))).toBe('BAD_INPUT');
    await A.api.startMining({ workers: 1 });
    expect((await A.api.status()).mining).toBe(true);
    await A.api.waitForHeight(1, 10_000);
    await A.api.stopMining();
    const s = await A.api.status();
    expect(s.mining).toBe(false);
    // What it mined paid this profile.
    const block1 = (await rig.node.getBlockAtHeight(1))!;
    const cb = block1.txs[0];
    expect(cb.kind === 'coinbase' && bytesToHex(cb.miner)).toBe(bytesToHex(A.wallet.publicKey));
  });
});

describe('coins', () => {
  it('send: pending in the mempool, then confirmed with a growing confirmation count; the recipient is paid', async () => {
    const { rig, A, B } = await funded();
    await confirm(rig, 2); // A's last rewards mature: from here A's balance moves only by its own txs
    const before = BigInt(await A.api.balance());
    const txid = await A.api.send(B.wallet.address, TAB(3));
    expect(txid).toMatch(/^[0-9a-f]{64}$/);
    expect(await A.api.txStatus(txid)).toEqual({ state: 'pending', confirmations: 0 });
    expect(await B.api.txStatus(txid)).toEqual({ state: 'pending', confirmations: 0 }); // any tx the node knows
    expect((await A.api.status()).mempool).toBe(1);
    await confirm(rig);
    expect(await A.api.txStatus(txid)).toEqual({ state: 'confirmed', confirmations: 1 });
    await confirm(rig);
    expect(await A.api.txStatus(txid)).toEqual({ state: 'confirmed', confirmations: 2 });
    expect(await B.api.balance()).toBe(TAB(3));
    const [out] = await A.api.outbox();
    expectJson(out);
    expect(out).toMatchObject({ txid, kind: 'transfer', nonce: 1, state: 'confirmed', confirmations: 2 });
    expect(BigInt(await A.api.balance())).toBe(before - 3n * COIN - BigInt(out.fee));
  });

  it('refuses an overspend with INSUFFICIENT_FUNDS (and unripe coins with IMMATURE), adding nothing to the mempool', async () => {
    const { rig, A, B } = await funded(3); // A: 50 TAB spendable, 100 TAB maturing
    await expectRefused(rig, A, A.api.send(B.wallet.address, TAB(1000)), 'INSUFFICIENT_FUNDS');
    await expectRefused(rig, A, A.api.send(B.wallet.address, TAB(120)), 'IMMATURE');
    await expectRefused(rig, B, B.api.send(A.wallet.address, '1'), 'INSUFFICIENT_FUNDS'); // B has nothing, not even the fee
    await A.api.send(B.wallet.address, TAB(10));
    await confirm(rig);
    // Pending spends count: two sends that each fit but not together.
    await B.api.send(A.wallet.address, TAB(6));
    await expectRefused(rig, B, B.api.send(A.wallet.address, TAB(6)), 'INSUFFICIENT_FUNDS');
    await expectRefused(rig, B, B.api.send(A.wallet.address, TAB(4)), 'INSUFFICIENT_FUNDS'); // 4 TAB fits, the fee does not
    expect(await B.api.account()).toMatchObject({ balance: TAB(10), nonce: 0 });
  });

  it('refuses bad addresses with BAD_ADDRESS', async () => {
    const { rig, A, B } = await funded(3);
    const good = B.wallet.address;
    const last = good[good.length - 1];
    const typo = good.slice(0, -1) + (last === 'q' ? 'p' : 'q'); // checksum fails
    const otherNet = encodeAddress(B.wallet.publicKey, 'tab'); // a main-network address
    for (const bad of [typo, otherNet, typo.toUpperCase(), '', 'tabtest1xyz', 42 as unknown as string]) {
      await expectRefused(rig, A, A.api.send(bad, '1000'), 'BAD_ADDRESS');
    }
    expect(await codeOf(A.api.balance(typo))).toBe('BAD_ADDRESS');
    expect(await codeOf(A.api.inventory(otherNet))).toBe('BAD_ADDRESS');
  });

  it('refuses amounts that are not strict decimal strings of 1..2^63-1 base units with BAD_AMOUNT', async () => {
    const { rig, A, B } = await funded(3);
    const to = B.wallet.address;
    for (const bad of ['0', '-1', '+1', '1.5', '1e3', ' 1', '1 ', '', '0x10', '01', '9223372036854775808', '99999999999999999999', 5 as unknown as string, null as unknown as string]) {
      await expectRefused(rig, A, A.api.send(to, bad), 'BAD_AMOUNT');
    }
    // The largest amount parses (and is then refused by the rules, not by the parser).
    await expectRefused(rig, A, A.api.send(to, '9223372036854775807'), 'INSUFFICIENT_FUNDS');
  });

  it('refuses a bigint, a symbol, a null-prototype or a circular object with the parser\'s own code, not a TypeError', async () => {
    // Found by the fuzzer (test/fuzz/inputs.fuzz.test.ts): the refusal's message printed the value
    // with JSON.stringify / String, which throw for these, so a script calling send(to, 5n) got
    // INTERNAL "Do not know how to serialize a BigInt" instead of BAD_AMOUNT.
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const odd: unknown[] = [5n, Symbol('x'), Object.create(null), circular];
    for (const v of odd) {
      for (const [parse, code] of [[() => parseAmount(v), 'BAD_AMOUNT'], [() => parseQuantity(v), 'BAD_AMOUNT'], [() => parseLots(v), 'BAD_AMOUNT'], [() => parseId(v, 'txid'), 'BAD_ID']] as const) {
        let thrown: unknown;
        try {
          parse();
        } catch (e) {
          thrown = e;
        }
        expect(thrown).toBeInstanceOf(ApiError);
        expect((thrown as ApiError).code).toBe(code);
      }
    }
    const { rig, A, B } = await funded(3);
    await expectRefused(rig, A, A.api.send(B.wallet.address, 5n as unknown as string), 'BAD_AMOUNT');
    expect(await codeOf(A.api.txStatus(5n as unknown as string))).toBe('BAD_ID');
    expect(await codeOf(A.api.block(5n as unknown as string))).toBe('BAD_ID');
  });

  it('picks consecutive nonces for transactions sent before any confirms, and the minimum fee', async () => {
    const { rig, A, B } = await funded();
    const ids = await Promise.all([A.api.send(B.wallet.address, '1000'), A.api.send(B.wallet.address, '2000'), A.api.send(B.wallet.address, '3000')]);
    expect(new Set(ids).size).toBe(3);
    const nonces = (await A.api.outbox()).map((o) => o.nonce).sort();
    expect(nonces).toEqual([1, 2, 3]);
    for (const id of ids) {
      const e = rig.node.mempool.get(id)!;
      expect(e.fee).toBe(params.minFeePerByte * BigInt(e.size));
    }
    await confirm(rig);
    expect(await B.api.balance()).toBe('6000');
  });
});

describe('items', () => {
  it('createItem → inventory with metadata; mintItem restocks; transferItem ships; burnItem consumes', async () => {
    const { rig, A, B } = await funded(3);
    const created = await A.api.createItem('TSHIRT-M', 'T-shirt, size M', 10);
    expectJson(created);
    expect(created.itemId).toBe(hashToHex(itemIdFor(A.wallet.publicKey, 'TSHIRT-M')));
    expect(await A.api.inventory()).toEqual([]); // not confirmed yet
    await confirm(rig);
    const inv = await A.api.inventory();
    expectJson(inv);
    expect(inv).toEqual([{ itemId: created.itemId, sku: 'TSHIRT-M', name: 'T-shirt, size M', issuer: A.wallet.address, quantity: 10 }]);

    await A.api.mintItem(created.itemId, 5);
    await A.api.transferItem(created.itemId, B.wallet.address, 4);
    await A.api.burnItem(created.itemId, 1);
    await confirm(rig);
    expect((await A.api.inventory())[0].quantity).toBe(10);
    expect(await B.api.inventory()).toEqual([{ itemId: created.itemId, sku: 'TSHIRT-M', name: 'T-shirt, size M', issuer: A.wallet.address, quantity: 4 }]);
    expect(await A.api.inventory(B.wallet.address)).toEqual(await B.api.inventory());
    // Ids are accepted in upper case too.
    await A.api.mintItem(created.itemId.toUpperCase(), 1);
  });

  it('refuses item calls that break a rule, each with its code, adding nothing', async () => {
    const { rig, A, B } = await funded(3);
    await B.api.ready;
    await A.api.send(B.wallet.address, TAB(10));
    const { itemId } = await A.api.createItem('MUG', 'Mug', 3);
    await confirm(rig);
    const unknown = hashToHex(itemIdFor(A.wallet.publicKey, 'NOPE'));
    await expectRefused(rig, A, A.api.mintItem(unknown, 1), 'UNKNOWN_ITEM');
    await expectRefused(rig, A, A.api.transferItem(unknown, B.wallet.address, 1), 'UNKNOWN_ITEM');
    await expectRefused(rig, B, B.api.mintItem(itemId, 1), 'NOT_ISSUER');
    await expectRefused(rig, A, A.api.transferItem(itemId, B.wallet.address, 4), 'INSUFFICIENT_FUNDS');
    await expectRefused(rig, A, A.api.createItem('MUG', 'Mug again', 1), 'ITEM_EXISTS');
    for (const q of [0, -1, 1.5, Number.MAX_SAFE_INTEGER + 1, '3' as unknown as number]) {
      await expectRefused(rig, A, A.api.mintItem(itemId, q), 'BAD_AMOUNT');
      await expectRefused(rig, A, A.api.createItem('NEW', 'New', q), 'BAD_AMOUNT');
    }
    for (const bad of ['xyz', itemId.slice(2), itemId + '00', 'g'.repeat(64)]) await expectRefused(rig, A, A.api.mintItem(bad, 1), 'BAD_ID');
    await expectRefused(rig, A, A.api.createItem('', 'empty sku', 1), 'BAD_INPUT');
    await expectRefused(rig, A, A.api.createItem('X'.repeat(33), 'long sku', 1), 'BAD_INPUT');
    await expectRefused(rig, A, A.api.createItem('OK', 'n'.repeat(65), 1), 'BAD_INPUT');
  });
});

describe('offers', () => {
  it('a full trade: A offers item lots for coin, B takes some; balances, inventories and the offer book agree', async () => {
    const { rig, A, B } = await funded(4);
    await A.api.send(B.wallet.address, TAB(20));
    const { itemId } = await A.api.createItem('LAMP', 'Desk lamp', 10);
    await confirm(rig);
    expect(await B.api.balance()).toBe(TAB(20));

    const offerId = await A.api.createOffer({ give: { asset: itemId, amount: '1' }, want: { asset: 'coin', amount: TAB(2) }, lots: 5 });
    expect(await A.api.offers()).toEqual([]); // open once confirmed
    await confirm(rig);
    const book = await B.api.offers();
    expectJson(book);
    expect(book).toEqual([{ offerId, maker: A.wallet.address, give: { asset: itemId, amount: '1' }, want: { asset: 'coin', amount: TAB(2) }, lotsLeft: 5 }]);
    expect(await A.api.txStatus(offerId)).toEqual({ state: 'confirmed', confirmations: 1 }); // offerId = txid
    expect((await A.api.inventory())[0].quantity).toBe(5); // 5 in escrow

    const aBefore = BigInt(await A.api.balance());
    const bBefore = BigInt(await B.api.balance());
    await expectRefused(rig, B, B.api.acceptOffer(offerId, 6), 'LOTS_EXCEEDED');
    await expectRefused(rig, A, A.api.acceptOffer(offerId, 1), 'SELF_TRADE');
    const take = await B.api.acceptOffer(offerId, 2);
    const takeFee = BigInt((await B.api.outbox()).find((o) => o.txid === take)!.fee);
    expect(await B.api.account()).toMatchObject({ balance: bBefore.toString(), pendingOut: (4n * COIN + takeFee).toString() });
    await confirm(rig);
    expect(await B.api.txStatus(take)).toEqual({ state: 'confirmed', confirmations: 1 });

    const fee = BigInt((await B.api.outbox()).find((o) => o.txid === take)!.fee);
    expect(BigInt(await A.api.balance())).toBe(aBefore + 4n * COIN);
    expect(BigInt(await B.api.balance())).toBe(bBefore - 4n * COIN - fee);
    expect(await B.api.inventory()).toEqual([{ itemId, sku: 'LAMP', name: 'Desk lamp', issuer: A.wallet.address, quantity: 2 }]);
    expect((await A.api.inventory())[0].quantity).toBe(5);
    expect((await A.api.offers())[0].lotsLeft).toBe(3);

    // Only the maker cancels; the 3 escrowed lamps come back.
    await expectRefused(rig, B, B.api.cancelOffer(offerId), 'NOT_MAKER');
    await A.api.cancelOffer(offerId);
    await confirm(rig);
    expect(await A.api.offers()).toEqual([]);
    expect((await A.api.inventory())[0].quantity).toBe(8);
    await expectRefused(rig, B, B.api.acceptOffer(offerId, 1), 'OFFER_NOT_FOUND');
  });

  it('a coin-for-item offer, an expiring offer that leaves the book, and refusals of bad offers', async () => {
    const { rig, A, B } = await funded(4);
    await A.api.send(B.wallet.address, TAB(5));
    const { itemId } = await A.api.createItem('BOOK', 'Book', 4);
    await confirm(rig);
    await A.api.transferItem(itemId, B.wallet.address, 4);
    await confirm(rig);

    // A wants B's books, paying coin.
    const want = await A.api.createOffer({ give: { asset: 'coin', amount: TAB(1) }, want: { asset: itemId, amount: '2' }, lots: 2 });
    const h = rig.node.height;
    const expiring = await A.api.createOfferUntil({ give: { asset: 'coin', amount: '1000' }, want: { asset: itemId, amount: '1' }, lots: 1, expiresAtHeight: h + 1 });
    await confirm(rig); // height h + 1: the expiring offer can no longer be accepted in block h + 2
    expect((await B.api.offers()).map((o) => o.offerId)).toEqual([want]);
    await expectRefused(rig, B, B.api.acceptOffer(expiring, 1), 'OFFER_EXPIRED');
    await B.api.acceptOffer(want, 2);
    await confirm(rig);
    expect((await A.api.inventory())[0]).toMatchObject({ itemId, quantity: 4 });
    expect(await B.api.inventory()).toEqual([]);

    const unknownItem = hashToHex(itemIdFor(B.wallet.publicKey, 'NONE'));
    await expectRefused(rig, A, A.api.createOffer({ give: { asset: unknownItem, amount: '1' }, want: { asset: 'coin', amount: '1' }, lots: 1 }), 'UNKNOWN_ITEM');
    await expectRefused(rig, A, A.api.createOffer({ give: { asset: 'coin', amount: TAB(1000) }, want: { asset: itemId, amount: '1' }, lots: 1 }), 'INSUFFICIENT_FUNDS');
    await expectRefused(rig, A, A.api.createOffer({ give: { asset: 'gold', amount: '1' }, want: { asset: 'coin', amount: '1' }, lots: 1 }), 'BAD_ID');
    await expectRefused(rig, A, A.api.createOffer({ give: { asset: 'coin', amount: '1' }, want: { asset: 'coin', amount: '2' }, lots: 1 }), 'BAD_INPUT');
    await expectRefused(rig, A, A.api.createOffer({ give: { asset: itemId, amount: '1' }, want: { asset: 'coin', amount: '1.0' }, lots: 1 }), 'BAD_AMOUNT');
    for (const lots of [0, 1.5, 2 ** 32, -1]) {
      await expectRefused(rig, A, A.api.createOffer({ give: { asset: itemId, amount: '1' }, want: { asset: 'coin', amount: '1' }, lots }), 'BAD_AMOUNT');
      await expectRefused(rig, B, B.api.acceptOffer(want, lots), 'BAD_AMOUNT');
    }
    await expectRefused(rig, B, B.api.acceptOffer('00', 1), 'BAD_ID');
    await expectRefused(rig, A, A.api.cancelOffer(hashToHex(new Uint8Array(32).fill(9))), 'OFFER_NOT_FOUND');
  });
});

describe('txStatus and the outbox', () => {
  it('answers unknown for a txid nobody knows, BAD_ID for a malformed one, rejected with the code for a dead tx of ours', async () => {
    const { rig, A, B } = await funded(3);
    expect(await A.api.txStatus('ab'.repeat(32))).toEqual({ state: 'unknown', confirmations: 0 });
    expect(await codeOf(A.api.txStatus('nope'))).toBe('BAD_ID');
    const txid = await A.api.send(B.wallet.address, '5000');
    // Another tx with the same nonce from the same key gets mined first (say, the same key used
    // in another tab): ours can never confirm now.
    const rival = A.wallet.build({ kind: 'transfer', to: A.wallet.publicKey, amount: 1n }, { nonce: 1, fee: 100_000n });
    expect((await rig.node.processTx(rival, 'peer')).status).toBe('accepted'); // replaces ours (higher fee)
    await confirm(rig);
    await A.outbox.rebroadcastPending();
    const status = await A.api.txStatus(txid);
    expectJson(status);
    expect(status).toEqual({ state: 'rejected', confirmations: 0, error: 'BAD_NONCE' });
    expect(await A.api.rebroadcast()).toBe(0); // nothing pending any more
  });
});

describe('wallet backup through the API', () => {
  it('exports, refuses a wrong passphrase, needs confirm, then moves the key to another profile', async () => {
    const rig = await startRig({ profiles: [{ name: 'A' }, { name: 'C' }] });
    const [A, C] = rig.profiles;
    const text = await A.api.exportWallet('pass phrase');
    expect(typeof text).toBe('string');
    expect(JSON.parse(text)).toMatchObject({ format: 'tabchain-wallet-backup', version: 1, network: 'test', address: A.wallet.address });
    expect(await codeOf(C.api.importWallet(text, 'wrong', { confirm: true }))).toBe('BAD_PASSPHRASE');
    expect(await codeOf(C.api.importWallet(text, 'pass phrase', { confirm: false }))).toBe('CONFIRM_REQUIRED');
    expect(await C.api.address()).not.toBe(A.wallet.address);
    const previous = await C.api.address();
    expect(await C.api.importWallet(text, 'pass phrase', { confirm: true })).toEqual({ address: A.wallet.address, previous });
    expect(await C.api.address()).toBe(A.wallet.address);
    expect(await codeOf(C.api.importWallet('{"format":"x"}', 'pass phrase', { confirm: true }))).toBe('BAD_BACKUP');
  });
});

describe('deferred API (what main.ts installs before the node starts)', () => {
  it('waits for the node, then answers', async () => {
    const rig = await startRig();
    const [A] = rig.profiles;
    let resolve!: (api: TabchainApiExtended) => void;
    const api = deferTabchainApi(new Promise((r) => (resolve = r)));
    const status = api.status();
    resolve(createTabchainApi({ node: rig.node, wallet: A.wallet, outbox: A.outbox, profile: 'late' }));
    await api.ready;
    expect((await status).profile).toBe('late');
  });

  it('rejects ready with a coded error when start fails, and every method with NOT_READY', async () => {
    const api = deferTabchainApi(Promise.reject(Object.assign(new Error('profile is open in another tab'), { code: 'LOCKED' })));
    const err = await api.ready.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('LOCKED');
    expect((err as ApiError).message).toContain('profile is open in another tab');
    expect(await codeOf(api.balance())).toBe('NOT_READY');
  });
});

describe('balance of other addresses', () => {
  it('answers for any valid address, 0 for one never seen', async () => {
    const { A } = await funded(3);
    const stranger = encodeAddress(publicKeyOf(generatePrivateKey()), params.addressPrefix);
    expect(await A.api.balance(stranger)).toBe('0');
    expect(await A.api.inventory(stranger)).toEqual([]);
  });
});

describe('verifyChain', () => {
  it('replays the stored chain clean, and names what differs once the store is changed behind the node', async () => {
    const { rig, A } = await funded(5);
    await A.api.send(rig.profiles[1].wallet.address, TAB(1));
    await confirm(rig);
    const v = await A.api.verifyChain();
    expectJson(v);
    expect(v).toEqual({ height: 6, tip: hashToHex(rig.node.tip.hash), replayed: 6, discrepancies: [] });
    // A state entry rewritten behind the node's back: the replay and the node both disagree with it.
    const key = `a:${bytesToHex(A.wallet.publicKey)}`;
    const state = rig.database.collections.get('state')!;
    const entry = state.get(key) as { type: 'account'; value: { balance: bigint } };
    state.set(key, { ...entry, value: { ...entry.value, balance: entry.value.balance + 1n } });
    expect((await A.api.verifyChain()).discrepancies.map((d) => [d.kind, d.key])).toEqual([
      ['STATE_MISMATCH', key],
      ['NODE_STATE', key],
    ]);
  });
});
