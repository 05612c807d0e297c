/**
 * Properties shared by the decoder targets.
 * @module
 */
import { expect } from 'vitest';
import { bytesToHex, equalBytes } from '../../src/chain/bytes.ts';
import { describeError } from './harness.ts';

/**
 * The decoder contract: `decode(bytes)` either returns a value whose encoding is exactly `bytes`
 * (one encoding per value: nothing accepted is non-canonical) or throws an error that
 * `documented` accepts. Returns the value, or undefined when the input was refused.
 */
export function expectCanonicalOrRefused<T>(bytes: Uint8Array, decode: (b: Uint8Array) => T, encode: (v: T) => Uint8Array, documented: (e: unknown) => boolean): T | undefined {
  let value: T;
  try {
    value = decode(bytes);
  } catch (e) {
    if (!documented(e)) throw new Error(`undocumented ${describeError(e)} for input ${bytesToHex(bytes)}`, { cause: e });
    return undefined;
  }
  const again = encode(value);
  if (!equalBytes(again, bytes)) throw new Error(`accepted ${bytesToHex(bytes)} but it re-encodes to ${bytesToHex(again)}`);
  return value;
}

/**
 * `fn` allocates at most `maxBytes` of ArrayBuffer memory that is still held when it returns
 * (Node's `arrayBuffers` gauge counts an allocation the moment it happens, so a decoder that
 * trusted a 1 GiB length prefix shows it here even if it failed afterwards). Returns what `fn`
 * threw, if anything.
 */
export function arrayBufferGrowth(fn: () => void): { grew: number; thrown: unknown } {
  const before = process.memoryUsage().arrayBuffers;
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  return { grew: process.memoryUsage().arrayBuffers - before, thrown };
}

/** Asserts `e` is an instance of one of `types` (with a message naming what it was). */
export function expectOneOf(e: unknown, types: readonly (abstract new (...args: never[]) => unknown)[], context = ''): void {
  if (!types.some((t) => e instanceof t)) {
    expect.fail(`${context}${context ? ': ' : ''}expected ${types.map((t) => t.name).join(' | ')}, got ${describeError(e)}`);
  }
}
