/**
 * `npm run cli -- [options] <method> [args…]`: calls the headless node's JSON-RPC (rpc/server.ts),
 * in bitcoin-cli's shape. Reads the cookie from the node's data directory (`--data DIR`, the
 * same as the node's) or `--rpc-cookie FILE`, or takes `--rpc-user` with the password in
 * $TABCHAIN_RPC_PASSWORD; prints the result (a string as is, anything else as JSON) and exits 0,
 * or prints the error on stderr and exits 1 (2 for a mistake on the command line).
 *
 * Arguments are converted by the method's table (rpc/methods.ts): a string stays text — so an
 * amount `100` is sent as "100", as the API wants it —, an integer must be digits, an object is
 * JSON, a block is a height when all digits and a hash otherwise. `--help` lists every method.
 * @module
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { JSONRPCClient, type JSONRPCResponse } from 'json-rpc-2.0';
import { parseHostPort, RPC_PASSWORD_ENV, UsageError } from './options.ts';
import { basicHeader, COOKIE_FILE, readCookie, type RpcCredentials } from './auth.ts';
import { RPC_METHODS, type RpcMethod, type RpcParam } from './methods.ts';

/** Where `npm run cli` looks for the node when `--rpc` is not given (the node's `--rpc 8339`). */
export const DEFAULT_RPC_PORT = 8339;
/** Longest answer read from the node, bytes (a getBlock of a full block is far below it). */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

export const CLI_USAGE = `usage: npm run cli -- [--data DIR | --rpc-cookie FILE | --rpc-user USER] [--rpc [HOST:]PORT] <method> [args...]

  --data DIR        the node's data directory: its cookie file DIR/${COOKIE_FILE} is read
  --rpc-cookie F    read the cookie from file F
  --rpc-user U      authenticate as U with the password in $${RPC_PASSWORD_ENV}
  --rpc HOST:PORT   the node's RPC address (default 127.0.0.1:${DEFAULT_RPC_PORT})
  --help            this text and the list of methods`;

/** One line per method: its name, arguments and what it does. */
export function methodList(): string {
  const sig = (name: string, m: RpcMethod) => [name, ...m.params.map((q: RpcParam) => (q.optional ? `[${q.name}]` : q.name))].join(' ');
  const rows = [...RPC_METHODS].map(([name, m]) => [sig(name, m), m.help] as const);
  const width = Math.max(...rows.map(([s]) => s.length)) + 2;
  return rows.map(([s, h]) => `  ${s.padEnd(width)}${h}`).join('\n');
}

/**
 * A command-line argument → the JSON value of its parameter (UsageError when it does not fit).
 * @example convertArg({ name: 'n', kind: 'integer' }, '3') // 3
 */
export function convertArg(q: RpcParam, text: string): unknown {
  switch (q.kind) {
    case 'string':
      return text;
    case 'integer':
      if (!/^-?\d{1,16}$/.test(text)) throw new UsageError(`${q.name} must be an integer, not "${text}"`);
      return Number(text);
    case 'boolean':
      if (text !== 'true' && text !== 'false') throw new UsageError(`${q.name} must be true or false, not "${text}"`);
      return text === 'true';
    case 'hashOrHeight':
      return /^\d{1,10}$/.test(text) ? Number(text) : text;
    case 'object': {
      let v: unknown;
      try {
        v = JSON.parse(text);
      } catch {
        throw new UsageError(`${q.name} must be a JSON object, e.g. '{"workers":1}', not ${text}`);
      }
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new UsageError(`${q.name} must be a JSON object, not ${text}`);
      return v;
    }
  }
}

/** What a parsed command line asks for. */
export interface CliCall {
  url: string;
  credentials: { cookie: string } | RpcCredentials;
  method: string;
  params: unknown[];
}

/** Parses the command line (without node and script). Throws UsageError; `--help` throws one with an empty message. */
export function parseCallArgs(argv: string[], env: Record<string, string | undefined> = process.env): CliCall {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: { data: { type: 'string' }, 'rpc-cookie': { type: 'string' }, 'rpc-user': { type: 'string' }, rpc: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  const { values, positionals } = parsed;
  if (values.help) throw new UsageError('');
  const [method, ...rest] = positionals;
  if (method === undefined) throw new UsageError('name a method (npm run cli -- --help lists them)');
  const m = RPC_METHODS.get(method);
  if (!m) throw new UsageError(`unknown method "${method}" (npm run cli -- --help lists them)`);
  if (rest.length > m.params.length) throw new UsageError(`${method} takes at most ${m.params.length} argument(s), got ${rest.length}`);
  const missing = m.params.filter((q, i) => !q.optional && i >= rest.length);
  if (missing.length > 0) throw new UsageError(`${method} needs ${missing.map((q) => q.name).join(', ')}`);
  const params = rest.map((text, i) => convertArg(m.params[i], text));
  const { host, port } = values.rpc === undefined ? { host: '127.0.0.1', port: DEFAULT_RPC_PORT } : parseHostPort(values.rpc);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
  let credentials: CliCall['credentials'];
  if (values['rpc-user'] !== undefined) {
    const password = env[RPC_PASSWORD_ENV];
    if (!password) throw new UsageError(`--rpc-user needs the password in $${RPC_PASSWORD_ENV}`);
    credentials = { user: values['rpc-user'], password };
  } else if (values['rpc-cookie'] !== undefined) credentials = { cookie: values['rpc-cookie'] };
  else if (values.data !== undefined) credentials = { cookie: join(values.data, COOKIE_FILE) };
  else throw new UsageError('say how to authenticate: --data DIR (the node\'s), --rpc-cookie FILE or --rpc-user USER');
  return { url, credentials, method, params };
}

/** Why a call failed, in words for the operator, with the exit code. */
class CallError extends Error {}

async function post(url: string, auth: string, payload: unknown): Promise<JSONRPCResponse> {
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { Authorization: auth, 'Content-Type': 'application/json' }, body: JSON.stringify(payload) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new CallError(`cannot reach the node's RPC at ${url} (${cause?.code ?? cause?.message ?? (e as Error).message}): is the node running with --rpc on that address?`);
  }
  if (res.status === 401) throw new CallError(`the node at ${url} refused the credentials: the cookie is from another run of the node, or the user or password is wrong`);
  if (res.status !== 200) throw new CallError(`the node at ${url} answered HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
  const length = Number(res.headers.get('content-length'));
  if (Number.isFinite(length) && length > MAX_ANSWER_BYTES) throw new CallError(`the answer of ${length} bytes is over ${MAX_ANSWER_BYTES}`);
  try {
    return JSON.parse(await res.text()) as JSONRPCResponse;
  } catch {
    throw new CallError(`the answer from ${url} is not JSON: is it a tabchain node?`);
  }
}

/**
 * Runs one call; resolves with the exit code. `out` gets the result, `err` the error text.
 * @example process.exitCode = await runCall(['--data', dir, 'status'])
 */
export async function runCall(argv: string[], out: (s: string) => void = (s) => console.log(s), err: (s: string) => void = (s) => console.error(s)): Promise<number> {
  let call: CliCall;
  try {
    call = parseCallArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    if (e.message) err(`error: ${e.message}`);
    (e.message ? err : out)(`${CLI_USAGE}\n\nmethods:\n${methodList()}`);
    return e.message ? 2 : 0;
  }
  try {
    let creds: RpcCredentials;
    if ('cookie' in call.credentials) {
      try {
        creds = await readCookie(call.credentials.cookie);
      } catch (e) {
        throw new CallError(`cannot read the cookie ${call.credentials.cookie} (${(e as { code?: string }).code ?? (e as Error).message}): is the node running with --rpc and this --data?`);
      }
    } else creds = call.credentials;
    const auth = basicHeader(creds);
    let answer: JSONRPCResponse | undefined;
    const client = new JSONRPCClient(async (payload: unknown) => {
      answer = await post(call.url, auth, payload);
      client.receive(answer);
    });
    const result: unknown = await client.request(call.method, call.params).then(
      (r: unknown) => r,
      (e: unknown) => {
        if (e instanceof CallError) throw e;
        const error = answer?.error;
        const code = (error?.data as { code?: string } | undefined)?.code;
        throw new CallError(error ? `${error.message} (JSON-RPC error ${error.code}${code ? `, ${code}` : ''})` : (e as Error).message);
      },
    );
    out(typeof result === 'string' ? result : JSON.stringify(result ?? null, null, 2));
    return 0;
  } catch (e) {
    if (!(e instanceof CallError)) throw e;
    err(`error: ${e.message}`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const code = await runCall(process.argv.slice(2));
  process.exit(code);
}
