/**
 * ConnectBatch (src/node/connect-batch.ts): a processing step's connects reach the store in ONE
 * atomic write per run; a failed write moves state and tip back and voids the verdicts that said
 * a block was connected; a run is cut at MAX_UNWRITTEN_BLOCKS blocks or MAX_UNWRITTEN_BYTES bytes;
 * block events go out only after the write.
 */
import { describe, expect, it } from 'vitest';
import { NETWORKS, applyBlock, hashToHex, txid as txidOf, ChainState, HeaderIndex, type Block, type HeaderEntry } from '../../src/chain/index.ts';
import type { ChainStore, ConnectBlockArgs } from '../../src/storage/chain-store.ts';
import { ConnectBatch, MAX_UNWRITTEN_BLOCKS, MAX_UNWRITTEN_BYTES, type ChainTip } from '../../src/node/connect-batch.ts';
import type { NodeEvents } from '../../src/node/events.ts';
import { ChainBuilder, wallets } from './helpers/chain-builder.ts';

const [alice, bob] = wallets(2);

/** The store calls a batch makes, recorded; `connectBlocks` answers as `answer` says. */
function fakeStore(answer: (list: ConnectBlockArgs[]) => Promise<void> = async () => {}) {
  const calls = { connectBlocks: [] as ConnectBlockArgs[][], putHeaders: [] as HeaderEntry[][], putBlock: [] as string[] };
  const store = {
    connectBlocks: (list: ConnectBlockArgs[]) => {
      calls.connectBlocks.push(list);
      return answer(list);
    },
    putHeaders: async (list: HeaderEntry[]) => void calls.putHeaders.push(list),
    putBlock: async (hash: Uint8Array) => void calls.putBlock.push(hashToHex(hash)),
  } as unknown as ChainStore;
  return { store, calls };
}

/** A funded chain with `n` more blocks of transfers, the header index of all of it, and a tip/state copy at `n` blocks below its top. */
function chainWith(n: number) {
  const b = ChainBuilder.funded([alice, bob]);
  const headers = new HeaderIndex(b.params.genesis.header);
  for (let h = 1; h <= b.height; h++) headers.add(b.blocks[h].header, { status: 'valid', hasBody: true });
  const start = b.height;
  const before = new ChainState(b.state.entries());
  const mined: { block: Block; entry: HeaderEntry }[] = [];
  for (let i = 0; i < n; i++) {
    b.add(alice, { kind: 'transfer', to: bob.pub, amount: 1000n + BigInt(i) });
    const { block } = b.mine();
    mined.push({ block, entry: headers.add(block.header, { status: 'headers-only', hasBody: true }) });
  }
  const chain: ChainTip = { state: before, tip: headers.get(b.entries[start].hash)! };
  return { b, headers, chain, mined, snapshot: before.entries() };
}

/** Connects `block` in memory as the node does (state, then tip), and tells the batch. */
async function connect(chain: ChainTip, batch: ConnectBatch, block: Block, entry: HeaderEntry): Promise<void> {
  const undo = applyBlock(chain.state, block, { params: NETWORKS.test, height: entry.height, hash: entry.hash });
  const prevTip = chain.tip;
  chain.tip = entry;
  await batch.connected({ entry, prevTip, undo, txids: block.txs.map(txidOf) });
}

/** A fake connect of `entry` (no state change): for the run-length tests, where only counts and bytes matter. */
function fakeConnect(entry: HeaderEntry, prevTip: HeaderEntry) {
  return { entry, prevTip, undo: { hash: entry.hash, height: entry.height, changes: [] }, txids: [] };
}

function blockEvent(hash: string, status: NodeEvents['block']['result']['status']): NodeEvents['block'] {
  return { hash, height: 1, result: { status, hash }, source: 'peer' };
}

describe('ConnectBatch', () => {
  it('writes a step’s connects in one store write, bodies and header status with them', async () => {
    const { headers, chain, mined } = chainWith(3);
    const { store, calls } = fakeStore();
    const batch = new ConnectBatch({ store, headers, chain });
    for (const m of mined) batch.pending.set(hashToHex(m.entry.hash), new Uint8Array(100));
    for (const m of mined) await connect(chain, batch, m.block, m.entry);
    expect(calls.connectBlocks).toHaveLength(0); // nothing written before the step ends
    expect(batch.unwrittenCount).toBe(3);
    expect(batch.unwrittenBytes).toBe(300);
    await batch.write();
    expect(calls.connectBlocks).toHaveLength(1);
    expect(calls.connectBlocks[0].map((c) => c.height)).toEqual(mined.map((m) => m.entry.height));
    expect(calls.connectBlocks[0].every((c) => c.body?.length === 100 && c.headers?.[0].status === 'valid')).toBe(true);
    expect(batch.pending.size).toBe(0);
    for (const m of mined) expect(headers.get(m.entry.hash)!.status).toBe('valid');
  });

  it('a failed write puts the state and the tip back where the store is, and rethrows', async () => {
    const { headers, chain, mined, snapshot } = chainWith(3);
    const startTip = chain.tip;
    const { store } = fakeStore(async () => {
      throw Object.assign(new Error('disk full'), { code: 'QUOTA_EXCEEDED' });
    });
    const batch = new ConnectBatch({ store, headers, chain });
    for (const m of mined) await connect(chain, batch, m.block, m.entry);
    expect(chain.state.entries()).not.toEqual(snapshot);
    await expect(batch.write()).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED' });
    expect(chain.state.entries()).toEqual(snapshot);
    expect(chain.tip).toBe(startTip);
    expect(batch.writeFailed).toBe(true);
    expect(batch.unwrittenCount).toBe(0);
    for (const m of mined) expect(headers.get(m.entry.hash)!.status).toBe('headers-only');
  });

  it('after a failed write, verdicts that said connected or stored are not sent; the others are', async () => {
    const { headers, chain, mined } = chainWith(1);
    const { store } = fakeStore(async () => {
      throw new Error('write failed');
    });
    const batch = new ConnectBatch({ store, headers, chain });
    await connect(chain, batch, mined[0].block, mined[0].entry);
    batch.blockEvents.push(blockEvent('a', 'extended'), blockEvent('b', 'invalid'), blockEvent('c', 'side'), blockEvent('d', 'orphan'), blockEvent('e', 'reorged'));
    const sent: string[] = [];
    const errors: unknown[] = [];
    await batch.finish({ emitBlock: (ev) => sent.push(ev.hash), onError: (e) => errors.push(e) });
    expect(sent).toEqual(['b', 'd']);
    expect(errors).toHaveLength(1); // finish swallows the write error: the caller's step already failed
  });

  it(`cuts a run at ${MAX_UNWRITTEN_BLOCKS} blocks`, async () => {
    const { headers, chain } = chainWith(0);
    const { store, calls } = fakeStore();
    const batch = new ConnectBatch({ store, headers, chain });
    const e = chain.tip; // the entries need not chain for this count: only the run length matters
    for (let i = 0; i < MAX_UNWRITTEN_BLOCKS - 1; i++) await batch.connected(fakeConnect(e, e));
    expect(calls.connectBlocks).toHaveLength(0);
    await batch.connected(fakeConnect(e, e));
    expect(calls.connectBlocks.map((l) => l.length)).toEqual([MAX_UNWRITTEN_BLOCKS]);
    expect(batch.unwrittenCount).toBe(0);
    await batch.connected(fakeConnect(e, e));
    expect(batch.unwrittenCount).toBe(1);
  });

  it(`cuts a run at ${MAX_UNWRITTEN_BYTES} bytes of bodies`, async () => {
    const { headers, chain, mined } = chainWith(3);
    const { store, calls } = fakeStore();
    const batch = new ConnectBatch({ store, headers, chain });
    const third = MAX_UNWRITTEN_BYTES / 2 - 1;
    for (const m of mined) batch.pending.set(hashToHex(m.entry.hash), new Uint8Array(third));
    await connect(chain, batch, mined[0].block, mined[0].entry);
    await connect(chain, batch, mined[1].block, mined[1].entry);
    expect(calls.connectBlocks).toHaveLength(0); // 2 × (half − 1) bytes: under the bound
    await connect(chain, batch, mined[2].block, mined[2].entry);
    expect(calls.connectBlocks.map((l) => l.length)).toEqual([3]);
    expect(batch.unwrittenBytes).toBe(0);
  });

  it('sends block events only once the write is done', async () => {
    const { headers, chain, mined } = chainWith(1);
    let release!: () => void;
    const { store } = fakeStore(() => new Promise<void>((r) => (release = r)));
    const batch = new ConnectBatch({ store, headers, chain });
    await connect(chain, batch, mined[0].block, mined[0].entry);
    batch.blockEvents.push(blockEvent(hashToHex(mined[0].entry.hash), 'extended'));
    const sent: string[] = [];
    const finished = batch.finish({ emitBlock: (ev) => sent.push(ev.hash), onError: (e) => expect.fail(String(e)) });
    await Promise.resolve();
    expect(sent).toEqual([]); // the write is still out
    release();
    await finished;
    expect(sent).toEqual([hashToHex(mined[0].entry.hash)]);
  });

  it('undoes an unwritten connect in memory; its body is stored as a side block when the step ends', async () => {
    const { headers, chain, mined, snapshot } = chainWith(1);
    const startTip = chain.tip;
    const { store, calls } = fakeStore();
    const batch = new ConnectBatch({ store, headers, chain });
    const hex = hashToHex(mined[0].entry.hash);
    batch.pending.set(hex, new Uint8Array(50));
    await connect(chain, batch, mined[0].block, mined[0].entry);
    expect(batch.undoLast()).toBe(true);
    expect(chain.state.entries()).toEqual(snapshot);
    expect(chain.tip).toBe(startTip);
    expect(batch.unwrittenBytes).toBe(0);
    expect(batch.undoLast()).toBe(false); // nothing unwritten left: the caller disconnects from the store
    await batch.finish({ emitBlock: () => {}, onError: (e) => expect.fail(String(e)) });
    expect(calls.connectBlocks).toHaveLength(0);
    expect(calls.putBlock).toEqual([hex]);
    expect(calls.putHeaders[0][0]).toMatchObject({ hasBody: false });
  });
});
