import { describe, expect, it } from 'vitest';
import { ruleCodeOf as codeOf } from '../support/codes.ts';
import { NETWORKS, SignatureCache, blockSize, blockSizeOfEncodings, checkBlockSanity, checkBlockStructure, checkBlockStructureEncoded, checkEncodedTxSanity, checkTxSanity, encodeTx, makeCoinbase, merkleRoot, signTx, txLeafHash, type Block, type Transaction } from '../../src/chain/index.ts';
import { mineHeader, wallet } from './helpers/chain-builder.ts';

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
    const body = checkBlockStructureEncoded({ header: { version: 1, prevHash: new Uint8Array(32), merkleRoot: merkleRoot(txs), time: 0, bits: params.genesisBits, nonce: 0 }, txs }, params);
    expect(body).toEqual({ encodings: txs.map(encodeTx), leaves });
  });

  it('checkEncodedTxSanity (the block path, encoding and leaf given) caches and refuses exactly as checkTxSanity', () => {
    const good = transfer(5n);
    const forged = { ...good, signature: good.signature.map((b, i) => (i === 0 ? b ^ 1 : b)) };
    const big = { ...good, amount: 7n };
    for (const tx of [good, forged, big]) {
      const [a, b] = [new SignatureCache(), new SignatureCache()];
      const enc = encodeTx(tx);
      expect(codeOf(() => checkEncodedTxSanity(tx, params, a, enc, txLeafHash(tx)))).toBe(codeOf(() => checkTxSanity(tx, params, b)));
      expect(a.has(SignatureCache.keyOf(enc))).toBe(b.has(SignatureCache.keyOf(enc)));
      // TX_TOO_LARGE is judged on the given encoding's length, as on the transaction's size.
      const small = { ...params, maxTxBytes: enc.length - 1 };
      expect(codeOf(() => checkEncodedTxSanity(tx, small, undefined, enc, txLeafHash(tx)))).toBe('TX_TOO_LARGE');
    }
  });

  it('checkBlockSanity looks each transaction up under keyOf(encodeTx(tx)), caches it there, and a cached twin vouches for nothing', () => {
    const txs = [makeCoinbase(params, 1, bob.pub, 0n), transfer(1n), transfer(2n)];
    const block: Block = { header: mineHeader({ version: 1, prevHash: new Uint8Array(32), merkleRoot: merkleRoot(txs), time: 0, bits: params.genesisBits, nonce: 0 }), txs };
    expect(blockSizeOfEncodings(txs.map(encodeTx))).toBe(blockSize(block));
    const cache = new SignatureCache();
    checkBlockSanity(block, params, { sigCache: cache });
    expect(txs.slice(1).map((tx) => cache.has(SignatureCache.keyOf(encodeTx(tx))))).toEqual([true, true]);
    expect(cache.size).toBe(2);
    // A block whose second transfer's signature is corrupted: its twin's key is cached, it is not.
    const forged = { ...txs[2], signature: txs[2].signature.map((b, i) => (i === 0 ? b ^ 1 : b)) };
    const bad: Block = { header: mineHeader({ ...block.header, merkleRoot: merkleRoot([txs[0], txs[1], forged]) }), txs: [txs[0], txs[1], forged] };
    expect(codeOf(() => checkBlockSanity(bad, params, { sigCache: cache }))).toBe('BAD_SIGNATURE');
    expect(cache.size).toBe(2);
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
