/**
 * The sync protocol between two real libp2p nodes in this process (TCP on 127.0.0.1, noise,
 * yamux), serving a real chain built with the test network's params.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLibp2p, type Libp2p } from 'libp2p';
import { tcp } from '@libp2p/tcp';
import { noise } from '@libp2p/noise';
import { yamux } from '@libp2p/yamux';
import type { PeerId } from '@libp2p/interface';
import { blockHash, decodeBlock, hashToHex } from '../../src/chain/index.ts';
import { RemoteSyncError, SyncTimeoutError } from '../../src/p2p/errors.ts';
import { encodeFrame } from '../../src/p2p/frames.ts';
import { readOneFrame, tabchainSync, type TabchainSync } from '../../src/p2p/libp2p-sync.ts';
import { decodeResponse, encodeMessage, MAX_REQUEST_BYTES } from '../../src/p2p/messages.ts';
import type { Offence } from '../../src/p2p/peer-score.ts';
import { protocolIds } from '../../src/p2p/protocol.ts';
import type { ChainView } from '../../src/p2p/sync-server.ts';
import { servedChain, type ServedChain } from '../unit/helpers/p2p-chain.ts';

type Node = Libp2p<{ sync: TabchainSync }>;

async function makeNode(opts: { chainView?: ChainView; timeoutMs?: number; onOffence?: (p: PeerId, o: Offence) => void }): Promise<Node> {
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { sync: tabchainSync({ network: 'test', chainView: opts.chainView, timeoutMs: opts.timeoutMs, onOffence: opts.onOffence }) },
  });
}

let chain: ServedChain;
let server: Node;
let client: Node;
let hangingServer: Node;
const offences: { peer: string; offence: Offence }[] = [];

beforeAll(async () => {
  chain = servedChain(30);
  const hanging: ChainView = { ...chain.view, status: () => new Promise(() => {}) };
  [server, client, hangingServer] = await Promise.all([
    makeNode({ chainView: chain.view, timeoutMs: 1_000, onOffence: (p, offence) => offences.push({ peer: p.toString(), offence }) }),
    makeNode({ timeoutMs: 1_000 }),
    makeNode({ chainView: hanging }),
  ]);
});

afterAll(async () => {
  await Promise.all([server?.stop(), client?.stop(), hangingServer?.stop()]);
});

describe('tabchainSync between two libp2p nodes', () => {
  it('registers /tabchain/<network>/sync/1', () => {
    expect(server.services.sync.protocol).toBe(protocolIds('test').sync);
    expect(server.getProtocols()).toContain('/tabchain/test/sync/1');
  });

  it('status, headers and blocks round trip', async () => {
    const addr = server.getMultiaddrs()[0];
    const status = await client.services.sync.getStatus(addr);
    expect(status.height).toBe(30);
    expect(hashToHex(status.tipHash)).toBe(hashToHex(chain.builder.tip.hash));
    expect(status.chainwork).toBe(chain.builder.tip.chainwork);

    const headers = await client.services.sync.getHeaders(server.peerId, [chain.builder.params.genesisHash]);
    expect(headers.map((h) => hashToHex(blockHash(h)))).toEqual(chain.builder.entries.slice(1).map((e) => hashToHex(e.hash)));

    const wanted = headers.slice(10, 26).map(blockHash);
    const { blocks, notFound, missing } = await client.services.sync.getBlocks(server.peerId, wanted);
    expect(blocks.map((b) => decodeBlock(b.bytes))).toEqual(chain.builder.blocks.slice(11, 27));
    expect([notFound, missing]).toEqual([[], []]);
  });

  it('a node without a chain view answers BUSY', async () => {
    await expect(server.services.sync.getStatus(client.peerId)).rejects.toMatchObject({ name: 'RemoteSyncError', code: 'BUSY' });
    await expect(server.services.sync.getStatus(client.peerId)).rejects.toBeInstanceOf(RemoteSyncError);
  });

  it('an answer that does not come in time is a SyncTimeoutError', async () => {
    await expect(client.services.sync.getStatus(hangingServer.getMultiaddrs()[0])).rejects.toBeInstanceOf(SyncTimeoutError);
  });

  describe('hostile streams', () => {
    const raw = async (bytes: Uint8Array | null) => {
      const stream = await client.dialProtocol(server.peerId, protocolIds('test').sync);
      if (bytes) stream.send(bytes);
      const closed = new Promise<Error | undefined>((resolve) => stream.addEventListener('close', (e) => resolve((e as Event & { error?: Error }).error), { once: true }));
      return { stream, closed };
    };
    const lastOffence = () => offences.at(-1);

    it('an oversized frame length is refused at once and charged', async () => {
      const prefix = new Uint8Array(4);
      new DataView(prefix.buffer).setUint32(0, 3 * 1024 * 1024, true);
      const { closed } = await raw(prefix);
      expect(await closed).toMatchObject({ name: 'StreamResetError' }); // reset by the server
      expect(lastOffence()).toEqual({ peer: client.peerId.toString(), offence: 'oversizedFrame' });
    });

    it('a request frame just over MAX_REQUEST_BYTES is refused at its prefix, its payload never awaited', async () => {
      const prefix = new Uint8Array(4);
      new DataView(prefix.buffer).setUint32(0, MAX_REQUEST_BYTES + 1, true);
      const { closed } = await raw(prefix);
      expect(await closed).toMatchObject({ name: 'StreamResetError' });
      expect(lastOffence()).toEqual({ peer: client.peerId.toString(), offence: 'oversizedFrame' });
    });

    it('an undecodable request is charged as malformed', async () => {
      const { closed } = await raw(encodeFrame(new Uint8Array([0x42, 0, 0, 0, 0])));
      await closed;
      expect(lastOffence()?.offence).toBe('malformedFrame');
    });

    it('a stream that never sends its request times out and is charged', async () => {
      const { closed } = await raw(null);
      await closed;
      expect(lastOffence()?.offence).toBe('timeout');
    });

    it('a well-formed request on a raw stream gets exactly one answer frame', async () => {
      const { stream } = await raw(encodeFrame(encodeMessage({ type: 'getStatus', id: 77 })));
      await stream.close();
      const res = decodeResponse(await readOneFrame(stream, AbortSignal.timeout(5_000)));
      expect(res.id).toBe(77);
      expect(res.type).toBe('status');
    });
  });
});
