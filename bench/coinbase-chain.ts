/**
 * Chains for the sync benches (bench/sync.bench.ts between Node nodes, bench/p2p-browser.bench.ts
 * between tabs), coinbase-only or full of transfers: blocks a target spacing apart, so ASERT keeps
 * the genesis difficulty, each solved with the miner's fastest kernel. Node-only (the kernel loads
 * its WebAssembly from disk; transfers are signed with node:crypto).
 * @module
 */
import { createPrivateKey, sign } from 'node:crypto';
import {
  bitsToTarget,
  blockHash,
  encodeHeader,
  makeCoinbase,
  merkleRoot,
  nextBits,
  publicKeyOf,
  sha256,
  signingHash,
  type Block,
  type BlockHeader,
  type NetworkParams,
  type Transaction,
} from '../src/chain/index.ts';
import { scan } from '../src/miner/default-scan.ts';

/**
 * `n` coinbase-only blocks above genesis, `params.targetSpacing` apart from `firstTime` (default:
 * genesis time + one spacing), paying a fixed dummy key.
 * @example const chain = coinbaseOnlyChain(NETWORKS.test, 10_000)
 */
export function coinbaseOnlyChain(params: NetworkParams, n: number, firstTime = params.genesis.header.time + params.targetSpacing): Block[] {
  return buildChain(params, n, firstTime, new Uint8Array(32).fill(7), () => []);
}

/**
 * `n` blocks above genesis, `params.targetSpacing` apart from `firstTime`: blocks 1–2
 * coinbase-only (paying a key whose first reward is mature by block 3), every later one carrying
 * `txsPerBlock` signed transfers from that key to fresh addresses (fee 5,000 units each, nonces
 * 1, 2, …). Its rewards and fees fund the transfers many times over.
 * @example const chain = transferChain(NETWORKS.dev, 1_000, 50, Math.floor(Date.now() / 1000) - 2_060)
 */
export function transferChain(params: NetworkParams, n: number, txsPerBlock: number, firstTime: number): Block[] {
  const priv = sha256(new TextEncoder().encode('bench/transfer-chain'));
  const pub = publicKeyOf(priv);
  const key = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, priv]), format: 'der', type: 'pkcs8' });
  let nonce = 0;
  return buildChain(params, n, firstTime, pub, (height) => {
    if (height < 3) return [];
    const txs: Transaction[] = [];
    for (let i = 0; i < txsPerBlock; i++) {
      nonce++;
      const to = sha256(Uint8Array.of(nonce & 0xff, (nonce >> 8) & 0xff, nonce >> 16));
      const unsigned = { chainId: params.chainId, kind: 'transfer', from: pub, nonce, fee: TRANSFER_FEE, to, amount: 1_000n } as const;
      // node:crypto's Ed25519 (RFC 8032, as signTx's): ~20× faster than signing in JS here.
      txs.push({ ...unsigned, signature: new Uint8Array(sign(null, signingHash(unsigned), key)) });
    }
    return txs;
  });
}

const TRANSFER_FEE = 5_000n;
/** DER of an Ed25519 PKCS#8 private key up to its 32-byte seed (RFC 8410). */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** Blocks 1..n, each with a coinbase for `miner` (the reward and the fees go to it) and then `txsAt(height)`, solved in this thread. */
function buildChain(params: NetworkParams, n: number, firstTime: number, miner: Uint8Array, txsAt: (height: number) => Transaction[]): Block[] {
  const blocks: Block[] = [];
  let prev: BlockHeader = params.genesis.header;
  let block1Time: number | undefined;
  for (let height = 1; height <= n; height++) {
    const body = txsAt(height);
    const txs = [makeCoinbase(params, height, miner, 0n), ...body];
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
