/**
 * Test helper: builds, mines and connects valid blocks on the 'test' network (regtest difficulty:
 * about two hashes per block), with deterministic ed25519 wallets that sign transactions.
 *
 * ```ts
 * const [alice, bob] = wallets(2);
 * const chain = ChainBuilder.funded([alice, bob]);       // each holds one mature 50 TAB reward
 * chain.add(alice, { kind: 'transfer', to: bob.pub, amount: 5n });
 * const { block, undo } = chain.mine();                  // sanity-checked and applied
 * ```
 */
import { applyBlock } from '../../../src/chain/apply.ts';
import { nextBits } from '../../../src/chain/asert.ts';
import { merkleRoot } from '../../../src/chain/block.ts';
import { bytesToHex } from '../../../src/chain/bytes.ts';
import { sha256 } from '../../../src/chain/hash.ts';
import { blockHash } from '../../../src/chain/header.ts';
import { publicKeyOf } from '../../../src/chain/keys.ts';
import { NETWORKS } from '../../../src/chain/params.ts';
import { hashToBigInt, bitsToTarget, workForBits } from '../../../src/chain/pow.ts';
import { ChainState } from '../../../src/chain/state.ts';
import { makeCoinbase, signTx } from '../../../src/chain/tx.ts';
import { checkBlockSanity, medianTimePast } from '../../../src/chain/validate.ts';
import type { Block, BlockHeader, BlockUndo, HeaderEntry, NetworkParams, Transaction, TxPayload } from '../../../src/chain/types.ts';

export interface Wallet {
  name: string;
  priv: Uint8Array;
  pub: Uint8Array;
}

/** A deterministic wallet: the secret key is sha256 of its name. */
export function wallet(name: string): Wallet {
  const priv = sha256(new TextEncoder().encode('chain-builder/' + name));
  return { name, priv, pub: publicKeyOf(priv) };
}

const NAMES = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi'];

/** `n` distinct deterministic wallets (alice, bob, carol, …). */
export function wallets(n: number): Wallet[] {
  return Array.from({ length: n }, (_, i) => wallet(NAMES[i] ?? `w${i}`));
}

/** Payload of a non-coinbase transaction. */
export type Payload = Exclude<TxPayload, { kind: 'coinbase' }>;

export interface TxOptions {
  fee?: bigint;
  /** Defaults to the sender's state nonce + 1 + its transactions already queued. */
  nonce?: number;
  chainId?: number;
}

export interface BlockOptions {
  miner?: Uint8Array;
  time?: number;
  bits?: number;
  version?: number;
  /** Coinbase height; defaults to the next height. */
  coinbaseHeight?: number;
  /** Replace the coinbase entirely (or drop it with `null`). */
  coinbase?: Transaction | null;
  merkleRoot?: Uint8Array;
  extraNonce?: bigint;
}

export interface Mined {
  block: Block;
  hash: Uint8Array;
  height: number;
  undo: BlockUndo;
}

/** Default fee: comfortably above the relay minimum for every kind. */
export const DEFAULT_FEE = 5_000n;

/** Finds a nonce meeting the header's own bits (test difficulty: a few tries). */
export function mineHeader(header: BlockHeader): BlockHeader {
  const target = bitsToTarget(header.bits);
  const h = { ...header };
  for (h.nonce = 0; ; h.nonce++) {
    if (hashToBigInt(blockHash(h)) <= target) return h;
  }
}

/** A header whose hash is above its target (for BAD_POW cases). */
export function unmineHeader(header: BlockHeader): BlockHeader {
  const target = bitsToTarget(header.bits);
  const h = { ...header };
  for (h.nonce = 0; ; h.nonce++) {
    if (hashToBigInt(blockHash(h)) > target) return h;
  }
}

/**
 * A chain on the 'test' network: a state, the header entries from genesis to the tip, the blocks
 * and their undo records, and a queue of transactions for the next block.
 */
export class ChainBuilder {
  readonly params: NetworkParams;
  state = new ChainState();
  /** entries[h] = header entry of the block at height h (entries[0] = genesis). */
  readonly entries: HeaderEntry[];
  readonly blocks: Block[];
  readonly undos: BlockUndo[] = [];
  queue: Transaction[] = [];
  /** Receives coinbase rewards unless a block says otherwise. */
  miner: Uint8Array = wallet('miner').pub;

  constructor(params: NetworkParams = NETWORKS.test) {
    this.params = params;
    const g = params.genesis;
    this.entries = [{ hash: params.genesisHash, header: g.header, height: 0, chainwork: workForBits(g.header.bits), status: 'valid', hasBody: true }];
    this.blocks = [g];
  }

  /**
   * A chain where each wallet received the coinbase of one block (50 TAB each), mined deep enough
   * that all of those rewards are mature.
   */
  static funded(ws: readonly Wallet[], params: NetworkParams = NETWORKS.test): ChainBuilder {
    const c = new ChainBuilder(params);
    for (const w of ws) c.mine({ miner: w.pub });
    for (let i = 0; i < params.coinbaseMaturity; i++) c.mine();
    return c;
  }

  get height(): number {
    return this.entries.length - 1;
  }

  get tip(): HeaderEntry {
    return this.entries[this.height];
  }

  /** Median time past of the tip and its 10 predecessors. */
  mtp(): number {
    return medianTimePast(this.entries.slice(-this.params.medianTimeSpan).map((e) => e.header.time));
  }

  /** Time of block 1 (the ASERT anchor), if mined. */
  get block1Time(): number | undefined {
    return this.entries[1]?.header.time;
  }

  /** Bits required of the next block. */
  nextBits(): number {
    return nextBits(this.params, { height: this.tip.height, time: this.tip.header.time }, this.block1Time);
  }

  /** Next nonce of `w`: its state nonce + 1 + its transactions already in the queue. */
  nextNonce(w: Wallet): number {
    const pending = this.queue.filter((t) => t.kind !== 'coinbase' && bytesToHex(t.from) === bytesToHex(w.pub)).length;
    return this.state.account(w.pub).nonce + 1 + pending;
  }

  /** A signed transaction from `w` (not queued). */
  sign(w: Wallet, payload: Payload, opts: TxOptions = {}): Transaction {
    return signTx(
      { chainId: opts.chainId ?? this.params.chainId, from: w.pub, nonce: opts.nonce ?? this.nextNonce(w), fee: opts.fee ?? DEFAULT_FEE, ...payload },
      w.priv,
    ) as Transaction;
  }

  /** Signs and queues a transaction for the next {@link mine}. */
  add(w: Wallet, payload: Payload, opts: TxOptions = {}): Transaction {
    const tx = this.sign(w, payload, opts);
    this.queue.push(tx);
    return tx;
  }

  /** A mined (valid PoW) block on the tip with `txs` after a coinbase; not applied. */
  build(txs: readonly Transaction[], opts: BlockOptions = {}): Block {
    const height = this.height + 1;
    const coinbase =
      opts.coinbase === undefined
        ? makeCoinbase(this.params, opts.coinbaseHeight ?? height, opts.miner ?? this.miner, opts.extraNonce ?? 0n)
        : opts.coinbase;
    const all = coinbase === null ? [...txs] : [coinbase, ...txs];
    const header = mineHeader({
      version: opts.version ?? 1,
      prevHash: this.tip.hash,
      merkleRoot: opts.merkleRoot ?? merkleRoot(all),
      time: opts.time ?? this.tip.header.time + this.params.targetSpacing,
      bits: opts.bits ?? this.nextBits(),
      nonce: 0,
    });
    return { header, txs: all };
  }

  /** Sanity-checks and applies `block` as the next block; records it. */
  connect(block: Block): Mined {
    checkBlockSanity(block, this.params);
    const height = this.height + 1;
    const hash = blockHash(block.header);
    const undo = applyBlock(this.state, block, { params: this.params, height, hash });
    this.entries.push({ hash, header: block.header, height, chainwork: this.tip.chainwork + workForBits(block.header.bits), status: 'valid', hasBody: true });
    this.blocks.push(block);
    this.undos.push(undo);
    return { block, hash, height, undo };
  }

  /** Builds a block from the queue (plus `extra`), connects it and empties the queue. */
  mine(opts: BlockOptions = {}, extra: readonly Transaction[] = []): Mined {
    const block = this.build([...this.queue, ...extra], opts);
    const mined = this.connect(block);
    this.queue = [];
    return mined;
  }

  /** Disconnects the tip block (undo record), returning it. */
  disconnect(): Block {
    if (this.height === 0) throw new Error('cannot disconnect genesis');
    const undo = this.undos.pop()!;
    this.state.revertChanges(undo.changes);
    this.entries.pop();
    return this.blocks.pop()!;
  }

  /** An independent copy (state, entries, blocks, undos, queue). */
  fork(): ChainBuilder {
    const c = new ChainBuilder(this.params);
    c.state = this.state.clone();
    c.entries.length = 0;
    c.entries.push(...this.entries);
    c.blocks.length = 0;
    c.blocks.push(...this.blocks);
    c.undos.push(...this.undos);
    c.queue = [...this.queue];
    c.miner = this.miner;
    return c;
  }
}
