/**
 * The wallet: its key in the profile store (memory and IndexedDB), builders for every kind with
 * the next nonce and the minimum fee, key replacement, and the passphrase-encrypted backup format.
 */
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import {
  COIN,
  bytesToHex,
  checkTxSanity,
  encodeAddress,
  generatePrivateKey,
  hashToHex,
  itemIdFor,
  publicKeyOf,
  txSize,
  txid as txidOf,
  type TxPayload,
} from '../../src/chain/index.ts';
import { IdbStore } from '../../src/storage/idb-store.ts';
import { MIN_PASSPHRASE_CHARS, decryptWalletBackup, encryptWalletBackup, parseWalletBackup } from '../../src/node/backup.ts';
import { FullNode } from '../../src/node/full-node.ts';
import { Outbox } from '../../src/node/outbox.ts';
import { PRIMARY_KEY_ID, Wallet } from '../../src/node/wallet.ts';
import { FAST_KDF, codeOf, params, startRig, stopAll } from './helpers/wallet-node.ts';

afterEach(stopAll);

// The smallest scrypt costs a backup may name keep the suite fast; the format records them.
const FAST = { kdf: FAST_KDF };
const PASS = 'correct horse';
const NET = { network: 'test' as const, addressPrefix: 'tabtest' };


describe('wallet backup', () => {
  it('round-trips the secret key through JSON and names the address before decryption', async () => {
    const secret = generatePrivateKey();
    const backup = await encryptWalletBackup(secret, 'correct horse battery staple', NET, FAST);
    const text = JSON.stringify(backup);
    expect(text).not.toContain(bytesToHex(secret));
    const address = encodeAddress(publicKeyOf(secret), 'tabtest');
    expect(parseWalletBackup(text)).toMatchObject({ network: 'test', address, version: 1 });
    const out = await decryptWalletBackup(text, 'correct horse battery staple', 'tabtest');
    expect(bytesToHex(out.secretKey)).toBe(bytesToHex(secret));
    expect(out.address).toBe(address);
  });

  it('accepts the passphrase in another Unicode normalisation form (NFKC)', async () => {
    const secret = generatePrivateKey();
    const backup = await encryptWalletBackup(secret, 'caf\u00e9 au lait', NET, FAST);
    const out = await decryptWalletBackup(backup, 'cafe\u0301 au lait', 'tabtest');
    expect(bytesToHex(out.secretKey)).toBe(bytesToHex(secret));
  });

  it('rejects a wrong passphrase with BAD_PASSPHRASE', async () => {
    const backup = await encryptWalletBackup(generatePrivateKey(), 'right passphrase', NET, FAST);
    expect(await codeOf(decryptWalletBackup(JSON.stringify(backup), 'wrong', 'tabtest'))).toBe('BAD_PASSPHRASE');
  });

  it('rejects a tampered file with BAD_BACKUP (ciphertext, authenticated header, address)', async () => {
    const secret = generatePrivateKey();
    const backup = await encryptWalletBackup(secret, PASS, NET, FAST);
    const flip = (hex: string) => (hex[0] === '0' ? '1' : '0') + hex.slice(1);
    expect(await codeOf(decryptWalletBackup({ ...backup, ciphertext: flip(backup.ciphertext) }, PASS, 'tabtest'))).toBe('BAD_BACKUP');
    expect(await codeOf(decryptWalletBackup({ ...backup, createdAt: '2000-01-01T00:00:00.000Z' }, PASS, 'tabtest'))).toBe('BAD_BACKUP');
    const other = encodeAddress(publicKeyOf(generatePrivateKey()), 'tabtest');
    expect(await codeOf(decryptWalletBackup({ ...backup, address: other }, PASS, 'tabtest'))).toBe('BAD_BACKUP');
    // A backup of another network does not decode into this network's address.
    expect(await codeOf(decryptWalletBackup(backup, PASS, 'tab'))).toBe('BAD_BACKUP');
  });

  it('rejects malformed documents, other versions and hostile costs with BAD_BACKUP before any work', async () => {
    const backup = await encryptWalletBackup(generatePrivateKey(), PASS, NET, FAST);
    for (const bad of [
      'not json',
      JSON.stringify({ ...backup, version: 2 }),
      JSON.stringify({ ...backup, format: 'x' }),
      JSON.stringify({ ...backup, kdf: { ...backup.kdf, N: 1 << 30 } }),
      JSON.stringify({ ...backup, kdf: { ...backup.kdf, N: 1000 } }),
      JSON.stringify({ ...backup, cipher: { ...backup.cipher, nonce: 'zz' } }),
      JSON.stringify({ ...backup, ciphertext: backup.ciphertext.slice(2) }),
      'x'.repeat(10_000),
      // Found by npm run fuzz (seed 20261206): a field whose `toString` is not a function made
      // the refusal's own message throw a TypeError.
      JSON.stringify({ ...backup, kdf: { ...backup.kdf, r: { toString: {} } } }),
      JSON.stringify({ ...backup, version: { toString: {}, valueOf: {} } }),
    ]) {
      expect(await codeOf(decryptWalletBackup(bad, PASS, 'tabtest'))).toBe('BAD_BACKUP');
    }
  });

  it('refuses an empty passphrase', async () => {
    expect(await codeOf(encryptWalletBackup(generatePrivateKey(), '', NET, FAST))).toBe('BAD_INPUT');
  });

  it('refuses to write a backup under a passphrase shorter than 8 characters (code points, after NFKC)', async () => {
    expect(MIN_PASSPHRASE_CHARS).toBe(8);
    for (const short of ['pw', '1234567', '\u{1f511}\u{1f511}\u{1f511}\u{1f511}\u{1f511}\u{1f511}\u{1f511}']) {
      expect(await codeOf(encryptWalletBackup(generatePrivateKey(), short, NET, FAST))).toBe('BAD_INPUT');
    }
    // Eight emoji are 16 UTF-16 units but 8 characters: enough.
    await encryptWalletBackup(generatePrivateKey(), '\u{1f511}'.repeat(8), NET, FAST);
  });

  it('refuses weak scrypt costs (N < 2^15, r < 8) on import and on export, before any work', async () => {
    const backup = await encryptWalletBackup(generatePrivateKey(), PASS, NET, FAST);
    for (const kdf of [{ ...backup.kdf, N: 1 << 10 }, { ...backup.kdf, N: 1 << 14 }, { ...backup.kdf, r: 1 }]) {
      expect(() => parseWalletBackup(JSON.stringify({ ...backup, kdf }))).toThrow(/BAD_BACKUP/);
      expect(await codeOf(decryptWalletBackup({ ...backup, kdf }, PASS, 'tabtest'))).toBe('BAD_BACKUP');
    }
    expect(await codeOf(encryptWalletBackup(generatePrivateKey(), PASS, NET, { kdf: { N: 1 << 10, r: 8, p: 1 } }))).toBe('BAD_INPUT');
  });
});

describe('wallet key', () => {
  it('is made on first start, kept in the profile store, and the same after a reopen; profiles differ', async () => {
    const rig = await startRig({ profiles: [{ name: 'A' }, { name: 'B' }] });
    const [A, B] = rig.profiles;
    expect(A.wallet.address).not.toBe(B.wallet.address);
    expect(A.wallet.address.startsWith(params.addressPrefix + '1')).toBe(true);
    const keys = await A.store.getKeys();
    expect(keys).toHaveLength(1);
    expect(keys[0].id).toBe(PRIMARY_KEY_ID);
    expect(bytesToHex(keys[0].publicKey)).toBe(bytesToHex(A.wallet.publicKey));
    expect(bytesToHex(publicKeyOf(keys[0].privateKey))).toBe(bytesToHex(A.wallet.publicKey));
    const again = await Wallet.open({ store: A.store, node: rig.node });
    expect(again.address).toBe(A.wallet.address);
  });

  it('survives a restart of a node over IndexedDB (fake-indexeddb), with its outbox', async () => {
    const factory = new IDBFactory();
    const G = params.genesis.header.time;
    const open = async () => {
      const store = new IdbStore({ network: 'test', profileId: 'p1', indexedDB: factory });
      const node: FullNode = new FullNode({ params, store, now: () => G + params.targetSpacing * (node.height + 1), miner: { useWorkers: false, kind: 'js' } });
      await node.start();
      const outbox = new Outbox({ node, store, rebroadcastIntervalMs: 0 });
      const wallet = await Wallet.open({ store, node, outbox });
      await outbox.start();
      node.setMinerPubKey(wallet.publicKey);
      return { node, outbox, wallet };
    };
    const first = await open();
    await first.node.miner.mineBlocks(3);
    const { txid } = await first.wallet.transfer(first.wallet.publicKey, COIN);
    const address = first.wallet.address;
    await first.outbox.stop();
    await first.node.stop();

    const second = await open();
    try {
      expect(second.wallet.address).toBe(address);
      expect(second.node.height).toBe(3);
      expect(second.outbox.get(txid)?.state).toBe('pending');
      expect(second.node.mempool.has(txid)).toBe(true);
    } finally {
      await second.outbox.stop();
      await second.node.stop();
    }
  });

  it('replacing the key keeps the old one in the store under a retired id', async () => {
    const rig = await startRig();
    const [A] = rig.profiles;
    const old = A.wallet.publicKey;
    const secret = generatePrivateKey();
    await A.wallet.replaceKey(secret);
    expect(bytesToHex(A.wallet.publicKey)).toBe(bytesToHex(publicKeyOf(secret)));
    const keys = await A.store.getKeys();
    expect(keys).toHaveLength(2);
    expect(keys.map((k) => k.id)).toContain(PRIMARY_KEY_ID);
    expect(keys.find((k) => k.id !== PRIMARY_KEY_ID)!.id).toMatch(/^retired-tabtest1/);
    expect(bytesToHex(keys.find((k) => k.id !== PRIMARY_KEY_ID)!.publicKey)).toBe(bytesToHex(old));
    expect(bytesToHex((await Wallet.open({ store: A.store, node: rig.node })).publicKey)).toBe(bytesToHex(publicKeyOf(secret)));
  });

  it('imports a backup only with confirm: true, and only of its own network', async () => {
    const rig = await startRig();
    const [A] = rig.profiles;
    const secret = generatePrivateKey();
    const backup = await encryptWalletBackup(secret, PASS, NET, FAST);
    const before = A.wallet.address;
    expect(await codeOf(A.wallet.importBackup(backup, PASS))).toBe('CONFIRM_REQUIRED');
    expect(A.wallet.address).toBe(before);
    const devBackup = await encryptWalletBackup(secret, PASS, { network: 'dev', addressPrefix: 'tabtest' }, FAST);
    expect(await codeOf(A.wallet.importBackup(devBackup, PASS, { confirm: true }))).toBe('BAD_BACKUP');
    expect(await A.wallet.importBackup(JSON.stringify(backup), PASS, { confirm: true })).toEqual({ address: encodeAddress(publicKeyOf(secret), 'tabtest'), previous: before });
    // And the exported backup of the new key decrypts to it.
    const out = await decryptWalletBackup(await A.wallet.exportBackup('again and again', { kdf: FAST_KDF }), 'again and again', 'tabtest');
    expect(bytesToHex(out.secretKey)).toBe(bytesToHex(secret));
  });
});

describe('wallet builders', () => {
  it('sign every kind with the next nonce and exactly the minimum relay fee', async () => {
    const rig = await startRig();
    const [A] = rig.profiles;
    const other = publicKeyOf(generatePrivateKey());
    const itemId = itemIdFor(A.wallet.publicKey, 'SKU');
    const payloads: TxPayload[] = [
      { kind: 'transfer', to: other, amount: 5n },
      { kind: 'item.create', sku: 'SKU', name: 'Thing', quantity: 3n },
      { kind: 'item.mint', itemId, quantity: 1n },
      { kind: 'item.transfer', itemId, to: other, quantity: 1n },
      { kind: 'item.burn', itemId, quantity: 1n },
      { kind: 'offer.create', give: { asset: { type: 'item', itemId }, amount: 1n }, want: { asset: { type: 'coin' }, amount: COIN }, lots: 2, expiresAtHeight: null },
      { kind: 'offer.accept', offerId: itemId, lots: 1 },
      { kind: 'offer.cancel', offerId: itemId },
    ];
    for (const p of payloads) {
      const tx = A.wallet.build(p);
      expect(tx.kind).toBe(p.kind);
      expect(tx.nonce).toBe(1);
      expect(tx.fee).toBe(params.minFeePerByte * BigInt(txSize(tx)));
      expect(() => checkTxSanity(tx, params)).not.toThrow(); // chain id, bounds, signature
    }
    expect(A.wallet.build(payloads[0], { fee: 10n ** 6n }).fee).toBe(10n ** 6n);
    expect(await codeOf(Promise.resolve().then(() => A.wallet.build(payloads[0], { fee: 1n })))).toBe('BAD_FEE');
    expect(await codeOf(Promise.resolve().then(() => A.wallet.build({ kind: 'item.create', sku: 'bad\u0001', name: 'x', quantity: 1n })))).toBe('BAD_INPUT');
  });

  it('submit pre-checks against our pending chain and adds nothing when a rule fails', async () => {
    const rig = await startRig();
    const [A] = rig.profiles;
    await A.api.mineBlocks(3); // 50 TAB spendable
    const created = await A.wallet.createItem('CUP', 'Cup', 2n);
    expect(hashToHex(created.itemId)).toBe(hashToHex(itemIdFor(A.wallet.publicKey, 'CUP')));
    // Minting the item created by our own pending tx passes (our pending chain is applied first).
    const minted = await A.wallet.mintItem(created.itemId, 1n);
    expect(minted.tx.nonce).toBe(2);
    const size = rig.node.mempool.size;
    expect(await codeOf(A.wallet.burnItem(created.itemId, 4n))).toBe('INSUFFICIENT_FUNDS');
    expect(await codeOf(A.wallet.acceptOffer(new Uint8Array(32), 1))).toBe('OFFER_NOT_FOUND');
    expect(rig.node.mempool.size).toBe(size);
    expect(A.outbox.pendingTxs().map((t) => hashToHex(txidOf(t)))).toEqual([created.txid, minted.txid]);
  });
});
