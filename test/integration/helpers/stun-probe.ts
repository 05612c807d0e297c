/**
 * Run inside a namespace (`ip netns exec NS node --import tsx stun-probe.ts HOST:PORT HOST:PORT`):
 * sends a STUN Binding request from ONE UDP socket to each server and prints the mapped addresses
 * as JSON (`[{ address, port }, …]`). Behind a cone NAT the ports agree; behind a symmetric NAT
 * they differ. Exits 1 after 10 s without every answer.
 */
import { createSocket } from 'node:dgram';
import stun from 'stun';

const servers = process.argv.slice(2).map((s) => {
  const at = s.lastIndexOf(':');
  return { host: s.slice(0, at), port: Number(s.slice(at + 1)) };
});
const socket = createSocket('udp4');
const pending = new Map<string, number>();
const mapped: ({ address: string; port: number } | null)[] = servers.map(() => null);
socket.on('message', (m) => {
  const msg = stun.decode(m) as ReturnType<typeof stun.decode> & { getAttribute(t: number): { value: { address: string; port: number } } | undefined };
  const i = pending.get(msg.transactionId.toString('hex'));
  const v = msg.getAttribute(0x0020)?.value;
  if (i === undefined || !v) return;
  mapped[i] = { address: v.address, port: v.port };
  if (mapped.every((x) => x !== null)) {
    console.log(JSON.stringify(mapped));
    process.exit(0);
  }
});
socket.bind(0, () => {
  servers.forEach((s, i) => {
    const req = stun.createMessage(stun.constants.STUN_BINDING_REQUEST);
    pending.set(req.transactionId.toString('hex'), i);
    socket.send(req.toBuffer(), s.port, s.host);
  });
});
setTimeout(() => {
  console.error(`no answer from every server: ${JSON.stringify(mapped)}`);
  process.exit(1);
}, 10_000).unref();
