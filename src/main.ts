/**
 * Browser entry: picks the network and this tab's profile, opens its IndexedDB store, starts the
 * FullNode (offline: no network is needed to start), opens the wallet and the outbox, installs
 * `window.tabchain` and mounts the status page.
 *
 * `window.tabchain` is installed synchronously, before anything is opened, with `ready` a
 * Promise that resolves once the node is started and rejects with a readable ApiError if it cannot
 * start (profile locked, storage full or unavailable, …); its methods wait for `ready`.
 *
 * Network choice, first that answers:
 * 1. `GET /bootstrap.json` `{ network }` — served by the relay from its `NETWORK` env, so a page
 *    joins the network of the relay it came from (2-second timeout; offline it is skipped);
 * 2. the `?network=main|dev` query parameter (static hosting, `vite dev` without a relay);
 * 3. the build-time `VITE_TABCHAIN_NETWORK` env variable (`import.meta.env`);
 * 4. `main`.
 * Profile: `?profile=<id>` reopens that profile, `?profile=new` makes a fresh one; by default the
 * tab's own (sessionStorage) or a fresh one for a duplicated tab (see storage/profiles.ts).
 * @module
 */
import { mount } from 'svelte';
import { getParams, type NetworkName } from './chain/index.ts';
import { IdbStore, ProfileManager } from './storage/index.ts';
import { createTabchainApi, deferTabchainApi, type TabchainApi, type TabchainApiExtended } from './node/api.ts';
import { FullNode } from './node/full-node.ts';
import { Outbox } from './node/outbox.ts';
import { Wallet } from './node/wallet.ts';
import App from './ui/App.svelte';

declare global {
  interface Window {
    tabchain: TabchainApi;
  }
}

const NETWORKS: readonly NetworkName[] = ['main', 'dev'];

function isNetwork(v: unknown): v is NetworkName {
  return typeof v === 'string' && (NETWORKS as readonly string[]).includes(v);
}

/** The network this page runs (see the module comment for the order). */
async function pickNetwork(): Promise<NetworkName> {
  try {
    const res = await fetch('/bootstrap.json', { signal: AbortSignal.timeout(2000), cache: 'no-store' });
    if (res.ok && (res.headers.get('content-type') ?? '').includes('json')) {
      const body = (await res.json()) as { network?: unknown };
      if (isNetwork(body.network)) return body.network;
    }
  } catch {
    // No relay (offline, static hosting): fall through.
  }
  const query = new URLSearchParams(location.search).get('network');
  if (isNetwork(query)) return query;
  const env = (import.meta.env as Record<string, unknown>).VITE_TABCHAIN_NETWORK;
  if (isNetwork(env)) return env;
  return 'main';
}

async function start(network: NetworkName): Promise<TabchainApiExtended> {
  const profiles = new ProfileManager({ network });
  const wanted = new URLSearchParams(location.search).get('profile');
  const profile = await profiles.acquire(wanted === 'new' ? { fresh: true } : wanted ? { id: wanted } : {});
  void profiles.requestPersistence();
  const store = new IdbStore({ network, profileId: profile.id });
  const node = new FullNode({ params: getParams(network), store, log: (msg: string) => console.debug(`[tabchain] ${msg}`) });
  await node.start();
  const outbox = new Outbox({ node, store, log: (msg) => console.warn(`[tabchain] ${msg}`) });
  const wallet = await Wallet.open({ store, node, outbox });
  node.setMinerPubKey(wallet.publicKey);
  await outbox.start();
  return createTabchainApi({
    node,
    wallet,
    outbox,
    profile: profile.id,
    storage: () => profiles.estimate(),
  });
}

const network = pickNetwork();
const api = deferTabchainApi(network.then(start));
window.tabchain = api;

const target = document.getElementById('app');
if (!target) throw new Error('tabchain: #app element missing from index.html');
mount(App, { target, props: { api } });
void network.then((name) => (document.title = `tabchain (${name})`));
