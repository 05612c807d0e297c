/**
 * Chains for the crash tests (test/integration/crash-headless.test.ts, test/e2e/crash.test.ts,
 * scripts/stress-crash.ts): a branch builder that mines real blocks on 'test' or 'dev' with the
 * fastest scan kernel (dev's ~15,000 hashes a block would take the pure-JS loop of
 * chain-builder.ts ~50 ms), each with a signed transfer once rewards mature, so state, undo
 * records and the txid index all have something to disagree about; forks at any height. The tests'
 * kill points come from bench/sim/seeded-random.ts, so a failing run replays from `CRASH_SEED`.
 */
import {
  ChainState,
  applyBlock,
  bitsToTarget,
  blockHash,
  encodeHeader,
  makeCoinbase,
  merkleRoot,
  nextBits,
  publicKeyOf,
  sha256,
  signTx,
  workForBits,
  type Block,
  type BlockUndo,
  type HeaderEntry,
  type NetworkParams,
  type Transaction,
} from '../../src/chain/index.ts';
import { scan } from '../../src/miner/default-scan.ts';
import { MAX_BLOCKS_PER_REQUEST } from '../../src/p2p/messages.ts';

/** A deterministic key pair named `name`. */
export function key(name: string): { priv: Uint8Array; pub: Uint8Array } {
  const priv = sha256(new TextEncoder().encode(`crash-chain/${name}`));
  return { priv, pub: publicKeyOf(priv) };
}

/** The wallet whose early rewards fund every branch's transfers. */
const PAYER = key('payer');
/** Blocks paying the payer at the start of a chain (their rewards fund the transfers). */
const FUNDING_BLOCKS = 4;
const FEE = 5_000n;

/** One branch of blocks from genesis, with its state, able to fork at any height. */
export class Branch {
  readonly params: NetworkParams;
  state = new ChainState();
  readonly entries: HeaderEntry[];
  readonly blocks: Block[];
  readonly undos: BlockUndo[] = [];
  /** Who this branch's blocks pay once funded (a different key per branch: states differ). */
  miner: Uint8Array;

  constructor(params: NetworkParams, minerName = 'main') {
    this.params = params;
    const g = params.genesis;
    this.entries = [{ hash: params.genesisHash, header: g.header, height: 0, chainwork: workForBits(g.header.bits), status: 'valid', hasBody: true }];
    this.blocks = [g];
    this.miner = key(minerName).pub;
  }

  get height(): number {
    return this.entries.length - 1;
  }

  get tip(): HeaderEntry {
    return this.entries[this.height];
  }

  /** Mines `n` blocks on the tip; returns them. */
  mine(n: number): Block[] {
    const out: Block[] = [];
    for (let i = 0; i < n; i++) out.push(this.#mineOne());
    return out;
  }

  /** A copy cut back to `height`, mining to `minerName` from there. */
  forkAt(height: number, minerName: string): Branch {
    if (height < 0 || height > this.height) throw new RangeError(`forkAt ${height}: the branch is ${this.height} high`);
    const b = new Branch(this.params, minerName);
    b.state = this.state.clone();
    for (let h = this.height; h > height; h--) b.state.revertChanges(this.undos[h - 1].changes);
    b.entries.length = 0;
    b.entries.push(...this.entries.slice(0, height + 1));
    b.blocks.length = 0;
    b.blocks.push(...this.blocks.slice(0, height + 1));
    b.undos.push(...this.undos.slice(0, height));
    return b;
  }

  #mineOne(): Block {
    const height = this.height + 1;
    const tip = this.tip;
    const miner = height <= FUNDING_BLOCKS ? PAYER.pub : this.miner;
    const txs: Transaction[] = [makeCoinbase(this.params, height, miner, 0n)];
    const payer = this.state.account(PAYER.pub);
    if (payer.balance > 1_000_000n) {
      const to = key(`to${height % 7}`).pub;
      txs.push(signTx({ chainId: this.params.chainId, kind: 'transfer', from: PAYER.pub, nonce: payer.nonce + 1, fee: FEE, to, amount: 1_000n + BigInt(height) }, PAYER.priv) as Transaction);
    }
    const block1Time = this.entries[1]?.header.time;
    const header = {
      version: 1,
      prevHash: tip.hash,
      merkleRoot: merkleRoot(txs),
      // On schedule: ASERT keeps the bits, and the blocks stay in the past for any clock.
      time: tip.header.time + this.params.targetSpacing,
      bits: nextBits(this.params, { height: tip.height, time: tip.header.time }, block1Time),
      nonce: 0,
    };
    const nonce = scan(encodeHeader(header), 0, 0xffffffff, bitsToTarget(header.bits));
    if (nonce === null) throw new Error('no nonce in 2^32 (this network is too hard for tests)');
    header.nonce = nonce;
    const block: Block = { header, txs };
    const hash = blockHash(header);
    this.undos.push(applyBlock(this.state, block, { params: this.params, height, hash }));
    this.entries.push({ hash, header, height, chainwork: tip.chainwork + workForBits(header.bits), status: 'valid', hasBody: true });
    this.blocks.push(block);
    return block;
  }
}

/**
 * How many getBlocks requests to let a syncing victim make before killing it: uniform over the
 * requests a sync of `missing` blocks takes (16 bodies a request), so kills land all along a run
 * or a reorg, not just at its start.
 * @example await feeder.waitServed(feeder.served() + batchesBeforeKill(random, 300), 60_000)
 */
export function batchesBeforeKill(random: () => number, missing: number): number {
  return 1 + Math.floor(random() * Math.max(1, Math.ceil(missing / MAX_BLOCKS_PER_REQUEST)));
}
