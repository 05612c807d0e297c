import { describe, expect, it } from 'vitest';
import { ruleCodeOf as codeOf } from '../support/codes.ts';
import { NETWORKS, SignatureCache, checkBlockStructure, checkTxSanity, encodeTx, makeCoinbase, merkleRoot, signTx, txLeafHash, type Transaction } from '../../src/chain/index.ts';
import { wallet } from './helpers/chain-builder.ts';

const params = NETWORKS.test;
const alice = wallet('alice');
const bob = wallet('bob');

function transfer(amount: bigint): Transaction {
  return signTx({ chainId: params.chainId, kind: 'transfer', from: alice.pub, nonce: 1, fee: 1_000n, to: bob.pub, amount }, alice.priv);
}


describe('SignatureCache', () => {
  it('remembers a transaction whose signature verified, by its complete bytes', () => {
    const cache = new SignatureCache();
    const tx = transfer(5n);
    checkTxSanity(tx, params, cache);
    expect(cache.has(SignatureCache.keyOf(encodeTx(tx)))).toBe(true);
    expect(cache.size).toBe(1);
  });

  it('does not remember a failed verification, and a cached tx does not vouch for a forged twin', () => {
    const cache = new SignatureCache();
    const good = transfer(5n);
    checkTxSanity(good, params, cache);
    // Same fields, corrupted signature: different bytes, so not a cache hit — still BAD_SIGNATURE.
    const forged = { ...good, signature: good.signature.map((b, i) => (i === 0 ? b ^ 1 : b)) };
    expect(codeOf(() => checkTxSanity(forged, params, cache))).toBe('BAD_SIGNATURE');
    // Same signature over different fields: also not a hit.
    const altered = { ...good, amount: 6n };
    expect(codeOf(() => checkTxSanity(altered, params, cache))).toBe('BAD_SIGNATURE');
    expect(cache.size).toBe(1);
  });

  it("keys a transaction by its merkle leaf: keyOfLeaf(txLeafHash(tx)) is keyOf(encodeTx(tx)), and checkBlockStructure hands out those leaves", () => {
    const txs = [makeCoinbase(params, 1, bob.pub, 0n), transfer(1n), transfer(2n)];
    for (const tx of txs) expect(SignatureCache.keyOfLeaf(txLeafHash(tx))).toBe(SignatureCache.keyOf(encodeTx(tx)));
    const leaves = checkBlockStructure({ header: { version: 1, prevHash: new Uint8Array(32), merkleRoot: merkleRoot(txs), time: 0, bits: params.genesisBits, nonce: 0 }, txs }, params);
    expect(leaves.map((l) => SignatureCache.keyOfLeaf(l))).toEqual(txs.map((tx) => SignatureCache.keyOf(encodeTx(tx))));
  });

  it('forgets the oldest entries beyond its capacity', () => {
    const cache = new SignatureCache(2);
    const txs = [transfer(1n), transfer(2n), transfer(3n)];
    for (const tx of txs) checkTxSanity(tx, params, cache);
    const keys = txs.map((tx) => SignatureCache.keyOf(encodeTx(tx)));
    expect(keys.map((k) => cache.has(k))).toEqual([false, true, true]);
    expect(() => new SignatureCache(0)).toThrow(RangeError);
  });
});
