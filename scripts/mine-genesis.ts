/**
 * Mines the genesis block of each network once: builds the header exactly as params.ts does
 * (buildGenesisBlock), searches the nonce with node:crypto (native SHA-256; scripts/ is not
 * src/chain, so Node APIs are fine here) and prints the values to commit in params.ts.
 *
 *   npx tsx scripts/mine-genesis.ts            # all networks
 *   npx tsx scripts/mine-genesis.ts dev test   # some
 *   npx tsx scripts/mine-genesis.ts --check    # only verify the committed nonces
 */
import { hash as nodeHash } from 'node:crypto';
import { NETWORKS, buildGenesisBlock } from '../src/chain/params.ts';
import { encodeHeader, blockHash, hashToHex, bitsToTarget, checkProofOfWork, bytesToHex, type NetworkName } from '../src/chain/index.ts';

const args = process.argv.slice(2);
const checkOnly = args.includes('--check');
const names = (args.filter((a) => !a.startsWith('--')) as NetworkName[]).filter(Boolean);
const selected = names.length ? names : (Object.keys(NETWORKS) as NetworkName[]);

function sha256d(b: Uint8Array): Buffer {
  return nodeHash('sha256', nodeHash('sha256', b, 'buffer'), 'buffer');
}

/** Target as 32 little-endian bytes, so a hash is compared byte by byte from the top. */
function targetLE(target: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((target >> BigInt(8 * i)) & 0xffn);
  return out;
}

function meets(h: Uint8Array, t: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) if (h[i] !== t[i]) return h[i] < t[i];
  return true;
}

let failed = false;
for (const name of selected) {
  const params = NETWORKS[name];
  if (!params) throw new Error(`unknown network ${name}`);
  if (checkOnly) {
    try {
      checkProofOfWork(params.genesisHash, params.genesisBits, params.powLimit);
      console.log(`${name}: ok, genesis ${hashToHex(params.genesisHash)} nonce ${params.genesis.header.nonce}`);
    } catch (e) {
      failed = true;
      console.log(`${name}: committed nonce ${params.genesis.header.nonce} does NOT meet bits: ${(e as Error).message}`);
    }
    continue;
  }
  const block = buildGenesisBlock(params, 0);
  const header = encodeHeader(block.header);
  const view = new DataView(header.buffer);
  const target = targetLE(bitsToTarget(params.genesisBits));
  const start = Date.now();
  let nonce = -1;
  for (let n = 0; n <= 0xffffffff; n++) {
    view.setUint32(76, n, true);
    if (meets(sha256d(header), target)) {
      nonce = n;
      break;
    }
  }
  if (nonce < 0) throw new Error(`${name}: no nonce in 2^32 (change the genesis time)`);
  // Cross-check with the consensus code before printing.
  const mined = buildGenesisBlock(params, nonce);
  const h = blockHash(mined.header);
  checkProofOfWork(h, params.genesisBits, params.powLimit);
  const secs = (Date.now() - start) / 1000;
  console.log(
    `${name}: genesisNonce: ${nonce}, // time ${mined.header.time} bits 0x${params.genesisBits.toString(16)} ` +
      `merkleRoot ${bytesToHex(mined.header.merkleRoot)} hash ${hashToHex(h)} (${secs.toFixed(1)} s, ${((nonce + 1) / Math.max(secs, 1e-3) / 1e6).toFixed(2)} MH/s)`,
  );
}
if (failed) process.exitCode = 1;
