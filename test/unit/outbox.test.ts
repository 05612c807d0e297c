/**
 * The outbox over real FullNodes: a transaction's life through confirmation, a reorg that drops
 * its block, a double spend that wins on the other branch, eviction, rebroadcast and restart.
 * Two nodes share blocks by handing them to each other's processBlock, as peers would.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { COIN, decodeTx, hashToHex, txid as txidOf } from '../../src/chain/index.ts';
import type { NodeEvents } from '../../src/node/events.ts';
import { copyBlocks, startRig, stopAll, type Profile, type Rig } from './helpers/wallet-node.ts';

afterEach(stopAll);

/** Node 1 with profile A (funded: mined 3 blocks, 50 TAB spendable) and node 2 sharing that chain. */
async function twoNodes(): Promise<{ one: Rig; two: Rig; A: Profile }> {
  const one = await startRig();
  const [A] = one.profiles;
  await A.api.mineBlocks(3);
  const two = await startRig({ profiles: [] });
  await copyBlocks(one.node, two.node, 1, 3);
  expect(hashToHex(two.node.tip.hash)).toBe(hashToHex(one.node.tip.hash));
  return { one, two, A };
}

describe('outbox', () => {
  it('pending → confirmed (n confirmations) → pending after a reorg drops its block → confirmed again', async () => {
    const { one, two, A } = await twoNodes();
    const reorgs: NodeEvents['reorg'][] = [];
    one.node.events.on('reorg', (e) => reorgs.push(e));
    const to = one.profiles[0].wallet.publicKey; // to self: only the fee moves
    const { txid } = await A.wallet.transfer(to, COIN);
    expect(A.outbox.get(txid)).toMatchObject({ state: 'pending', confirmations: 0 });

    await one.mineElsewhere(1); // height 4 holds the tx
    const first = A.outbox.get(txid)!;
    expect(first).toMatchObject({ state: 'confirmed', confirmations: 1, height: 4 });
    await one.mineElsewhere(1);
    expect(A.outbox.get(txid)).toMatchObject({ state: 'confirmed', confirmations: 2, blockHash: first.blockHash });

    // Node two never saw the tx; it mines a longer branch from height 3.
    await two.mineElsewhere(3);
    await copyBlocks(two.node, one.node, 4, 6);
    await A.outbox.idle();
    expect(one.node.height).toBe(6);
    expect(reorgs).toHaveLength(1);
    expect(reorgs[0].readmitted).toContain(txid);
    expect(A.outbox.get(txid)).toMatchObject({ state: 'pending', confirmations: 0 });
    expect(A.outbox.get(txid)!.blockHash).toBeUndefined();
    expect(await A.api.txStatus(txid)).toEqual({ state: 'pending', confirmations: 0 });
    expect(one.node.mempool.has(txid)).toBe(true);

    await one.mineElsewhere(1);
    const again = A.outbox.get(txid)!;
    expect(again).toMatchObject({ state: 'confirmed', confirmations: 1, height: 7 });
    expect(again.blockHash).not.toBe(first.blockHash);
    expect(await A.api.txStatus(txid)).toEqual({ state: 'confirmed', confirmations: 1 });
    // The store has the same view.
    const stored = (await A.store.listOutbox()).find((r) => r.txid === txid)!;
    expect(stored).toMatchObject({ state: 'confirmed', blockHash: again.blockHash });
  });

  it('a double spend that wins on the other branch rejects ours with the rule code', async () => {
    const { one, two, A } = await twoNodes();
    const { txid } = await A.wallet.transfer(new Uint8Array(32).fill(1), COIN);
    await one.mineElsewhere(1);
    expect(A.outbox.get(txid)!.state).toBe('confirmed');

    // The same key spends nonce 1 differently on node two (say, a restored backup in another tab).
    const rival = A.wallet.build({ kind: 'transfer', to: A.wallet.publicKey, amount: 2n * COIN }, { nonce: 1 });
    expect((await two.node.processTx(rival, 'peer')).status).toBe('accepted');
    await two.mineElsewhere(2);
    await copyBlocks(two.node, one.node, 4, 5);
    await A.outbox.idle();

    expect(A.outbox.get(txid)).toMatchObject({ state: 'rejected', error: 'BAD_NONCE', confirmations: 0 });
    expect(await A.api.txStatus(txid)).toEqual({ state: 'rejected', confirmations: 0, error: 'BAD_NONCE' });
    expect(await A.api.txStatus(hashToHex(txidOf(rival)))).toMatchObject({ state: 'confirmed' });
    expect(one.node.mempool.has(txid)).toBe(false);
    // The next transaction continues after the rival's nonce.
    expect(A.wallet.nextNonce()).toBe(2);
    expect((await A.store.listOutbox()).find((r) => r.txid === txid)).toMatchObject({ state: 'rejected', error: 'BAD_NONCE' });
  });

  it('a pending tx made invalid by a block (no reorg) is rejected through txRemoved', async () => {
    const { one, two, A } = await twoNodes();
    const { txid } = await A.wallet.transfer(new Uint8Array(32).fill(1), COIN);
    const removed: NodeEvents['txRemoved'][] = [];
    one.node.events.on('txRemoved', (e) => removed.push(e));
    const rival = A.wallet.build({ kind: 'transfer', to: A.wallet.publicKey, amount: 1n }, { nonce: 1 });
    await two.node.processTx(rival, 'peer');
    await two.mineElsewhere(1);
    await copyBlocks(two.node, one.node, 4, 4);
    await A.outbox.idle();
    expect(removed).toContainEqual(expect.objectContaining({ txid, reason: 'invalid' }));
    expect(A.outbox.get(txid)).toMatchObject({ state: 'rejected', error: 'BAD_NONCE' });
  });

  it('resubmits a pending tx the mempool lost, counts it for the next nonce, and rebroadcasts only pending ones', async () => {
    const one = await startRig();
    const [A] = one.profiles;
    await A.api.mineBlocks(3);
    const first = await A.wallet.transfer(new Uint8Array(32).fill(1), 1000n);
    await one.mineElsewhere(1);
    const { txid } = await A.wallet.transfer(new Uint8Array(32).fill(1), 2000n);
    // Evicted (or expired) from the mempool: the outbox still counts it.
    one.node.mempool.remove(txid);
    expect(one.node.mempool.has(txid)).toBe(false);
    expect(A.wallet.nextNonce()).toBe(3);
    expect(await A.api.txStatus(txid)).toEqual({ state: 'pending', confirmations: 0 });

    A.rebroadcasts.length = 0;
    expect(await A.outbox.rebroadcastPending()).toBe(1);
    expect(one.node.mempool.has(txid)).toBe(true);
    expect(A.rebroadcasts.map((b) => hashToHex(txidOf(decodeTx(b))))).toEqual([txid]);
    expect(A.outbox.get(first.txid)!.state).toBe('confirmed');

    // Without a network hook, rebroadcasting hands nothing out (and still resubmits).
    A.outbox.rebroadcastHook = undefined;
    expect(await A.outbox.rebroadcastPending()).toBe(0);
  });

  it('a restart keeps the outbox: confirmed stays confirmed, pending goes back into the new mempool', async () => {
    const one = await startRig();
    const [A] = one.profiles;
    await A.api.mineBlocks(3);
    const confirmed = await A.wallet.transfer(new Uint8Array(32).fill(1), 1000n);
    // Nonce 2 is spent twice: the rival (higher fee, replacing ours in the mempool) is mined.
    const rejected = await A.wallet.transfer(new Uint8Array(32).fill(1), 2000n);
    const rival = A.wallet.build({ kind: 'transfer', to: A.wallet.publicKey, amount: 1n }, { nonce: 2, fee: 100_000n });
    expect((await one.node.processTx(rival, 'peer')).status).toBe('accepted');
    await one.mineElsewhere(1);
    expect(A.outbox.get(rejected.txid)).toMatchObject({ state: 'rejected', error: 'BAD_NONCE' });
    const pending = await A.wallet.transfer(new Uint8Array(32).fill(1), 3000n);
    expect(pending.tx.nonce).toBe(3);
    const address = A.wallet.address;
    await one.stop();

    const again = await startRig({ database: one.database, profiles: [{ name: 'A', database: A.database }] });
    const [A2] = again.profiles;
    expect(A2.wallet.address).toBe(address); // same key from the store
    expect(again.node.height).toBe(4);
    expect(A2.outbox.get(confirmed.txid)).toMatchObject({ state: 'confirmed', confirmations: 1 });
    expect(A2.outbox.get(pending.txid)).toMatchObject({ state: 'pending' });
    expect(A2.outbox.get(rejected.txid)).toMatchObject({ state: 'rejected', error: 'BAD_NONCE' });
    expect(again.node.mempool.has(pending.txid)).toBe(true);
    expect(again.node.mempool.has(rejected.txid)).toBe(false);
    await again.mineElsewhere(1);
    expect(A2.outbox.get(pending.txid)).toMatchObject({ state: 'confirmed', confirmations: 1 });
  });

  it('tells listeners about every change, and forgets a record on request', async () => {
    const one = await startRig();
    const [A] = one.profiles;
    await A.api.mineBlocks(3);
    const seen: string[] = [];
    A.outbox.onChange((e) => seen.push(e.state));
    const { txid } = await A.wallet.transfer(new Uint8Array(32).fill(1), 1000n);
    await one.mineElsewhere(1);
    expect(seen).toEqual(['pending', 'confirmed']);
    await A.outbox.remove(txid);
    expect(A.outbox.get(txid)).toBeUndefined();
    expect(await A.store.listOutbox()).toEqual([]);
  });
});
