/**
 * Command lines of the RPC: the node's `--rpc`, `--rpc-cookie`, `--rpc-user` (src/node/cli.ts) and
 * `npm run cli`'s method arguments (src/node/rpc/cli.ts): each mistake is a UsageError in words.
 */
import { describe, expect, it } from 'vitest';
import { parseCliArgs } from '../../src/node/cli.ts';
import { convertArg, methodList, parseCallArgs } from '../../src/node/rpc/cli.ts';
import { RPC_METHODS } from '../../src/node/rpc/methods.ts';
import { parseHostPort, UsageError } from '../../src/node/rpc/options.ts';

describe('node --rpc options', () => {
  it('parses [HOST:]PORT, loopback by default', () => {
    expect(parseHostPort('8339')).toEqual({ host: '127.0.0.1', port: 8339 });
    expect(parseHostPort('0.0.0.0:0')).toEqual({ host: '0.0.0.0', port: 0 });
    expect(parseHostPort('[::1]:8339')).toEqual({ host: '::1', port: 8339 });
    for (const bad of ['', 'x', '70000', '1.2.3.4:', ':80', 'host:80:90', '-1', '8339 ', 'a b:1']) expect(() => parseHostPort(bad), bad).toThrow(UsageError);
  });

  it('needs credentials for --rpc and --rpc for its options', () => {
    expect(parseCliArgs(['--rpc', '8339', '--data', '/tmp/x']).rpc).toEqual({ host: '127.0.0.1', port: 8339 });
    expect(parseCliArgs(['--rpc', '8339', '--rpc-cookie', '/tmp/c']).rpcCookie).toBe('/tmp/c');
    expect(parseCliArgs(['--rpc', '8339', '--rpc-user', 'op']).rpcUser).toBe('op');
    expect(() => parseCliArgs(['--rpc', '8339'])).toThrow(/--rpc needs credentials/);
    expect(() => parseCliArgs(['--rpc-user', 'op'])).toThrow(/need --rpc/);
    expect(() => parseCliArgs(['--rpc', '8339', '--rpc-user', 'o p'])).toThrow(/--rpc-user is/);
    expect(() => parseCliArgs(['--rpc', 'nope', '--data', '/tmp/x'])).toThrow(/--rpc takes \[HOST:\]PORT/);
  });
});

describe('npm run cli', () => {
  it('converts each argument by its method', () => {
    expect(parseCallArgs(['--data', '/d', 'send', 'tab1xyz', '100'])).toMatchObject({ method: 'send', params: ['tab1xyz', '100'], credentials: { cookie: '/d/.cookie' }, url: 'http://127.0.0.1:8339/' });
    expect(parseCallArgs(['--rpc-cookie', '/c', '--rpc', '[::1]:9', 'mineBlocks', '3'])).toMatchObject({ params: [3], url: 'http://[::1]:9/' });
    expect(parseCallArgs(['--data', '/d', 'getBlock', '12']).params).toEqual([12]);
    expect(parseCallArgs(['--data', '/d', 'getBlock', 'ab'.repeat(32)]).params).toEqual(['ab'.repeat(32)]);
    expect(parseCallArgs(['--data', '/d', 'startMining', '{"workers":1}']).params).toEqual([{ workers: 1 }]);
    expect(parseCallArgs(['--rpc-user', 'op', 'status'], { TABCHAIN_RPC_PASSWORD: 'p'.repeat(16) }).credentials).toEqual({ user: 'op', password: 'p'.repeat(16) });
  });

  it('refuses mistakes before calling anything', () => {
    const bad: [string[], RegExp][] = [
      [['--data', '/d'], /name a method/],
      [['--data', '/d', 'nope'], /unknown method "nope"/],
      [['--data', '/d', 'mineBlocks'], /mineBlocks needs n/],
      [['--data', '/d', 'mineBlocks', '1', '2'], /at most 1 argument/],
      [['--data', '/d', 'mineBlocks', 'x'], /n must be an integer/],
      [['--data', '/d', 'startMining', '[1]'], /must be a JSON object/],
      [['--data', '/d', 'startMining', '{'], /must be a JSON object/],
      [['status'], /say how to authenticate/],
      [['--rpc-user', 'op', 'status'], /password in \$TABCHAIN_RPC_PASSWORD/],
      [['--bogus', 'status'], /Unknown option/],
    ];
    for (const [argv, re] of bad) expect(() => parseCallArgs(argv, {}), argv.join(' ')).toThrow(re);
    expect(() => convertArg({ name: 'on', kind: 'boolean' }, 'yes')).toThrow(/true or false/);
  });

  it('lists every method, one line each', () => {
    const lines = methodList().split('\n');
    expect(lines).toHaveLength(RPC_METHODS.size);
    for (const name of RPC_METHODS.keys()) expect(lines.some((l) => l.trim().startsWith(`${name} `) || l.trim() === name)).toBe(true);
  });
});
