import { beforeAll, describe, expect, it } from 'vitest';
import { blockHash, decodeBlock, encodeBlock, encodeHeader, hashToHex } from '../../src/chain/index.ts';
import { FrameTooLargeError, RemoteSyncError, SyncProtocolError, SyncTimeoutError, SyncUnavailableError } from '../../src/p2p/errors.ts';
import { decodeMessage, encodeMessage, MAX_BLOCK_BYTES, MAX_MESSAGE_BYTES, MAX_REQUEST_BYTES, maxAnswerBytes, type SyncResponse } from '../../src/p2p/messages.ts';
import type { Offence } from '../../src/p2p/peer-score.ts';
import { checkResponse, serveSyncPort, SyncClient, type SyncPort } from '../../src/p2p/sync-client.ts';
import { handleSyncRequest, type ChainView } from '../../src/p2p/sync-server.ts';
import { portPair, servedChain, type ServedChain } from './helpers/p2p-chain.ts';

let chain: ServedChain;
/** A side branch forking off at height 20 (2 blocks), whose bodies the index also stores. */
let sideHashes: Uint8Array[];

beforeAll(() => {
  chain = servedChain(40);
  const side = chain.builder.fork();
  while (side.height > 20) side.disconnect();
  for (let i = 0; i < 2; i++) {
    const { block, hash } = side.mine({ extraNonce: 99n });
    chain.index.add(block.header, { status: 'valid', hasBody: true });
    chain.bodies.set(hashToHex(hash), encodeBlock(block));
  }
  sideHashes = side.entries.slice(21).map((e) => e.hash);
});

const entries = () => chain.builder.entries;

describe('handleSyncRequest over a HeaderIndex', () => {
  it('getStatus tells the active tip, height, chainwork and genesis', async () => {
    const res = await handleSyncRequest({ type: 'getStatus', id: 9 }, chain.view);
    const tip = entries()[40];
    expect(res).toEqual({
      type: 'status',
      id: 9,
      status: { network: 'test', chainId: chain.builder.params.chainId, height: 40, tipHash: tip.hash, chainwork: tip.chainwork, genesisHash: chain.builder.params.genesisHash },
    });
  });

  it('getHeaders serves the headers after the locator fork point along the active chain', async () => {
    const all = await handleSyncRequest({ type: 'getHeaders', id: 1, locator: [chain.builder.params.genesisHash], stopHash: null, max: 2000 }, chain.view);
    expect(all.type === 'headers' && all.headers.map(blockHash)).toEqual(entries().slice(1).map((e) => e.hash));

    const some = await handleSyncRequest({ type: 'getHeaders', id: 2, locator: [entries()[10].hash], stopHash: null, max: 5 }, chain.view);
    expect(some.type === 'headers' && some.headers.map((h) => hashToHex(blockHash(h)))).toEqual(entries().slice(11, 16).map((e) => hashToHex(e.hash)));

    const stop = await handleSyncRequest({ type: 'getHeaders', id: 3, locator: [entries()[10].hash], stopHash: entries()[12].hash, max: 2000 }, chain.view);
    expect(stop.type === 'headers' && stop.headers.length).toBe(2);

    // A peer on the side branch: its locator starts with side-branch hashes unknown to the active
    // chain, so headers start after the fork point (height 20).
    const fromSide = await handleSyncRequest({ type: 'getHeaders', id: 4, locator: [...sideHashes].reverse().concat(entries()[20].hash), stopHash: null, max: 3 }, chain.view);
    expect(fromSide.type === 'headers' && fromSide.headers.map((h) => hashToHex(blockHash(h)))).toEqual(entries().slice(21, 24).map((e) => hashToHex(e.hash)));

    const atTip = await handleSyncRequest({ type: 'getHeaders', id: 5, locator: chain.index.locator(), stopHash: null, max: 2000 }, chain.view);
    expect(atTip).toEqual({ type: 'headers', id: 5, headers: [] });
  });

  it('getBlocks serves active-chain bodies in request order and lists the rest as notFound', async () => {
    const unknown = new Uint8Array(32).fill(0xee);
    const want = [entries()[5].hash, unknown, entries()[3].hash, sideHashes[0], entries()[5].hash];
    const res = await handleSyncRequest({ type: 'getBlocks', id: 7, hashes: want }, chain.view);
    if (res.type !== 'blocks') throw new Error(res.type);
    expect(res.blocks.map((b) => hashToHex(blockHash(decodeBlock(b).header)))).toEqual([hashToHex(entries()[5].hash), hashToHex(entries()[3].hash)]);
    // unknown, a side-branch block (stored but not on the active chain); the repeated hash was served once
    expect(res.notFound.map(hashToHex)).toEqual([unknown, sideHashes[0]].map(hashToHex));
  });

  it('a request repeating a hash gets its block once and not also as notFound, so the requester accepts the answer', async () => {
    // Found by the fuzzer (test/fuzz/sync.fuzz.test.ts): the repeat used to be listed in notFound
    // as well, and checkResponse refused the honest answer as unsolicited.
    const [a, b] = [entries()[5].hash, entries()[6].hash];
    const unknown = new Uint8Array(32).fill(0xee);
    const req = { type: 'getBlocks' as const, id: 8, hashes: [a, unknown, a, b, unknown, b] };
    const res = await handleSyncRequest(req, chain.view);
    if (res.type !== 'blocks') throw new Error(res.type);
    expect(res.notFound.map(hashToHex)).toEqual([hashToHex(unknown)]);
    const checked = checkResponse(req, res);
    expect(checked.blocks.map((x) => hashToHex(x.hash))).toEqual([a, b].map(hashToHex));
    expect(checked.missing).toEqual([]);
  });

  it('getBlocks answers only as many bodies as fit one message', async () => {
    const big = new Uint8Array(MAX_BLOCK_BYTES);
    const view: ChainView = { ...chain.view, getBlocks: (hashes) => hashes.map(() => big) };
    const hashes = entries().slice(1, 4).map((e) => e.hash);
    const res = await handleSyncRequest({ type: 'getBlocks', id: 1, hashes }, view);
    // Two 1 MiB bodies plus the envelope exceed 2 MiB: one is sent, two are left for later.
    expect(res.type === 'blocks' && [res.blocks.length, res.notFound.length]).toEqual([1, 0]);
    expect(encodeMessage(res).length).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
  });

  it('a failing chain view becomes an INTERNAL answer, not an exception', async () => {
    const errors: unknown[] = [];
    const view: ChainView = { ...chain.view, status: () => Promise.reject(new Error('store closed')) };
    const res = await handleSyncRequest({ type: 'getStatus', id: 3 }, view, (e) => errors.push(e));
    expect(res).toMatchObject({ type: 'error', id: 3, code: 'INTERNAL' });
    expect(errors).toHaveLength(1);
  });
});

describe('checkResponse', () => {
  const req = { type: 'getHeaders' as const, id: 1, locator: [], stopHash: null, max: 3 };
  const headers = () => chain.builder.blocks.slice(1, 5).map((b) => b.header);

  it('rejects answers of the wrong id or type, too many headers, and headers that do not link', () => {
    expect(() => checkResponse(req, { type: 'headers', id: 2, headers: [] })).toThrow(SyncProtocolError);
    expect(() => checkResponse(req, { type: 'status', id: 1 } as SyncResponse)).toThrow(SyncProtocolError);
    expect(() => checkResponse(req, { type: 'headers', id: 1, headers: headers() })).toThrow(/4 headers/);
    const [a, , c] = headers();
    expect(() => checkResponse(req, { type: 'headers', id: 1, headers: [a, c] })).toThrow(/link/);
    expect(checkResponse(req, { type: 'headers', id: 1, headers: headers().slice(0, 3) })).toHaveLength(3);
    expect(() => checkResponse(req, { type: 'error', id: 1, code: 'BUSY', message: 'later' })).toThrow(RemoteSyncError);
  });

  it('accepts only requested blocks, in order, and tells which were left out', () => {
    const [h1, h2, h3] = entries().slice(1, 4).map((e) => e.hash);
    const body = (h: Uint8Array) => chain.bodies.get(hashToHex(h))!;
    const r = { type: 'getBlocks' as const, id: 1, hashes: [h1, h2, h3] };
    const ok = checkResponse(r, { type: 'blocks', id: 1, blocks: [body(h1), body(h3)], notFound: [h2] });
    expect(ok.blocks.map((b) => hashToHex(b.hash))).toEqual([h1, h3].map(hashToHex));
    expect(ok.missing).toEqual([]);
    const partial = checkResponse(r, { type: 'blocks', id: 1, blocks: [body(h1)], notFound: [] });
    expect(partial.missing.map(hashToHex)).toEqual([h2, h3].map(hashToHex));
    const other = body(entries()[9].hash);
    expect(() => checkResponse(r, { type: 'blocks', id: 1, blocks: [other], notFound: [] })).toThrow(/not asked for/);
    expect(() => checkResponse(r, { type: 'blocks', id: 1, blocks: [body(h3), body(h1)], notFound: [] })).toThrow(/not asked for/);
    expect(() => checkResponse(r, { type: 'blocks', id: 1, blocks: [], notFound: [new Uint8Array(32)] })).toThrow(SyncProtocolError);
    expect(() => checkResponse(r, { type: 'blocks', id: 1, blocks: [encodeHeader(entries()[1].header).subarray(0, 40)], notFound: [] })).toThrow(/shorter/);
  });
});

describe('SyncClient and serveSyncPort over a message port', () => {
  it('syncs status, headers and blocks, both directions on one port pair', async () => {
    const [a, b] = portPair();
    const stopA = serveSyncPort(a, chain.view);
    const stopB = serveSyncPort(b, chain.view);
    const clientA = new SyncClient(a);
    const clientB = new SyncClient(b);
    const [statusFromB, statusFromA] = await Promise.all([clientA.getStatus(), clientB.getStatus()]);
    expect(statusFromB.height).toBe(40);
    expect(statusFromA.tipHash).toEqual(entries()[40].hash);
    const headers = await clientA.getHeaders([chain.builder.params.genesisHash], { max: 10 });
    expect(headers.map(blockHash)).toEqual(entries().slice(1, 11).map((e) => e.hash));
    const { blocks, notFound, missing } = await clientA.getBlocks(headers.slice(0, 4).map(blockHash));
    expect(blocks.map((x) => decodeBlock(x.bytes))).toEqual(chain.builder.blocks.slice(1, 5));
    expect([notFound, missing]).toEqual([[], []]);
    expect(clientA.inFlight).toBe(0);
    stopA();
    stopB();
    clientA.close();
    clientB.close();
  });

  it('times out when no answer comes, and reports the timeout', async () => {
    const [a] = portPair();
    const offences: Offence[] = [];
    const client = new SyncClient(a, { timeoutMs: 30, onOffence: (o) => offences.push(o) });
    await expect(client.getStatus()).rejects.toBeInstanceOf(SyncTimeoutError);
    expect(offences).toEqual(['timeout']);
    expect(client.inFlight).toBe(0);
  });

  it('a caller abort rejects with its reason and charges nothing', async () => {
    const [a] = portPair();
    const offences: Offence[] = [];
    const client = new SyncClient(a, { onOffence: (o) => offences.push(o) });
    const ctl = new AbortController();
    const p = client.getStatus({ signal: ctl.signal });
    ctl.abort(new Error('user gave up'));
    await expect(p).rejects.toThrow('user gave up');
    expect(offences).toEqual([]);
  });

  it('reports unsolicited answers, undecodable bytes and broken answers', async () => {
    const [a, b] = portPair();
    const offences: Offence[] = [];
    const client = new SyncClient(a, { onOffence: (o) => offences.push(o) });
    // A peer that answers every request with headers that do not link, plus junk.
    b.subscribe((m) => {
      const req = decodeMessage(m);
      const [h1, , h3] = chain.builder.blocks.slice(1, 4).map((x) => x.header);
      b.send(encodeMessage({ type: 'headers', id: req.id, headers: [h1, h3] }));
      b.send(encodeMessage({ type: 'headers', id: req.id + 1000, headers: [] }));
      b.send(new Uint8Array([0xff, 1, 2]));
    });
    await expect(client.getHeaders([])).rejects.toBeInstanceOf(SyncProtocolError);
    await new Promise((r) => setTimeout(r, 10));
    expect(offences.sort()).toEqual(['malformedFrame', 'malformedFrame', 'unsolicited']);
  });

  it('caps requests in flight, answers BUSY beyond the server cap, and close() rejects waiting requests', async () => {
    const [a] = portPair();
    const client = new SyncClient(a, { maxPending: 2 });
    const p1 = client.getStatus();
    const p2 = client.getStatus();
    await expect(client.getStatus()).rejects.toBeInstanceOf(SyncUnavailableError);
    client.close();
    await expect(p1).rejects.toBeInstanceOf(SyncUnavailableError);
    await expect(p2).rejects.toBeInstanceOf(SyncUnavailableError);
    await expect(client.getStatus()).rejects.toBeInstanceOf(SyncUnavailableError);

    // A server whose chain view never answers holds its single slot; the next request gets BUSY.
    const [c, d] = portPair();
    const stuck: ChainView = { ...chain.view, status: () => new Promise(() => {}) };
    serveSyncPort(d, stuck, { maxConcurrent: 1 });
    const client2 = new SyncClient(c, { timeoutMs: 200 });
    const first = client2.getStatus().catch((e: unknown) => e);
    const second = client2.getStatus();
    await expect(second).rejects.toMatchObject({ name: 'RemoteSyncError', code: 'BUSY' });
    expect(await first).toBeInstanceOf(SyncTimeoutError);
  });

  it('the server refuses a request over MAX_REQUEST_BYTES as oversized, without decoding or answering it', async () => {
    const [a, b] = portPair();
    const offences: Offence[] = [];
    let reads = 0;
    serveSyncPort(b, { ...chain.view, status: () => (reads++, chain.view.status()) }, { onOffence: (o) => offences.push(o) });
    const answers: Uint8Array[] = [];
    a.subscribe((m) => answers.push(m));
    const big = new Uint8Array(MAX_REQUEST_BYTES + 1);
    big.set(encodeMessage({ type: 'getStatus', id: 5 }));
    a.send(big);
    // An answer-sized message (a blocks answer for a SyncClient on the same port) is not a request.
    a.send(encodeMessage({ type: 'blocks', id: 6, blocks: [new Uint8Array(MAX_REQUEST_BYTES)], notFound: [] }));
    await new Promise((r) => setTimeout(r, 10));
    expect(offences).toEqual(['oversizedFrame']);
    expect([answers, reads]).toEqual([[], 0]);
  });

  it('the client refuses an answer longer than the largest honest answer to its request, at once', async () => {
    const [a, b] = portPair();
    const offences: Offence[] = [];
    const client = new SyncClient(a, { timeoutMs: 5_000, onOffence: (o) => offences.push(o) });
    // A status "answer" of 100 KB: the id and tag of a status, then junk.
    b.subscribe((m) => {
      const junk = new Uint8Array(100_000);
      junk.set(encodeMessage({ type: 'error', id: decodeMessage(m).id, code: 'BUSY', message: '' }));
      junk[0] = 2; // the status tag
      b.send(junk);
    });
    const asked = client.getStatus();
    await expect(asked).rejects.toBeInstanceOf(FrameTooLargeError);
    await expect(asked).rejects.toMatchObject({ max: maxAnswerBytes({ type: 'getStatus', id: 1 }) });
    expect(offences).toEqual(['oversizedFrame']);
    expect(client.inFlight).toBe(0);
  });

  it('the server drops undecodable requests and reports them', async () => {
    const [a, b] = portPair();
    const offences: Offence[] = [];
    serveSyncPort(b, chain.view, { onOffence: (o) => offences.push(o) });
    const answers: Uint8Array[] = [];
    a.subscribe((m) => answers.push(m));
    a.send(new Uint8Array([3, 0, 0, 0, 0, 99]));
    await new Promise((r) => setTimeout(r, 10));
    expect(offences).toEqual(['malformedFrame']);
    expect(answers).toEqual([]);
  });
});

/** A SyncPort over a BroadcastChannel (the same-browser mesh's carrier; Node has one too). */
function broadcastChannelPort(ch: BroadcastChannel): SyncPort {
  return {
    send: (m) => ch.postMessage(m),
    subscribe: (h) => {
      const l = (e: MessageEvent) => {
        if (e.data instanceof Uint8Array) h(e.data);
      };
      ch.addEventListener('message', l);
      return () => ch.removeEventListener('message', l);
    },
  };
}

describe('over a BroadcastChannel', () => {
  it('the same client and server work unchanged', async () => {
    const name = `tabchain-test-${Math.random()}`;
    const tabA = new BroadcastChannel(name);
    const tabB = new BroadcastChannel(name);
    try {
      const stop = serveSyncPort(broadcastChannelPort(tabB), chain.view);
      const client = new SyncClient(broadcastChannelPort(tabA));
      expect((await client.getStatus()).height).toBe(40);
      const { blocks } = await client.getBlocks([entries()[40].hash]);
      expect(blocks[0].bytes).toEqual(chain.bodies.get(hashToHex(entries()[40].hash)));
      client.close();
      stop();
    } finally {
      tabA.close();
      tabB.close();
    }
  });
});
