/**
 * Browser entry: picks the network and this tab's profile, opens its IndexedDB store, starts the
 * FullNode (offline: no network is needed to start), opens the wallet and the outbox, installs
 * `window.tabchain` and mounts the app.
 *
 * The app is mounted at once, before anything is opened, and shows each start-up step as it
 * happens (network → profile → storage and chain → wallet); a failure is shown on the page as a
 * readable message. `window.tabchain` is installed synchronously too, with `ready` a Promise that
 * resolves once the node is started and rejects with a readable ApiError if it cannot start
 * (profile locked, storage full or unavailable, …); its methods wait for `ready`.
 *
 * Network choice, first that answers:
 * 1. `GET /bootstrap.json` `{ network }` — served by the relay from its `NETWORK` env, so a page
 *    joins the network of the relay it came from (2-second timeout; offline it is skipped);
 * 2. the `?network=main|dev` query parameter (static hosting, `vite dev` without a relay);
 * 3. the network a relay last named in this browser (localStorage): an installed or cached page
 *    opened offline reopens the network it came from;
 * 4. the build-time `VITE_TABCHAIN_NETWORK` env variable (`import.meta.env`);
 * 5. `main`.
 * Profile: `?profile=<id>` reopens that profile, `?profile=new` makes a fresh one; by default the
 * tab's own (sessionStorage) or a fresh one for a duplicated tab (see storage/profiles.ts). The
 * parameter is removed from the address bar once used, so a reload reopens the same profile.
 * @module
 */
import { mount } from 'svelte';
import { getParams, type NetworkName } from './chain/index.ts';
import { IdbStore, ProfileManager } from './storage/index.ts';
import { createTabchainApi, deferTabchainApi, type TabchainApi, type TabchainApiExtended } from './node/api.ts';
import { FullNode } from './node/full-node.ts';
import { Outbox } from './node/outbox.ts';
import { Wallet } from './node/wallet.ts';
import type { BrowserNetwork } from './node/network/browser.ts';
import type { PeerIdentity } from './node/network/peer-key.ts';
import { connectionOf } from './node/network/connection-state.ts';
import { fetchBootstrap } from './p2p/bootstrap.ts';
import { parseIceServers } from './p2p/transports-browser.ts';
import App from './ui/App.svelte';
import { StartupProgress } from './ui/startup.svelte.ts';

declare global {
  interface Window {
    tabchain: TabchainApi;
  }
}

const NETWORKS: readonly NetworkName[] = ['main', 'dev'];

function isNetwork(v: unknown): v is NetworkName {
  return typeof v === 'string' && (NETWORKS as readonly string[]).includes(v);
}

// The start-up timeline (src/node/network/timeline.ts's steps, marked here by hand: that module
// is in the network chunk, not loaded yet).
performance.mark('tabchain:script');

/**
 * The relay's `/bootstrap.json`, asked once at load (2-second timeout): it names the network and
 * the relay's addresses. null when no relay answered (offline, static hosting).
 */
const bootstrap = fetchBootstrap('/bootstrap.json', 2000);
void bootstrap.then(() => performance.mark('tabchain:bootstrap'));

/**
 * The network's chunk (libp2p is most of the app's JavaScript), asked for at once, while the
 * profile and the storage open, rather than once the node runs: fetching and compiling it took
 * 0.1–0.6 s that a new tab spent before it could even dial its relay (issue 14's timeline). It is
 * not part of the initial scripts (bench/bundle.bench.ts), and `ready` never waits for it. Not
 * asked for when the page is not served over http(s) (no network then).
 */
const networkModule = location.protocol === 'http:' || location.protocol === 'https:' ? import('./node/network/browser.ts') : undefined;
// A failed load is reported by startNetworking, which awaits it; not an unhandled rejection here.
networkModule?.catch(() => undefined);

/** Where the network last named by a relay is kept, for starting offline (service worker cache). */
const LAST_NETWORK_KEY = 'tabchain-last-network';

function rememberNetwork(name: NetworkName): void {
  try {
    localStorage.setItem(LAST_NETWORK_KEY, name);
  } catch {
    // no storage (private mode): an offline start falls back to the defaults
  }
}

function rememberedNetwork(): NetworkName | undefined {
  try {
    const name = localStorage.getItem(LAST_NETWORK_KEY);
    return isNetwork(name) ? name : undefined;
  } catch {
    return undefined;
  }
}

/** The network this page runs (see the module comment for the order). */
async function pickNetwork(): Promise<NetworkName> {
  const boot = await bootstrap;
  if (boot && isNetwork(boot.network)) {
    rememberNetwork(boot.network);
    return boot.network;
  }
  const query = new URLSearchParams(location.search).get('network');
  if (isNetwork(query)) return query;
  const remembered = rememberedNetwork();
  if (remembered) return remembered;
  const env = (import.meta.env as Record<string, unknown>).VITE_TABCHAIN_NETWORK;
  if (isNetwork(env)) return env;
  return 'main';
}

/** Everything a started node of this tab consists of. */
interface StartedNode {
  network: NetworkName;
  profiles: ProfileManager;
  profileId: string;
  store: IdbStore;
  node: FullNode;
  outbox: Outbox;
  wallet: Wallet;
  /** The profile's libp2p key and peer id; undefined if it could not be read (the network then makes one). */
  identity: PeerIdentity | undefined;
}

// ---------------------------------------------------------------------------------------------
// Node start-up (no network): profile → storage → chain → wallet.

/**
 * The profile asked for in the URL (`new`, an id) or the tab's own. Switching profiles reloads
 * this tab with `?profile=<id>`; the previous page's lock is released as it unloads, which the
 * browser may finish a moment after this page starts — so a LOCKED profile is retried briefly.
 */
async function acquireProfile(profiles: ProfileManager, wanted: string | null) {
  if (wanted === 'new') return profiles.acquire({ fresh: true });
  if (!wanted) return profiles.acquire();
  for (let attempt = 0; ; attempt++) {
    try {
      return await profiles.acquire({ id: wanted });
    } catch (e) {
      if ((e as { code?: string }).code !== 'LOCKED' || attempt >= 10) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function startNode(network: NetworkName, progress: StartupProgress): Promise<StartedNode> {
  progress.step('profile');
  // Fetched while the node starts (see the identity below).
  const peerKey = import('./node/network/peer-key.ts').catch((e: unknown) => e as Error);
  const profiles = new ProfileManager({ network });
  const url = new URL(location.href);
  const wanted = url.searchParams.get('profile');
  const profile = await acquireProfile(profiles, wanted);
  if (wanted !== null) {
    // sessionStorage now remembers the profile; a reload must not make yet another new one.
    url.searchParams.delete('profile');
    history.replaceState(history.state, '', url);
  }
  void profiles.requestPersistence();

  progress.step('storage');
  const store = new IdbStore({ network, profileId: profile.id });
  const node = new FullNode({ params: getParams(network), store, log: (msg: string) => console.debug(`[tabchain] ${msg}`) });
  await node.start();

  progress.step('wallet');
  const outbox = new Outbox({ node, store, log: (msg) => console.warn(`[tabchain] ${msg}`) });
  const wallet = await Wallet.open({ store, node, outbox });
  node.setMinerPubKey(wallet.publicKey);
  await outbox.start();
  // The peer id is the profile's (its stored key), so `status().peerId` has it from `ready` on,
  // however long the network then takes to start (Firefox's is slower than Chromium's). A lazy
  // chunk that the network's own loads anyway; without it the network makes the key itself.
  const identity = await peerKey
    .then((m) => (m instanceof Error ? Promise.reject(m) : m.loadPeerIdentity(store)))
    .catch((e: unknown) => {
      console.warn(`[tabchain] peer identity not loaded before the network: ${(e as Error).message}`);
      return undefined;
    });
  return { network, profiles, profileId: profile.id, store, node, outbox, wallet, identity };
}

// ---------------------------------------------------------------------------------------------
// Networking (after the node; `ready` never waits for it): libp2p over WebRTC, the relay from
// /bootstrap.json for signalling and discovery (node/network/browser.ts).

/** The tab's network once started; undefined while starting, and when it could not start. */
let networking: BrowserNetwork | undefined;
/** The "Isolate this tab" switch (api.setIsolated), applied to the network once it has started. */
let isolatedWanted = false;
/** The network could not start: the tab runs on its own. */
let networkFailed = false;

/**
 * Starts the tab's network over the started node. Without a relay the tab simply stays offline
 * (the network keeps asking /bootstrap.json, so it joins when a relay appears). ICE servers: the
 * relay's STUN server (`iceServers` in /bootstrap.json), `?stun=<url,…>`, and the build-time
 * `VITE_TABCHAIN_ICE_SERVERS` (see p2p/transports-browser.ts).
 */
async function startNetworking(started: StartedNode): Promise<BrowserNetwork | undefined> {
  if (location.protocol !== 'http:' && location.protocol !== 'https:') return undefined;
  const boot = await bootstrap;
  const env = (import.meta.env as Record<string, unknown>).VITE_TABCHAIN_ICE_SERVERS;
  // The relay's own (boot.iceServers) are added by the network, from each bootstrap document it reads.
  const iceServers = [...parseIceServers(new URLSearchParams(location.search).get('stun') ?? undefined), ...parseIceServers(env)];
  const { startBrowserNetwork, markOnce } = await (networkModule ?? import('./node/network/browser.ts'));
  markOnce('net-chunk');
  const net = await startBrowserNetwork(started.node, {
    bootstrap: boot && boot.network === started.network ? boot : null,
    iceServers,
    outbox: started.outbox,
    ...(started.identity ? { privateKey: started.identity.privateKey } : {}),
    log: (msg) => console.debug(`[tabchain] ${msg}`),
  });
  if (isolatedWanted) net.setIsolated(true);
  return net;
}

async function start(network: NetworkName, progress: StartupProgress): Promise<TabchainApiExtended> {
  const started = await startNode(network, progress);
  performance.mark('tabchain:node-started');
  const { node, wallet, outbox, profiles, profileId } = started;
  const api = createTabchainApi({
    node,
    wallet,
    outbox,
    profile: profileId,
    storage: () => profiles.estimate(),
    profiles,
    peerId: () => networking?.peerId() ?? started.identity?.peerId ?? '',
    peers: () => networking?.peers() ?? [],
    online: () => networking?.online() ?? false,
    // Until the network runs (the bootstrap request, libp2p's lazy chunk) the tab is connecting,
    // unless it already knows better (node/network/connection-state.ts).
    connection: () =>
      networking?.connection() ??
      connectionOf({ browserOnline: navigator.onLine, isolated: isolatedWanted, answered: false, failed: networkFailed, sinceStart: null, sinceReached: null, noRelay: false }),
    isolation: {
      set: (on) => {
        isolatedWanted = on;
        networking?.setIsolated(on);
      },
      get: () => isolatedWanted,
    },
  });
  startNetworking(started).then(
    (net) => {
      networking = net;
      if (!net) networkFailed = true; // not served over http(s): no network at all
    },
    (e: unknown) => {
      networkFailed = true;
      console.warn(`[tabchain] network unavailable, running offline: ${(e as Error).message}`);
    },
  );
  progress.step('ready');
  return api;
}

const progress = new StartupProgress();
const network = pickNetwork();
const api = deferTabchainApi(network.then((name) => start(name, progress)));
window.tabchain = api;

const target = document.getElementById('app');
if (!target) throw new Error('tabchain: #app element missing from index.html');
target.replaceChildren();
mount(App, { target, props: { api, progress } });
void network.then((name) => (document.title = `tabchain · ${name}`));

// ---------------------------------------------------------------------------------------------
// Offline start and updates (service worker, ui/pwa.svelte.ts): registered once the node has
// started or failed to — never before, so it never delays `ready` — from a lazy chunk.
void api.ready
  .catch(() => undefined)
  .then(() => import('./ui/pwa.svelte.ts'))
  .then(
    (pwa) => pwa.startPwa(),
    (e: unknown) => console.warn(`[tabchain] offline support unavailable: ${(e as Error).message}`),
  );
