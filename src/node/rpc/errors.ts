/**
 * JSON-RPC error codes of the node's RPC (rpc/server.ts). Every failure of a method is an
 * ApiError with a stable string code (errors.ts); over JSON-RPC it becomes an error object whose
 * `code` is the number from the table below and whose `data.code` is that string, so a program can
 * match on either. docs/OPERATORS.md prints this table.
 *
 * - Malformed arguments (wrong type or count, bad amount, id, address or hex): −32602 Invalid
 *   params, as JSON-RPC 2.0 defines it; `data.code` says which (BAD_INPUT, BAD_AMOUNT, …).
 * - A consensus rule refused (a RuleError code): −1000 and below, one number a code, in the order
 *   of RULE_CODES — fixed here by hand, so adding a code never renumbers another.
 * - Wallet and node conditions: −1100 and below; storage failures: −1200 and below.
 * - Any other code (one this table does not know yet): −32000, the JSON-RPC "server error" slot,
 *   with the code in `data.code`. INTERNAL (a bug): −32603 Internal error.
 * Numbers never change once released; a new code gets a new number.
 * @module
 */
import type { RuleCode } from '../../chain/index.ts';
import type { StorageCode } from '../../storage/errors.ts';

/** JSON-RPC 2.0's own codes. */
export const JSONRPC_PARSE_ERROR = -32700;
export const JSONRPC_INVALID_REQUEST = -32600;
export const JSONRPC_METHOD_NOT_FOUND = -32601;
export const JSONRPC_INVALID_PARAMS = -32602;
export const JSONRPC_INTERNAL_ERROR = -32603;
/** An application code this table has no number for (data.code carries it). */
export const RPC_OTHER_ERROR = -32000;

/** Codes that mean "the caller's arguments are wrong": all −32602. */
export const INVALID_PARAMS_CODES: readonly string[] = ['BAD_INPUT', 'BAD_AMOUNT', 'BAD_ID', 'BAD_ADDRESS'];

/** Consensus rule codes (the ones not in INVALID_PARAMS_CODES). */
export const RULE_RPC_CODES: Record<Exclude<RuleCode, 'BAD_AMOUNT' | 'BAD_ADDRESS'>, number> = {
  BAD_POW: -1001,
  BAD_BITS: -1002,
  TIME_TOO_OLD: -1003,
  TIME_TOO_NEW: -1004,
  BAD_MERKLE: -1005,
  DUPLICATE_TX: -1006,
  BAD_SIGNATURE: -1007,
  BAD_NONCE: -1008,
  INSUFFICIENT_FUNDS: -1009,
  UNKNOWN_ITEM: -1010,
  NOT_ISSUER: -1011,
  OFFER_NOT_FOUND: -1012,
  OFFER_EXPIRED: -1013,
  LOTS_EXCEEDED: -1014,
  BAD_COINBASE: -1015,
  BLOCK_TOO_LARGE: -1016,
  TX_TOO_LARGE: -1017,
  WRONG_CHAIN: -1018,
  MALFORMED: -1019,
  BAD_PREV: -1020,
  BAD_VERSION: -1021,
  ITEM_EXISTS: -1022,
  BAD_FEE: -1024,
  NOT_MAKER: -1026,
  SELF_TRADE: -1027,
  IMMATURE: -1028,
};

/** The wallet's and the node's own conditions (errors.ts API_CODES and FullNode's nodeError codes). */
export const NODE_RPC_CODES: Record<string, number> = {
  BAD_PASSPHRASE: -1101,
  BAD_BACKUP: -1102,
  CONFIRM_REQUIRED: -1103,
  TIMEOUT: -1104,
  NOT_READY: -1105,
  STOPPED: -1106,
  NO_MINER_KEY: -1107,
  INVALID_STATE: -1108,
  WRONG_GENESIS: -1109,
};

/** Storage failures (StorageError codes). */
export const STORAGE_RPC_CODES: Record<StorageCode, number> = {
  QUOTA_EXCEEDED: -1201,
  CLOSED: -1202,
  CORRUPT: -1203,
  SCHEMA_TOO_NEW: -1204,
  LOCKED: -1205,
  WRONG_NETWORK: -1206,
  INVALID: -1207, // also a transaction refused without a rule code (txStatus's 'INVALID')
  NOT_FOUND: -1208,
  UNAVAILABLE: -1209,
  IO: -1210,
};

/**
 * The JSON-RPC error code of an API error code.
 * @example rpcCodeOf('INSUFFICIENT_FUNDS') // -1009
 */
export function rpcCodeOf(code: string): number {
  if (INVALID_PARAMS_CODES.includes(code)) return JSONRPC_INVALID_PARAMS;
  if (code === 'INTERNAL') return JSONRPC_INTERNAL_ERROR;
  if (Object.hasOwn(RULE_RPC_CODES, code)) return RULE_RPC_CODES[code as keyof typeof RULE_RPC_CODES];
  if (Object.hasOwn(NODE_RPC_CODES, code)) return NODE_RPC_CODES[code];
  if (Object.hasOwn(STORAGE_RPC_CODES, code)) return STORAGE_RPC_CODES[code as StorageCode];
  return RPC_OTHER_ERROR;
}
