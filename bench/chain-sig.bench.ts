/**
 * ed25519 throughput: signature verifications per second (what a node spends validating blocks
 * and mempool transactions) and signatures per second (the wallet), each over a 32-byte signing
 * hash, as for transactions —
 * - pure JS: the consensus verifier (@noble/curves, strict RFC 8032, cofactored);
 * - native first: the precheck then the platform's Ed25519 (OpenSSL through node:crypto in Node)
 *   — the fast half of src/chain/sig-precheck.ts's construction, whose YES is a YES of the pure-JS
 *   rule — on the calling thread and on a SignaturePool of worker_threads (one per core); 2,000
 *   signatures by 500 keys, as in a block.
 * The Chromium rows are in bench/chain-browser.bench.ts.
 */
import { loadavg } from 'node:os';
import type { BenchContext, BenchRow } from './run.ts';
import { generatePrivateKey, publicKeyOf, signMessage, verifySignature } from '../src/chain/keys.ts';
import { signTx, verifyTxSignature } from '../src/chain/tx.ts';
import { sampleItems, signatureRates } from './sig-measure.ts';

const WORKERS = 2;

export default async function chainSig(ctx: BenchContext): Promise<BenchRow[]> {
  const load = `load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`;
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
  const r = await signatureRates(sampleItems(2000), WORKERS, 2000);
  ctx.log(`native first: calling thread ${r.nativeCallingThread.toFixed(0)}/s, pool ${r.nativePool.toFixed(0)}/s (${r.transports.join('+')}); pure JS ${r.noble.toFixed(0)}/s (${load})`);
  return [
    { suite: 'chain', name: 'ed25519 verify/s', value: verify, unit: 'ops/s', note: '@noble/curves, strict RFC 8032' },
    { suite: 'chain', name: 'ed25519 sign/s', value: sign, unit: 'ops/s', note: '@noble/curves' },
    { suite: 'chain', name: 'tx signature verify/s', value: txVerify, unit: 'ops/s', note: 'encodeUnsignedTx + signingHash + verify' },
    { suite: 'chain', name: 'ed25519 verify/s, pure JS (Node)', value: r.noble, unit: 'ops/s', note: `500 keys; ${load}` },
    { suite: 'chain', name: 'ed25519 verify/s, native first, calling thread (Node)', value: r.nativeCallingThread, unit: 'ops/s', note: 'precheck + node:crypto (OpenSSL)' },
    { suite: 'chain', name: `ed25519 verify/s, native first, pool of ${WORKERS} (Node)`, value: r.nativePool, unit: 'ops/s', note: `SignaturePool, ${r.transports.join('+')}` },
    { suite: 'chain', name: 'native pool / pure JS (Node)', value: r.nativePool / r.noble, unit: '×' },
  ];
}
