/**
 * Header hashing speed of the consensus code: sha256d of an 80-byte header with @noble/hashes
 * (what src/chain uses to validate every header) next to node:crypto (OpenSSL, native) for scale.
 * The miner has its own kernels and benches; this is the validation path.
 */
import { createHash } from 'node:crypto';
import type { BenchContext, BenchRow } from './run.ts';
import { encodeHeader, sha256d, ZERO_HASH } from '../src/chain/index.ts';

const BATCH = 2000;

export default async function (ctx: BenchContext): Promise<BenchRow[]> {
  const header = encodeHeader({ version: 1, prevHash: ZERO_HASH, merkleRoot: ZERO_HASH, time: 1_795_305_600, bits: 0x1d55e63b, nonce: 0 });
  const view = new DataView(header.buffer);
  let nonce = 0;
  let sink = 0;

  const noble = ctx.rate(() => {
    for (let i = 0; i < BATCH; i++) {
      view.setUint32(76, nonce++, true);
      sink ^= sha256d(header)[31];
    }
  }, BATCH);

  const native = ctx.rate(() => {
    for (let i = 0; i < BATCH; i++) {
      view.setUint32(76, nonce++, true);
      const first = createHash('sha256').update(header).digest();
      sink ^= createHash('sha256').update(first).digest()[31];
    }
  }, BATCH);

  ctx.log(`sink ${sink}`); // keeps the hashes observable so nothing is optimised away
  return [
    { suite: 'chain', name: 'sha256d headers/s (@noble/hashes)', value: noble, unit: 'headers/s', note: 'validation path, pure JS' },
    { suite: 'chain', name: 'sha256d headers/s (node:crypto)', value: native, unit: 'headers/s', note: 'OpenSSL, for comparison' },
  ];
}
