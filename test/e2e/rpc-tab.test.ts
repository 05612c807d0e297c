/**
 * A program's transaction confirmed by a browser tab: a headless node (`npm run node -- --relay …
 * --rpc`) and a tab meet through the relay; a transfer signed in this test — by a key no node
 * holds, with the project's own chain code — goes in through the node's sendRawTransaction, reaches
 * the tab by gossip, the tab mines it, and the node's RPC reports it confirmed. The other way too:
 * a raw transaction handed to the tab's `window.tabchain.sendRawTransaction` is mined by the node.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COIN, encodeAddress, generatePrivateKey, getParams, publicKeyOf } from '../../src/chain/index.ts';
import { basicHeader, readCookie } from '../../src/node/rpc/auth.ts';
import { signedTransfer } from '../support/raw-tx.ts';
import { waitUntil } from '../support/wait.ts';
import { killNodes, spawnNode, type NodeProcess } from '../integration/helpers/node-process.ts';
import { startE2e, type E2e } from './harness.ts';
import { Tab, waitReady } from './net-harness.ts';

const params = getParams('dev');
let e2e: E2e | undefined;
let node: NodeProcess | undefined;
let dir: string | undefined;
let rpc: { url: string; auth: string };

/** A JSON-RPC result from the headless node (throws on an error). */
async function call<T>(method: string, args: unknown[] = []): Promise<T> {
  const res = await fetch(rpc.url, { method: 'POST', headers: { Authorization: rpc.auth }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: args }) });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}

describe('a raw transaction between the headless node\'s RPC and a browser tab', () => {
  beforeAll(async () => {
    e2e = await startE2e({ network: 'dev' });
    dir = await mkdtemp(join(tmpdir(), 'tabchain-e2e-rpc-'));
    node = spawnNode(['--network', 'dev', '--data', dir, '--relay', e2e.url, '--rpc', '127.0.0.1:0']);
    const [, url] = await node.waitLine(/^rpc listening on (http:\/\/\S+)$/, 120_000);
    rpc = { url, auth: basicHeader(await readCookie(join(dir, '.cookie'))) };
  }, 600_000);

  afterAll(async () => {
    killNodes();
    await e2e?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the tab mines what the node was given, and the node mines what the tab was given', async () => {
    const nodePeer = (await call<{ peerId: string }>('status')).peerId;
    const tab = Tab.of('tab', await e2e!.visit());
    await waitReady(tab);
    await tab.waitStatus('the headless node as a peer', (s) => s.peers.some((p) => p.id === nodePeer), 120_000);

    // Coins for a key no node holds, from the node's own mining.
    await call('mineBlocks', [params.coinbaseMaturity + 2]);
    const priv = generatePrivateKey();
    const outside = encodeAddress(publicKeyOf(priv), params.addressPrefix);
    await call('send', [outside, (10n * COIN).toString()]);
    await call('mineBlocks', [1]);
    const height = (await call<{ height: number }>('status')).height;
    await tab.waitStatus(`height ${height}`, (s) => s.height >= height, 120_000);

    // Node → tab: signed here, submitted over RPC, mined by the tab.
    const tabAddress = (await tab.status()).address;
    const first = signedTransfer(params, priv, tabAddress, 3n * COIN, 1);
    expect(await call('sendRawTransaction', [first.hex])).toBe(first.txid);
    await waitUntil(async () => (await tab.call<unknown>('tx', first.txid)) !== null, 'the tab to hear of the transaction', 60_000);
    const [mined] = await tab.call<string[]>('mineBlocks', 1);
    await waitUntil(async () => (await call<{ state: string }>('txStatus', [first.txid])).state === 'confirmed', 'the node to see it confirmed', 60_000);
    expect((await call<{ txs: { txid: string }[] }>('getBlock', [mined])).txs.map((t) => t.txid)).toContain(first.txid);
    expect(await tab.call('balance')).not.toBe('0');

    // Tab → node: the page's own sendRawTransaction (hostile hex refused in words first).
    expect(await tab.try('sendRawTransaction', 'not hex')).toMatchObject({ ok: false, code: 'BAD_INPUT' });
    const second = signedTransfer(params, priv, tabAddress, 2n * COIN, 2);
    expect(await tab.call('decodeTransaction', second.hex)).toMatchObject({ txid: second.txid, kind: 'transfer', nonce: 2 });
    expect(await tab.call('sendRawTransaction', second.hex)).toBe(second.txid);
    await waitUntil(async () => (await call<{ txs: { txid: string }[] }>('getMempool')).txs.some((t) => t.txid === second.txid), 'the node to hear of it', 60_000);
    await call('mineBlocks', [1]);
    await waitUntil(async () => (await tab.call<{ state: string }>('txStatus', second.txid)).state === 'confirmed', 'the tab to see it confirmed', 60_000);
    expect(tab.errors).toEqual([]);
  }, 600_000);
});
