/**
 * Fuzz target of the explorer's search (src/node/explorer.ts `searchAll`, what the page's search
 * box and window.tabchain.searchAll pass any text to), over a real node with blocks, transfers,
 * two items and an open offer.
 *
 * Queries: the chain's own ids and addresses, exact (any case, padded with spaces), cut to the
 * short forms the page shows ("00000a1b…9f2c", "0000…", "tabtest1qy3…x7ke"), prefixes, item SKUs
 * and name fragments, heights, random and over-long text, and values that are not strings.
 *
 * Properties: a string query resolves (never rejects) with at most SEARCH_MAX_HITS distinct hits,
 * each naming something the node knows and each related to the query (same id or height, a short
 * form it fits, an item whose SKU or name contains the text); an exact id, height or address of
 * the chain is always found; anything but a string is refused with ApiError BAD_INPUT.
 */
import { afterAll, beforeAll, describe, expect } from 'vitest';
import fc from 'fast-check';
import { hashToHex, hexToHash, isAddress } from '../../src/chain/index.ts';
import { ApiError } from '../../src/node/errors.ts';
import { SEARCH_MAX_HITS, type ApiSearchHit } from '../../src/node/explorer.ts';
import { COIN } from '../../src/chain/index.ts';
import { params, startRig, stopAll, type Profile, type Rig } from '../unit/helpers/wallet-node.ts';
import { fuzzAsync, rejectionOf } from './harness.ts';

const HERE = import.meta.url;

let rig: Rig;
let A: Profile;
/** What the chain holds, as the API prints it. */
const known = { blocks: [] as string[], txs: [] as string[], items: [] as string[], offers: [] as string[], addresses: [] as string[], texts: [] as string[] };

beforeAll(async () => {
  rig = await startRig({ profiles: [{ name: 'A' }, { name: 'B' }] });
  [A] = rig.profiles;
  const B = rig.profiles[1];
  await A.api.mineBlocks(4);
  const lamp = await A.api.createItem('LAMP', 'Desk lamp', 10);
  const mug = await A.api.createItem('MUG-1', 'Blue mug ☕', 5);
  const send = await A.api.send(B.wallet.address, (5n * COIN).toString());
  await rig.mineElsewhere(1);
  const offer = await A.api.createOffer({ give: { asset: lamp.itemId, amount: '1' }, want: { asset: 'coin', amount: (2n * COIN).toString() }, lots: 3 });
  await rig.mineElsewhere(1);
  for (let h = 0; h <= rig.node.height; h++) known.blocks.push(hashToHex(rig.node.headers.ancestorAt(rig.node.tip, h)!.hash));
  known.txs.push(lamp.txid, mug.txid, send, offer);
  known.items.push(lamp.itemId, mug.itemId);
  known.offers.push(offer);
  known.addresses.push(A.wallet.address, B.wallet.address);
  known.texts.push('LAMP', 'Desk lamp', 'MUG-1', 'Blue mug ☕');
});

afterAll(stopAll);

const arbId = fc.oneof(
  fc.constant(null).map(() => known.blocks),
  fc.constant(null).map(() => known.txs),
  fc.constant(null).map(() => known.items),
  fc.constant(null).map(() => known.offers),
).chain((list) => fc.nat().map((i) => list[i % list.length]));
const arbAddress = fc.nat().map((i) => known.addresses[i % known.addresses.length]);
const arbCase = (s: string) => fc.constantFrom((x: string) => x, (x: string) => x.toUpperCase(), (x: string) => x.toLowerCase()).map((f) => f(s));

const arbQuery: fc.Arbitrary<unknown> = fc.oneof(
  // exact ids and addresses, any case, padded
  { weight: 3, arbitrary: fc.tuple(fc.oneof(arbId, arbAddress), fc.constantFrom('', ' ', '\t', ' \n')).chain(([s, pad]) => arbCase(s).map((c) => pad + c + pad)) },
  // the page's short forms, and cuts that are not quite them
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.oneof(arbId, arbAddress), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 8 }), fc.constantFrom('…', '...', '..', '', '…x'))
      .map(([s, head, tail, sep]) => s.slice(0, s.startsWith('tab') ? s.lastIndexOf('1') + head : head) + sep + (tail > 0 ? s.slice(-tail) : '')),
  },
  { weight: 1, arbitrary: fc.integer({ min: -2, max: 20 }).map(String) },
  { weight: 1, arbitrary: fc.nat().chain((i) => { const t = known.texts[i % known.texts.length]; return fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => t.slice(Math.min(a, b) % t.length, Math.max(a, b) % (t.length + 1))); }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.stringMatching(/^[0-9a-f.…]{0,70}$/) },
  { weight: 1, arbitrary: fc.integer({ min: 199, max: 400 }).map((n) => '0'.repeat(n)) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(null, undefined, 5, 5n, {}, ['LAMP'], Symbol('q')) },
);

/** Whether `text` (lowercase) is `id` or one of its short forms (head[…tail], head ≥ 6). */
function fits(id: string, text: string): boolean {
  if (text === id) return true;
  const m = /^(.+?)(?:(?:…|\.\.\.)(.+))?$/.exec(text);
  if (!m) return false;
  const [head, tail = ''] = [m[1], m[2]];
  return id.length > head.length + tail.length && id.startsWith(head) && id.endsWith(tail);
}

async function expectHitKnown(hit: ApiSearchHit): Promise<void> {
  const node = rig.node;
  switch (hit.type) {
    case 'block':
      expect(node.headers.get(hit.hash)?.height).toBe(hit.height);
      return;
    case 'tx':
      expect(node.mempool.has(hit.txid) || (await node.findTx(hit.txid)) !== null).toBe(true);
      return;
    case 'item':
      expect(node.state.getItem(hexToHash(hit.itemId))).toBeTruthy();
      return;
    case 'offer':
      expect(node.state.getOffer(hexToHash(hit.offerId))).toBeTruthy();
      return;
    case 'address':
      expect(isAddress(hit.address, params.addressPrefix)).toBe(true);
      expect(hit.address).toBe(hit.address.toLowerCase());
      return;
  }
}

function relates(hit: ApiSearchHit, q: string): boolean {
  const lower = q.toLowerCase();
  switch (hit.type) {
    case 'block':
      return fits(hit.hash, lower) || (/^[0-9]{1,10}$/.test(q) && Number(q) === hit.height);
    case 'tx':
      return fits(hit.txid, lower);
    case 'offer':
      return fits(hit.offerId, lower);
    case 'address':
      return fits(hit.address, lower);
    case 'item': {
      const item = rig.node.state.getItem(hexToHash(hit.itemId))!;
      return fits(hit.itemId, lower) || (lower.length >= 2 && (item.sku.toLowerCase().includes(lower) || item.name.toLowerCase().includes(lower)));
    }
  }
}

describe('explorer', () => {
  fuzzAsync(
    'searchAll (query text)',
    arbQuery,
    async (query) => {
      if (typeof query !== 'string') {
        const err = await rejectionOf(A.api.searchAll(query as string));
        expect(err).toBeInstanceOf(ApiError);
        expect((err as ApiError).code).toBe('BAD_INPUT');
        return 'not a string';
      }
      const { hits } = await A.api.searchAll(query);
      expect(hits.length).toBeLessThanOrEqual(SEARCH_MAX_HITS);
      expect(new Set(hits.map((h) => JSON.stringify(h))).size).toBe(hits.length);
      const q = query.trim();
      for (const h of hits) {
        await expectHitKnown(h);
        if (!relates(h, q)) expect.fail(`hit ${JSON.stringify(h)} has nothing to do with ${JSON.stringify(query)}`);
      }
      // Exact forms are always found.
      const lower = q.toLowerCase();
      if (known.blocks.includes(lower)) expect(hits).toContainEqual({ type: 'block', hash: lower, height: known.blocks.indexOf(lower) });
      if (known.txs.includes(lower) && !known.offers.includes(lower)) expect(hits).toContainEqual({ type: 'tx', txid: lower });
      if (known.items.includes(lower)) expect(hits).toContainEqual({ type: 'item', itemId: lower });
      if (known.offers.includes(lower)) expect(hits).toContainEqual({ type: 'offer', offerId: lower });
      if (known.addresses.includes(lower) && (q === lower || q === q.toUpperCase())) expect(hits).toContainEqual({ type: 'address', address: lower });
      if (/^[0-9]{1,10}$/.test(q) && Number(q) < known.blocks.length) expect(hits).toContainEqual({ type: 'block', hash: known.blocks[Number(q)], height: Number(q) });
      return hits.length === 0 ? 'nothing' : hits.length === 1 ? 'one hit' : 'several hits';
    },
    HERE,
    { mustSee: ['not a string', 'nothing', 'one hit', 'several hits'] },
  );
});
