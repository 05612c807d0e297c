/**
 * The Chromium storage bench page: FullNode over IdbStore on the browser's real IndexedDB.
 *
 * `?phase=session` (default): connect throughput (coinbase-only blocks; blocks of `txs` signed
 * transfers), a reorg of depth `reorg`, then a `long`-block chain written straight into the
 * 'long' profile and reopened three times through FullNode.start(), with a breakdown of one
 * reopen (store.open() — itself split into the raw IndexedDB reads — HeaderIndex.load, ChainState).
 * `?phase=reopen`: only the reopens and the breakdown of the 'long' profile written by an earlier
 * visit (the Node side restarts the browser in between, so the first reopen is a fresh browser
 * process's).
 *
 * Rows land in `window.storageBench` for bench/storage-browser.bench.ts; progress goes to the console.
 */
import { HeaderIndex, ChainState } from '../../src/chain/index.ts';
import { IdbStore, profileDatabaseName } from '../../src/storage/idb-store.ts';
import { branch, benchKey, nodeOn, params, sourceChain, timeConnects, timeReorg, writeLongChain } from '../chains.ts';

/** A result row; the Node side adds the suite and the targets. */
export interface PageRow {
  name: string;
  value: number;
  unit: string;
  note?: string;
}

const q = new URLSearchParams(location.search);
const num = (k: string, d: number) => Number(q.get(k) ?? d);
const phase = q.get('phase') ?? 'session';
const EMPTY = num('empty', 300);
const FULL = num('full', 30);
const TXS = num('txs', 50);
const REORG = num('reorg', 100);
const LONG = num('long', 10_000);
const LONG_PROFILE = 'long';
const STORE = 'Chromium IndexedDB';

const log = (msg: string) => console.log(`[storage-bench] ${msg}`);
const store = (profileId: string) => new IdbStore({ network: 'test', profileId });

async function fresh(profileId: string): Promise<IdbStore> {
  await store(profileId).destroy();
  return store(profileId);
}

async function connectRows(): Promise<PageRow[]> {
  const rows: PageRow[] = [];
  log('building source chains (mining, signing) …');
  const empty = await sourceChain(EMPTY, 0);
  const full = await sourceChain(FULL + 2, TXS);
  {
    const ms = await timeConnects(await fresh('connect-empty'), empty);
    await store('connect-empty').destroy();
    rows.push({ name: `connect coinbase-only blocks, ${STORE}`, value: (EMPTY * 1000) / ms, unit: 'blocks/s', note: `${EMPTY} blocks; processBlock: sanity + context + apply + one IndexedDB transaction each` });
    log(`coinbase-only: ${((EMPTY * 1000) / ms).toFixed(0)} blocks/s`);
  }
  {
    // The same blocks as sync hands them over: runs of 128 through processBlocks (one
    // IndexedDB transaction per run instead of one per block).
    const node = nodeOn(await fresh('connect-runs'));
    await node.start();
    const t0 = performance.now();
    for (let i = 0; i < empty.length; i += 128) await node.processBlocks(empty.slice(i, i + 128), 'peer');
    const ms = performance.now() - t0;
    if (node.height !== EMPTY) throw new Error('bench: empty chain did not connect in runs');
    await node.stop();
    await store('connect-runs').destroy();
    rows.push({ name: `connect coinbase-only blocks in runs of 128, ${STORE}`, value: (EMPTY * 1000) / ms, unit: 'blocks/s', note: `${EMPTY} blocks; processBlocks, as initial sync does: one IndexedDB transaction per run` });
    log(`coinbase-only in runs: ${((EMPTY * 1000) / ms).toFixed(0)} blocks/s`);
  }
  {
    const ms = await timeConnects(await fresh('connect-full'), full, 2);
    await store('connect-full').destroy();
    rows.push({ name: `connect ${TXS}-transfer blocks, ${STORE}`, value: (FULL * 1000) / ms, unit: 'blocks/s', note: `${FULL} blocks; every signature verified` });
    rows.push({ name: `connect ${TXS}-transfer blocks, ${STORE}`, value: (FULL * TXS * 1000) / ms, unit: 'txs/s' });
    log(`${TXS}-transfer: ${((FULL * TXS * 1000) / ms).toFixed(0)} txs/s`);
  }
  return rows;
}

async function reorgRows(): Promise<PageRow[]> {
  log(`building a ${REORG}-deep fork …`);
  const mainChain = await sourceChain(10 + REORG, 0);
  const side = await branch(mainChain.slice(0, 10), REORG + 1, benchKey('side'));
  const ms = await timeReorg(await fresh('reorg'), mainChain, side);
  await store('reorg').destroy();
  log(`reorg: ${ms.toFixed(0)} ms`);
  return [{ name: `reorg depth ${REORG}, ${STORE}`, value: ms, unit: 'ms', note: `${REORG} disconnected + ${REORG + 1} connected, one processBlock` }];
}

/** One FullNode.start() of the long profile, ms. */
async function reopenOnce(): Promise<number> {
  const node = nodeOn(store(LONG_PROFILE));
  const t0 = performance.now();
  await node.start();
  const ms = performance.now() - t0;
  if (node.height !== LONG) throw new Error(`bench: reopened at height ${node.height}, not ${LONG}`);
  await node.stop();
  return ms;
}

function idbRequest<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

/** The raw reads store.open() makes (open, getAllKeys + getAll of headers and of state), each timed. */
async function rawReads(): Promise<Record<string, number>> {
  const t: Record<string, number> = {};
  let t0 = performance.now();
  const db = await idbRequest(indexedDB.open(profileDatabaseName('test', LONG_PROFILE)));
  t['indexedDB.open'] = performance.now() - t0;
  try {
    for (const c of ['headers', 'state'] as const) {
      const os = db.transaction(c, 'readonly').objectStore(c);
      t0 = performance.now();
      const keys = await idbRequest(os.getAllKeys());
      t[`${c}.getAllKeys (${keys.length})`] = performance.now() - t0;
      t0 = performance.now();
      await idbRequest(os.getAll());
      t[`${c}.getAll`] = performance.now() - t0;
    }
  } finally {
    db.close();
  }
  return t;
}

async function reopenRows(label: string): Promise<PageRow[]> {
  const rows: PageRow[] = [];
  const times: number[] = [];
  for (let i = 0; i < 3; i++) times.push(await reopenOnce());
  log(`reopen (${label}): ${times.map((x) => x.toFixed(0)).join(', ')} ms`);
  const name = `reopen ${LONG}-block chain via FullNode.start(), ${STORE}`;
  if (label === 'fresh browser') rows.push({ name: `${name}, first in a fresh browser`, value: times[0], unit: 'ms', note: 'browser restarted on the same on-disk profile after writing' });
  const sorted = [...times].sort((a, b) => a - b);
  rows.push({ name: `${name}, ${label} (median of 3)`, value: sorted[1], unit: 'ms', note: `runs: ${times.map((x) => x.toFixed(0)).join(', ')} ms` });

  // Where a reopen's time goes.
  const s = store(LONG_PROFILE);
  let t0 = performance.now();
  const opened = await s.open();
  const openMs = performance.now() - t0;
  await s.close();
  t0 = performance.now();
  const index = new HeaderIndex(params.genesis.header);
  index.load(opened.headers, { preferredTip: opened.meta.tipHash! });
  const loadMs = performance.now() - t0;
  t0 = performance.now();
  const state = new ChainState(opened.state);
  const stateMs = performance.now() - t0;
  if (index.size !== LONG + 1 || state.entries().length === 0) throw new Error('bench: breakdown reopen mismatch');
  const raw = await rawReads();
  const rawNote = Object.entries(raw).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ');
  rows.push({ name: `reopen breakdown (${label}): store.open()`, value: openMs, unit: 'ms', note: `${opened.headers.length} headers, ${opened.state.length} state entries; raw IDB ms: ${rawNote}` });
  rows.push({ name: `reopen breakdown (${label}): HeaderIndex.load`, value: loadMs, unit: 'ms' });
  rows.push({ name: `reopen breakdown (${label}): new ChainState(entries)`, value: stateMs, unit: 'ms' });
  log(`breakdown: open ${openMs.toFixed(0)} ms (${rawNote}), HeaderIndex.load ${loadMs.toFixed(0)} ms, ChainState ${stateMs.toFixed(0)} ms`);
  return rows;
}

async function run(): Promise<{ rows: PageRow[]; userAgent: string; cores: number; storage: { usage?: number; quota?: number } }> {
  const rows: PageRow[] = [];
  if (phase === 'session') {
    rows.push(...(await connectRows()));
    rows.push(...(await reorgRows()));
    log(`writing a ${LONG}-block chain …`);
    const t0 = performance.now();
    await writeLongChain(await fresh(LONG_PROFILE), LONG, (h) => log(`  … ${h}`));
    log(`wrote it in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    rows.push(...(await reopenRows('same session')));
  } else if (phase === 'reopen') {
    rows.push(...(await reopenRows('fresh browser')));
  } else {
    throw new Error(`unknown phase ${phase}`);
  }
  const storage = await navigator.storage.estimate();
  return { rows, userAgent: navigator.userAgent, cores: navigator.hardwareConcurrency, storage: { usage: storage.usage, quota: storage.quota } };
}

const w = window as unknown as { storageBench?: unknown; storageBenchError?: string };
run().then(
  (r) => (w.storageBench = r),
  (err) => (w.storageBenchError = String(err instanceof Error ? (err.stack ?? err.message) : err)),
);
