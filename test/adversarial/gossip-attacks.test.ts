/**
 * Attacks through gossip (the blocks and transactions topics), each by a fresh scripted attacker
 * against one honest victim: invalid proof of work, wrong bits, a mutated body (bad merkle root),
 * bad signatures, another network's transactions, double spends (in a block and by gossip),
 * time-warped blocks. For each: the victim keeps its chain, still serves the bystander, forwards
 * nothing the attacker sent, charges or bans the attacker, and stays within the harness budget.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockHash, encodeBlock, encodeTx, hashToHex, makeCoinbase, merkleRoot, NETWORKS, txid, type Block, type Transaction } from '../../src/chain/index.ts';
import { ChainBuilder, mineHeader, unmineHeader, wallets } from '../unit/helpers/chain-builder.ts';
import { waitUntil } from '../integration/helpers/net-nodes.ts';
import { bystanderSaw, connect, expectServing, expectWithinBudget, offencesOf, startArena, startHostile, stopAllHostile, type Arena, type Hostile } from './helpers/hostile.ts';

const [alice, bob, carol] = wallets(3);
let chain: ChainBuilder;
let arena: Arena;

beforeAll(async () => {
  chain = ChainBuilder.funded([alice, bob, carol]);
  while (chain.height < 12) chain.mine();
  arena = await startArena('gossip', chain);
});
afterAll(stopAllHostile);

async function attacker(): Promise<Hostile> {
  const a = await startHostile();
  await connect(a, arena.victim);
  return a;
}

function banOf(a: Hostile): Promise<{ offence: string }> {
  return arena.victim.net.events.waitFor('banned', (b) => b.peerId === a.id, 15_000);
}

/** Publishes a block, waits for the victim's verdict on it (its 'block' event). */
async function gossipBlock(a: Hostile, block: Block): Promise<string> {
  const hex = hashToHex(blockHash(block.header));
  const verdict = arena.victim.node.events.waitFor('block', (e) => e.hash === hex, 15_000);
  await a.publish('blocks', encodeBlock(block), arena.victim);
  return (await verdict).result.status;
}

/** Publishes a transaction, waits for the victim's verdict. */
async function gossipTx(a: Hostile, tx: Transaction): Promise<{ status: string; code?: string }> {
  const verdict = arena.victim.node.events.waitFor('tx', (e) => e.source === 'peer' && e.result.txid !== '' && e.result.txid === hashToHex(txid(tx)), 15_000);
  await a.publish('txs', encodeTx(tx), arena.victim);
  return (await verdict).result;
}

describe('hostile gossip', () => {
  it('a block without proof of work: banned at once, not forwarded', async () => {
    const a = await attacker();
    const next = chain.build([]);
    const bad = { ...next, header: unmineHeader(next.header) };
    const ban = banOf(a);
    await a.publish('blocks', encodeBlock(bad), arena.victim);
    expect((await ban).offence).toBe('invalidBlock');
    await expectServing(arena, chain.tip.hash);
    expect(bystanderSaw(arena, bad)).toBe(false);
    expectWithinBudget(arena.victim);
  });

  it('a block with proof of work at bits other than ASERT asks (BAD_BITS): banned, not forwarded', async () => {
    const a = await attacker();
    const next = chain.build([]);
    const wrong = { ...next, header: mineHeader({ ...next.header, bits: 0x1f7fffff }) };
    const ban = banOf(a);
    await a.publish('blocks', encodeBlock(wrong), arena.victim);
    expect((await ban).offence).toBe('invalidBlock');
    await expectServing(arena, chain.tip.hash);
    expect(bystanderSaw(arena, wrong)).toBe(false);
    expect(arena.victim.node.headers.get(hashToHex(blockHash(wrong.header)))?.status).toBe('invalid');
  });

  it('a mutated body under a valid header (bad merkle root): charged, not forwarded, and the real block still accepted', async () => {
    const a = await attacker();
    const t = chain.sign(alice, { kind: 'transfer', to: bob.pub, amount: 1n });
    const real = chain.build([t]);
    const mutated = { header: real.header, txs: [real.txs[0]] };
    expect(await gossipBlock(a, mutated)).toBe('invalid');
    await waitUntil(() => offencesOf(arena, a.id).length > 0, 'the attacker charged');
    expect(offencesOf(arena, a.id)).toContain('malformedFrame');
    expect(bystanderSaw(arena, mutated)).toBe(false);
    // The header was not marked invalid: the right body is still welcome (not sent here, so the
    // chain stays where it is for the next attacks).
    expect(arena.victim.node.headers.get(hashToHex(blockHash(real.header)))?.status).not.toBe('invalid');
    await expectServing(arena, chain.tip.hash);
  });

  it('badly signed transactions: each rejected and charged, a handful bans', async () => {
    const a = await attacker();
    let banned = false;
    const ban = banOf(a).then((b) => ((banned = true), b));
    // invalidTx costs 20 of the 100 a ban takes; scores recover slowly (10 min half-life), so the
    // sixth lands past the threshold.
    let sent = 0;
    while (!banned && sent < 6) {
      const t = chain.sign(carol, { kind: 'transfer', to: bob.pub, amount: BigInt(1 + sent) });
      const sig = t.signature.slice();
      sig[0] ^= 0xff;
      const r = await gossipTx(a, { ...t, signature: sig });
      expect(r.code).toBe('BAD_SIGNATURE');
      sent++;
    }
    expect((await ban).offence).toBe('invalidTx');
    expect(offencesOf(arena, a.id)).toEqual(new Array(sent).fill('invalidTx'));
    expect(arena.victim.node.mempool.size).toBe(0);
    await expectServing(arena, chain.tip.hash);
  });

  it("another network's transaction (WRONG_CHAIN): rejected and charged, never in the mempool", async () => {
    const a = await attacker();
    const t = chain.sign(carol, { kind: 'transfer', to: bob.pub, amount: 7n }, { chainId: NETWORKS.dev.chainId });
    const r = await gossipTx(a, t);
    expect(r).toMatchObject({ status: 'invalid', code: 'WRONG_CHAIN' });
    await waitUntil(() => offencesOf(arena, a.id).includes('invalidTx'), 'the attacker charged');
    expect(arena.victim.node.mempool.has(txid(t))).toBe(false);
  });

  it('a block spending one nonce twice: banned, the chain unchanged, not forwarded', async () => {
    const a = await attacker();
    const n = chain.nextNonce(alice);
    const spend1 = chain.sign(alice, { kind: 'transfer', to: bob.pub, amount: 1n }, { nonce: n });
    const spend2 = chain.sign(alice, { kind: 'transfer', to: carol.pub, amount: 1n }, { nonce: n });
    const block = chain.build([spend1, spend2]);
    const ban = banOf(a);
    await a.publish('blocks', encodeBlock(block), arena.victim);
    expect((await ban).offence).toBe('invalidBlock');
    await expectServing(arena, chain.tip.hash);
    expect(bystanderSaw(arena, block)).toBe(false);
  });

  it('a double spend by gossip: the first spend stays pending, the second is dropped unforwarded and uncharged', async () => {
    const a = await attacker();
    const n = chain.nextNonce(bob);
    const first = chain.sign(bob, { kind: 'transfer', to: alice.pub, amount: 2n }, { nonce: n });
    const second = chain.sign(bob, { kind: 'transfer', to: carol.pub, amount: 2n }, { nonce: n });
    expect((await gossipTx(a, first)).status).toBe('accepted');
    await waitUntil(() => arena.bystander.node.mempool.has(txid(first)), 'the honest spend forwarded');
    const r = await gossipTx(a, second);
    expect(r).toMatchObject({ status: 'invalid', code: 'BAD_FEE' });
    expect(arena.victim.node.mempool.has(txid(first))).toBe(true);
    expect(arena.victim.node.mempool.has(txid(second))).toBe(false);
    expect(offencesOf(arena, a.id)).toEqual([]);
    // Give a forward the time it would take (the honest one took well under this).
    await new Promise((r) => setTimeout(r, 300));
    expect(arena.bystander.node.mempool.has(txid(second))).toBe(false);
  });

  it('a nonce-gap flood from fresh keys parks nothing; a funded key parks at most its future quota; an honest payment still gets in', async () => {
    const a = await attacker();
    const { node } = arena.victim;
    const to = bob.pub;
    // 30 unfunded keys × 10 transactions behind a gap (nonce 2, 3, …): nothing to pay their fees.
    const unfunded = wallets(38).slice(8);
    let last: Transaction | undefined;
    for (const w of unfunded) {
      for (let i = 0; i < 10; i++) {
        last = chain.sign(w, { kind: 'transfer', to, amount: 1n }, { nonce: 2 + i, fee: 100_000n });
        await a.publish('txs', encodeTx(last), arena.victim);
      }
    }
    await arena.victim.node.events.waitFor('tx', (e) => e.result.txid === hashToHex(txid(last!)), 15_000).catch(() => undefined);
    await waitUntil(() => !unfunded.some((w) => node.mempool.pendingFor(w.pub).length > 0) && node.mempool.futureCount === 0, 'no unfunded future kept', 15_000);
    // A funded key (carol: one mature reward) sends 40 gapped ones: the per-sender quota holds.
    const n = chain.nextNonce(carol);
    for (let i = 0; i < 40; i++) await a.publish('txs', encodeTx(chain.sign(carol, { kind: 'transfer', to, amount: 1n }, { nonce: n + 1 + i, fee: 100_000n })), arena.victim);
    await waitUntil(() => node.mempool.futureCount > 0, 'some of carol\'s futures kept', 15_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(node.mempool.futureCount).toBeLessThanOrEqual(16);
    // None of it reached the bystander (futures are not forwarded), and nobody was charged.
    expect(arena.bystander.node.mempool.futureCount).toBe(0);
    expect(offencesOf(arena, a.id)).toEqual([]);
    // An honest payment from the bystander's side reaches the victim and its next block.
    const pay = chain.sign(alice, { kind: 'transfer', to: carol.pub, amount: 3n });
    expect((await arena.bystander.node.processTx(pay, 'local')).status).toBe('accepted');
    await waitUntil(() => node.mempool.has(txid(pay)), 'the honest payment at the victim', 15_000);
    expect(node.template().block.txs.some((t) => hashToHex(txid(t)) === hashToHex(txid(pay)))).toBe(true);
    expectWithinBudget(arena.victim);
  });

  it('junk orphans (valid proof of work, random parents): kept within the pool, never forwarded, nobody banned', async () => {
    const a = await attacker();
    const junkTxs: Transaction[] = [];
    for (let i = 0; i < 300; i++) junkTxs.push({ ...chain.sign(carol, { kind: 'transfer', to: bob.pub, amount: 1n }, { nonce: 1000 + i }), signature: new Uint8Array(64).fill(i & 0xff) });
    const sent: Block[] = [];
    for (let i = 0; i < 20; i++) {
      const txs = [makeCoinbase(chain.params, 1000 + i, carol.pub, BigInt(i)), ...junkTxs];
      const prevHash = new Uint8Array(32).fill(0x5a);
      prevHash[0] = i;
      const header = mineHeader({ version: 1, prevHash, merkleRoot: merkleRoot(txs), time: chain.tip.header.time + 10, bits: chain.nextBits(), nonce: 0 });
      sent.push({ header, txs });
      await a.publish('blocks', encodeBlock({ header, txs }), arena.victim);
    }
    const lastHex = hashToHex(blockHash(sent[sent.length - 1].header));
    await arena.victim.node.events.waitFor('block', (e) => e.hash === lastHex, 15_000).catch(() => undefined);
    await waitUntil(() => arena.victim.node.orphanCount > 0, 'orphans kept', 15_000);
    // One peer holds at most its share of the pool, whatever it sends.
    expect(arena.victim.node.orphanCount).toBeLessThanOrEqual(8);
    await new Promise((r) => setTimeout(r, 300));
    for (const b of sent) expect(bystanderSaw(arena, b)).toBe(false);
    expect(offencesOf(arena, a.id)).toEqual([]);
    expectWithinBudget(arena.victim);
    await expectServing(arena, chain.tip.hash);
  });

  it('time-warped blocks: one an hour ahead is held (no ban, not forwarded); one dated at the median time past is invalid and bans', async () => {
    const a = await attacker();
    const now = Math.floor(Date.now() / 1000);
    const ahead = chain.build([], { time: now + 3600 });
    expect(await gossipBlock(a, ahead)).toBe('held');
    expect(offencesOf(arena, a.id)).toEqual([]);
    expect(bystanderSaw(arena, ahead)).toBe(false);
    const old = chain.build([], { time: chain.mtp() });
    const ban = banOf(a);
    await a.publish('blocks', encodeBlock(old), arena.victim);
    expect((await ban).offence).toBe('invalidBlock');
    expectWithinBudget(arena.victim);
    await expectServing(arena, chain.tip.hash);
  });
});
