/**
 * A network of hundreds of real headless nodes in one process (`npm run sim`): each a FullNode
 * (MemoryStore, same-thread miner, in-thread signature verifier) with the real NetworkService —
 * gossipsub, headers-first sync, peer manager, scoring — over the simulation wire
 * (sim-transport.ts: @libp2p/memory with latency, jitter, loss, partitions and byte counts).
 *
 * **Topology.** Nodes join one after another, as tabs open; each knows `degree` random nodes that
 * joined before it through its address book (the path a tab's remembered peers take) and wants
 * `degree` direct peers (`targetPeers`). Discovery (pubsub peer discovery) and identify add
 * candidates as in a tab.
 *
 * **Mining is simulated, blocks are real.** The network's total hashrate `H` and a block's work
 * `W` (expected hashes) make blocks a Poisson process with mean interval `W / H`; each block's
 * miner is drawn with probability ∝ its share of `H` (shares are exponential draws: tabs of
 * unequal speed). The chosen node mines with its real miner (`node.miner.mineBlocks(1)`: its block
 * template on its own tip, the scan kernel, `processBlock(…, 'miner')`, then gossip). The blocks
 * are the 'test' network's, whose target is regtest's (each hash succeeds with probability ~1/2),
 * so the real kernel finds a valid nonce in a couple of hashes: the simulation spends its CPU on
 * the protocol, not on sha256d. A node that has not yet heard of the last block mines on its old
 * tip — which is how stale blocks happen.
 *
 * **What is measured** (one process, one clock): a block's creation is its `block` event on the
 * miner; its arrival at a node is that node's first `block` event for it that stored it
 * (extended, reorged or side — by gossip or by sync). Propagation percentiles are over every
 * (block, other node) pair of the blocks mined while the network was whole. Stale rate: mined
 * blocks not on the final common chain. Convergence: from the heal of a partition to the first
 * moment every node has the same tip. Bytes: everything the nodes handed to the wire (noise and
 * yamux framing, gossip control, sync, pings, discovery), per node per mined block.
 * @module
 */
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { NETWORKS, generatePrivateKey, hashToHex, publicKeyOf, workForBits } from '../../src/chain/index.ts';
import { FullNode } from '../../src/node/full-node.ts';
import { startHeadlessNetwork, type HeadlessNetwork, type HeadlessNetworkOptions } from '../../src/node/network/headless.ts';
import type { AddressBook, AddressRecord } from '../../src/p2p/peer-manager.ts';
import { MemoryStore } from '../../src/storage/memory-store.ts';
import { SimWire, simAddress, type LinkModel } from './sim-transport.ts';
import { seededRandom } from './seeded-random.ts';

/** Expected hashes per block by default: the main network's genesis difficulty (~5·10^7). */
export const DEFAULT_BLOCK_WORK = Number(workForBits(NETWORKS.main.genesisBits));

export interface SimOptions extends LinkModel {
  nodes: number;
  /** Peers each node dials at start (its address book) and direct peers it wants. */
  degree: number;
  /** Blocks to mine. */
  blocks: number;
  /** Total hashrate, hashes/s. */
  hashrate: number;
  /** Expected hashes per block (with `hashrate`: the mean block interval). */
  blockWork: number;
  /** Split the network into two halves a third of the way in, for this many seconds and until each half has mined a block (0: never). */
  partitionS: number;
  seed: number;
  /** Period of each node's discovery announcement, ms; 0: nodes never announce (they know peers from their address books and identify). */
  discoveryMs: number;
  /** Nodes joining per second at start (tabs open over time; all at once is a handshake storm). */
  joinRate: number;
  /** Longest wait for connections and for convergence, ms. */
  settleTimeoutMs: number;
  /** Peer manager and sync timing (default {@link SIM_TIMING}). */
  timing?: HeadlessNetworkOptions['timing'];
  log?: (msg: string) => void;
}

/**
 * The sim's timing: the real defaults but for the background polls, which cost every node CPU on
 * the one shared thread whether or not blocks flow — sync status every 30 s instead of 10 s, the
 * peer manager's ping every 60 s instead of 15 s. Blocks, gossip, dials and sync are untouched.
 */
export const SIM_TIMING: NonNullable<HeadlessNetworkOptions['timing']> = { statusEveryMs: 30_000, pingEveryMs: 60_000 };

export const DEFAULT_SIM_OPTIONS: SimOptions = {
  nodes: 50,
  degree: 8,
  blocks: 30,
  hashrate: DEFAULT_BLOCK_WORK / 4, // a block every 4 s on average
  blockWork: DEFAULT_BLOCK_WORK,
  latencyMs: 50,
  jitterMs: 20,
  loss: 0,
  partitionS: 0,
  seed: 1,
  discoveryMs: 0,
  joinRate: 10,
  settleTimeoutMs: 120_000,
};

/** Percentiles of a sample, ms. */
export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  count: number;
}

export interface SimResult {
  options: Omit<SimOptions, 'log'>;
  /** Mean block interval the hashrate gives, s. */
  meanIntervalS: number;
  blocksMined: number;
  staleBlocks: number;
  staleRate: number;
  /** Block propagation, creation → arrival at each other node, ms (blocks mined while whole). */
  propagationMs: Percentiles;
  /**
   * Share of (block, node) pairs whose block arrived, over the blocks of `propagationMs` that are
   * on the final chain. A stale block is left out: one mined on an old tip has less work than
   * the receivers' tip, and nodes refuse it (low work: not stored, not forwarded) — the stale rate
   * counts it; it is not a block the network failed to carry.
   */
  propagationCoverage: number;
  /** The blocks of `propagationMs` that did not reach every node (so a low coverage explains itself). */
  missedBlocks: MissedBlock[];
  /** When the split came, healed and converged, s from the start of mining (absent: did not happen). */
  timeline: { splitS?: number; healS?: number; convergedS?: number };
  /** Heal → every node on one tip, ms (undefined: no partition, or not converged). */
  convergenceMs?: number;
  /** Distinct tips among the nodes when the partition healed (0: no partition). */
  tipsAtHeal: number;
  /** Every node ended on the same tip. */
  converged: boolean;
  /** Blocks mined after the planned ones because the nodes sat on a fork of equal work (see STUCK_MS); in `blocksMined`. */
  settleBlocks: number;
  /** Only when not converged: each node's view at the end of the wait, so a failure explains itself. */
  notConverged?: NodeView[];
  finalHeight: number;
  /** Bytes sent at the transport layer per node per mined block, mining phase (all traffic). */
  bytesPerNodePerBlock: number;
  /** The same less the background traffic (`idleBytesPerNodePerS` over the mining phase): what blocks cost. */
  blockBytesPerNodePerBlock: number;
  /** Bytes sent per node per second once all nodes are on one tip and no block comes. */
  idleBytesPerNodePerS: number;
  /** Direct peers per node when mining started: mean and max. */
  peersMean: number;
  peersMax: number;
  wallMs: { total: number; setup: number; mining: number; teardown: number };
  /** CPU time of this process, s, and the machine's load average (1 min) at start and end. */
  cpuS: number;
  loadAvg: { start: number[]; end: number[] };
  machine: { cpus: number; cpu: string | undefined; node: string };
}

/** A block mined while the network was whole that some nodes never stored. */
export interface MissedBlock {
  /** Its hash, the first 16 hex digits. */
  block: string;
  miner: number;
  /** When it was mined, s from the start of mining. */
  atS: number;
  /** Nodes that stored it, its miner included. */
  reached: number;
  /** Not on the final chain. */
  stale: boolean;
}

/** One node at the end of a run that did not converge. */
export interface NodeView {
  node: number;
  /** Its half of the partition (0 or 1); undefined without a partition. */
  side?: 0 | 1;
  height: number;
  /** Its tip, the first 16 hex digits. */
  tip: string;
  /** The nodes it is connected to (chain peers), by index, and which of them is its extra peer being tried. */
  peers: number[];
  extraPeer?: number;
}

/**
 * The tips and peers of every node, one line each, nodes on the same tip together: what a run
 * that did not converge prints.
 * @example describeViews(r.notConverged ?? [])
 */
export function describeViews(views: NodeView[]): string[] {
  const byTip = new Map<string, NodeView[]>();
  for (const v of views) byTip.set(v.tip, [...(byTip.get(v.tip) ?? []), v]);
  const lines: string[] = [];
  for (const [tip, vs] of byTip) {
    lines.push(`tip ${tip} (height ${vs[0].height}): ${vs.length} nodes`);
    for (const v of vs) lines.push(`  node ${v.node}${v.side === undefined ? '' : ` (side ${v.side})`}: peers [${v.peers.join(', ')}]${v.extraPeer === undefined ? '' : `, extra ${v.extraPeer}`}`);
  }
  return lines;
}

/**
 * Percentiles by nearest rank.
 * @example percentiles([1, 2, 3]).p50 // 2
 */
export function percentiles(values: number[]): Percentiles {
  const s = [...values].sort((a, b) => a - b);
  const at = (p: number) => (s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]);
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: s.length ? s[s.length - 1] : NaN, count: s.length };
}

/** An address book in memory: the peers a node knows at start, and those it keeps. */
function bookOf(records: AddressRecord[]): AddressBook {
  const book = new Map(records.map((r) => [r.peerId, r]));
  return {
    listPeers: async () => [...book.values()],
    putPeer: async (r) => void book.set(r.peerId, r),
    deletePeer: async (id) => void book.delete(id),
  };
}

interface SimNode {
  node: FullNode;
  net: HeadlessNetwork;
  peerId: string;
  addr: string;
}

interface Mined {
  at: number;
  miner: number;
  /** Arrival time at each node, ms (NaN: not yet). */
  arrived: Float64Array;
}

/** Time given to gossipsub meshes to form once everyone is connected (its heartbeat is 1 s). */
const SETTLE_MS = 3000;
/**
 * Blocks mined this long before the split are counted with the split (not in `propagationMs`):
 * they were still spreading when it came.
 */
const SPLIT_MARGIN_MS = 1000;
/** Longest wait, before the split, for every node to be on one tip (then it splits anyway). */
const PRE_SPLIT_WAIT_MS = 10_000;
/**
 * After the planned blocks: when no node's tip has changed for this long (or for two mean block
 * intervals, if longer) and the nodes are not on one tip, they sit on a fork that only a further
 * block can settle (two tips of equal work: each node keeps the one it saw first), so one more
 * block is mined — a real network does not stop mining.
 */
const STUCK_MS = 5000;
/** How often the mining phase prints a progress line. */
const PROGRESS_EVERY_MS = 20_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean, timeoutMs: number, everyMs = 100): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) return false;
    await sleep(everyMs);
  }
  return true;
}

/**
 * Runs one simulation and returns its figures.
 * @example const r = await runSim({ ...DEFAULT_SIM_OPTIONS, nodes: 200 }); r.propagationMs.p95
 */
export async function runSim(input: Partial<SimOptions> = {}): Promise<SimResult> {
  const o: SimOptions = { ...DEFAULT_SIM_OPTIONS, ...input };
  const { nodes: n, log = () => undefined } = o;
  if (!(Number.isSafeInteger(n) && n >= 2)) throw new RangeError('nodes must be an integer ≥ 2');
  if (!(Number.isSafeInteger(o.degree) && o.degree >= 1)) throw new RangeError('degree must be an integer ≥ 1');
  if (!(Number.isSafeInteger(o.blocks) && o.blocks >= 1)) throw new RangeError('blocks must be an integer ≥ 1');
  if (!(o.hashrate > 0 && o.blockWork > 0)) throw new RangeError('hashrate and block work must be > 0');
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const loadStart = os.loadavg();
  const random = seededRandom(o.seed);
  const wire = new SimWire(n, o, random);
  const params = NETWORKS.test;

  // Hashrate shares: exponential draws, normalised, as a cumulative table.
  const shares = Array.from({ length: n }, () => -Math.log(1 - random()));
  const total = shares.reduce((a, b) => a + b, 0);
  const cumulative: number[] = [];
  shares.reduce((acc, s, i) => (cumulative[i] = acc + s / total), 0);
  const pickMiner = () => {
    const u = random();
    const i = cumulative.findIndex((c) => c >= u);
    return i < 0 ? n - 1 : i;
  };

  const sims: SimNode[] = [];
  const indexOfPeer = new Map<string, number>();
  const mined = new Map<string, Mined>();
  const tips: string[] = [];
  const tipCount = new Map<string, number>();
  let splitFrom = Infinity; // the split window, for `Mined.split`
  let splitUntil = Infinity;
  let healedAt: number | undefined;
  let tipsAtHeal = 0;
  let convergedAt: number | undefined;
  let tipChangedAt = performance.now();

  const noteTip = (i: number, hash: string) => {
    const old = tips[i];
    if (old === hash) return;
    tipChangedAt = performance.now();
    if (old !== undefined) tipCount.set(old, (tipCount.get(old) ?? 1) - 1);
    tips[i] = hash;
    const c = (tipCount.get(hash) ?? 0) + 1;
    tipCount.set(hash, c);
    if (c === n && healedAt !== undefined && convergedAt === undefined) {
      convergedAt = performance.now();
      splitUntil = convergedAt;
    }
  };
  // What the nodes log, by kind (the first words), for the progress lines.
  const logKinds = new Map<string, number>();
  const noteLog = (m: string) => {
    const kind = m.replace(/12D3Koo\w+|\d+/g, '#').slice(0, 60);
    logKinds.set(kind, (logKinds.get(kind) ?? 0) + 1);
  };
  const topLogs = (k = 4) =>
    [...logKinds.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([k, c]) => `${c}× ${k}`)
      .join('; ');
  // Event-loop delay and heap: one process carries every node, so its health is every link's.
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();
  const health = () => {
    const h = `loop delay p99 ${(loopDelay.percentile(99) / 1e6).toFixed(0)} ms, heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB`;
    loopDelay.reset();
    return h;
  };
  const allOnOneTip = () => tipCount.get(tips[0]) === n;
  // Unanswered pings the peer managers did not blame on their peers, the loop having stalled (loop-lag.ts).
  const pingsExcused = () => sims.reduce((sum, s) => sum + s.net.net.peerManager.pingsExcused, 0);
  let progress: ReturnType<typeof setInterval> | undefined;

  try {
    // --- setup: nodes join one after another ------------------------------------------------
    log(`starting ${n} nodes (degree ${o.degree}, latency ${o.latencyMs}±${o.jitterMs} ms, loss ${o.loss})`);
    for (let i = 0; i < n; i++) {
      await sleep(Math.max(0, t0 + (i / o.joinRate) * 1000 - performance.now()));
      const node = new FullNode({
        params,
        store: new MemoryStore({ network: params.name }),
        minerPubKey: publicKeyOf(generatePrivateKey()),
        miner: { useWorkers: false },
        signatures: { workers: 0 },
      });
      await node.start();
      const privateKey = await generateKeyPair('Ed25519');
      const peerId = peerIdFromPrivateKey(privateKey).toString();
      indexOfPeer.set(peerId, i);
      wire.registerPeer(peerId, i);
      // Up to `degree` distinct earlier nodes.
      const known = new Set<number>();
      while (known.size < Math.min(o.degree, i)) known.add(Math.floor(random() * i));
      const now = Date.now();
      const records = [...known].map((j) => ({ peerId: sims[j].peerId, multiaddrs: [sims[j].addr], lastSeen: now }));
      node.events.on('block', ({ hash, result, source }) => {
        if (result.status !== 'extended' && result.status !== 'reorged' && result.status !== 'side') return;
        const t = performance.now();
        if (source === 'miner') {
          const arrived = new Float64Array(n).fill(NaN);
          arrived[i] = t;
          mined.set(hash, { at: t, miner: i, arrived });
          return;
        }
        const m = mined.get(hash);
        if (m && Number.isNaN(m.arrived[i])) m.arrived[i] = t;
      });
      node.events.on('tip', ({ hash }) => noteTip(i, hash));
      noteTip(i, hashToHex(node.tip.hash));
      const net = await startHeadlessNetwork(node, {
        transports: wire.transports(i),
        listen: [simAddress(i)],
        privateKey,
        addressBook: bookOf(records),
        targetPeers: o.degree,
        ...(o.discoveryMs > 0 ? { discoveryIntervalMs: o.discoveryMs } : { announce: false }),
        timing: o.timing ?? SIM_TIMING,
        log: (m) => noteLog(m),
      });
      net.net.events.on('banned', ({ offence, why }) => noteLog(`banned: ${offence} ${why ?? ''}`));
      sims.push({ node, net, peerId, addr: `${simAddress(i)}/p2p/${peerId}` });
      if ((i + 1) % 50 === 0) log(`  ${i + 1} nodes up (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    }
    // Settled: every node has half the peers it wants (or of every other node), then a few
    // gossipsub heartbeats so that the topic meshes form.
    const chainPeers = (s: SimNode) => s.net.net.peers().filter((p) => !p.isRelay).length;
    const wanted = Math.ceil(Math.min(o.degree, n - 1) / 2);
    let lastReport = performance.now();
    const connected = await waitFor(() => {
      const counts = sims.map(chainPeers);
      if (performance.now() - lastReport > 5000) {
        lastReport = performance.now();
        log(`  peers per node: min ${Math.min(...counts)}, mean ${(counts.reduce((a, b) => a + b, 0) / n).toFixed(1)}; ${counts.filter((c) => c < wanted).length} nodes short (${((performance.now() - t0) / 1000).toFixed(0)} s); ${health()}; logs: ${topLogs()}`);
      }
      return counts.every((c) => c >= wanted);
    }, o.settleTimeoutMs);
    if (!connected) throw new Error(`sim: nodes short of ${wanted} peers after ${o.settleTimeoutMs} ms: ${sims.filter((s) => chainPeers(s) < wanted).length}`);
    await sleep(SETTLE_MS);
    const peerCounts = sims.map(chainPeers);
    const setupMs = performance.now() - t0;
    log(`setup ${(setupMs / 1000).toFixed(1)} s; peers per node ${(peerCounts.reduce((a, b) => a + b, 0) / n).toFixed(1)} mean, ${Math.max(...peerCounts)} max`);

    // --- mining -----------------------------------------------------------------------------
    const meanIntervalMs = (o.blockWork / o.hashrate) * 1000;
    const miningFrom = performance.now();
    const bytes0 = wire.totalBytes();
    const splitAtBlock = o.partitionS > 0 ? Math.floor(o.blocks / 3) : Infinity;
    let healAt = Infinity;
    const heal = () => {
      wire.heal();
      healedAt = performance.now();
      healAt = Infinity;
      tipsAtHeal = [...tipCount.values()].filter((c) => c > 0).length;
      if (allOnOneTip()) convergedAt = splitUntil = healedAt;
      log(`  healed`);
    };
    // A split heals once it has lasted `partitionS` and each half has mined a block since it
    // began: then the halves are on different tips and the heal has a fork to resolve.
    const sideOf = (i: number): 0 | 1 => (i < n / 2 ? 0 : 1);
    const minedInSplit = [false, false];
    const mayHeal = (at: number) => at >= healAt && minedInSplit[0] && minedInSplit[1];
    const mining: Promise<unknown>[] = [];
    // A progress line every 20 s: a run that goes wrong shows how while it happens.
    progress = setInterval(() => {
      const counts = sims.map(chainPeers);
      log(`  ${mined.size} of ${o.blocks} blocks mined, ${[...tipCount.values()].filter((c) => c > 0).length} tips, peers per node ${(counts.reduce((a, b) => a + b, 0) / n).toFixed(1)} mean (${counts.filter((c) => c < wanted).length} short); ${health()}; ${pingsExcused()} pings excused by our own lag; logs: ${topLogs()}`);
    }, PROGRESS_EVERY_MS);
    for (let k = 0; k < o.blocks; k++) {
      if (k === splitAtBlock) {
        // The split comes once every node has the blocks so far (on a loaded machine a block can
        // take seconds to spread): what it cuts is the network, not a block in flight.
        await Promise.all(mining);
        if (!(await waitFor(allOnOneTip, Math.min(PRE_SPLIT_WAIT_MS, o.settleTimeoutMs)))) log(`  not on one tip before the split: splitting anyway`);
        splitFrom = performance.now() - SPLIT_MARGIN_MS;
        split(sims, wire, indexOfPeer, sideOf);
        healAt = performance.now() + o.partitionS * 1000;
        log(`  split into halves at block ${k} for ${o.partitionS} s (and until both halves mined)`);
      }
      const nextAt = performance.now() - Math.log(1 - random()) * meanIntervalMs;
      if (mayHeal(nextAt)) {
        await sleep(Math.max(0, healAt - performance.now()));
        heal();
      }
      await sleep(Math.max(0, nextAt - performance.now()));
      const miner = pickMiner();
      if (healAt !== Infinity) minedInSplit[sideOf(miner)] = true;
      const job = sims[miner].node.miner.mineBlocks(1).catch((e: Error) => log(`  mining failed: ${e.message}`));
      mining.push(job);
      // While split, the block exists before the heal may come.
      if (healAt !== Infinity) await job;
    }
    await Promise.all(mining);
    if (healAt !== Infinity) {
      // The split outlasted the mining: heal when it ends.
      await sleep(Math.max(0, healAt - performance.now()));
      heal();
    }
    // Every node on one tip, within settleTimeoutMs; a fork nothing moves is settled by one more block.
    let settleBlocks = 0;
    const settleEnd = performance.now() + o.settleTimeoutMs;
    const stuckMs = Math.max(STUCK_MS, 2 * meanIntervalMs);
    let converged = allOnOneTip();
    while (!converged && performance.now() < settleEnd) {
      converged = await waitFor(allOnOneTip, Math.min(settleEnd, tipChangedAt + stuckMs) - performance.now());
      if (converged || performance.now() >= settleEnd || performance.now() - tipChangedAt < stuckMs) continue;
      log(`  no tip changed for ${(stuckMs / 1000).toFixed(1)} s, ${[...tipCount.values()].filter((c) => c > 0).length} tips: one more block`);
      settleBlocks++;
      tipChangedAt = performance.now();
      await sims[pickMiner()].node.miner.mineBlocks(1).catch((e: Error) => log(`  mining failed: ${e.message}`));
    }
    clearInterval(progress);
    const views = (): NodeView[] =>
      sims.map((s, i) => {
        const extra = s.net.net.peerManager.extraPeer;
        return {
          node: i,
          ...(o.partitionS > 0 ? { side: sideOf(i) } : {}),
          height: s.node.height,
          tip: tips[i].slice(0, 16),
          peers: s.net.net
            .peers()
            .filter((p) => !p.isRelay)
            .map((p) => indexOfPeer.get(p.id) ?? -1)
            .sort((a, b) => a - b),
          ...(extra === undefined ? {} : { extraPeer: indexOfPeer.get(extra) ?? -1 }),
        };
      });
    const notConverged = converged ? undefined : views();
    if (notConverged) {
      for (const line of describeViews(notConverged)) log(`  not converged: ${line}`);
      log(`  not converged; what the nodes logged most: ${topLogs(12)}`);
    }
    const miningMs = performance.now() - miningFrom;
    const miningBytes = wire.totalBytes() - bytes0;
    // Background traffic once every node is on one tip and no block comes: pings, sync status
    // polls, gossipsub heartbeats, discovery.
    const idleFrom = performance.now();
    await sleep(SETTLE_MS);
    const idleBytesPerNodePerS = (wire.totalBytes() - bytes0 - miningBytes) / n / ((performance.now() - idleFrom) / 1000);
    const perNodePerBlock = (bytes: number) => bytes / n / Math.max(1, mined.size);

    // --- figures ----------------------------------------------------------------------------
    const ref = sims[0].node;
    const onMain = (hash: string) => {
      const e = ref.headers.get(hash);
      return e !== undefined && ref.headers.isAncestor(e, ref.tip);
    };
    const stale = [...mined.keys()].filter((h) => !onMain(h)).length;
    const delays: number[] = [];
    let pairs = 0;
    let arrivedOnMain = 0;
    const missedBlocks: MissedBlock[] = [];
    const sinceMining = (t: number | undefined) => (t === undefined || !Number.isFinite(t) ? undefined : (t - miningFrom) / 1000);
    for (const [hash, m] of mined) {
      if (m.at >= splitFrom && m.at <= splitUntil) continue; // mined while the network was not whole
      const reached = m.arrived.filter((t) => !Number.isNaN(t)).length;
      const stale = !onMain(hash);
      if (reached < n) missedBlocks.push({ block: hash.slice(0, 16), miner: m.miner, atS: sinceMining(m.at)!, reached, stale });
      for (let i = 0; i < n; i++) {
        if (i === m.miner) continue;
        if (!stale) pairs++;
        if (Number.isNaN(m.arrived[i])) continue;
        delays.push(m.arrived[i] - m.at);
        if (!stale) arrivedOnMain++;
      }
    }
    const t1 = performance.now();
    const result: SimResult = {
      options: { ...o, log: undefined } as Omit<SimOptions, 'log'>,
      meanIntervalS: meanIntervalMs / 1000,
      blocksMined: mined.size,
      staleBlocks: stale,
      staleRate: mined.size ? stale / mined.size : 0,
      propagationMs: percentiles(delays),
      propagationCoverage: pairs ? arrivedOnMain / pairs : 0,
      missedBlocks,
      timeline: Object.fromEntries(
        Object.entries({ splitS: sinceMining(splitFrom === Infinity ? undefined : splitFrom + 1000), healS: sinceMining(healedAt), convergedS: sinceMining(convergedAt) }).filter(([, v]) => v !== undefined),
      ),
      ...(healedAt !== undefined && convergedAt !== undefined ? { convergenceMs: convergedAt - healedAt } : {}),
      tipsAtHeal,
      converged,
      settleBlocks,
      ...(notConverged ? { notConverged } : {}),
      finalHeight: ref.height,
      bytesPerNodePerBlock: perNodePerBlock(miningBytes),
      blockBytesPerNodePerBlock: perNodePerBlock(Math.max(0, miningBytes - idleBytesPerNodePerS * n * (miningMs / 1000))),
      idleBytesPerNodePerS,
      peersMean: peerCounts.reduce((a, b) => a + b, 0) / n,
      peersMax: Math.max(...peerCounts),
      wallMs: { total: 0, setup: setupMs, mining: miningMs, teardown: 0 },
      cpuS: 0,
      loadAvg: { start: loadStart, end: [] },
      machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version },
    };
    delete (result.options as Partial<SimOptions>).log;
    await stopAll(sims);
    result.wallMs.teardown = performance.now() - t1;
    result.wallMs.total = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    result.cpuS = (cpu.user + cpu.system) / 1e6;
    result.loadAvg.end = os.loadavg();
    return result;
  } finally {
    clearInterval(progress);
    await stopAll(sims);
  }
}

/** Cuts the network: future dials across sides fail, connections across sides are aborted. */
function split(sims: SimNode[], wire: SimWire, indexOfPeer: Map<string, number>, sideOf: (i: number) => 0 | 1): void {
  wire.partition(sideOf);
  sims.forEach((s, i) => {
    for (const c of s.net.net.libp2p.getConnections()) {
      const j = indexOfPeer.get(c.remotePeer.toString());
      if (j !== undefined && !wire.reachable(i, j)) c.abort(new Error('sim: partition'));
    }
  });
}

/** Stops every node (networks first), idempotently. */
async function stopAll(sims: SimNode[]): Promise<void> {
  const all = sims.splice(0);
  await Promise.all(all.map((s) => s.net.stop().catch(() => undefined)));
  await Promise.all(all.map((s) => s.node.stop().catch(() => undefined)));
}
