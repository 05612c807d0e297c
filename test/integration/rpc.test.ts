/**
 * The node's JSON-RPC as an operator and a program use it: two `npm run node -- --rpc` processes
 * (A and B, B connected to A over TCP). Every RPC method is called through `npm run cli` and
 * through raw HTTP with the cookie (and refused without it); a transfer signed in this test — with
 * the project's own chain code, by a key no node holds — goes in through A's sendRawTransaction,
 * reaches B by gossip, is mined by B, and A sees it confirmed; /metrics is scraped on both.
 */
import { spawn } from 'node:child_process';
import { access, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COIN, encodeAddress, generatePrivateKey, getParams, publicKeyOf } from '../../src/chain/index.ts';
import { basicHeader, readCookie } from '../../src/node/rpc/auth.ts';
import { convertArg } from '../../src/node/rpc/cli.ts';
import { RPC_METHODS } from '../../src/node/rpc/methods.ts';
import { signedTransfer } from '../support/raw-tx.ts';
import { waitUntil } from '../support/wait.ts';
import { killNodes, ROOT, spawnNode, type NodeProcess } from './helpers/node-process.ts';

const params = getParams('test');
const TEST_TIMEOUT = 300_000;

interface RpcNode {
  proc: NodeProcess;
  dir: string;
  port: number;
  url: string;
  auth: string;
}

let A: RpcNode;
let B: RpcNode;
const dirs: string[] = [];

async function startRpcNode(extra: string[]): Promise<RpcNode> {
  const dir = await mkdtemp(join(tmpdir(), 'tabchain-rpc-'));
  dirs.push(dir);
  const proc = spawnNode(['--network', 'test', '--data', dir, '--rpc', '127.0.0.1:0', '--status-every', '2', ...extra]);
  const [, url, port] = await proc.waitLine(/^rpc listening on (http:\/\/127\.0\.0\.1:(\d+))$/);
  await proc.waitLine(/^rpc cookie /);
  return { proc, dir, port: Number(port), url, auth: basicHeader(await readCookie(join(dir, '.cookie'))) };
}

beforeAll(async () => {
  A = await startRpcNode([]);
  // Blocks B has to sync (its sync progress shows in its metrics), and coins for A to spend.
  await result(A, 'mineBlocks', [params.coinbaseMaturity + 2]);
  const [, tcp] = await A.proc.waitLine(/^listening on (\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/\S+)$/);
  B = await startRpcNode(['--bootstrap', tcp]);
  await B.proc.waitLine(/ peers 1 relays 0 synced yes$/);
  await A.proc.waitLine(/ peers 1 relays 0 synced yes$/);
}, TEST_TIMEOUT);

afterAll(async () => {
  killNodes();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** A JSON-RPC call over raw HTTP; `auth` null sends none. */
async function http(node: RpcNode, method: string, params: unknown[] = [], auth: string | null = node.auth): Promise<{ status: number; body: { result?: unknown; error?: { code: number; message: string; data?: { code: string } } } | null }> {
  const res = await fetch(node.url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(auth === null ? {} : { Authorization: auth }) },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const text = await res.text();
  return { status: res.status, body: res.status === 200 ? JSON.parse(text) : null };
}

/** A result over HTTP (fails on an error). */
async function result<T>(node: RpcNode, method: string, params: unknown[] = []): Promise<T> {
  const r = await http(node, method, params);
  if (r.body?.error || r.status !== 200) throw new Error(`${method}: HTTP ${r.status} ${JSON.stringify(r.body?.error)}`);
  return r.body!.result as T;
}

/** `npm run cli -- --data DIR --rpc PORT args…` (the script behind it, without npm's wrapper). */
function cli(node: RpcNode, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/node/rpc/cli.ts', '--data', node.dir, '--rpc', String(node.port), ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** One transport's call: the method with its arguments as command-line text; the result, or the error's code. */
type Call = (method: string, ...args: string[]) => Promise<{ result?: unknown; error?: string }>;

const viaCli =
  (node: RpcNode): Call =>
  async (method, ...args) => {
    const r = await cli(node, [method, ...args]);
    if (r.code === 0) {
      const out = r.stdout.replace(/\n$/, '');
      // A string result is printed as is (a balance "12345" stays text); anything else as JSON.
      return { result: /^[[{]|^(null|true|false)$/.test(out) ? (JSON.parse(out) as unknown) : out };
    }
    const m = /\(JSON-RPC error -?\d+, ([A-Z_]+)\)/.exec(r.stderr);
    if (!m) throw new Error(`cli ${method} failed: ${r.stderr}`);
    return { error: m[1] };
  };

const viaHttp =
  (node: RpcNode): Call =>
  async (method, ...args) => {
    const m = RPC_METHODS.get(method)!;
    const r = await http(node, method, args.map((a, i) => convertArg(m.params[i], a)));
    expect(r.status).toBe(200);
    return r.body!.error ? { error: r.body!.error.data!.code } : { result: r.body!.result };
  };

/**
 * Calls every RPC method once through `call` (ids chain from one call to the next) and returns the
 * names called. `tag` keeps the two transports' items apart.
 */
async function everyMethod(call: Call, tag: string, outside: { address: string; rawHex: string; rawTxid: string }): Promise<Set<string>> {
  const called = new Set<string>();
  const ok = async <T,>(method: string, ...args: string[]): Promise<T> => {
    called.add(method);
    const r = await call(method, ...args);
    if (r.error !== undefined) throw new Error(`${tag} ${method} ${args.join(' ')}: ${r.error}`);
    return r.result as T;
  };
  const refused = async (code: string, method: string, ...args: string[]) => {
    called.add(method);
    expect((await call(method, ...args)).error, `${tag} ${method}`).toBe(code);
  };

  expect(await ok('status')).toMatchObject({ network: 'test', synced: true, connection: 'connected' });
  expect(await ok('chainInfo')).toMatchObject({ network: 'test' });
  expect((await ok<unknown[]>('getPeers')).length).toBeGreaterThanOrEqual(1);
  await ok('startMining', '{"workers":1}');
  await ok('stopMining');
  const [hash] = await ok<string[]>('mineBlocks', '1');
  // The miner started above may have found blocks of its own before it stopped: ask.
  const { height } = await ok<{ height: number }>('status');
  await ok('waitForHeight', String(height), '30000');
  expect(await ok('getBlock', String(height))).toMatchObject({ height });
  await ok('latestBlocks', '3');
  await ok('headerTree', '2');
  const me = await ok<string>('address');
  expect(await ok<string>('balance')).toMatch(/^\d+$/);
  expect(await ok('account', me)).toMatchObject({ address: me });
  await ok('addressView', me, '{"blocks":5}');
  const { txid: created, itemId } = await ok<{ txid: string; itemId: string }>('createItem', `SKU-${tag}`, `Mug ${tag}`, '5');
  await ok('mintItem', itemId, '2');
  await ok('transferItem', itemId, outside.address, '1');
  await ok('burnItem', itemId, '1');
  const offer = JSON.stringify({ give: { asset: itemId, amount: '1' }, want: { asset: 'coin', amount: '100' }, lots: 1 });
  const offerId = await ok<string>('createOffer', offer);
  await ok('createOfferUntil', JSON.stringify({ ...JSON.parse(offer), expiresAtHeight: height + 100 }));
  await refused('SELF_TRADE', 'acceptOffer', offerId, '1');
  await ok('cancelOffer', offerId);
  expect(await ok('previewTx', JSON.stringify({ kind: 'send', to: outside.address, amount: '5' }))).toMatchObject({ error: null });
  await ok('fees');
  await ok('send', outside.address, '1000');
  expect((await ok<{ size: number }>('getMempool', '100')).size).toBeGreaterThanOrEqual(1);
  expect(await ok('getTransaction', created)).toMatchObject({ txid: created });
  expect(await ok('txStatus', created)).toMatchObject({ state: 'pending' });
  await ok('rebroadcast');
  expect(await ok('verifyChain')).toMatchObject({ discrepancies: [] });
  await ok('mineBlocks', '1');
  expect(await ok('txStatus', created)).toMatchObject({ state: 'confirmed' });
  expect((await ok<unknown[]>('outbox')).length).toBeGreaterThanOrEqual(7);
  await ok('walletTxs', '{"blocks":10}');
  expect(await ok<{ sku: string }[]>('inventory')).toEqual(expect.arrayContaining([expect.objectContaining({ sku: `SKU-${tag}` })]));
  expect(await ok<unknown[]>('allItems')).toEqual(expect.arrayContaining([expect.objectContaining({ sku: `SKU-${tag}` })]));
  await ok('offers');
  await ok('offerViews');
  expect(await ok('search', hash)).toMatchObject({ type: 'block', hash });
  expect((await ok<{ hits: unknown[] }>('searchAll', `SKU-${tag}`)).hits.length).toBeGreaterThanOrEqual(1);
  expect(await ok('decodeTransaction', outside.rawHex)).toMatchObject({ txid: outside.rawTxid, kind: 'transfer' });
  expect(await ok('sendRawTransaction', outside.rawHex)).toBe(outside.rawTxid); // confirmed already: the same id
  await refused('BAD_INPUT', 'sendRawTransaction', 'not hex');
  const exported = await ok<unknown>('exportWallet', 'correct horse battery');
  // The backup is JSON text: the CLI prints it as is, so the test's reading of its output parsed it.
  const backup = typeof exported === 'string' ? exported : JSON.stringify(exported, null, 2);
  await refused('CONFIRM_REQUIRED', 'importWallet', backup, 'correct horse battery', '{}');
  expect(await ok('importWallet', backup, 'correct horse battery', '{"confirm":true}')).toMatchObject({ address: me, previous: me });
  return called;
}

describe('npm run node -- --rpc', () => {
  it(
    'takes a transaction signed outside any node, which a second node mines and the first sees confirmed',
    async () => {
      const priv = generatePrivateKey();
      const address = encodeAddress(publicKeyOf(priv), params.addressPrefix);
      await result(A, 'send', [address, (10n * COIN).toString()]);
      await result(A, 'mineBlocks', [1]);
      expect(await result(A, 'balance', [address])).toBe((10n * COIN).toString());

      const bAddress = await result<string>(B, 'address');
      const raw = signedTransfer(params, priv, bAddress, 3n * COIN, 1);
      expect(await result(A, 'sendRawTransaction', [raw.hex])).toBe(raw.txid);
      await waitUntil(async () => (await result<{ txs: { txid: string }[] }>(B, 'getMempool')).txs.some((t) => t.txid === raw.txid), 'the raw transaction in B\'s mempool');
      const [mined] = await result<string[]>(B, 'mineBlocks', [1]);
      expect((await result<{ txs: { txid: string }[] }>(B, 'getBlock', [mined])).txs.map((t) => t.txid)).toContain(raw.txid);
      await waitUntil(async () => (await result<{ state: string }>(A, 'txStatus', [raw.txid])).state === 'confirmed', 'A sees it confirmed');
      expect(await result(A, 'getTransaction', [raw.txid])).toMatchObject({ txid: raw.txid });
      expect(await result(A, 'balance', [address])).toBe((7n * COIN - raw.tx.fee).toString());

      // Every method through the CLI, then through raw HTTP; the table of methods is covered.
      const outside = { address, rawHex: raw.hex, rawTxid: raw.txid };
      const byCli = await everyMethod(viaCli(A), 'cli', outside);
      const byHttp = await everyMethod(viaHttp(A), 'http', outside);
      const all = [...RPC_METHODS.keys()].sort();
      expect([...byCli].sort()).toEqual(all);
      expect([...byHttp].sort()).toEqual(all);

      // Without the cookie, or with another's: 401 for every method, and nothing ran.
      const height = (await result<{ height: number }>(A, 'status')).height;
      for (const method of all) {
        expect((await http(A, method, [], null)).status, method).toBe(401);
        expect((await http(A, method, [], B.auth)).status, method).toBe(401);
      }
      expect((await result<{ height: number }>(A, 'status')).height).toBe(height);
      const noNode = await cli({ ...A, port: 1 }, ['status']);
      expect(noNode.code).toBe(1);
      expect(noNode.stderr).toMatch(/cannot reach the node's RPC at http:\/\/127\.0\.0\.1:1\/.*is the node running with --rpc/);
    },
    TEST_TIMEOUT,
  );

  it('serves Prometheus metrics behind the same auth, and removes the cookie on a clean stop', async () => {
    expect((await fetch(`${A.url}/metrics`)).status).toBe(401);
    const scrape = async (n: RpcNode) => {
      const res = await fetch(`${n.url}/metrics`, { headers: { Authorization: n.auth } });
      expect(res.status).toBe(200);
      return res.text();
    };
    const a = await scrape(A);
    const height = (await result<{ height: number }>(A, 'status')).height;
    expect(a).toMatch(new RegExp(`^tabchain_height ${height}$`, 'm'));
    expect(a).toMatch(/^tabchain_peers\{kind="tcp"\} 1$/m);
    expect(a).toMatch(/^tabchain_blocks_processed_total\{status="extended",source="miner"\} \d+$/m);
    expect(a).toMatch(/^tabchain_blocks_processed_total\{status="extended",source="peer"\} [1-9]\d*$/m); // B's block
    expect(a).toMatch(/^tabchain_txs_processed_total\{status="accepted",source="local"\} [1-9]\d*$/m);
    expect(a).toMatch(/^tabchain_synced 1$/m);
    expect(a).toMatch(/^tabchain_mining 0$/m);
    expect(a).toMatch(/^tabchain_mempool_bytes \d+$/m);
    expect(a).toMatch(/^tabchain_process_resident_memory_bytes \d+/m);
    const b = await scrape(B);
    expect(b).toMatch(/^tabchain_txs_processed_total\{status="accepted",source="peer"\} [1-9]\d*$/m); // the raw transaction, by gossip
    expect(b).toMatch(/^tabchain_sync_progress\{phase="(headers|blocks)",of="done"\} \d+$/m);

    expect((await stat(join(A.dir, '.cookie'))).mode & 0o777).toBe(0o600);
    A.proc.child.kill('SIGTERM');
    expect(await A.proc.exited).toBe(0);
    await expect(access(join(A.dir, '.cookie'))).rejects.toThrow(/ENOENT/);
  }, TEST_TIMEOUT);
});
