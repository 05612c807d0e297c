/**
 * Command-line pieces shared by the node (`npm run node`, src/node/cli.ts) and the RPC client
 * (`npm run cli`, rpc/cli.ts) — kept apart from both so the client starts without loading a node.
 * @module
 */

/** A command-line mistake: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Environment variable holding the password of `--rpc-user` (a password on the command line shows in `ps`). */
export const RPC_PASSWORD_ENV = 'TABCHAIN_RPC_PASSWORD';

/**
 * `[HOST:]PORT` → host and port; the host is 127.0.0.1 when not given, an IPv6 host in brackets.
 * @example parseHostPort('8339') // { host: '127.0.0.1', port: 8339 }
 */
export function parseHostPort(s: string, what = '--rpc'): { host: string; port: number } {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):)?(\d{1,5})$/.exec(s);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new UsageError(`${what} takes [HOST:]PORT (e.g. 8339 or 127.0.0.1:8339), not "${s}"`);
  const host = m[1] === undefined ? '127.0.0.1' : m[1].startsWith('[') ? m[1].slice(1, -1) : m[1];
  return { host, port };
}
