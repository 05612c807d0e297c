/**
 * Raw transactions in window.tabchain (api.ts) and over JSON-RPC (rpc/methods.ts): a transaction
 * built and signed elsewhere — another wallet, a script, a hardware key — handed over as the hex of
 * its encoding (`encodeTx`), as Bitcoin Core's `sendrawtransaction` / `decoderawtransaction` take it.
 *
 * The hex is hostile input: its type, length and alphabet are checked before a byte is decoded —
 * at most {@link maxRawTxHexChars} characters (twice the network's `maxTxBytes`), even, hex digits
 * only — then `decodeTx` bounds every field and the node's one transaction path (`processTx`,
 * source 'local': relayed by gossip when accepted, as the wallet's own) applies every rule.
 * @module
 */
import { decodeTx, hashToHex, hexToBytes, txid as txidOf, type Transaction } from '../chain/index.ts';
import { ApiError } from './errors.ts';
import type { ApiContext, TabchainApiExtended } from './api.ts';
import { apiMethod as api } from './api-input.ts';
import { txView } from './explorer.ts';

type RawMethods = Pick<TabchainApiExtended, 'sendRawTransaction' | 'decodeTransaction'>;

const HEX = /^[0-9a-fA-F]*$/;

/** Longest raw transaction hex a network takes: two characters a byte of its largest transaction. */
export function maxRawTxHexChars(params: { maxTxBytes: number }): number {
  return params.maxTxBytes * 2;
}

/**
 * Raw transaction hex → its decoded transaction; BAD_INPUT for anything that is not hex of whole
 * bytes, TX_TOO_LARGE past the network's size (checked on the string's length, before decoding),
 * MALFORMED for bytes that are not a canonical transaction.
 * @example parseRawTx(hex, node.params).kind // 'transfer'
 */
export function parseRawTx(hex: unknown, params: { maxTxBytes: number }): Transaction {
  if (typeof hex !== 'string') throw new ApiError('BAD_INPUT', `a raw transaction is a hex string, got a value of type ${hex === null ? 'null' : typeof hex}`);
  const max = maxRawTxHexChars(params);
  if (hex.length > max) throw new ApiError('TX_TOO_LARGE', `raw transaction hex of ${hex.length} characters is over the ${max} of a ${params.maxTxBytes}-byte transaction`);
  if (hex.length === 0) throw new ApiError('BAD_INPUT', 'the raw transaction hex is empty');
  if (hex.length % 2 !== 0) throw new ApiError('BAD_INPUT', `raw transaction hex has an odd number of characters (${hex.length})`);
  if (!HEX.test(hex)) throw new ApiError('BAD_INPUT', 'raw transaction hex may hold only the characters 0-9, a-f and A-F');
  return decodeTx(hexToBytes(hex.toLowerCase()), params.maxTxBytes);
}

/**
 * The raw-transaction methods over a context (api.ts createTabchainApi composes them).
 * @example const api = { ...rawMethods(ctx) }
 */
export function rawMethods(ctx: ApiContext): RawMethods {
  const { node, params, prefix } = ctx;
  return {
    sendRawTransaction: api(async (hex: string) => {
      const tx = parseRawTx(hex, params);
      if (tx.kind === 'coinbase') throw new ApiError('BAD_COINBASE', 'a coinbase comes only inside its block');
      const result = await node.processTx(tx, 'local');
      if (result.status === 'invalid') throw new ApiError(result.code ?? 'INVALID', `transaction ${result.txid || hashToHex(txidOf(tx))} refused`);
      // Accepted, or already known (pending or confirmed): either way the answer is its id.
      return result.txid;
    }),

    decodeTransaction: api(async (hex: string) => txView(parseRawTx(hex, params), prefix)),
  };
}
