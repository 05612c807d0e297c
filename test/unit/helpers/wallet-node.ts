/**
 * Test rig for the wallet, outbox and API: FullNodes on the 'test' network over MemoryStore, with
 * a clock that advances targetSpacing per block of the node's own chain (blocks stay on schedule
 * and at genesis difficulty), mining in this thread, and as many profiles (wallet + outbox + API,
 * each with its own store for keys and outbox) on one node as a test needs.
 */
import { NETWORKS, publicKeyOf, type Block } from '../../../src/chain/index.ts';
import { MemoryDatabase, MemoryStore } from '../../../src/storage/memory-store.ts';
import { createTabchainApi, type TabchainApiExtended } from '../../../src/node/api.ts';
import { FullNode } from '../../../src/node/full-node.ts';
import { Outbox } from '../../../src/node/outbox.ts';
import { Wallet } from '../../../src/node/wallet.ts';

export const params = NETWORKS.test;
const G = params.genesis.header.time;
/** The cheapest scrypt costs a backup may name (backup.ts BACKUP_LIMITS): keeps the suite fast. */
export const FAST_KDF = { N: 1 << 15, r: 8, p: 1 };

export interface Profile {
  name: string;
  store: MemoryStore;
  database: MemoryDatabase;
  wallet: Wallet;
  outbox: Outbox;
  api: TabchainApiExtended;
  rebroadcasts: Uint8Array[];
}

export interface Rig {
  node: FullNode;
  database: MemoryDatabase;
  profiles: Profile[];
  /** Adds a profile (its own key store and outbox) on this node. */
  profile(name: string, database?: MemoryDatabase): Promise<Profile>;
  /** Mines n blocks paying a key no profile owns (so balances change only by the profiles' own txs). */
  mineElsewhere(n: number): Promise<string[]>;
  stop(): Promise<void>;
}

const running: Rig[] = [];

/** Stops every rig started since the last call (afterEach). */
export async function stopAll(): Promise<void> {
  for (const r of running.splice(0)) await r.stop();
}

/** A node with a first profile 'A' (unless `profiles` says otherwise). */
export async function startRig(opts: { database?: MemoryDatabase; profiles?: { name: string; database?: MemoryDatabase }[] } = {}): Promise<Rig> {
  const database = opts.database ?? new MemoryDatabase();
  const store = new MemoryStore({ network: 'test', database });
  const now = () => G + params.targetSpacing * (node.height + 1);
  const node: FullNode = new FullNode({ params, store, now, miner: { useWorkers: false, kind: 'js' } });
  await node.start();
  const profiles: Profile[] = [];
  const elsewhere = publicKeyOf(new Uint8Array(32).fill(7)); // a key no profile holds
  const rig: Rig = {
    node,
    database,
    profiles,
    async profile(name, db = new MemoryDatabase()) {
      const pstore = new MemoryStore({ network: 'test', database: db });
      await pstore.open();
      const rebroadcasts: Uint8Array[] = [];
      const outbox = new Outbox({ node, store: pstore, rebroadcastIntervalMs: 0, rebroadcast: (b) => void rebroadcasts.push(b) });
      const wallet = await Wallet.open({ store: pstore, node, outbox });
      await outbox.start();
      const api = createTabchainApi({ node, wallet, outbox, profile: name, online: () => true, backupKdf: FAST_KDF, defaultTimeoutMs: 5_000 });
      const p: Profile = { name, store: pstore, database: db, wallet, outbox, api, rebroadcasts };
      profiles.push(p);
      return p;
    },
    async mineElsewhere(n) {
      node.setMinerPubKey(elsewhere);
      const hashes = await node.miner.mineBlocks(n);
      await Promise.all(profiles.map((p) => p.outbox.idle()));
      return hashes;
    },
    async stop() {
      for (const p of profiles) {
        await p.outbox.stop();
        await p.store.close();
      }
      await node.stop();
    },
  };
  running.push(rig);
  for (const p of opts.profiles ?? [{ name: 'A' }]) await rig.profile(p.name, p.database);
  return rig;
}

/** Feeds blocks of `from`'s active chain at heights [a, b] into `to`. */
export async function copyBlocks(from: FullNode, to: FullNode, a: number, b: number): Promise<void> {
  for (let h = a; h <= b; h++) {
    const block = (await from.getBlockAtHeight(h)) as Block;
    const r = await to.processBlock(block, 'peer');
    if (r.status === 'invalid') throw new Error(`copyBlocks: block ${h} invalid (${r.code})`);
  }
}

/** The ApiError code of a rejected promise (fails the test if it resolves). */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (typeof code !== 'string') throw e;
    if (!(e as Error).message.startsWith(code)) throw new Error(`message does not start with its code: ${(e as Error).message}`);
    return code;
  }
  throw new Error('expected a rejection');
}
