/**
 * Test helper for the network layer: a real chain (ChainBuilder, test network) loaded into a
 * HeaderIndex with its encoded blocks, and the sync ChainView over them; plus an in-memory
 * message port pair.
 */
import { encodeBlock } from '../../../src/chain/block.ts';
import { HeaderIndex } from '../../../src/chain/header-index.ts';
import { hashToHex } from '../../../src/chain/hash.ts';
import { NETWORKS } from '../../../src/chain/params.ts';
import type { SyncPort } from '../../../src/p2p/sync-client.ts';
import { chainViewOf, type ChainView } from '../../../src/p2p/sync-server.ts';
import { ChainBuilder } from './chain-builder.ts';

export interface ServedChain {
  builder: ChainBuilder;
  index: HeaderIndex;
  /** Encoded blocks by display hex hash (genesis included). */
  bodies: Map<string, Uint8Array>;
  view: ChainView;
}

/** A chain of `height` blocks above genesis, all stored and valid, served by a ChainView. */
export function servedChain(height: number, builder: ChainBuilder = new ChainBuilder(NETWORKS.test)): ServedChain {
  while (builder.height < height) builder.mine();
  const index = new HeaderIndex(builder.params.genesis.header);
  const bodies = new Map<string, Uint8Array>();
  builder.blocks.forEach((b, h) => {
    if (h > 0) index.add(b.header, { status: 'valid', hasBody: true });
    bodies.set(hashToHex(builder.entries[h].hash), encodeBlock(b));
  });
  const view = chainViewOf({ params: builder.params, index, getBlocksBytes: (hs) => hs.map((h) => bodies.get(hashToHex(h))) });
  return { builder, index, bodies, view };
}

/** Two connected in-memory ports; messages arrive asynchronously (next macrotask), like a real carrier. */
export function portPair(): [SyncPort & { sent: Uint8Array[] }, SyncPort & { sent: Uint8Array[] }] {
  const handlers: [Set<(m: Uint8Array) => void>, Set<(m: Uint8Array) => void>] = [new Set(), new Set()];
  const make = (self: 0 | 1) => {
    const sent: Uint8Array[] = [];
    return {
      sent,
      send(m: Uint8Array) {
        sent.push(m);
        const copy = m.slice();
        setTimeout(() => {
          for (const h of handlers[1 - self]) h(copy);
        }, 0);
      },
      subscribe(h: (m: Uint8Array) => void) {
        handlers[self].add(h);
        return () => handlers[self].delete(h);
      },
    };
  };
  return [make(0), make(1)];
}
