/**
 * The headless node's Prometheus metrics (`GET /metrics` on its RPC port, behind the RPC's
 * authentication): a prom-client registry of its own (never the global one, so two nodes in one
 * process — tests, benches — do not mix). Gauges read the node when scraped; counters follow the
 * node's and the network's events. Label values come from closed sets (result statuses, RuleError
 * codes, peer kinds, sync phases), so no peer can grow the number of series.
 * @module
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { MinerStatus } from '../../miner/index.ts';
import type { NodeEvents } from '../events.ts';
import type { Emitter } from '../../p2p/emitter.ts';

/** What the metrics read of a node (FullNode provides it). */
export interface MetricsNode {
  readonly events: Emitter<NodeEvents>;
  readonly height: number;
  readonly synced: boolean;
  readonly mempool: { readonly size: number; readonly bytes: number };
  readonly miner: { minerStatus(): MinerStatus };
}

/** What the metrics read of the network, when there is one (NetworkService provides it). */
export interface MetricsNetwork {
  peers(): readonly { transport: string; isRelay: boolean }[];
  readonly events: { on(e: 'sync-progress', fn: (p: { phase: 'headers' | 'blocks'; done: number; total: number }) => void): () => void };
}

/** A node's registry and the function that unhooks its event listeners. */
export interface NodeMetrics {
  registry: Registry;
  stop(): void;
}

/**
 * Creates the registry of a node (and its network, if any).
 * @example const { registry } = nodeMetrics(node, net); res.end(await registry.metrics())
 */
export function nodeMetrics(node: MetricsNode, net?: MetricsNetwork): NodeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tabchain_' }); // tabchain_process_cpu_seconds_total, tabchain_nodejs_heap_size_used_bytes, …
  const g = (name: string, help: string, collect: (this: Gauge) => void, labelNames: string[] = []) =>
    new Gauge({ name, help, labelNames, registers: [registry], collect });

  g('tabchain_height', 'Height of the active chain tip', function () {
    this.set(node.height);
  });
  g('tabchain_synced', '1 when the node counts itself synced with its peers', function () {
    this.set(node.synced ? 1 : 0);
  });
  g('tabchain_mempool_transactions', 'Transactions in the mempool', function () {
    this.set(node.mempool.size);
  });
  g('tabchain_mempool_bytes', 'Encoded bytes of the mempool transactions', function () {
    this.set(node.mempool.bytes);
  });
  g('tabchain_mining', '1 while the miner is started', function () {
    const m = node.miner.minerStatus();
    this.set(m.started || m.mining ? 1 : 0);
  });
  g('tabchain_hashrate', 'Miner hashes per second (moving average)', function () {
    this.set(node.miner.minerStatus().hashrate);
  });
  g('tabchain_miner_workers', 'Miner worker threads', function () {
    this.set(node.miner.minerStatus().workers);
  });
  g(
    'tabchain_peers',
    'Connected peers by kind (tcp, websocket, webrtc, relay = circuit-relayed chain peer, relay_server = a relay)',
    function () {
      this.reset();
      for (const p of net?.peers() ?? []) this.inc({ kind: p.isRelay ? 'relay_server' : p.transport });
    },
    ['kind'],
  );
  const progress = new Gauge({ name: 'tabchain_sync_progress', help: 'Sync progress: items done and total of the current phase', labelNames: ['phase', 'of'], registers: [registry] });

  const blocks = new Counter({ name: 'tabchain_blocks_processed_total', help: 'Blocks processed, by result status and source', labelNames: ['status', 'source'], registers: [registry] });
  const blocksRejected = new Counter({ name: 'tabchain_blocks_rejected_total', help: 'Blocks found invalid, by RuleError code', labelNames: ['code'], registers: [registry] });
  const txs = new Counter({ name: 'tabchain_txs_processed_total', help: 'Transactions processed, by result status and source', labelNames: ['status', 'source'], registers: [registry] });
  const txsRejected = new Counter({ name: 'tabchain_txs_rejected_total', help: 'Transactions found invalid, by RuleError code', labelNames: ['code'], registers: [registry] });

  const offs = [
    node.events.on('block', ({ result, source }) => {
      blocks.inc({ status: result.status, source });
      if (result.status === 'invalid') blocksRejected.inc({ code: result.code ?? 'UNKNOWN' });
    }),
    node.events.on('tx', ({ result, source }) => {
      txs.inc({ status: result.status, source });
      if (result.status === 'invalid') txsRejected.inc({ code: result.code ?? 'UNKNOWN' });
    }),
  ];
  if (net) {
    offs.push(
      net.events.on('sync-progress', ({ phase, done, total }) => {
        progress.set({ phase, of: 'done' }, done);
        progress.set({ phase, of: 'total' }, total);
      }),
    );
  }
  return {
    registry,
    stop: () => {
      for (const off of offs) off();
    },
  };
}
