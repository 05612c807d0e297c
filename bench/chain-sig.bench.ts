/**
 * ed25519 throughput of the consensus core (@noble/curves, pure JS): signature verifications per
 * second (what a node spends validating blocks and mempool transactions) and signatures per second
 * (the wallet). Each operation is over a 32-byte signing hash, as for transactions.
 */
import type { BenchContext, BenchRow } from './run.ts';
import { generatePrivateKey, publicKeyOf, signMessage, verifySignature } from '../src/chain/keys.ts';
import { signTx, verifyTxSignature } from '../src/chain/tx.ts';

export default async function chainSig(ctx: BenchContext): Promise<BenchRow[]> {
  const priv = generatePrivateKey();
  const pub = publicKeyOf(priv);
  const msgs = Array.from({ length: 64 }, (_, i) => new Uint8Array(32).fill(i));
  const sigs = msgs.map((m) => signMessage(m, priv));
  let i = 0;

  const verify = ctx.rate(() => {
    const k = i++ & 63;
    if (!verifySignature(sigs[k], msgs[k], pub)) throw new Error('verify failed');
  });
  const sign = ctx.rate(() => {
    signMessage(msgs[i++ & 63], priv);
  });
  const tx = signTx({ chainId: 1, kind: 'transfer', from: pub, nonce: 1, fee: 1000n, to: pub, amount: 5n }, priv);
  const txVerify = ctx.rate(() => {
    if (!verifyTxSignature(tx)) throw new Error('verify failed');
  });
  ctx.log(`ed25519 verify ${verify.toFixed(0)}/s, sign ${sign.toFixed(0)}/s, tx verify (encode + hash + verify) ${txVerify.toFixed(0)}/s`);
  return [
    { suite: 'chain', name: 'ed25519 verify/s', value: verify, unit: 'ops/s', note: '@noble/curves, strict RFC 8032' },
    { suite: 'chain', name: 'ed25519 sign/s', value: sign, unit: 'ops/s', note: '@noble/curves' },
    { suite: 'chain', name: 'tx signature verify/s', value: txVerify, unit: 'ops/s', note: 'encodeUnsignedTx + signingHash + verify' },
  ];
}
