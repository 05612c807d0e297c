/**
 * Block and transaction gossip over gossipsub: subscription to `/tabchain/<net>/blocks/1` and
 * `/tabchain/<net>/txs/1`, validators that run every message through the node's one block / tx
 * path BEFORE gossipsub forwards it (ARCHITECTURE "Protocols"), and publishing.
 *
 * Verdicts (gossipsub: Accept = deliver and forward, Ignore = drop quietly, Reject = drop and
 * lower the sender's gossipsub score; we also charge our own {@link PeerScores} through the gate):
 *
 * | block processBlock result        | gossip | penalty                                |
 * |----------------------------------|--------|----------------------------------------|
 * | extended, reorged, side          | Accept |                                        |
 * | orphan (PoW checked, parent unknown) | Accept | — and ask the sender for the parents (sync) |
 * | duplicate, held (TIME_TOO_NEW)   | Ignore |                                        |
 * | invalid, mutated body (BAD_MERKLE, DUPLICATE_TX) | Ignore | none: the header may be fine (Core's BLOCK_MUTATED) |
 * | invalid, anything else           | Reject | invalidBlock (bans at once)           |
 * | over maxBlockBytes               | Reject | invalidBlock, before any decoding     |
 *
 * | tx processTx result              | gossip | penalty                                |
 * |----------------------------------|--------|----------------------------------------|
 * | accepted                         | Accept |                                        |
 * | duplicate                        | Ignore |                                        |
 * | invalid, context-free code ({@link PUNISHABLE_TX_CODES}) | Reject | invalidTx |
 * | invalid, contextual (nonce, funds, fee…) | Ignore | none: honest peers see other tips |
 * | over maxTxBytes                  | Reject | invalidTx, before any decoding         |
 *
 * Our own blocks and transactions are published by the node glue (src/node/networking.ts) from
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

export interface GossipOptions {
  libp2p: TabchainLibp2p;
  network: string;
  gate: PeerGate;
  /** A block arrived whose parent we lack: fetch the chain from that peer. */
  onOrphan?: (peer: string, hash: string) => void;
  /** Largest block / tx accepted from gossip (defaults: 1 MiB, 8 KiB). */
  maxBlockBytes?: number;
  maxTxBytes?: number;
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
  #chain: ChainAccess | undefined;
  #started = false;

  constructor(opts: GossipOptions) {
    this.#opts = opts;
    const ids = protocolIds(opts.network);
    this.blocksTopic = ids.blocksTopic;
    this.txsTopic = ids.txsTopic;
    this.#maxBlockBytes = opts.maxBlockBytes ?? MAX_BLOCK_BYTES;
    this.#maxTxBytes = opts.maxTxBytes ?? MAX_GOSSIP_TX_BYTES;
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
    let v;
    try {
      v = await chain.processBlock(msg.data, from);
    } catch (e) {
      this.#opts.log?.(`gossip: block not processed: ${(e as Error).message}`);
      return TopicValidatorResult.Ignore; // the node is stopping, or storage failed: not the peer's fault
    }
    switch (v.status) {
      case 'extended':
      case 'reorged':
      case 'side':
        return TopicValidatorResult.Accept;
      case 'orphan':
        this.#opts.onOrphan?.(from, v.hash);
        return TopicValidatorResult.Accept;
      case 'duplicate':
      case 'held':
      case 'low-work':
        return TopicValidatorResult.Ignore;
      case 'invalid':
        if (isMutationCode(v.code)) return TopicValidatorResult.Ignore;
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
    let v;
    try {
      v = await chain.processTx(msg.data, from);
    } catch (e) {
      this.#opts.log?.(`gossip: tx not processed: ${(e as Error).message}`);
      return TopicValidatorResult.Ignore;
    }
    if (v.status === 'accepted') return TopicValidatorResult.Accept;
    if (v.status === 'invalid' && v.code !== undefined && PUNISHABLE_TX_CODES.has(v.code)) {
      this.#opts.gate.penalize(from, 'invalidTx', `gossiped tx ${v.txid}: ${v.code}`);
      return TopicValidatorResult.Reject;
    }
    return TopicValidatorResult.Ignore;
  }
}
