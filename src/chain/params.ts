/**
 * Network parameters: one frozen object per network, with its fixed genesis block.
 *
 * | | main | dev | test |
 * |---|---|---|---|
 * | use | the real thing | local development, fast blocks | unit tests and benches only |
 * | chainId | 0x54414231 'TAB1' | 0x54414244 'TABD' | 0x54414254 'TABT' |
 * | address prefix | `tab` | `tabdev` | `tabtest` |
 * | target spacing | 10 s | 2 s | 2 s |
 * | ASERT half-life | 3600 s | 120 s | 120 s |
 * | genesis bits = powLimit bits | 0x1d55e63b (≈ 2^256 / 5·10^7) | 0x1f045e7b (≈ 2^256 / 15,000) | 0x207fffff |
 * | coinbase maturity | 10 | 2 | 2 |
 *
 * Genesis targets (docs/ARCHITECTURE.md §Networks): main ≈ 10 s for one worker at 5 MH/s
 * (5·10^7 expected hashes), dev ≈ 0.05 s for one JS worker at ~0.3 MH/s (15,000 hashes). The
 * test network's genesis and powLimit are regtest's 0x207fffff: each hash meets the target with
 * probability ~1/2, so tests can mine real blocks in microseconds.
 *
 * Difficulty (asert.ts) is anchored at the genesis *target* and block 1's *time*: genesis is a
 * constant whose timestamp grows older every day, and every classroom starts a fresh chain from
 * it; anchoring the schedule at genesis's time would let a chain started later mine tens of
 * thousands of blocks at powLimit before ASERT caught up. So block 1 is mined at genesisBits and
 * its timestamp starts the schedule.
 *
 * **powLimit is the genesis target** (the easiest target ASERT may reach, and the easiest bits a
 * header may carry). Block 1's miner chooses the anchor time, anywhere after genesis's: dated
 * just after a two-week-old genesis, the anchor put the chain two weeks behind schedule, and with
 * a powLimit easier than genesis ASERT eased the next ~134,000 main blocks below the genesis
 * difficulty (~6.7M TAB for ~3.7·10^10 hashes; test/unit/asert-backdate.test.ts). With the floor
 * at genesis no block is ever cheaper than the first one, whoever dated block 1. The price: a
 * chain that stalls recovers only down to the genesis difficulty (main: 10 s for one WebAssembly
 * worker at 5 MH/s, ~3 min for a plain-JS one), and a chain that ran behind schedule stays at
 * that floor until it has caught up. Since the rule only narrows what was valid (a soft fork),
 * the genesis blocks stay as they were.
 *
 * All amounts are base units (1 TAB = {@link COIN} = 10^8 units).
 * @module
 */
import { ZERO_HASH } from './bytes.ts';
import { merkleRoot } from './block.ts';
import { blockHash } from './header.ts';
import { bitsToTarget } from './pow.ts';
import { makeCoinbase } from './tx.ts';
import { COIN, type Block, type NetworkName, type NetworkParams } from './types.ts';

/** Timestamp of every genesis block: 2026-11-22T00:00:00Z. Fixed forever (it is in the genesis hash). */
export const GENESIS_TIME = 1_795_305_600;

/** Header version of genesis and of the blocks we produce. */
export const BLOCK_VERSION = 1;

/**
 * Builds the genesis block of a network: header version 1, prevHash zero, time
 * {@link GENESIS_TIME}, the network's genesis bits and the given nonce, and a single coinbase for
 * height 0 paying the all-zero key (nobody can spend it) with extraNonce 0.
 * scripts/mine-genesis.ts uses it to find the nonces committed below.
 * @example
 * ```ts
 * const g = buildGenesisBlock({ chainId: 0x54414254, genesisBits: 0x207fffff }, 1);
 * ```
 */
export function buildGenesisBlock(net: { chainId: number; genesisBits: number }, nonce: number, time: number = GENESIS_TIME): Block {
  const txs = [makeCoinbase(net.chainId, 0, ZERO_HASH, 0n)];
  return {
    header: { version: BLOCK_VERSION, prevHash: ZERO_HASH.slice(), merkleRoot: merkleRoot(txs), time, bits: net.genesisBits, nonce },
    txs,
  };
}

type NetworkSpec = Omit<NetworkParams, 'powLimit' | 'powLimitBits' | 'genesis' | 'genesisHash'> & { genesisNonce: number };

/** Rules every network shares. */
const COMMON = {
  initialReward: 50n * COIN,
  halvingInterval: 2_100_000,
  maxFutureSeconds: 120,
  medianTimeSpan: 11,
  maxBlockBytes: 1_048_576,
  maxBlockTxs: 10_000,
  maxTxBytes: 8192,
  // Minimum relay fee rate: a ~150-byte transfer pays 1,500 units (0.000015 TAB). Enough to make
  // flooding the mempool cost something, small enough to be invisible in a classroom.
  minFeePerByte: 10n,
} as const;

function network(spec: NetworkSpec): NetworkParams {
  const { genesisNonce, ...rest } = spec;
  const genesis = buildGenesisBlock(spec, genesisNonce);
  return Object.freeze({
    ...rest,
    // No block is ever easier than genesis (see the module comment: the backdated-anchor rule).
    powLimitBits: spec.genesisBits,
    powLimit: bitsToTarget(spec.genesisBits),
    genesis,
    genesisHash: blockHash(genesis.header),
  });
}

/**
 * The networks. Their genesis nonces were found by `npx tsx scripts/mine-genesis.ts`; the test
 * suite (test/unit/params.test.ts) checks each genesis against its bits and coinbase.
 * @example
 * ```ts
 * const params = NETWORKS.dev;
 * nextBits(params, { height: 0, time: params.genesis.header.time }) === params.genesisBits
 * ```
 */
export const NETWORKS: Readonly<Record<NetworkName, NetworkParams>> = Object.freeze({
  main: network({
    ...COMMON,
    name: 'main',
    chainId: 0x54414231, // ASCII 'TAB1'
    addressPrefix: 'tab',
    targetSpacing: 10,
    asertHalfLife: 3600,
    // ≈ 2^256 / 5·10^7: 5·10^7 expected hashes, 10 s for one worker at 5 MH/s. Also the easiest
    // target ever allowed (powLimit, see the module comment).
    genesisBits: 0x1d55e63b,
    coinbaseMaturity: 10,
    genesisNonce: 55_226_307, // genesis 0000001cd6fac026…abcdc99
  }),
  dev: network({
    ...COMMON,
    name: 'dev',
    chainId: 0x54414244, // ASCII 'TABD'
    addressPrefix: 'tabdev',
    targetSpacing: 2,
    asertHalfLife: 120,
    // ≈ 2^256 / 15,000: 0.05 s for one JS worker at ~0.3 MH/s; also the easiest target allowed.
    genesisBits: 0x1f045e7b,
    coinbaseMaturity: 2,
    genesisNonce: 1053, // genesis 00017a2808e753a4…5c962a06
  }),
  test: network({
    ...COMMON,
    name: 'test',
    chainId: 0x54414254, // ASCII 'TABT'
    addressPrefix: 'tabtest',
    targetSpacing: 2,
    asertHalfLife: 120,
    // Bitcoin regtest's powLimit (chainparams.cpp CRegTestParams) from genesis on: tests mine
    // blocks with a couple of hashes.
    genesisBits: 0x207fffff,
    coinbaseMaturity: 2,
    genesisNonce: 0, // genesis 18b432c2fcd557f1…4859bc9d
  }),
});

/**
 * The parameters of a network by name. Throws TypeError for an unknown name.
 * @example
 * ```ts
 * const params = getParams('dev');
 * ```
 */
export function getParams(name: NetworkName): NetworkParams {
  if (!Object.prototype.hasOwnProperty.call(NETWORKS, name)) throw new TypeError(`unknown network ${String(name)}`);
  return NETWORKS[name];
}

/**
 * The block subsidy at `height`: `initialReward` halved (right shift, as Bitcoin Core
 * `GetBlockSubsidy`) every `halvingInterval` blocks; 0 from the 64th halving on, where a shift
 * would be undefined in C++ and the reward has long been 0 anyway.
 * @example
 * ```ts
 * blockReward(NETWORKS.main, 0) // 5_000_000_000n (50 TAB)
 * blockReward(NETWORKS.main, 2_100_000) // 2_500_000_000n
 * ```
 */
export function blockReward(params: Pick<NetworkParams, 'initialReward' | 'halvingInterval'>, height: number): bigint {
  if (!Number.isSafeInteger(height) || height < 0) throw new RangeError(`blockReward: bad height ${height}`);
  const halvings = Math.floor(height / params.halvingInterval);
  if (halvings >= 64) return 0n;
  return params.initialReward >> BigInt(halvings);
}
