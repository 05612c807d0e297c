/**
 * Block and transaction gossip over gossipsub: subscription to `/tabchain/<net>/blocks/1` and
 * `/tabchain/<net>/txs/1`, validators that run every message through the node's one block / tx
 * path BEFORE gossipsub forwards it (docs/ARCHITECTURE.md §Gossip), and publishing.
 *
 * Verdicts (gossipsub: Accept = deliver and forward, Ignore = drop quietly, Reject = drop and
 * lower the sender's gossipsub score; we also charge our own {@link PeerScores} through the gate):
 *
 * | block processBlock result        | gossip | penalty                                |
 * |----------------------------------|--------|----------------------------------------|
 * | extended, reorged, side          | Accept |                                        |
 * | orphan (parent unknown; kept)    | Ignore | — and ask the sender for the parents (sync) |
 * | duplicate, held (TIME_TOO_NEW), low-work | Ignore |                                |
 * | invalid, mutated body (BAD_MERKLE, DUPLICATE_TX) | Reject | malformedFrame (half a ban): the header may be fine and is not marked, but no honest peer forwards a body its node refused (Core's BLOCK_MUTATED punishes too) |
 * | invalid, anything else           | Reject | invalidBlock (bans at once)           |
 * | over maxBlockBytes               | Reject | invalidBlock, before any decoding     |
 *
 * | tx processTx result              | gossip | penalty                                |
 * |----------------------------------|--------|----------------------------------------|
 * | accepted                         | Accept |                                        |
 * | accepted as future (nonce gap)   | Ignore | — kept by the node, not relayed        |
 * | duplicate                        | Ignore |                                        |
 * | invalid, context-free code ({@link PUNISHABLE_TX_CODES}) | Reject | invalidTx |
 * | invalid, contextual (nonce, funds, fee…) | Ignore | none: honest peers see other tips |
 * | over maxTxBytes                  | Reject | invalidTx, before any decoding         |
 *
 * What we cannot check is not forwarded: an orphan's body and ancestry are unknown (its proof of
 * work, against bits near our tip's, is all we checked — Bitcoin Core never relays orphans), and a
 * future transaction's fee is not shown to be payable. Peers that have the parent, or the
 * transactions before the gap, relay them; we fetch the parents from the sender.
 *
 * Each validator waits on the node's one serial queue, and gossipsub runs them for every message
 * it receives, so the waiting ones are bounded per topic ({@link MAX_PENDING_BLOCK_VALIDATIONS},
 * {@link MAX_PENDING_BLOCK_BYTES}, {@link MAX_PENDING_TX_VALIDATIONS}): past a bound a message is
 * ignored at once without touching the node, and counted ({@link ChainGossip.stats}). An honest
 * block dropped that way is fetched by sync at the next status poll.
 *
 * Our own blocks and transactions are published by the node glue (src/node/network/attach.ts) from
 * the node's events; what arrives by gossip is never re-published by us — gossipsub forwards
 * accepted messages itself.
 * @module
 */
import { TopicValidatorResult, type Message } from '@libp2p/gossipsub';
import type { PeerId } from '@libp2p/interface';
import { isMutationCode, PUNISHABLE_TX_CODES, type ChainAccess } from './chain-access.ts';
import type { TabchainLibp2p } from './libp2p-node.ts';
import { MAX_BLOCK_BYTES } from './messages.ts';
import type { PeerGate } from './peer-gate.ts';
import { protocolIds } from './protocol.ts';

/** Largest transaction relayed (the consensus maximum, 8 KiB). */
export const MAX_GOSSIP_TX_BYTES = 8192;

/**
 * Gossiped blocks waiting for the node's verdict at most; more are ignored unchecked. A block
 * takes the node from milliseconds (a duplicate) to seconds (10,000 signatures), and new blocks
 * come every 2–10 s, so 32 waiting is far beyond what honest peers cause.
 */
export const MAX_PENDING_BLOCK_VALIDATIONS = 32;
/** Bytes of gossiped blocks waiting for the node's verdict at most (32 full blocks). */
export const MAX_PENDING_BLOCK_BYTES = 32 * 1024 * 1024;
/**
 * Gossiped transactions waiting for the node's verdict at most (≤ 8 KiB each, so ≤ 8 MiB): about
 * a full block's worth of small transfers arriving at once.
 */
export const MAX_PENDING_TX_VALIDATIONS = 1024;

/** Validations in progress and messages dropped because too many were ({@link ChainGossip.stats}). */
export interface GossipStats {
  blocksPending: number;
  blockBytesPending: number;
  txsPending: number;
  /** Blocks ignored unchecked because {@link MAX_PENDING_BLOCK_VALIDATIONS} or the byte bound was reached. */
  blocksDropped: number;
  /** Transactions ignored unchecked because {@link MAX_PENDING_TX_VALIDATIONS} was reached. */
  txsDropped: number;
}

export interface GossipOptions {
  libp2p: TabchainLibp2p;
  network: string;
  gate: PeerGate;
  /** A block arrived whose parent we lack: fetch the chain from that peer. */
  onOrphan?: (peer: string, hash: string) => void;
  /** Largest block / tx accepted from gossip (defaults: 1 MiB, 8 KiB). */
  maxBlockBytes?: number;
  maxTxBytes?: number;
  /** Bounds of the validations waiting for the node (defaults: the MAX_PENDING_* constants). */
  maxPendingBlocks?: number;
  maxPendingBlockBytes?: number;
  maxPendingTxs?: number;
  log?: (msg: string) => void;
}

/**
 * Gossip of blocks and transactions.
 * @example
 * ```ts
 * const gossip = new ChainGossip({ libp2p, network: 'dev', gate, onOrphan: (peer) => sync.requestFrom(peer) });
 * gossip.attach(chain);
 * gossip.start(); // after libp2p.start()
 * await gossip.publishBlock(bytes);
 * ```
 */
export class ChainGossip {
  readonly blocksTopic: string;
  readonly txsTopic: string;
  readonly #opts: GossipOptions;
  readonly #maxBlockBytes: number;
  readonly #maxTxBytes: number;
  readonly #maxPendingBlocks: number;
  readonly #maxPendingBlockBytes: number;
  readonly #maxPendingTxs: number;
  readonly #stats: GossipStats = { blocksPending: 0, blockBytesPending: 0, txsPending: 0, blocksDropped: 0, txsDropped: 0 };
  #chain: ChainAccess | undefined;
  #started = false;

  constructor(opts: GossipOptions) {
    this.#opts = opts;
    const ids = protocolIds(opts.network);
    this.blocksTopic = ids.blocksTopic;
    this.txsTopic = ids.txsTopic;
    this.#maxBlockBytes = opts.maxBlockBytes ?? MAX_BLOCK_BYTES;
    this.#maxTxBytes = opts.maxTxBytes ?? MAX_GOSSIP_TX_BYTES;
    this.#maxPendingBlocks = opts.maxPendingBlocks ?? MAX_PENDING_BLOCK_VALIDATIONS;
    this.#maxPendingBlockBytes = opts.maxPendingBlockBytes ?? MAX_PENDING_BLOCK_BYTES;
    this.#maxPendingTxs = opts.maxPendingTxs ?? MAX_PENDING_TX_VALIDATIONS;
  }

  /** Validations in progress and messages dropped unchecked (a copy). @example gossip.stats.blocksDropped */
  get stats(): GossipStats {
    return { ...this.#stats };
  }

  /** The chain messages are validated against. @example gossip.attach(chain) */
  attach(chain: ChainAccess): void {
    this.#chain = chain;
  }

  /** Subscribes and installs the validators (libp2p must be started). @example gossip.start() */
  start(): void {
    if (this.#started) return;
    const pubsub = this.#opts.libp2p.services.pubsub;
    pubsub.topicValidators.set(this.blocksTopic, (peer, msg) => this.#validateBlock(peer, msg));
    pubsub.topicValidators.set(this.txsTopic, (peer, msg) => this.#validateTx(peer, msg));
    pubsub.subscribe(this.blocksTopic);
    pubsub.subscribe(this.txsTopic);
    this.#started = true;
  }

  /** Unsubscribes and removes the validators. @example gossip.stop() */
  stop(): void {
    if (!this.#started) return;
    this.#started = false;
    const pubsub = this.#opts.libp2p.services.pubsub;
    try {
      pubsub.unsubscribe(this.blocksTopic);
      pubsub.unsubscribe(this.txsTopic);
    } catch {
      // libp2p already stopped
    }
    pubsub.topicValidators.delete(this.blocksTopic);
    pubsub.topicValidators.delete(this.txsTopic);
  }

  /**
   * Publishes a block of ours; resolves with the number of peers it went to (0 if none, or if
   * gossip is not running).
   * @example await gossip.publishBlock(encodeBlock(block))
   */
  publishBlock(bytes: Uint8Array): Promise<number> {
    return this.#publish(this.blocksTopic, bytes);
  }

  /** Publishes a transaction of ours. @example await gossip.publishTx(encodeTx(tx)) */
  publishTx(bytes: Uint8Array): Promise<number> {
    return this.#publish(this.txsTopic, bytes);
  }

  async #publish(topic: string, bytes: Uint8Array): Promise<number> {
    if (!this.#started) return 0;
    try {
      const r = await this.#opts.libp2p.services.pubsub.publish(topic, bytes);
      return r.recipients.length;
    } catch (e) {
      this.#opts.log?.(`gossip: publish on ${topic} failed: ${(e as Error).message}`);
      return 0;
    }
  }

  #validateBlock(peer: PeerId, msg: Message): Promise<TopicValidatorResult> {
    return this.checkBlock(peer.toString(), msg.data);
  }

  #validateTx(peer: PeerId, msg: Message): Promise<TopicValidatorResult> {
    return this.checkTx(peer.toString(), msg.data);
  }

  /**
   * The blocks topic's validator on bare bytes: the node processes the block, its sender is
   * penalized as the table above says. Other carriers of the same announcements (the tab mesh)
   * call it too, so every block from anyone goes through one path.
   * @example if (await gossip.checkBlock(meshPeer, bytes) === TopicValidatorResult.Reject) drop(meshPeer)
   */
  async checkBlock(from: string, data: Uint8Array): Promise<TopicValidatorResult> {
    const msg = { data };
    const chain = this.#chain;
    if (!chain) return TopicValidatorResult.Ignore;
    if (msg.data.length > this.#maxBlockBytes) {
      this.#opts.gate.penalize(from, 'invalidBlock', `gossiped block of ${msg.data.length} bytes`);
      return TopicValidatorResult.Reject;
    }
    const stats = this.#stats;
    if (stats.blocksPending >= this.#maxPendingBlocks || stats.blockBytesPending + msg.data.length > this.#maxPendingBlockBytes) {
      stats.blocksDropped++;
      return TopicValidatorResult.Ignore;
    }
    stats.blocksPending++;
    stats.blockBytesPending += msg.data.length;
    let v;
    try {
      v = await chain.processBlock(msg.data, from);
    } catch (e) {
      this.#opts.log?.(`gossip: block not processed: ${(e as Error).message}`);
      return TopicValidatorResult.Ignore; // the node is stopping, or storage failed: not the peer's fault
    } finally {
      stats.blocksPending--;
      stats.blockBytesPending -= msg.data.length;
    }
    switch (v.status) {
      case 'extended':
      case 'reorged':
      case 'side':
        return TopicValidatorResult.Accept;
      case 'orphan':
        this.#opts.onOrphan?.(from, v.hash);
        return TopicValidatorResult.Ignore;
      case 'duplicate':
      case 'held':
      case 'low-work':
        return TopicValidatorResult.Ignore;
      case 'invalid':
        if (isMutationCode(v.code)) {
          // The header may be fine (nothing is marked invalid), but the sender is not: an honest
          // peer forwards only blocks its node accepted, and gossip forwards the bytes as they
          // came. Bitcoin Core likewise punishes a peer for a mutated block.
          this.#opts.gate.penalize(from, 'malformedFrame', `gossiped block ${v.hash}: body does not match its header (${v.code})`);
          return TopicValidatorResult.Reject;
        }
        this.#opts.gate.penalize(from, 'invalidBlock', `gossiped block ${v.hash}: ${v.code ?? 'invalid'}`);
        return TopicValidatorResult.Reject;
    }
    return TopicValidatorResult.Ignore;
  }

  /**
   * The txs topic's validator on bare bytes (see {@link checkBlock}).
   * @example await gossip.checkTx(meshPeer, bytes)
   */
  async checkTx(from: string, data: Uint8Array): Promise<TopicValidatorResult> {
    const msg = { data };
    const chain = this.#chain;
    if (!chain) return TopicValidatorResult.Ignore;
    if (msg.data.length > this.#maxTxBytes) {
      this.#opts.gate.penalize(from, 'invalidTx', `gossiped tx of ${msg.data.length} bytes`);
      return TopicValidatorResult.Reject;
    }
    const stats = this.#stats;
    if (stats.txsPending >= this.#maxPendingTxs) {
      stats.txsDropped++;
      return TopicValidatorResult.Ignore;
    }
    stats.txsPending++;
    let v;
    try {
      v = await chain.processTx(msg.data, from);
    } catch (e) {
      this.#opts.log?.(`gossip: tx not processed: ${(e as Error).message}`);
      return TopicValidatorResult.Ignore;
    } finally {
      stats.txsPending--;
    }
    if (v.status === 'accepted') return v.future ? TopicValidatorResult.Ignore : TopicValidatorResult.Accept;
    if (v.status === 'invalid' && v.code !== undefined && PUNISHABLE_TX_CODES.has(v.code)) {
      this.#opts.gate.penalize(from, 'invalidTx', `gossiped tx ${v.txid}: ${v.code}`);
      return TopicValidatorResult.Reject;
    }
    return TopicValidatorResult.Ignore;
  }
}
