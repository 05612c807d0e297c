import { describe, it, expect } from 'vitest';
import {
  NETWORKS,
  getParams,
  blockReward,
  buildGenesisBlock,
  GENESIS_TIME,
  COIN,
  ZERO_HASH,
  blockHash,
  hashToHex,
  bitsToTarget,
  targetToBits,
  workForBits,
  checkProofOfWork,
  merkleRoot,
  encodeBlock,
  decodeBlock,
  blockSize,
  checkTxSanity,
  nextBits,
  type NetworkName,
  type NetworkParams,
} from '../../src/chain/index.ts';

const ALL = Object.values(NETWORKS);

// The genesis hashes are consensus: every node of a network must derive the same one from the
// constants in params.ts. If an encoding change moves them, every existing chain is orphaned —
// that must be a deliberate decision (re-run scripts/mine-genesis.ts), never an accident.
const GENESIS_HASHES: Record<NetworkName, string> = {
  main: '0000001cd6fac026208223045756644c8435a59cec862b5552e112766abcdc99',
  dev: '00017a2808e753a4cc12a34caac360a8f3bdc1f48ebb1bedc639ca0f5c962a06',
  test: '18b432c2fcd557f1591eb3445cde6d5737ea6686303550a40c53f5fb4859bc9d',
};

describe.each(ALL.map((p) => [p.name, p] as [string, NetworkParams]))('network %s', (name, params) => {
  const g = params.genesis;

  it('genesis hash is blockHash(genesis.header), meets its bits and is the committed one', () => {
    expect(params.genesisHash).toEqual(blockHash(g.header));
    expect(() => checkProofOfWork(params.genesisHash, g.header.bits, params.powLimit)).not.toThrow();
    expect(hashToHex(params.genesisHash)).toBe(GENESIS_HASHES[name as NetworkName]);
  });

  it('genesis header: version 1, no parent, fixed time, genesis bits, merkle root of its coinbase', () => {
    expect(g.header.version).toBe(1);
    expect(g.header.prevHash).toEqual(ZERO_HASH);
    expect(g.header.time).toBe(GENESIS_TIME);
    expect(new Date(GENESIS_TIME * 1000) < new Date('2026-11-23T00:00:00Z')).toBe(true);
    expect(g.header.bits).toBe(params.genesisBits);
    expect(g.header.merkleRoot).toEqual(merkleRoot(g.txs));
  });

  it('genesis has exactly one coinbase: height 0, zero miner, extraNonce 0, this chainId, sane', () => {
    expect(g.txs).toHaveLength(1);
    const cb = g.txs[0];
    expect(cb.kind).toBe('coinbase');
    if (cb.kind !== 'coinbase') return;
    expect(cb.height).toBe(0);
    expect(cb.miner).toEqual(ZERO_HASH);
    expect(cb.extraNonce).toBe(0n);
    expect(cb.chainId).toBe(params.chainId);
    expect(() => checkTxSanity(cb, params)).not.toThrow();
  });

  it('genesis survives the block encoding and is rebuilt identically from its constants', () => {
    const bytes = encodeBlock(g);
    expect(bytes.length).toBe(blockSize(g));
    expect(bytes.length).toBeLessThanOrEqual(params.maxBlockBytes);
    expect(decodeBlock(bytes)).toEqual(g);
    expect(buildGenesisBlock(params, g.header.nonce)).toEqual(g);
  });

  it('bits are canonical and ordered: genesis target ≤ powLimit, powLimit exact', () => {
    expect(params.powLimit).toBe(bitsToTarget(params.powLimitBits));
    expect(targetToBits(params.powLimit)).toBe(params.powLimitBits);
    expect(targetToBits(bitsToTarget(params.genesisBits))).toBe(params.genesisBits);
    expect(bitsToTarget(params.genesisBits) <= params.powLimit).toBe(true);
    // Block 1 is mined at genesis bits; block 2 after an on-time block 1 too.
    expect(nextBits(params, { height: 0, time: GENESIS_TIME })).toBe(params.genesisBits);
    expect(nextBits(params, { height: 1, time: GENESIS_TIME + 999 }, GENESIS_TIME + 999)).toBe(params.genesisBits);
  });

  it('shared rules: reward, halving, time, size limits, fee floor', () => {
    expect(params.initialReward).toBe(50n * COIN);
    expect(params.halvingInterval).toBe(2_100_000);
    expect(params.maxFutureSeconds).toBe(120);
    expect(params.medianTimeSpan).toBe(11);
    expect(params.maxBlockBytes).toBe(1_048_576);
    expect(params.maxBlockTxs).toBe(10_000);
    expect(params.maxTxBytes).toBe(8192);
    expect(params.minFeePerByte > 0n).toBe(true);
  });

  it('is frozen and found by getParams', () => {
    expect(Object.isFrozen(params)).toBe(true);
    expect(getParams(params.name)).toBe(params);
  });
});

describe('the networks of docs/ARCHITECTURE.md', () => {
  it('main: 10 s blocks, 1 h half-life, maturity 10, genesis ≈ 10 s at 5 MH/s, powLimit = genesis target', () => {
    const p = NETWORKS.main;
    expect([p.targetSpacing, p.asertHalfLife, p.coinbaseMaturity, p.addressPrefix]).toEqual([10, 3600, 10, 'tab']);
    const hashes = Number(workForBits(p.genesisBits));
    expect(hashes / 5e6).toBeCloseTo(10, 1);
    // No block is ever easier than genesis (the backdated-anchor rule, asert-backdate.test.ts).
    expect(p.powLimitBits).toBe(p.genesisBits);
  });

  it('dev: 2 s blocks, 2 min half-life, maturity 2, genesis ≈ 0.05 s at 0.3 MH/s, powLimit = genesis target', () => {
    const p = NETWORKS.dev;
    expect([p.targetSpacing, p.asertHalfLife, p.coinbaseMaturity, p.addressPrefix]).toEqual([2, 120, 2, 'tabdev']);
    const hashes = Number(workForBits(p.genesisBits));
    expect(hashes / 0.3e6).toBeCloseTo(0.05, 2);
    expect(p.powLimitBits).toBe(p.genesisBits);
  });

  it('test: regtest difficulty from genesis on (a hash succeeds with probability ~1/2)', () => {
    const p = NETWORKS.test;
    expect(p.genesisBits).toBe(0x207fffff);
    expect(p.powLimitBits).toBe(0x207fffff);
    expect(workForBits(p.genesisBits)).toBe(2n);
    expect(p.addressPrefix).toBe('tabtest');
  });

  it('networks differ in chainId, address prefix and genesis', () => {
    const distinct = <T>(xs: T[]) => new Set(xs).size === xs.length;
    expect(ALL.map((p) => p.name).sort()).toEqual(['dev', 'main', 'test']);
    expect(distinct(ALL.map((p) => p.chainId))).toBe(true);
    expect(distinct(ALL.map((p) => p.addressPrefix))).toBe(true);
    expect(distinct(ALL.map((p) => hashToHex(p.genesisHash)))).toBe(true);
    for (const p of ALL) expect(Number.isInteger(p.chainId) && p.chainId >= 0 && p.chainId <= 0xffffffff).toBe(true);
  });

  it('getParams rejects an unknown network', () => {
    expect(() => getParams('regtest' as NetworkName)).toThrow(TypeError);
    expect(() => getParams('toString' as NetworkName)).toThrow(TypeError);
  });
});

describe('blockReward', () => {
  const p = NETWORKS.main;

  it('50 TAB, halving every 2,100,000 blocks', () => {
    expect(blockReward(p, 0)).toBe(50n * COIN);
    expect(blockReward(p, 2_099_999)).toBe(50n * COIN);
    expect(blockReward(p, 2_100_000)).toBe(25n * COIN);
    expect(blockReward(p, 4_200_000)).toBe(1_250_000_000n);
    expect(blockReward(p, 3 * 2_100_000)).toBe(625_000_000n);
  });

  it('reaches 0 and stays there; total supply is below 2 × 50 TAB × interval', () => {
    expect(blockReward(p, 64 * 2_100_000)).toBe(0n);
    expect(blockReward(p, 1000 * 2_100_000)).toBe(0n);
    let total = 0n;
    let last = blockReward(p, 0);
    for (let era = 0; era < 70; era++) {
      const r = blockReward(p, era * p.halvingInterval);
      expect(r <= last).toBe(true);
      last = r;
      total += r * BigInt(p.halvingInterval);
    }
    expect(last).toBe(0n);
    expect(total < 2n * 50n * COIN * BigInt(p.halvingInterval)).toBe(true);
  });

  it('rejects negative or fractional heights', () => {
    expect(() => blockReward(p, -1)).toThrow(RangeError);
    expect(() => blockReward(p, 1.5)).toThrow(RangeError);
  });
});
