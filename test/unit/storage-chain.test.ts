/**
 * Storage with the real consensus code: the undo records applyBlock produces (accounts, maturing
 * rewards, items, holdings, transfers) go through every store, a reopen rebuilds a ChainState
 * identical to the one in memory, and disconnecting with the stored undo records walks the
 * stored state back block by block exactly as undoBlock does in memory.
 */
import { describe, expect, it } from 'vitest';
import { applyBlock, undoBlock } from '../../src/chain/apply.ts';
import { blockHash } from '../../src/chain/header.ts';
import { decodeBlock, encodeBlock, merkleRoot } from '../../src/chain/block.ts';
import { publicKeyOf } from '../../src/chain/keys.ts';
import { getParams } from '../../src/chain/params.ts';
import { ChainState } from '../../src/chain/state.ts';
import { makeCoinbase, signTx } from '../../src/chain/tx.ts';
import type { Block, BlockUndo, Transaction } from '../../src/chain/types.ts';
import { BACKENDS } from './storage-fixtures.ts';

const params = getParams('dev');
const alicePriv = new Uint8Array(32).fill(1);
const bobPriv = new Uint8Array(32).fill(2);
const alice = publicKeyOf(alicePriv);
const bob = publicKeyOf(bobPriv);

/** Blocks 1..n: alice mines; once her first reward matured she pays bob and registers an item. */
function buildChain(n: number): { blocks: Block[]; hashes: Uint8Array[] } {
  const blocks: Block[] = [];
  const hashes: Uint8Array[] = [params.genesisHash];
  let nonce = 0;
  for (let h = 1; h <= n; h++) {
    const txs: Transaction[] = [makeCoinbase(params, h, h % 2 ? alice : bob)];
    if (h === params.coinbaseMaturity + 2) {
      txs.push(signTx({ chainId: params.chainId, from: alice, nonce: ++nonce, fee: 1000n, kind: 'transfer', to: bob, amount: 7n }, alicePriv));
      txs.push(signTx({ chainId: params.chainId, from: alice, nonce: ++nonce, fee: 1000n, kind: 'item.create', sku: 'MUG-1', name: 'Mug', quantity: 12n }, alicePriv));
    }
    const header = { version: 1, prevHash: hashes[h - 1], merkleRoot: merkleRoot(txs), time: params.genesis.header.time + h * 60, bits: params.genesis.header.bits, nonce: h };
    blocks.push({ header, txs });
    hashes.push(blockHash(header));
  }
  return { blocks, hashes };
}

describe.each(BACKENDS)('$name with real blocks', (backend) => {
  it('persists applyBlock undo records; reopen and stored-undo disconnects match the in-memory state', async () => {
    const { blocks, hashes } = buildChain(8);
    const env = await backend.env();
    const store = env.make();
    await store.open();
    // Genesis is not applied (applyBlock starts at 1): it is connected with an empty undo record.
    await store.connectBlock({ hash: params.genesisHash, height: 0, body: encodeBlock(params.genesis), undo: { hash: params.genesisHash, height: 0, changes: [] } });
    const state = new ChainState();
    const snapshots = [state.entries()];
    const undos: BlockUndo[] = [];
    for (let h = 1; h <= blocks.length; h++) {
      const undo = applyBlock(state, blocks[h - 1], { params, height: h, hash: hashes[h] });
      undos.push(undo);
      snapshots.push(state.entries());
      await store.connectBlock({ hash: hashes[h], height: h, body: encodeBlock(blocks[h - 1]), undo });
    }
    expect(state.entries().some(([k]) => k.startsWith('i:'))).toBe(true); // the item exists
    await store.close();

    const again = env.make();
    const opened = await again.open();
    expect(opened.meta.tipHash).toEqual(hashes[8]);
    expect(new ChainState(opened.state).entries()).toEqual(state.entries());
    expect(decodeBlock((await again.getBlock(hashes[5]))!)).toEqual(blocks[4]);
    expect(await again.getUndo(hashes[8])).toEqual(undos[7]);

    for (let h = blocks.length; h >= 1; h--) {
      await again.disconnectBlock({ hash: hashes[h], newTipHash: hashes[h - 1], newTipHeight: h - 1 });
      undoBlock(state, undos[h - 1]);
      expect(state.entries()).toEqual(snapshots[h - 1]);
      expect(new ChainState((await again.open()).state).entries()).toEqual(snapshots[h - 1]);
    }
    await again.close();
    await env.cleanup();
  });
});
