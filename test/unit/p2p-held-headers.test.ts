/**
 * HeldHeaders (src/p2p/held-headers.ts): the SyncManager's low-work headers, kept as 80-byte
 * encodings (1.6 MB for 20,000 instead of 12 MiB of objects), decoded back unchanged.
 */
import { describe, expect, it } from 'vitest';
import { blockHash, NETWORKS } from '../../src/chain/index.ts';
import { HeldHeaders } from '../../src/p2p/held-headers.ts';
import { ChainBuilder } from './helpers/chain-builder.ts';

describe('HeldHeaders', () => {
  it('keeps headers in order as encodings, knows the last hash, and gives them back unchanged', () => {
    const builder = new ChainBuilder(NETWORKS.test);
    const headers = Array.from({ length: 7 }, () => builder.mine().block.header);
    const held = new HeldHeaders(10);
    expect([held.length, held.bytes, held.lastHash]).toEqual([0, 0, undefined]);
    held.push(headers.slice(0, 3));
    held.push([]);
    held.push(headers.slice(3));
    expect([held.length, held.bytes]).toEqual([7, 7 * 80]);
    expect(held.lastHash).toEqual(blockHash(headers[6]));
    expect(held.headers()).toEqual(headers);
    held.clear();
    expect([held.length, held.lastHash, held.headers()]).toEqual([0, undefined, []]);
  });

  it('refuses to go over its maximum, keeping what it holds', () => {
    const builder = new ChainBuilder(NETWORKS.test);
    const headers = Array.from({ length: 3 }, () => builder.mine().block.header);
    const held = new HeldHeaders(2);
    held.push(headers.slice(0, 2));
    expect(() => held.push(headers.slice(2))).toThrow(RangeError);
    expect(held.headers()).toEqual(headers.slice(0, 2));
    expect(() => new HeldHeaders(-1)).toThrow(TypeError);
  });
});
