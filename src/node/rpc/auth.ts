/**
 * Who may call the node's RPC: HTTP Basic authentication against either the cookie file — Bitcoin
 * Core's scheme: at start the node writes `__cookie__:<64 random hex>` to `<data dir>/.cookie`
 * (mode 0600, so only the node's own user can read it, and `npm run cli` on the same machine
 * finds it there), deleted again on a clean stop — or a configured user and password.
 * Credentials are compared in constant time (their SHA-256 digests with timingSafeEqual).
 * @module
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, readFile, rename, rm, writeFile } from 'node:fs/promises';

/** The cookie's user name (Bitcoin Core's). */
export const COOKIE_USER = '__cookie__';
/** The cookie file's name in the data directory. */
export const COOKIE_FILE = '.cookie';
/** Random bytes of a cookie's password (hex in the file). */
const COOKIE_SECRET_BYTES = 32;
/** Shortest configured password: a guessable one would open the wallet to anyone who can connect. */
export const MIN_RPC_PASSWORD_CHARS = 16;
/** Longest Authorization header read, characters: nothing longer is a credential of ours. */
export const MAX_AUTH_HEADER_CHARS = 1024;

/** A user and password the RPC accepts. */
export interface RpcCredentials {
  user: string;
  password: string;
}

/**
 * Writes a new cookie file at `path` (replacing an old one, e.g. of a crashed run) and resolves
 * with its credentials. Written to a temporary name with mode 0600, then renamed into place.
 * @example const creds = await writeCookie(join(dataDir, COOKIE_FILE))
 */
export async function writeCookie(path: string): Promise<RpcCredentials & { path: string }> {
  const password = randomBytes(COOKIE_SECRET_BYTES).toString('hex');
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${COOKIE_USER}:${password}`, { mode: 0o600 });
  await chmod(tmp, 0o600); // the mode of writeFile is masked by the umask; 0600 is never wider than it
  await rename(tmp, path);
  return { user: COOKIE_USER, password, path };
}

/** Deletes a cookie file (on a clean stop). @example await removeCookie(creds.path) */
export async function removeCookie(path: string): Promise<void> {
  await rm(path, { force: true });
}

/**
 * Reads the credentials of a cookie file (`user:password` on one line).
 * @example const { user, password } = await readCookie(join(dataDir, '.cookie'))
 */
export async function readCookie(path: string): Promise<RpcCredentials> {
  const text = (await readFile(path, 'utf8')).trim();
  const colon = text.indexOf(':');
  if (colon <= 0 || text.length > MAX_AUTH_HEADER_CHARS) throw new Error(`${path} is not a cookie file (user:password)`);
  return { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** The Authorization header value for credentials. @example basicHeader({ user: 'u', password: 'p' }) // 'Basic dTpw' */
export function basicHeader(c: RpcCredentials): string {
  return `Basic ${Buffer.from(`${c.user}:${c.password}`, 'utf8').toString('base64')}`;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * Checks Authorization headers against the credentials accepted (any of them).
 * @example const ok = authChecker([cookie])(req.headers.authorization)
 */
export function authChecker(accepted: readonly RpcCredentials[]): (header: string | undefined) => boolean {
  const wanted = accepted.map((c) => digest(`${c.user}:${c.password}`));
  return (header) => {
    if (typeof header !== 'string' || header.length > MAX_AUTH_HEADER_CHARS) return false;
    const m = /^Basic +([A-Za-z0-9+/=]+)$/i.exec(header.trim());
    if (!m) return false;
    const raw = Buffer.from(m[1], 'base64');
    if (raw.toString('base64') !== m[1]) return false; // Node's decoder skips stray characters: only canonical base64 counts
    const given = digest(raw.toString('utf8'));
    let ok = false;
    for (const w of wanted) ok = timingSafeEqual(w, given) || ok; // every one compared: no early exit
    return ok;
  };
}
