/**
 * Coinbase-only chains for the sync benches (bench/sync.bench.ts between Node nodes,
 * bench/p2p-browser.bench.ts between tabs): blocks a target spacing apart, so ASERT keeps the
 * genesis difficulty, each solved with the miner's fastest kernel. Node-only (the kernel loads
 * its WebAssembly from disk).
 * @module
 */
import { bitsToTarget, blockHash, encodeHeader, makeCoinbase, merkleRoot, nextBits, type Block, type BlockHeader, type NetworkParams } from '../src/chain/index.ts';
import { scan } from '../src/miner/default-scan.ts';

/**
 * `n` coinbase-only blocks above genesis, `params.targetSpacing` apart from `firstTime` (default:
 * genesis time + one spacing), paying a fixed dummy key.
 * @example const chain = coinbaseOnlyChain(NETWORKS.test, 10_000)
 */
export function coinbaseOnlyChain(params: NetworkParams, n: number, firstTime = params.genesis.header.time + params.targetSpacing): Block[] {
  const miner = new Uint8Array(32).fill(7);
  const blocks: Block[] = [];
  let prev: BlockHeader = params.genesis.header;
  let block1Time: number | undefined;
  for (let height = 1; height <= n; height++) {
    const txs = [makeCoinbase(params, height, miner, 0n)];
    const header: BlockHeader = {
      version: 1,
      prevHash: blockHash(prev),
      merkleRoot: merkleRoot(txs),
      time: height === 1 ? firstTime : prev.time + params.targetSpacing,
      bits: nextBits(params, { height: height - 1, time: prev.time }, block1Time),
      nonce: 0,
    };
    const nonce = scan(encodeHeader(header), 0, 0x1_0000_0000, bitsToTarget(header.bits));
    if (nonce === null) throw new Error(`bench: no nonce for block ${height}`);
    header.nonce = nonce;
    blocks.push({ header, txs });
    if (height === 1) block1Time = header.time;
    prev = header;
  }
  return blocks;
}
