/**
 * One ChainStore compliance suite, run against MemoryStore, IdbStore (fake-indexeddb, a fresh
 * factory per test) and LevelStore (a temp dir per test).
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { HeaderEntry, StateEntry } from '../../src/chain/types.ts';
import type { ChainStore, OpenedChain } from '../../src/storage/chain-store.ts';
import { StorageError } from '../../src/storage/errors.ts';
import { BACKENDS, hashOf, headerEntry, makeUndo, sortedHeaders, sortedState, stateEntry, type StoreEnv } from './storage-fixtures.ts';

/** Connects blocks from+1..to on branch `salt`, each writing a few keys; returns nothing (model updated). */
async function connectRange(store: ChainStore, model: Map<string, StateEntry>, from: number, to: number, salt = 0): Promise<void> {
  for (let h = from + 1; h <= to; h++) {
    const hash = hashOf(h, salt);
    const writes: Array<[string, StateEntry | null]> = [
      [`a:${h % 7}`, stateEntry(h * 5)],
      [`h:${h}`, stateEntry(h * 5 + 2)],
      [`m:${h}`, stateEntry(h * 5 + 4)],
    ];
    if (h % 3 === 0) writes.push([`h:${h - 1}`, null]); // a delete
    const undo = makeUndo(model, hash, h, writes);
    await store.connectBlock({ hash, height: h, undo, body: Uint8Array.of(h & 0xff, salt), headers: [headerEntry(h, salt)] });
  }
}

async function expectStorageError(p: Promise<unknown>, code: string): Promise<StorageError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(StorageError);
  expect((e as StorageError).code).toBe(code);
  return e as StorageError;
}

/** What a reopened store must show. */
function snapshot(o: OpenedChain) {
  return { meta: o.meta, headers: sortedHeaders(o.headers), state: sortedState(o.state) };
}

describe.each(BACKENDS)('$name compliance', (backend) => {
  let env: StoreEnv;
  const opened: ChainStore[] = [];
  /** A store on the test's location; closed after the test. */
  const make = (o?: Parameters<StoreEnv['make']>[0]) => {
    const s = env.make(o);
    opened.push(s);
    return s;
  };
  const setup = async () => {
    env = await backend.env();
  };
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
    await env?.cleanup();
  });

  /** An open store with genesis and blocks 1..n connected; returns it and the model state. */
  async function chainOf(n: number) {
    await setup();
    const store = make();
    await store.open();
    const model = new Map<string, StateEntry>();
    const undo0 = makeUndo(model, hashOf(0), 0, [['a:genesis', stateEntry(0)]]);
    await store.connectBlock({ hash: hashOf(0), height: 0, undo: undo0, headers: [headerEntry(0)] });
    await connectRange(store, model, 0, n);
    return { store, model };
  }

  /** Closes `store` and opens a new instance on the same location. */
  async function reopen(store: ChainStore): Promise<{ store: ChainStore; chain: OpenedChain }> {
    await store.close();
    const next = make();
    return { store: next, chain: await next.open() };
  }

  it('opens a fresh database empty, on its network', async () => {
    await setup();
    const store = make();
    const chain = await store.open();
    expect(chain.meta).toEqual({ schemaVersion: 1, network: 'dev', tipHash: null, tipHeight: -1 });
    expect(chain.headers).toEqual([]);
    expect(chain.state).toEqual([]);
    expect(store.network).toBe('dev');
  });

  it('keeps networks apart: another network never reads this chain', async () => {
    const { store } = await chainOf(1);
    await store.close();
    const other = make({ network: 'main' });
    if (backend.networkInName) {
      // IndexedDB: the network is part of the database name, so this is another, empty database.
      expect((await other.open()).meta).toMatchObject({ network: 'main', tipHeight: -1 });
      await other.close();
    } else {
      await expectStorageError(other.open(), 'WRONG_NETWORK');
    }
    expect((await make().open()).meta).toMatchObject({ network: 'dev', tipHeight: 1 });
  });

  it('keeps header entries exactly (bigint chainwork, bytes) across a reopen; setHeaderStatus changes only status', async () => {
    await setup();
    const store = make();
    await store.open();
    const entries = [headerEntry(0), headerEntry(1), headerEntry(2), headerEntry(2, 1, 0)];
    entries[3].status = 'headers-only';
    await store.putHeaders(entries);
    await store.setHeaderStatus([hashOf(2, 1)], 'invalid');
    const { chain } = await reopen(store);
    const expected: HeaderEntry[] = entries.map((e) => (e.hash === entries[3].hash ? { ...e, status: 'invalid' } : e));
    expect(sortedHeaders(chain.headers)).toEqual(sortedHeaders(expected));
    expect(chain.headers[0].chainwork).toBeTypeOf('bigint');
    expect(chain.headers[0].hash).toBeInstanceOf(Uint8Array);
  });

  it('setHeaderStatus with an unknown hash fails NOT_FOUND and changes nothing', async () => {
    await setup();
    const store = make();
    await store.open();
    await store.putHeaders([headerEntry(0)]);
    await expectStorageError(store.setHeaderStatus([hashOf(0), hashOf(9)], 'invalid'), 'NOT_FOUND');
    expect((await store.open()).headers[0].status).toBe('valid');
  });

  it('stores block bodies as copies, marks the header hasBody, and never downgrades hasBody', async () => {
    await setup();
    const store = make();
    await store.open();
    await store.putHeaders([headerEntry(5)]);
    const body = Uint8Array.from([1, 2, 3, 4]);
    expect(await store.hasBlock(hashOf(5))).toBe(false);
    expect(await store.getBlock(hashOf(5))).toBeNull();
    await store.putBlock(hashOf(5), body.subarray(1, 3));
    body[1] = 99; // the caller's buffer changes; the stored body must not
    const got = await store.getBlock(hashOf(5));
    expect(got).toEqual(Uint8Array.from([2, 3]));
    got![0] = 42; // nor may a returned copy alias it
    expect(await store.getBlock(hashOf(5))).toEqual(Uint8Array.from([2, 3]));
    expect(await store.hasBlock(hashOf(5))).toBe(true);
    // A Node Buffer goes in; a plain Uint8Array comes out, as from IndexedDB.
    await store.putBlock(hashOf(6), Buffer.from([1, 2]));
    expect((await store.getBlock(hashOf(6)))!.constructor).toBe(Uint8Array);
    expect((await store.open()).headers[0].hasBody).toBe(true);
    await store.putHeaders([{ ...headerEntry(5), status: 'invalid' }]); // hasBody: false from a stale copy
    const h = (await store.open()).headers[0];
    expect(h.status).toBe('invalid');
    expect(h.hasBody).toBe(true);
  });

  it('connectBlock writes body, undo, state and tip in one go; a reopen sees exactly that', async () => {
    const { store, model } = await chainOf(6);
    const tip = hashOf(6);
    expect(await store.getBlock(tip)).toEqual(Uint8Array.of(6, 0));
    const undo = await store.getUndo(tip);
    expect(undo?.height).toBe(6);
    expect(undo?.hash).toEqual(tip);
    expect(undo?.changes.map((c) => c.key)).toEqual(['a:6', 'h:6', 'm:6', 'h:5']);
    const { chain } = await reopen(store);
    expect(chain.meta).toEqual({ schemaVersion: 1, network: 'dev', tipHash: tip, tipHeight: 6 });
    expect(sortedState(chain.state)).toEqual(sortedState(model));
    expect(chain.state.some(([k]) => k === 'h:5')).toBe(false); // deleted by block 6
    expect(sortedHeaders(chain.headers).map((h) => [h.height, h.hasBody])).toEqual([
      [0, false],
      ...[1, 2, 3, 4, 5, 6].map((h) => [h, true]),
    ]);
  });

  it('connect then disconnect returns the state to the very same entries (any sequence of writes)', async () => {
    const keyArb = fc.constantFrom('a:1', 'a:2', 'h:x', 'i:y', 'o:z', 'm:1');
    const writeArb = fc.tuple(keyArb, fc.option(fc.nat(40), { nil: null }));
    const blocksArb = fc.array(fc.array(writeArb, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 5 });
    await fc.assert(
      fc.asyncProperty(blocksArb, fc.nat(5), async (blocks, keep) => {
        const { store, model } = await chainOf(1);
        const before = sortedState(model);
        const history: Array<Array<[string, StateEntry]>> = [];
        for (let i = 0; i < blocks.length; i++) {
          history.push(sortedState(model));
          const h = 2 + i;
          const writes = blocks[i].map(([k, n]) => [k, n === null ? null : stateEntry(n)] as [string, StateEntry | null]);
          await store.connectBlock({ hash: hashOf(h), height: h, undo: makeUndo(model, hashOf(h), h, writes) });
        }
        expect(sortedState((await store.open()).state)).toEqual(sortedState(model));
        // Disconnect all but `keep` blocks, checking the state after each step.
        const stop = Math.min(keep, blocks.length);
        for (let i = blocks.length - 1; i >= stop; i--) {
          const h = 2 + i;
          await store.disconnectBlock({ hash: hashOf(h), newTipHash: hashOf(h - 1), newTipHeight: h - 1 });
          expect(await store.getUndo(hashOf(h))).toBeNull();
          expect(sortedState((await store.open()).state)).toEqual(history[i]);
        }
        if (stop === 0) expect(sortedState((await store.open()).state)).toEqual(before);
        for (const s of opened.splice(0)) await s.close();
        await env.cleanup();
      }),
      { numRuns: backend.name === 'MemoryStore' ? 40 : 8 },
    );
  });

  it('disconnectBlock with a given undo record restores it too; genesis can be disconnected to an empty chain', async () => {
    const { store } = await chainOf(1);
    const undo1 = (await store.getUndo(hashOf(1)))!;
    await store.disconnectBlock({ hash: hashOf(1), undo: undo1, newTipHash: hashOf(0), newTipHeight: 0 });
    await store.disconnectBlock({ hash: hashOf(0), newTipHash: null, newTipHeight: -1 });
    const { chain } = await reopen(store);
    expect(chain.meta.tipHash).toBeNull();
    expect(chain.meta.tipHeight).toBe(-1);
    expect(chain.state).toEqual([]);
    expect(chain.headers.length).toBe(2); // headers and bodies stay
  });

  it('refuses a connect that does not extend the tip, and a disconnect of anything but the tip', async () => {
    const { store, model } = await chainOf(3);
    const copy = new Map(model);
    // Wrong height.
    await expectStorageError(store.connectBlock({ hash: hashOf(9), height: 9, undo: makeUndo(copy, hashOf(9), 9, [['a:1', null]]) }), 'INVALID');
    // Right height, but its stored header has another parent.
    await store.putHeaders([headerEntry(4, 5, 5)]);
    await expectStorageError(store.connectBlock({ hash: hashOf(4, 5), height: 4, undo: makeUndo(new Map(model), hashOf(4, 5), 4, [['a:1', null]]) }), 'INVALID');
    // Undo record of another block.
    await expectStorageError(store.connectBlock({ hash: hashOf(4), height: 4, undo: { hash: hashOf(8), height: 4, changes: [] } }), 'INVALID');
    // Not the tip / wrong new height / wrong parent.
    await expectStorageError(store.disconnectBlock({ hash: hashOf(2), newTipHash: hashOf(1), newTipHeight: 1 }), 'INVALID');
    await expectStorageError(store.disconnectBlock({ hash: hashOf(3), newTipHash: hashOf(1), newTipHeight: 1 }), 'INVALID');
    await expectStorageError(store.disconnectBlock({ hash: hashOf(3), newTipHash: hashOf(2, 9), newTipHeight: 2 }), 'INVALID');
    await expectStorageError(store.disconnectBlock({ hash: hashOf(3), newTipHash: null, newTipHeight: 2 }), 'INVALID');
    await expectStorageError(store.putBlock(new Uint8Array(31), new Uint8Array(1)), 'INVALID');
    const { chain } = await reopen(store);
    expect(chain.meta.tipHeight).toBe(3);
    expect(sortedState(chain.state)).toEqual(sortedState(model));
  });

  it('a write that fails half-way (an unstorable entry between good ones) leaves the previous tip and state', async () => {
    const { store, model } = await chainOf(2);
    const bad = { type: 'account', value: { balance: 1n, immature: 0n, nonce: 1, oops: () => 1 } } as unknown as StateEntry;
    const changes = [
      { key: 'a:fresh', before: null, after: stateEntry(10) },
      { key: 'a:bad', before: null, after: bad },
      { key: 'a:later', before: null, after: stateEntry(15) },
    ];
    await expectStorageError(store.connectBlock({ hash: hashOf(3), height: 3, body: Uint8Array.of(3), undo: { hash: hashOf(3), height: 3, changes } }), 'INVALID');
    const { store: again, chain } = await reopen(store);
    expect(chain.meta.tipHash).toEqual(hashOf(2));
    expect(chain.meta.tipHeight).toBe(2);
    expect(sortedState(chain.state)).toEqual(sortedState(model));
    expect(await again.hasBlock(hashOf(3))).toBe(false);
    expect(await again.getUndo(hashOf(3))).toBeNull();
    // The store is still usable: the good block at that height connects.
    await connectRange(again, model, 2, 3);
    expect((await again.open()).meta.tipHeight).toBe(3);
  });

  it('a fault just before commit (connect or disconnect) leaves the previous tip and state after reopen', async () => {
    const { store, model } = await chainOf(3);
    await store.close();
    let armed: string | null = null;
    const faulty = make({
      onBeforeCommit: (kind) => {
        if (kind === armed) throw new Error(`injected fault in ${kind}`);
      },
    });
    await faulty.open();
    armed = 'connectBlock';
    await expectStorageError(connectRange(faulty, new Map(model), 3, 4), 'IO');
    armed = 'disconnectBlock';
    await expectStorageError(faulty.disconnectBlock({ hash: hashOf(3), newTipHash: hashOf(2), newTipHeight: 2 }), 'IO');
    const { store: again, chain } = await reopen(faulty);
    expect(chain.meta.tipHeight).toBe(3);
    expect(chain.meta.tipHash).toEqual(hashOf(3));
    expect(sortedState(chain.state)).toEqual(sortedState(model));
    expect(await again.hasBlock(hashOf(4))).toBe(false);
    expect(await again.getUndo(hashOf(3))).not.toBeNull();
  });

  it('quota exceeded surfaces as QUOTA_EXCEEDED with the block the chain was left at, and stores nothing', async () => {
    const { store, model } = await chainOf(4);
    await store.close();
    let full = false;
    const s = make({
      onBeforeCommit: () => {
        if (full) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      },
    });
    await s.open();
    full = true;
    const e = await expectStorageError(connectRange(s, new Map(model), 4, 5), 'QUOTA_EXCEEDED');
    expect(e.tipHeight).toBe(4);
    expect(e.message).toMatch(/full/);
    expect(e.message).toMatch(/left at block 4/);
    await expectStorageError(s.putPeer({ peerId: 'p', multiaddrs: [], lastSeen: 1 }), 'QUOTA_EXCEEDED');
    full = false; // space freed: the same store carries on
    await connectRange(s, model, 4, 5);
    const { chain } = await reopen(s);
    expect(chain.meta.tipHeight).toBe(5);
    expect(sortedState(chain.state)).toEqual(sortedState(model));
  });

  it('reopen after many writes yields identical tip, headers and state', async () => {
    const { store } = await chainOf(30);
    await store.putHeaders([headerEntry(31, 2, 0), headerEntry(30, 2, 0)]);
    await store.disconnectBlock({ hash: hashOf(30), newTipHash: hashOf(29), newTipHeight: 29 });
    const before = snapshot(await store.open());
    const { store: second, chain } = await reopen(store);
    expect(snapshot(chain)).toEqual(before);
    const { chain: third } = await reopen(second);
    expect(snapshot(third)).toEqual(before);
    expect(before.meta.tipHeight).toBe(29);
    expect(before.headers.length).toBe(33);
  });

  it('meta: set/get/delete of structured values; the store-reserved prefix is refused', async () => {
    await setup();
    const store = make();
    await store.open();
    const value = { threads: 4, addr: 'tabdev1xyz', big: -(2n ** 70n), raw: Uint8Array.of(1, 2), list: [true, null, 'x'], nested: { a: 1.5 } };
    await store.setMeta('settings', value);
    value.threads = 9;
    expect(await store.getMeta('settings')).toEqual({ ...value, threads: 4 });
    expect(await store.getMeta('missing')).toBeUndefined();
    await expectStorageError(store.setMeta('tabchain:chain', 1), 'INVALID');
    await expectStorageError(store.getMeta('tabchain:chain'), 'INVALID');
    const { store: again } = await reopen(store);
    expect((await again.getMeta('settings')) as { big: bigint }).toMatchObject({ big: -(2n ** 70n), threads: 4 });
    await again.deleteMeta('settings');
    expect(await again.getMeta('settings')).toBeUndefined();
  });

  it('wallet keys, outbox and peers: put replaces by id, lists are ordered, records are copies', async () => {
    await setup();
    const store = make();
    await store.open();
    const key = { id: 'k2', privateKey: new Uint8Array(32).fill(7), publicKey: new Uint8Array(32).fill(8), createdAt: 20 };
    await store.putKey(key);
    await store.putKey({ id: 'k1', privateKey: new Uint8Array(32), publicKey: new Uint8Array(32), createdAt: 10, label: 'first' });
    key.privateKey[0] = 0; // caller mutation after the put
    const keys = await store.getKeys();
    expect(keys.map((k) => k.id)).toEqual(['k1', 'k2']);
    expect(keys[1].privateKey[0]).toBe(7);

    const rec = { txid: 'aa', tx: Uint8Array.of(1, 2, 3), state: 'pending' as const, createdAt: 5 };
    await store.putOutbox(rec);
    await store.putOutbox({ txid: 'bb', tx: Uint8Array.of(9), state: 'rejected', error: 'BAD_NONCE', createdAt: 1 });
    await store.putOutbox({ ...rec, state: 'confirmed', blockHash: 'cc' });
    expect(await store.listOutbox()).toEqual([
      { txid: 'bb', tx: Uint8Array.of(9), state: 'rejected', error: 'BAD_NONCE', createdAt: 1 },
      { ...rec, state: 'confirmed', blockHash: 'cc' },
    ]);
    await store.deleteOutbox('bb');
    await store.deleteOutbox('never-there');
    expect((await store.listOutbox()).map((r) => r.txid)).toEqual(['aa']);

    await store.putPeer({ peerId: 'old', multiaddrs: ['/ip4/127.0.0.1/tcp/1'], lastSeen: 1 });
    await store.putPeer({ peerId: 'new', multiaddrs: [], lastSeen: 9, score: -3 });
    const peers = await store.listPeers();
    expect(peers.map((p) => p.peerId)).toEqual(['new', 'old']);
    peers[1].multiaddrs.push('/evil'); // mutating a returned record changes nothing stored
    const { store: again } = await reopen(store);
    expect(await again.listPeers()).toEqual([
      { peerId: 'new', multiaddrs: [], lastSeen: 9, score: -3 },
      { peerId: 'old', multiaddrs: ['/ip4/127.0.0.1/tcp/1'], lastSeen: 1 },
    ]);
    await again.deletePeer('old');
    expect((await again.listPeers()).map((p) => p.peerId)).toEqual(['new']);
    expect((await again.getKeys()).length).toBe(2);
    expect(await again.listOutbox()).toHaveLength(1);
  });

  it('refuses calls before open and after close with CLOSED; close is idempotent', async () => {
    await setup();
    const store = make();
    await expectStorageError(store.getBlock(hashOf(1)), 'CLOSED');
    await store.open();
    await store.close();
    await store.close();
    await expectStorageError(store.putBlock(hashOf(1), Uint8Array.of(1)), 'CLOSED');
    await expectStorageError(store.listPeers(), 'CLOSED');
  });

  it('destroy deletes everything: a new store on the location opens empty', async () => {
    const { store } = await chainOf(2);
    await store.putKey({ id: 'k', privateKey: new Uint8Array(32), publicKey: new Uint8Array(32), createdAt: 1 });
    await store.destroy();
    await expectStorageError(store.getKeys(), 'CLOSED');
    const fresh = make();
    const chain = await fresh.open();
    expect(chain.meta.tipHash).toBeNull();
    expect(chain.headers).toEqual([]);
    expect(await fresh.getKeys()).toEqual([]);
    expect(await fresh.hasBlock(hashOf(1))).toBe(false);
  });

  /** connectBlocks arguments for blocks from+1..to on branch `salt` (model updated), like connectRange. */
  function connectArgs(model: Map<string, StateEntry>, from: number, to: number, salt = 0) {
    const list = [];
    for (let h = from + 1; h <= to; h++) {
      const hash = hashOf(h, salt);
      // Keys written by several blocks of the batch, and a key created then deleted within it.
      const writes: Array<[string, StateEntry | null]> = [
        [`a:${h % 2}`, stateEntry(h * 5)],
        [`h:${h}`, stateEntry(h * 5 + 2)],
      ];
      if (h > from + 1) writes.push([`h:${h - 1}`, null]);
      list.push({ hash, height: h, undo: makeUndo(model, hash, h, writes), body: Uint8Array.of(h & 0xff, salt), headers: [headerEntry(h, salt)], txids: [hashOf(h, 900 + salt)] });
    }
    return list;
  }

  it('connectBlocks connects a run of blocks in one write: the same tip, state, undo, bodies and index as one by one', async () => {
    const { store, model } = await chainOf(3);
    const before = sortedState(model);
    await store.connectBlocks(connectArgs(model, 3, 8));
    const { store: again, chain } = await reopen(store);
    expect(chain.meta.tipHeight).toBe(8);
    expect(chain.meta.tipHash).toEqual(hashOf(8));
    expect(sortedState(chain.state)).toEqual(sortedState(model));
    expect(sortedHeaders(chain.headers).filter((h) => h.height > 3).map((h) => [h.height, h.hasBody])).toEqual([4, 5, 6, 7, 8].map((h) => [h, true]));
    expect(await again.getBlocks([hashOf(5), hashOf(99), hashOf(8)])).toEqual([Uint8Array.of(5, 0), null, Uint8Array.of(8, 0)]);
    expect(await again.getTxLocation(hashOf(6, 900))).toEqual({ blockHash: hashOf(6), height: 6 });
    // Each block got its own undo record: disconnecting them one by one walks back to the start.
    for (let h = 8; h > 3; h--) await again.disconnectBlock({ hash: hashOf(h), newTipHash: hashOf(h - 1), newTipHeight: h - 1 });
    expect(sortedState((await again.open()).state)).toEqual(before);
    expect(await again.getTxLocation(hashOf(6, 900))).toBeNull();
  });

  it('connectBlocks writes nothing when any block of the run is refused or the commit fails', async () => {
    const { store, model } = await chainOf(2);
    // A gap in the run (block 5 after 3).
    const gap = connectArgs(new Map(model), 2, 5);
    await expectStorageError(store.connectBlocks([gap[0], gap[2]]), 'INVALID');
    // The third block's header names another parent.
    const forked = connectArgs(new Map(model), 2, 5);
    forked[2].headers = [headerEntry(5, 0, 4)];
    await expectStorageError(store.connectBlocks(forked), 'INVALID');
    // An unstorable state entry in the last block.
    const bad = connectArgs(new Map(model), 2, 4);
    bad[1].undo.changes.push({ key: 'a:bad', before: null, after: { type: 'account', value: { oops: () => 1 } } as unknown as StateEntry });
    await expectStorageError(store.connectBlocks(bad), 'INVALID');
    await expectStorageError(store.connectBlocks([]), 'INVALID');
    // A fault just before commit.
    await store.close();
    const faulty = make({
      onBeforeCommit: (kind) => {
        if (kind === 'connectBlock') throw new Error('injected fault');
      },
    });
    await faulty.open();
    await expectStorageError(faulty.connectBlocks(connectArgs(new Map(model), 2, 6)), 'IO');
    const { store: again, chain } = await reopen(faulty);
    expect(chain.meta.tipHeight).toBe(2);
    expect(sortedState(chain.state)).toEqual(sortedState(model));
    expect(await again.getBlocks([hashOf(3), hashOf(4)])).toEqual([null, null]);
    expect(await again.getUndo(hashOf(3))).toBeNull();
    // The good run still connects afterwards.
    await again.connectBlocks(connectArgs(model, 2, 4));
    expect((await again.open()).meta.tipHeight).toBe(4);
  });

  it('txid index: connect indexes the given txids atomically, disconnect removes them, a reconnect elsewhere moves them', async () => {
    const { store, model } = await chainOf(2);
    const tx = (n: number) => hashOf(n, 500);
    const fork = new Map(model);
    // Block 3 holds txs 1, 2, 3; it is connected, then replaced by block 3' holding tx 2 only.
    await store.connectBlock({ hash: hashOf(3), height: 3, body: Uint8Array.of(3), txids: [tx(1), tx(2), tx(3)], undo: makeUndo(model, hashOf(3), 3, [['a:3', stateEntry(15)]]) });
    expect(await store.getTxLocation(tx(2))).toEqual({ blockHash: hashOf(3), height: 3 });
    expect(await store.getTxLocation(tx(9))).toBeNull();
    await expectStorageError(store.getTxLocation(new Uint8Array(31)), 'INVALID');
    // The index is on disk: a reopen answers the same.
    const { store: again } = await reopen(store);
    expect(await again.getTxLocation(tx(3))).toEqual({ blockHash: hashOf(3), height: 3 });
    await again.disconnectBlock({ hash: hashOf(3), newTipHash: hashOf(2), newTipHeight: 2 });
    for (const n of [1, 2, 3]) expect(await again.getTxLocation(tx(n))).toBeNull();
    await again.putHeaders([headerEntry(3, 1, 0)]);
    await again.connectBlock({ hash: hashOf(3, 1), height: 3, txids: [tx(2)], undo: makeUndo(fork, hashOf(3, 1), 3, [['a:4', stateEntry(20)]]) });
    expect(await again.getTxLocation(tx(2))).toEqual({ blockHash: hashOf(3, 1), height: 3 });
    expect(await again.getTxLocation(tx(1))).toBeNull();
    // Reserved keys stay out of the user's meta namespace.
    await expectStorageError(again.getMeta('tabchain:tx:' + Buffer.from(tx(2)).toString('hex')), 'INVALID');
    // Malformed txids are refused and nothing is written.
    await expectStorageError(
      again.connectBlock({ hash: hashOf(4, 1), height: 4, txids: [tx(7), new Uint8Array(5)], undo: makeUndo(new Map(fork), hashOf(4, 1), 4, [['a:5', stateEntry(25)]]) }),
      'INVALID',
    );
    expect(await again.getTxLocation(tx(7))).toBeNull();
    expect((await again.open()).meta.tipHeight).toBe(3);
  });

  it('txid index: a connect that fails just before commit indexes nothing', async () => {
    const { store, model } = await chainOf(1);
    await store.close();
    const faulty = make({
      onBeforeCommit: (kind) => {
        if (kind === 'connectBlock') throw new Error('injected fault');
      },
    });
    await faulty.open();
    await expectStorageError(
      faulty.connectBlock({ hash: hashOf(2), height: 2, txids: [hashOf(1, 600)], undo: makeUndo(new Map(model), hashOf(2), 2, [['a:2', stateEntry(10)]]) }),
      'IO',
    );
    expect(await faulty.getTxLocation(hashOf(1, 600))).toBeNull();
  });

  it('readAll reads chain record, headers, bodies, undo records, state and txid index as stored, after a reopen too', async () => {
    const { store, model } = await chainOf(2);
    const tx = (n: number) => hashOf(n, 700);
    await store.connectBlock({ hash: hashOf(3), height: 3, body: Uint8Array.of(3), txids: [tx(1), tx(2)], headers: [headerEntry(3)], undo: makeUndo(model, hashOf(3), 3, [['a:3', stateEntry(15)]]) });
    await store.setMeta('user.key', 'not part of the chain');
    const { store: again, chain } = await reopen(store);
    const snap = await again.readAll();
    const hex = (h: Uint8Array) => Buffer.from(h).toString('hex');
    expect(snap.meta).toEqual(chain.meta);
    expect(sortedHeaders(snap.headers)).toEqual(sortedHeaders(chain.headers));
    expect(sortedState(snap.state)).toEqual(sortedState(chain.state));
    expect(new Map(snap.bodies).get(hex(hashOf(3)))).toEqual(Uint8Array.of(3));
    expect(snap.undo.map(([k]) => k).sort()).toEqual([0, 1, 2, 3].map((h) => hex(hashOf(h))).sort());
    expect(new Map(snap.undo).get(hex(hashOf(3)))).toEqual(await again.getUndo(hashOf(3)));
    expect(snap.txIndex.sort()).toEqual([
      [hex(tx(1)), { blockHash: hashOf(3), height: 3 }],
      [hex(tx(2)), { blockHash: hashOf(3), height: 3 }],
    ].sort());
    expect(snap.blockTxids).toEqual([[hex(hashOf(3)), new Uint8Array([...tx(1), ...tx(2)])]]);
    // A disconnect takes its undo record and index entries out of what readAll sees.
    await again.disconnectBlock({ hash: hashOf(3), newTipHash: hashOf(2), newTipHeight: 2 });
    const after = await again.readAll();
    expect(after.meta.tipHeight).toBe(2);
    expect(after.undo.map(([k]) => k)).not.toContain(hex(hashOf(3)));
    expect(after.txIndex).toEqual([]);
    expect(after.blockTxids).toEqual([]);
  });

  it('usage is null or a consistent byte count', async () => {
    await setup();
    const store = make();
    await store.open();
    const u = await store.usage();
    if (u !== null) {
      expect(u.usage).toBeGreaterThanOrEqual(0);
      expect(u.quota).toBeGreaterThanOrEqual(u.usage);
    }
  });
});

describe.each(BACKENDS.filter((b) => b.exclusive))('$name exclusive open', (backend) => {
  it('refuses a second open of the same location (LOCKED) while the first is open', async () => {
    const env = await backend.env();
    const a = env.make();
    await a.open();
    await expectStorageError(env.make().open(), 'LOCKED');
    await a.close();
    const b = env.make();
    expect((await b.open()).meta.tipHeight).toBe(-1);
    await b.close();
    await env.cleanup();
  });
});

describe('header entries with every field', () => {
  it('round-trip through all backends identically', async () => {
    const entries: HeaderEntry[] = [headerEntry(0), { ...headerEntry(1), status: 'headers-only', chainwork: 0n }, { ...headerEntry(2), hasBody: true, chainwork: 2n ** 255n }];
    for (const backend of BACKENDS) {
      const env = await backend.env();
      const store = env.make();
      await store.open();
      await store.putHeaders(entries);
      await store.close();
      const again = env.make();
      expect(sortedHeaders((await again.open()).headers)).toEqual(entries);
      await again.close();
      await env.cleanup();
    }
  });
});
