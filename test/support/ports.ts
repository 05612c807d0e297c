/**
 * Ports for tests that start servers which must know each other's address before they start
 * (two relays naming each other in RELAY_PEERS).
 */
import { createServer } from 'node:net';

/** A TCP port on 127.0.0.1 that is free right now (the OS picks it; closed again before return). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
