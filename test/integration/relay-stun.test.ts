/**
 * The relay's STUN server (relay/stun.ts) over real UDP on loopback: a Binding request gets the
 * sender's address back as XOR-MAPPED-ADDRESS; junk, oversize datagrams, other methods and other
 * classes get nothing and do not stop it; a flood beyond the per-client budget goes unanswered
 * until the next second. And the relay (relay/server.ts) runs it on its HTTP port's number and
 * advertises it in /bootstrap.json, or not at all with `stunPort: null`.
 *
 * "Gets nothing" is shown without waiting for silence: UDP on loopback keeps order, so every
 * datagram sent before a valid request would be answered before it; the first answer must be the
 * valid request's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import stun, { type StunMessage } from 'stun';
import { startStun, STUN_DATAGRAMS_PER_SECOND_PER_CLIENT, STUN_MAX_DATAGRAM_BYTES, type RelayStun } from '../../relay/stun.ts';
import { startRelay, optionsFromEnv } from '../../relay/server.ts';
import { waitUntil } from '../support/wait.ts';

const { STUN_BINDING_REQUEST, STUN_BINDING_RESPONSE } = stun.constants;
const XOR_MAPPED_ADDRESS = 0x0020;
const BINDING_INDICATION = 0x0011;
const ALLOCATE_REQUEST = 0x0003; // TURN (RFC 5766): not ours to answer

/** A UDP client socket on loopback collecting every answer. */
async function client(): Promise<{ socket: Socket; port: number; answers: Buffer[]; close(): Promise<void> }> {
  const socket = createSocket('udp4');
  const answers: Buffer[] = [];
  socket.on('message', (m) => answers.push(m));
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  return { socket, port: socket.address().port, answers, close: () => new Promise<void>((r) => socket.close(() => r())) };
}

function send(socket: Socket, bytes: Buffer, port: number): Promise<void> {
  return new Promise((resolve, reject) => socket.send(bytes, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
}

function bindingRequest(): StunMessage {
  return stun.createMessage(STUN_BINDING_REQUEST);
}

describe('the relay STUN server', () => {
  let clock = 1_000_000;
  let server: RelayStun;
  beforeAll(async () => {
    server = await startStun({ port: 0, host: '127.0.0.1', now: () => clock });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('answers a Binding request with the sender address as XOR-MAPPED-ADDRESS', async () => {
    const c = await client();
    try {
      const req = bindingRequest();
      await send(c.socket, req.toBuffer(), server.port);
      await waitUntil(() => c.answers.length >= 1, 'a STUN answer', 10_000);
      const answer = stun.decode(c.answers[0]) as StunMessage & { getAttribute(t: number): { value: { address: string; port: number } } | undefined };
      expect(answer.type).toBe(STUN_BINDING_RESPONSE);
      expect(answer.transactionId.equals(req.transactionId)).toBe(true);
      expect(answer.getAttribute(XOR_MAPPED_ADDRESS)?.value).toMatchObject({ address: '127.0.0.1', port: c.port });
    } finally {
      await c.close();
    }
  });

  it('junk, oversize datagrams, other methods and classes get nothing, and it keeps answering', async () => {
    const c = await client();
    try {
      const dropped = server.dropped();
      const allocate = stun.createMessage(ALLOCATE_REQUEST).toBuffer();
      const indication = stun.createMessage(BINDING_INDICATION).toBuffer();
      const response = stun.createMessage(STUN_BINDING_RESPONSE).toBuffer();
      const truncated = bindingRequest().toBuffer().subarray(0, 12);
      const badLength = Buffer.from(bindingRequest().toBuffer());
      badLength.writeUInt16BE(400, 2); // claims 400 bytes of attributes it does not have
      const oversize = Buffer.concat([bindingRequest().toBuffer(), Buffer.alloc(STUN_MAX_DATAGRAM_BYTES)]);
      const junk = [Buffer.from('GET / HTTP/1.1\r\n\r\n'), Buffer.alloc(20), Buffer.from([0x00]), truncated, badLength, oversize, allocate, indication, response];
      for (let i = 0; i < 50; i++) junk.push(Buffer.from(Array.from({ length: 1 + ((i * 37) % 300) }, (_, j) => (i * 31 + j * 7) & (j === 0 ? 0x03 : 0xff))));
      for (const j of junk) await send(c.socket, j, server.port);
      const req = bindingRequest();
      await send(c.socket, req.toBuffer(), server.port);
      await waitUntil(() => c.answers.length >= 1, 'the answer to the valid request', 10_000);
      expect(stun.decode(c.answers[0]).transactionId.equals(req.transactionId)).toBe(true);
      // Everything but the valid request was dropped (a few random datagrams may decode as an unanswered class).
      expect(server.dropped() - dropped).toBeGreaterThanOrEqual(9);
    } finally {
      await c.close();
    }
  });

  it(`answers at most ${STUN_DATAGRAMS_PER_SECOND_PER_CLIENT} datagrams a second per client`, async () => {
    clock += 10_000; // a fresh window
    const c = await client();
    try {
      const over = 40;
      const dropped = server.dropped();
      for (let i = 0; i < STUN_DATAGRAMS_PER_SECOND_PER_CLIENT + over; i++) await send(c.socket, bindingRequest().toBuffer(), server.port);
      // The server reads the clock when a datagram arrives: let the whole flood arrive first.
      await waitUntil(() => server.dropped() - dropped === over && c.answers.length === STUN_DATAGRAMS_PER_SECOND_PER_CLIENT, () => `the flood processed (${c.answers.length} answered, ${server.dropped() - dropped} dropped)`, 10_000);
      clock += 1_000; // the next second: a budget again
      const last = bindingRequest();
      await send(c.socket, last.toBuffer(), server.port);
      await waitUntil(() => c.answers.some((a) => stun.decode(a).transactionId.equals(last.transactionId)), 'the answer in the next second', 10_000);
      expect(c.answers.length).toBe(STUN_DATAGRAMS_PER_SECOND_PER_CLIENT + 1);
    } finally {
      await c.close();
    }
  });
});

describe('the relay runs and advertises its STUN server', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'tabchain-relay-stun-'));
  const distDir = join(tmp, 'dist');
  mkdirSync(distDir);
  writeFileSync(join(distDir, 'index.html'), '<!doctype html><title>t</title>');
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  function bootstrapOf(port: number, host: string): Promise<{ iceServers?: string[] }> {
    return new Promise((resolve, reject) => {
      get({ host: '127.0.0.1', port, path: '/bootstrap.json', headers: { host } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(JSON.parse(body)));
      }).on('error', reject);
    });
  }

  it('on the HTTP port number by default, named in /bootstrap.json with the host the page used', async () => {
    const relay = await startRelay({ port: 0, host: '127.0.0.1', network: 'dev', distDir, dataDir: join(tmp, 'a'), wsPort: 0 });
    try {
      expect(relay.stunPort).toBe(relay.port);
      expect((await bootstrapOf(relay.port, `relay.example.org:${relay.port}`)).iceServers).toEqual([`stun:relay.example.org:${relay.port}`]);
      expect((await bootstrapOf(relay.port, `[::1]:${relay.port}`)).iceServers).toEqual([`stun:[::1]:${relay.port}`]);
      const c = await client();
      try {
        await send(c.socket, bindingRequest().toBuffer(), relay.port);
        await waitUntil(() => c.answers.length >= 1, 'the relay STUN answer', 10_000);
      } finally {
        await c.close();
      }
    } finally {
      await relay.close();
    }
  });

  it('none with stunPort null (STUN_PORT=off or 0)', async () => {
    expect(optionsFromEnv({ STUN_PORT: 'off' }, []).stunPort).toBeNull();
    expect(optionsFromEnv({ STUN_PORT: '0' }, []).stunPort).toBeNull();
    expect(optionsFromEnv({ STUN_PORT: '3478' }, []).stunPort).toBe(3478);
    expect(optionsFromEnv({}, []).stunPort).toBeUndefined();
    expect(() => optionsFromEnv({ STUN_PORT: 'x' }, [])).toThrow(/STUN_PORT/);
    const relay = await startRelay({ port: 0, host: '127.0.0.1', network: 'dev', distDir, dataDir: join(tmp, 'b'), wsPort: 0, stunPort: null });
    try {
      expect(relay.stunPort).toBeNull();
      expect((await bootstrapOf(relay.port, `localhost:${relay.port}`)).iceServers).toBeUndefined();
    } finally {
      await relay.close();
    }
  });
});
