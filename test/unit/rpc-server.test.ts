/**
 * The node's JSON-RPC server (src/node/rpc/server.ts) over a real FullNode and its API, attacked
 * on every input path: no or wrong credentials, bad JSON, unknown and prototype method names,
 * wrong argument types and counts, a body over the cap (declared, and streamed without a length),
 * batches empty, of one, at and over the limit, more sockets than allowed — each answered with a
 * JSON-RPC error or 401/413, and the server still answers afterwards. Also: the error-code table
 * and /metrics.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { COIN, RULE_CODES } from '../../src/chain/index.ts';
import { STORAGE_CODES } from '../../src/storage/errors.ts';
import { basicHeader, authChecker } from '../../src/node/rpc/auth.ts';
import { JSONRPC_INVALID_PARAMS, NODE_RPC_CODES, RPC_OTHER_ERROR, rpcCodeOf } from '../../src/node/rpc/errors.ts';
import { RPC_MAX_BATCH, RPC_MAX_BODY_BYTES, startRpcServer, type RpcServer } from '../../src/node/rpc/server.ts';
import { nodeMetrics } from '../../src/node/rpc/metrics.ts';
import { startRig, stopAll } from './helpers/wallet-node.ts';
import { waitUntil } from '../support/wait.ts';

const creds = { user: '__cookie__', password: 'a'.repeat(64) };
const AUTH = basicHeader(creds);
let server: RpcServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
  await stopAll();
});

async function start(opts: { maxConnections?: number } = {}): Promise<RpcServer> {
  const rig = await startRig();
  const metrics = nodeMetrics(rig.node);
  server = await startRpcServer({ host: '127.0.0.1', port: 0, credentials: [creds], context: { api: rig.profiles[0].api }, metrics: metrics.registry, ...opts });
  return server;
}

async function post(body: string, headers: Record<string, string> = { Authorization: AUTH }): Promise<{ status: number; json: unknown; headers: Headers }> {
  const res = await fetch(server!.url, { method: 'POST', headers, body });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as unknown) : null, headers: res.headers };
}

const call = (method: string, params?: unknown, id: number | string = 1) => JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });

interface RpcError {
  error: { code: number; message: string; data?: { code: string } };
}

describe('JSON-RPC server', () => {
  it('answers an authenticated call and refuses every other caller with 401, reading nothing', async () => {
    await start();
    const ok = await post(call('status'));
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ jsonrpc: '2.0', id: 1, result: { network: 'test', height: 0 } });
    const bad: Record<string, string>[] = [
      {},
      { Authorization: basicHeader({ ...creds, password: 'b'.repeat(64) }) },
      { Authorization: basicHeader({ user: 'root', password: creds.password }) },
      { Authorization: `Bearer ${creds.password}` },
      { Authorization: 'Basic !!!' },
      { Authorization: `Basic ${'A'.repeat(4000)}` },
    ];
    for (const headers of bad) {
      const r = await post(call('mineBlocks', [1]), headers);
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toMatch(/^Basic/);
    }
    expect(((await post(call('status'))).json as { result: { height: number } }).result.height).toBe(0); // nothing was mined
  });

  it('checks credentials exactly', () => {
    const check = authChecker([creds, { user: 'op', password: 'p'.repeat(16) }]);
    expect(check(AUTH)).toBe(true);
    expect(check(basicHeader({ user: 'op', password: 'p'.repeat(16) }))).toBe(true);
    expect(check(basicHeader({ user: 'op', password: 'p'.repeat(15) }))).toBe(false);
    expect(check(undefined)).toBe(false);
    expect(check(`${AUTH}x`)).toBe(false);
  });

  it('answers bad JSON, bad requests, unknown methods and wrong arguments with JSON-RPC errors', async () => {
    await start();
    const expectError = async (body: string, code: number, dataCode?: string) => {
      const r = await post(body);
      expect(r.status, body.slice(0, 60)).toBe(200);
      expect((r.json as RpcError).error.code, body.slice(0, 60)).toBe(code);
      if (dataCode) expect((r.json as RpcError).error.data?.code).toBe(dataCode);
      return (r.json as RpcError).error;
    };
    await expectError('{"jsonrpc":"2.0","id":1,"method":', -32700, 'BAD_INPUT');
    await expectError('', -32700);
    await expectError('null', -32600);
    await expectError('42', -32600);
    await expectError('"status"', -32600);
    await expectError('{"id":1,"method":"status"}', -32600); // no jsonrpc: "2.0"
    await expectError(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 5 }), -32600);
    for (const m of ['nope', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'subscribe', 'profiles', 'deleteProfile', 'setIsolated']) {
      await expectError(call(m), -32601);
    }
    const e1 = await expectError(call('mineBlocks', ['3']), JSONRPC_INVALID_PARAMS, 'BAD_INPUT');
    expect(e1.message).toMatch(/n must be of type integer/);
    await expectError(call('mineBlocks', [1.5]), JSONRPC_INVALID_PARAMS, 'BAD_INPUT');
    await expectError(call('mineBlocks', []), JSONRPC_INVALID_PARAMS, 'BAD_INPUT');
    await expectError(call('mineBlocks', [1, 2]), JSONRPC_INVALID_PARAMS, 'BAD_INPUT');
    await expectError(call('mineBlocks', { n: 1 }), JSONRPC_INVALID_PARAMS, 'BAD_INPUT');
    await expectError(call('mineBlocks', [0]), JSONRPC_INVALID_PARAMS, 'BAD_INPUT'); // the API's own check
    await expectError(call('mineBlocks', [1e300]), JSONRPC_INVALID_PARAMS, 'BAD_INPUT');
    await expectError(call('send', ['x', 5]), JSONRPC_INVALID_PARAMS, 'BAD_INPUT');
    await expectError(call('send', ['x', '5']), JSONRPC_INVALID_PARAMS, 'BAD_ADDRESS');
    await expectError(call('getTransaction', ['zz']), JSONRPC_INVALID_PARAMS, 'BAD_ID');
    await expectError(call('getBlock', [true]), JSONRPC_INVALID_PARAMS, 'BAD_INPUT');
    await expectError(call('createOffer', [[1]]), JSONRPC_INVALID_PARAMS, 'BAD_INPUT');
    await expectError(call('waitForHeight', [5, 10 ** 9]), JSONRPC_INVALID_PARAMS, 'BAD_INPUT');
    await expectError(call('sendRawTransaction', ['0'.repeat(RPC_MAX_BODY_BYTES / 2)]), rpcCodeOf('TX_TOO_LARGE'), 'TX_TOO_LARGE');
    await expectError(call('sendRawTransaction', ['xy']), JSONRPC_INVALID_PARAMS, 'BAD_INPUT');
    await expectError(call('decodeTransaction', ['00ff']), rpcCodeOf('MALFORMED'), 'MALFORMED');
    // A consensus refusal: its own number, its code in data.
    const address = ((await post(call('address'))).json as { result: string }).result;
    await expectError(call('send', [address, (1000n * COIN).toString()]), rpcCodeOf('INSUFFICIENT_FUNDS'), 'INSUFFICIENT_FUNDS');
    // A notification (no id) is answered with no content, its error included.
    expect((await post(JSON.stringify({ jsonrpc: '2.0', method: 'nope' }))).status).toBe(204);
    // Still serving.
    expect((await post(call('status'))).json).toMatchObject({ result: { height: 0 } });
  });

  it('bounds batches: empty and oversized ones are refused whole, others answered as arrays', async () => {
    await start();
    const batch = (n: number) => JSON.stringify(Array.from({ length: n }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'balance' })));
    expect(((await post('[]')).json as RpcError).error.code).toBe(-32600);
    const over = await post(batch(RPC_MAX_BATCH + 1));
    expect((over.json as RpcError).error).toMatchObject({ code: -32600, data: { code: 'BAD_INPUT' } });
    expect((over.json as RpcError).error.message).toMatch(new RegExp(`${RPC_MAX_BATCH + 1} requests is over the limit of ${RPC_MAX_BATCH}`));
    const one = await post(batch(1));
    expect(one.json).toEqual([{ jsonrpc: '2.0', id: 0, result: '0' }]);
    const full = (await post(batch(RPC_MAX_BATCH))).json as { id: number; result: string }[];
    expect(full).toHaveLength(RPC_MAX_BATCH);
    expect(full.every((r) => r.result === '0')).toBe(true);
    const mixed = (await post(JSON.stringify([{ jsonrpc: '2.0', id: 'a', method: 'address' }, 7, { jsonrpc: '2.0', method: 'status' }]))).json as RpcError[];
    expect(mixed).toHaveLength(2); // the notification gets no answer
    expect(mixed[1].error.code).toBe(-32600);
  });

  it('refuses a body over the cap with 413: by its Content-Length, or while it streams without one', async () => {
    await start();
    const big = `[${'"x",'.repeat(RPC_MAX_BODY_BYTES / 4)}"x"]`;
    expect((await post(big)).status).toBe(413);
    // Chunked, no length: refused once the bytes read pass the cap; the rest is never read.
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(server!.url, { method: 'POST', headers: { Authorization: AUTH, 'Transfer-Encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let sent = 0;
      const pump = () => {
        // Up to 4 × the cap; the server answers (and closes) long before.
        while (sent < 4 * RPC_MAX_BODY_BYTES && !req.destroyed) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    expect(status).toBe(413);
    expect((await post(call('status'))).json).toMatchObject({ result: { height: 0 } });
  });

  it('answers other paths and methods with 404 / 405, and serves /metrics behind the same auth', async () => {
    await start();
    expect((await fetch(server!.url, { headers: { Authorization: AUTH } })).status).toBe(405);
    expect((await fetch(`${server!.url}/other`, { headers: { Authorization: AUTH } })).status).toBe(404);
    expect((await fetch(`${server!.url}/metrics`)).status).toBe(401);
    await post(call('mineBlocks', [2]));
    const res = await fetch(`${server!.url}/metrics`, { headers: { Authorization: AUTH } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/^tabchain_height 2$/m);
    expect(text).toMatch(/^tabchain_blocks_processed_total\{status="extended",source="miner"\} 2$/m);
    expect(text).toMatch(/^tabchain_mempool_transactions 0$/m);
    expect(text).toMatch(/^tabchain_synced 1$/m);
  });

  it('closes sockets past maxConnections and keeps serving the others', async () => {
    await start({ maxConnections: 2 });
    const open = [connect(Number(new URL(server!.url).port), '127.0.0.1'), connect(Number(new URL(server!.url).port), '127.0.0.1')];
    await waitUntil(async () => (await new Promise<number>((r) => server!.server.getConnections((_e, n) => r(n)))) === 2, 'two connections held');
    const third = connect(Number(new URL(server!.url).port), '127.0.0.1');
    await new Promise<void>((resolve) => third.once('close', () => resolve()));
    for (const s of open) s.destroy();
    await waitUntil(async () => (await new Promise<number>((r) => server!.server.getConnections((_e, n) => r(n)))) === 0, 'connections released');
    expect((await post(call('status'))).status).toBe(200);
  });
});

describe('RPC error codes', () => {
  it('gives each rule, node and storage code its own stable number, and bad input −32602', () => {
    const numbers = new Map<number, string>();
    for (const code of [...RULE_CODES, ...STORAGE_CODES, ...Object.keys(NODE_RPC_CODES)]) {
      const n = rpcCodeOf(code);
      expect(n, code).not.toBe(RPC_OTHER_ERROR);
      if (n === JSONRPC_INVALID_PARAMS) continue;
      expect(numbers.get(n), `${code} and ${numbers.get(n)} share ${n}`).toBeUndefined();
      numbers.set(n, code);
    }
    for (const code of ['BAD_INPUT', 'BAD_AMOUNT', 'BAD_ID', 'BAD_ADDRESS']) expect(rpcCodeOf(code)).toBe(JSONRPC_INVALID_PARAMS);
    expect(rpcCodeOf('INSUFFICIENT_FUNDS')).toBe(-1009);
    expect(rpcCodeOf('INTERNAL')).toBe(-32603);
    expect(rpcCodeOf('SOMETHING_NEW')).toBe(RPC_OTHER_ERROR);
    expect(rpcCodeOf('__proto__')).toBe(RPC_OTHER_ERROR);
  });
});
