/**
 * Fuzz targets of the RPC's input paths (src/node/api-raw.ts, src/node/rpc/):
 *
 * - parseRawTx: raw transaction hex from anyone — mutated encodings of real signed transactions,
 *   their hex bent (case, odd length, stray characters), random strings, values of other types:
 *   a transaction whose encoding is exactly those bytes, or ApiError / RuleError with BAD_INPUT,
 *   TX_TOO_LARGE or MALFORMED; nothing else thrown.
 * - checkParams: any JSON as the params of any method: the positional arguments (as many as
 *   given, each of its parameter's kind), or ApiError BAD_INPUT.
 * - dispatch: any JSON body (single requests, batches, junk): a JSON-RPC 2.0 response, an array
 *   of them, or null — never a throw — over an API whose every method answers.
 */
import { describe, expect } from 'vitest';
import fc from 'fast-check';
import { bytesToHex, encodeAddress, encodeTx, getParams, publicKeyOf, RuleError } from '../../src/chain/index.ts';
import { parseRawTx } from '../../src/node/api-raw.ts';
import type { TabchainApiExtended } from '../../src/node/api.ts';
import { ApiError } from '../../src/node/errors.ts';
import { RPC_METHODS, checkParams } from '../../src/node/rpc/methods.ts';
import { createDispatcher, dispatch } from '../../src/node/rpc/server.ts';
import { signedTransfer } from '../support/raw-tx.ts';
import { fuzz, fuzzAsync, thrownBy } from './harness.ts';
import { mutated } from './mutate.ts';
import { expectOneOf } from './properties.ts';

const HERE = import.meta.url;
const params = getParams('test');
const RAW_CODES = ['BAD_INPUT', 'TX_TOO_LARGE', 'MALFORMED'];

/** Signed transfers between two keys (32-byte seeds are ed25519 private keys). */
const arbSigned: fc.Arbitrary<Uint8Array> = fc
  .tuple(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.bigInt({ min: 1n, max: 1n << 40n }), fc.integer({ min: 1, max: 1000 }))
  .map(([from, to, amount, nonce]) => encodeTx(signedTransfer(params, from, encodeAddress(publicKeyOf(to), params.addressPrefix), amount, nonce).tx));

/** Hex as a caller might send it: exact, upper case, one character short, with a stray character. */
const arbRawHex: fc.Arbitrary<unknown> = fc.oneof(
  fc.tuple(mutated(arbSigned), fc.constantFrom('exact', 'upper', 'short', 'stray', 'space')).map(([bytes, how]) => {
    const hex = bytesToHex(bytes);
    if (how === 'upper') return hex.toUpperCase();
    if (how === 'short') return hex.slice(1);
    if (how === 'stray') return `${hex.slice(0, 10)}g${hex.slice(11)}`;
    if (how === 'space') return ` ${hex}`;
    return hex;
  }),
  arbSigned.map((b) => bytesToHex(b)),
  fc.string({ maxLength: 64 }),
  fc.stringMatching(/^[0-9a-f]{0,400}$/),
  fc.integer({ min: params.maxTxBytes - 2, max: params.maxTxBytes + 2 }).map((n) => '00'.repeat(n)),
  fc.constantFrom<unknown>(null, undefined, 5, true, [], {}, ['00'], 5n),
);

describe('raw transaction hex', () => {
  fuzz(
    'parseRawTx',
    arbRawHex,
    (hex) => {
      let tx;
      const e = thrownBy(() => (tx = parseRawTx(hex, params)));
      if (e !== undefined) {
        expectOneOf(e, [ApiError, RuleError], String(hex).slice(0, 80));
        expect(RAW_CODES).toContain((e as { code: string }).code);
        return (e as { code: string }).code;
      }
      expect(typeof hex).toBe('string');
      expect(bytesToHex(encodeTx(tx!))).toBe((hex as string).toLowerCase());
      return 'decoded';
    },
    HERE,
    { mustSee: ['decoded', 'BAD_INPUT', 'MALFORMED', 'TX_TOO_LARGE'] },
  );
});

const arbJson: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 3 });
const names = [...RPC_METHODS.keys()];

describe('RPC requests', () => {
  fuzz(
    'checkParams',
    fc.tuple(fc.constantFrom(...names), fc.oneof(fc.array(arbJson, { maxLength: 5 }), arbJson)),
    ([name, p]) => {
      const m = RPC_METHODS.get(name)!;
      let args: unknown[] | undefined;
      const e = thrownBy(() => (args = checkParams(name, m, p)));
      if (e !== undefined) {
        expectOneOf(e, [ApiError]);
        expect((e as ApiError).code).toBe('BAD_INPUT');
        return 'refused';
      }
      expect(Array.isArray(args)).toBe(true);
      expect(args!.length).toBeLessThanOrEqual(m.params.length);
      return 'accepted';
    },
    HERE,
    { mustSee: ['accepted', 'refused'] },
  );

  // Every method answers 'ok' (a Proxy stands in for the node's API): the dispatcher's framing,
  // argument checks and error mapping are what is fuzzed.
  const api = new Proxy({}, { get: () => async () => 'ok' }) as TabchainApiExtended;
  const rpc = createDispatcher({ api });
  const arbRequest: fc.Arbitrary<unknown> = fc.oneof(
    fc.record({ jsonrpc: fc.constantFrom<unknown>('2.0', '1.0', 2, undefined), id: fc.oneof(fc.integer(), fc.string({ maxLength: 4 }), fc.constant(null), fc.constant(undefined), fc.constant({})), method: fc.oneof(fc.constantFrom(...names, '__proto__', 'constructor', ''), fc.string({ maxLength: 8 }), fc.integer()), params: fc.oneof(fc.constant(undefined), fc.array(arbJson, { maxLength: 4 }), arbJson) }, { requiredKeys: [] }),
    arbJson,
  );
  fuzzAsync(
    'dispatch',
    fc.oneof(arbRequest, fc.array(arbRequest, { maxLength: 6 })),
    async (body) => {
      const answer = await dispatch(rpc, body);
      if (answer === null) return 'no answer';
      for (const a of Array.isArray(answer) ? answer : [answer]) {
        expect(a.jsonrpc).toBe('2.0');
        if (a.error) {
          expect(Number.isInteger(a.error.code)).toBe(true);
          expect(typeof a.error.message).toBe('string');
        } else expect('result' in a).toBe(true); // 'ok', or null where a method reads a field of the stand-in's answer
      }
      return Array.isArray(answer) ? 'batch' : answer.error ? `error ${answer.error.code}` : 'result';
    },
    HERE,
    { mustSee: ['result', 'batch', 'error -32600', 'error -32601', 'error -32602'] },
  );
});
