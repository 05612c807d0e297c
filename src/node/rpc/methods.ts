/**
 * The methods of the node's JSON-RPC (rpc/server.ts) and of `npm run cli` (rpc/cli.ts): one table,
 * so the server, the CLI's argument conversion and its `--help` never disagree.
 *
 * Every method of `window.tabchain` that makes sense without a page — all of them but `subscribe`
 * (a callback), the browser's profile list (`profiles`, `deleteProfile`, `labelProfile`), its
 * storage quota (`storage`) and the tab's isolate switch (`setIsolated`, `isolated`) — under the
 * same name with the same arguments, positional (`params` is an array, as Bitcoin Core's RPC
 * takes it), plus the operator's methods: `getBlock`, `getTransaction`, `getMempool`, `getPeers`
 * and the raw transaction calls. Arguments are checked here for count and JSON type (−32602
 * BAD_INPUT), then by the API itself for their values.
 * @module
 */
import type { TabchainApiExtended } from '../api.ts';
import { ApiError, showValue } from '../errors.ts';

/** JSON type of an argument (the CLI converts its text to it). */
export type RpcParamKind = 'string' | 'integer' | 'boolean' | 'object' | 'hashOrHeight';

/** One positional argument of a method. */
export interface RpcParam {
  name: string;
  kind: RpcParamKind;
  optional?: true;
}

/** One method: its arguments, its line in `--help`, and what it calls. */
export interface RpcMethod {
  params: readonly RpcParam[];
  help: string;
  call(ctx: RpcContext, args: unknown[]): Promise<unknown>;
}

/** What the methods run against: the node's API and its peer list. */
export interface RpcContext {
  api: TabchainApiExtended;
}

/** Longest wait of waitForHeight over RPC, ms: a caller holds one of the bounded connections meanwhile. */
export const RPC_MAX_WAIT_MS = 600_000;

const p = (name: string, kind: RpcParamKind, optional?: true): RpcParam => (optional ? { name, kind, optional } : { name, kind });
const S = (name: string) => p(name, 'string');
const I = (name: string) => p(name, 'integer');
const O = (name: string) => p(name, 'object');
const opt = (q: RpcParam): RpcParam => ({ ...q, optional: true });

/** A method that passes its checked arguments to the API method of the same name. */
function same(name: keyof TabchainApiExtended, params: RpcParam[], help: string): [string, RpcMethod] {
  return [
    name,
    {
      params,
      help,
      call: ({ api }, args) => (api[name] as (...a: unknown[]) => Promise<unknown>)(...args),
    },
  ];
}

/** Every RPC method by name (a Map: a name such as `__proto__` or `toString` finds nothing). */
export const RPC_METHODS: ReadonlyMap<string, RpcMethod> = new Map<string, RpcMethod>([
  // The node and its chain
  same('status', [], 'node status: network, height, tip, synced, mining, hashrate, mempool, peers'),
  same('chainInfo', [], 'chain numbers: height, work, difficulty, time, orphans and held blocks'),
  same('startMining', [opt(O('opts'))], 'start mining to this node\'s address; opts { "workers": N }'),
  same('stopMining', [], 'stop mining'),
  same('mineBlocks', [I('n')], 'mine n blocks now (1..10000); returns their hashes'),
  [
    'waitForHeight',
    {
      params: [I('height'), opt(I('timeoutMs'))],
      help: `wait until the chain reaches height (timeoutMs ≤ ${RPC_MAX_WAIT_MS}, default 60000)`,
      call: ({ api }, [height, timeoutMs]) => {
        if (typeof timeoutMs === 'number' && timeoutMs > RPC_MAX_WAIT_MS) throw new ApiError('BAD_INPUT', `timeoutMs is at most ${RPC_MAX_WAIT_MS} over RPC`);
        return api.waitForHeight(height as number, timeoutMs as number | undefined);
      },
    },
  ],
  [
    'getBlock',
    { params: [p('hashOrHeight', 'hashOrHeight')], help: 'a block by hash or height, with its transactions (null if unknown)', call: ({ api }, [h]) => api.block(h as string | number) },
  ],
  same('latestBlocks', [opt(I('count'))], 'the newest blocks, one line each'),
  same('headerTree', [opt(I('depth'))], 'the header tree near the tip, side branches included'),
  ['getTransaction', { params: [S('txid')], help: 'a transaction by txid, confirmed or pending (null if unknown)', call: ({ api }, [id]) => api.tx(id as string) }],
  same('verifyChain', [], 'replay the stored chain from genesis; lists where store or node disagree (empty: consistent)'),
  same('txStatus', [S('txid')], 'pending, confirmed (with confirmations), rejected or unknown'),
  [
    'getMempool',
    {
      params: [opt(I('limit'))],
      help: 'mempool size and bytes, and its transactions by fee rate (limit 1..1000, default 50)',
      call: async ({ api }, [limit]) => {
        const [status, info, txs] = await Promise.all([api.status(), api.chainInfo(), api.mempoolTxs(limit as number | undefined)]);
        return { size: status.mempool, bytes: info.mempoolBytes, txs };
      },
    },
  ],
  ['getPeers', { params: [], help: 'connected peers: id, transport, round trip, score', call: async ({ api }) => (await api.status()).peers }],
  same('sendRawTransaction', [S('hex')], 'submit a signed transaction (hex of its encoding); returns its txid'),
  same('decodeTransaction', [S('hex')], 'decode a raw transaction\'s hex without submitting it'),
  same('search', [S('query')], 'the best match of a height, id, address, SKU or name'),
  same('searchAll', [S('query')], 'every match (at most 20) of a height, id, address, SKU or name'),
  // What the chain holds
  same('balance', [opt(S('address'))], 'spendable coins (base units) of an address, ours by default'),
  same('account', [opt(S('address'))], 'balance, immature, nonce, pending and maturing coins of an address'),
  same('addressView', [S('address'), opt(O('opts'))], 'an address\'s account, holdings, offers and recent transactions'),
  same('inventory', [opt(S('address'))], 'items an address holds, ours by default'),
  same('allItems', [], 'every item on the chain'),
  same('offers', [], 'open offers'),
  same('offerViews', [], 'open offers with their items\' names'),
  // The wallet
  same('address', [], 'this node\'s address'),
  same('send', [S('to'), S('amount')], 'send coins (amount: decimal string of base units); returns the txid'),
  same('createItem', [S('sku'), S('name'), I('quantity')], 'register goods; returns { txid, itemId }'),
  same('mintItem', [S('itemId'), I('quantity')], 'restock an item we issued; returns the txid'),
  same('transferItem', [S('itemId'), S('to'), I('quantity')], 'ship goods to an address; returns the txid'),
  same('burnItem', [S('itemId'), I('quantity')], 'consume goods we hold; returns the txid'),
  same('createOffer', [O('offer')], 'offer { give: {asset, amount}, want: {asset, amount}, lots }; returns the offerId'),
  same('createOfferUntil', [O('offer')], 'createOffer with expiresAtHeight (a last height, or null)'),
  same('acceptOffer', [S('offerId'), I('lots')], 'take lots of an offer; returns the txid'),
  same('cancelOffer', [S('offerId')], 'withdraw our offer; returns the txid'),
  same('previewTx', [O('intent')], 'the fee and the refusal a wallet call would meet now; intent { kind, …its arguments }'),
  same('fees', [], 'the minimum fee of each wallet call'),
  same('outbox', [], 'our transactions and their state'),
  same('walletTxs', [opt(O('opts'))], 'our transactions and rewards in recent blocks; opts { blocks, rewards }'),
  same('rebroadcast', [], 'send our pending transactions to the network again'),
  same('exportWallet', [S('passphrase')], 'the wallet key as an encrypted backup (JSON text)'),
  same('importWallet', [S('backup'), S('passphrase'), O('opts')], 'replace the wallet key by a backup\'s; opts { "confirm": true }'),
]);

function kindOk(kind: RpcParamKind, v: unknown): boolean {
  switch (kind) {
    case 'string':
      return typeof v === 'string';
    case 'integer':
      return typeof v === 'number' && Number.isSafeInteger(v);
    case 'boolean':
      return typeof v === 'boolean';
    case 'object':
      return typeof v === 'object' && v !== null && !Array.isArray(v);
    case 'hashOrHeight':
      return typeof v === 'string' || (typeof v === 'number' && Number.isSafeInteger(v));
  }
}

/**
 * JSON-RPC `params` → the method's positional arguments, or BAD_INPUT naming what is wrong: not an
 * array, too few or too many, or an argument of the wrong JSON type. `null` stands for an
 * optional argument left out.
 * @example checkParams('send', RPC_METHODS.get('send')!, ['tab1…', '100']) // ['tab1…', '100']
 */
export function checkParams(name: string, m: RpcMethod, params: unknown): unknown[] {
  if (params !== undefined && !Array.isArray(params)) throw new ApiError('BAD_INPUT', `${name} takes its arguments as an array (positional), not ${showValue(params).slice(0, 80)}`);
  const args: unknown[] = params ?? [];
  const required = m.params.filter((q) => !q.optional).length;
  if (args.length < required || args.length > m.params.length) {
    const shape = m.params.map((q) => (q.optional ? `[${q.name}]` : q.name)).join(', ');
    throw new ApiError('BAD_INPUT', `${name} takes ${required === m.params.length ? required : `${required} to ${m.params.length}`} argument(s) (${shape}), got ${args.length}`);
  }
  return args.map((v, i) => {
    const q = m.params[i];
    if ((v === null || v === undefined) && q.optional) return undefined;
    if (!kindOk(q.kind, v)) throw new ApiError('BAD_INPUT', `${name}: ${q.name} must be ${q.kind === 'hashOrHeight' ? 'a block hash or a height' : `of type ${q.kind}`}, got ${showValue(v).slice(0, 80)}`);
    return v;
  });
}
