/**
 * A transaction built and signed outside any node, with the project's own chain code only
 * (what another wallet would do): the unsigned fields, the minimum relay fee for its encoded size
 * (sized with a zero signature of the same length, as wallet.ts does), `signTx`, `encodeTx`.
 */
import { SIGNATURE_BYTES, bytesToHex, decodeAddress, encodeTx, hashToHex, publicKeyOf, signTx, txid, txSize, type NetworkParams, type Transaction } from '../../src/chain/index.ts';

/** A signed transfer of `amount` base units from `priv`'s key to `to`, as raw hex, with its txid (display hex). */
export function signedTransfer(params: NetworkParams, priv: Uint8Array, to: string, amount: bigint, nonce: number): { hex: string; txid: string; tx: Transaction } {
  const unsigned = { kind: 'transfer' as const, chainId: params.chainId, from: publicKeyOf(priv), nonce, fee: 0n, to: decodeAddress(to, params.addressPrefix), amount };
  const size = txSize({ ...unsigned, signature: new Uint8Array(SIGNATURE_BYTES) } as Transaction);
  const tx = signTx({ ...unsigned, fee: params.minFeePerByte * BigInt(size) }, priv) as Transaction;
  return { hex: bytesToHex(encodeTx(tx)), txid: hashToHex(txid(tx)), tx };
}
