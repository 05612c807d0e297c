/**
 * The page's input parsing and wording (src/ui/format.ts, describe.ts): what a person types is read
 * exactly (TAB amounts to base units, counts), bad addresses are explained, and API errors become
 * sentences that still name their code.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { COIN, encodeAddress, publicKeyOf } from '../../src/chain/index.ts';
import { ApiError } from '../../src/node/errors.ts';
import type { ApiItem } from '../../src/node/explorer.ts';
import { amountText, describeTx, doneText, groupRewards, reviewOf, rewardState } from '../../src/ui/describe.ts';
import { InputError, MAX_ITEM_COUNT, addressProblem, errorMessage, formatTab, formatWait, maturingText, nameBytes, nameProblem, parseCount, parseTab, shortAddress, shortHash, timeAgo } from '../../src/ui/format.ts';

const addr = (n: number, prefix = 'tabdev') => encodeAddress(publicKeyOf(new Uint8Array(32).fill(n)), prefix);

describe('amounts', () => {
  it('parseTab reads decimal TAB exactly and formatTab prints it back', () => {
    expect(parseTab('1.5')).toBe('150000000');
    expect(parseTab(' 0.00000001 ')).toBe('1');
    expect(parseTab('.5')).toBe('50000000');
    expect(formatTab('150000000')).toBe('1.5 TAB');
    expect(formatTab(123456n * COIN)).toBe('123,456 TAB');
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: (1n << 62n) - 1n }), (units) => {
        // The display groups thousands ("1,000"); typed back without the grouping it reads exactly.
        expect(parseTab(formatTab(units, { unit: false }).replace(/,/g, ''))).toBe(units.toString());
      }),
      { numRuns: 200 },
    );
  });

  it('parseTab and parseCount refuse what is not a plain positive amount, saying why', () => {
    for (const bad of ['', 'abc', '1.123456789', '0', '-1', '1e3', '0.000000000', '1 000', '+-1', '١', '1.2.3', '.']) expect(() => parseTab(bad)).toThrow(InputError);
    expect(() => parseTab('1.123456789')).toThrow('at most 8 decimal places');
    expect(() => parseTab('99999999999999999')).toThrow('too large: an amount can be at most 92,233,720,368.54775807 TAB');
    expect(() => parseTab('9'.repeat(400))).toThrow('too large');
    expect(() => parseTab('-5')).toThrow('The amount cannot be negative.');
    expect(() => parseTab('1e26')).toThrow('no exponent');
    expect(() => parseTab('1 000')).toThrow('Remove the spaces');
    expect(parseCount('3')).toBe(3);
    expect(() => parseCount('2.5', 'Lots')).toThrow('Lots must be a whole number');
    expect(() => parseCount('0', 'Lots')).toThrow('Lots must be at least 1.');
    expect(() => parseCount('9', 'Lots', 3)).toThrow('Lots must be at most 3.');
    expect(() => parseCount('-5', 'The stock')).toThrow('The stock cannot be negative.');
    expect(() => parseCount('1e26', 'The stock')).toThrow('plain digits');
    expect(() => parseCount('', 'The stock')).toThrow('The stock is empty');
    expect(() => parseCount('1,000', 'The stock')).toThrow('Write the stock without commas, e.g. 1000.');
    // The page's own limit reads as a round number, not 9,007,199,254,740,991.
    expect(() => parseCount(String(MAX_ITEM_COUNT + 1), 'The stock')).toThrow('The stock must be at most 1,000,000,000.');
    expect(() => parseCount('9'.repeat(30), 'The stock')).toThrow('at most 1,000,000,000');
  });

  it('a comma is never dropped: "1,5" is refused with the dot form, "1,000" with both readings', () => {
    expect(() => parseTab('1,5')).toThrow('Use a dot for decimals: write 1.5.');
    expect(() => parseTab(',5')).toThrow('write 0.5.');
    expect(() => parseTab('1,000')).toThrow('“1,000” could mean 1000 or 1.000');
    expect(() => parseTab('1,2,3')).toThrow('Use a dot for decimals and no commas');
    // Whatever is typed, a result is exactly what the digits say, or a refusal.
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('0', '1', '5', '9', '.', ',', ' ', '-', 'e') , maxLength: 14 }), (text) => {
        let units: string;
        try {
          units = parseTab(text);
        } catch (e) {
          expect(e).toBeInstanceOf(InputError);
          return;
        }
        expect(text.trim()).toMatch(/^\d*\.?\d*$/);
        expect(BigInt(units)).toBe(BigInt(Math.round(Number(text.trim()) * 1e8)));
      }),
      { numRuns: 500 },
    );
  });

  it('item names: bytes counted as the chain counts them, too long said in characters', () => {
    expect(nameBytes('Blue mug')).toBe(8);
    expect(nameBytes('é')).toBe(2);
    expect(nameProblem('Blue mug')).toBeNull();
    expect(nameProblem('  ')).toContain('Give the item a name');
    expect(nameProblem('Blue mug \u202egpj.exe')).toContain('invisible control or text-direction character');
    expect(nameProblem('Blue\u0000mug')).toContain('invisible control');
    expect(nameProblem('é'.repeat(33))).toBe('The name is too long: it uses 66 of 64 characters (letters such as é count as 2, emoji as 4).');
    expect(nameProblem('a'.repeat(64))).toBeNull();
  });

  it('maturing rewards and waits in words', () => {
    expect(formatWait(7, 70)).toBe('in 7 blocks (about 70 s)');
    expect(formatWait(1, 2)).toBe('in 1 block (about 2 s)');
    expect(formatWait(30, 300)).toBe('in 30 blocks (about 5 minutes)');
    const r = (amount: number, blocksLeft: number) => ({ amount: (BigInt(amount) * COIN).toString(), blocksLeft, seconds: blocksLeft * 2 });
    expect(maturingText([r(50, 1)])).toBe('50 TAB in 1 block (about 2 s)');
    expect(maturingText([r(50, 2), r(50, 1)])).toBe('50 TAB in 1 block (about 2 s), 50 TAB in 2 blocks (about 4 s)');
    expect(maturingText([r(50, 1), r(50, 2), r(50, 3), r(50, 4), r(50, 5)])).toBe('50 TAB in 1 block (about 2 s), 50 TAB in 2 blocks (about 4 s), 150 TAB more, the last in 5 blocks (about 10 s)');
    expect(maturingText([])).toBe('');
  });
});

describe('addresses and errors', () => {
  it('addressProblem: null for a valid address; a typo, another network and garbage are explained', () => {
    const a = addr(1);
    expect(addressProblem(a, 'tabdev')).toBeNull();
    expect(addressProblem(a.toUpperCase(), 'tabdev')).toBeNull();
    const typo = a.slice(0, -1) + (a.endsWith('q') ? 'p' : 'q');
    expect(addressProblem(typo, 'tabdev')).toContain('checksum does not match');
    expect(addressProblem(addr(1, 'tab'), 'tabdev')).toContain('start with tabdev1');
    expect(addressProblem('hello', 'tabdev')).toContain('start with tabdev1');
    expect(addressProblem('  ', 'tabdev')).toBe('Enter an address.');
  });

  it('errorMessage turns API codes into sentences that keep the code; unknown codes keep the detail', () => {
    expect(errorMessage(new ApiError('INSUFFICIENT_FUNDS', 'need 5, have 1'))).toMatch(/^Not enough spendable coins.*\(INSUFFICIENT_FUNDS\)$/);
    // Across page.evaluate only the message survives: the code is read from it.
    expect(errorMessage(new Error('LOTS_EXCEEDED: 6 > 5'))).toBe('The offer has fewer lots left than you asked for. (LOTS_EXCEEDED)');
    expect(errorMessage(new ApiError('SOMETHING_NEW', 'the detail'))).toBe('the detail (SOMETHING_NEW)');
    expect(errorMessage(new InputError('Enter an amount.'))).toBe('Enter an amount.');
    expect(errorMessage('plain')).toBe('plain');
    // A rejection's reason as the outbox keeps it: the bare code.
    expect(errorMessage(new Error('OFFER_NOT_FOUND'))).toBe('That offer is no longer open: it was taken, cancelled or has expired. (OFFER_NOT_FOUND)');
    expect(errorMessage(new Error('SOMETHING_NEW'))).toBe('SOMETHING_NEW');
    // previewTx's error is a plain object with code and message.
    expect(errorMessage({ code: 'ITEM_EXISTS', message: 'ITEM_EXISTS: item MUG already exists' })).toBe('You already created an item with this SKU. Restock it instead. (ITEM_EXISTS)');
    // A bare IMMATURE (as a rejected transaction keeps it) is words too.
    expect(errorMessage(new Error('IMMATURE'))).toMatch(/^Your mining rewards are not spendable yet/);
  });

  it('errorMessage words a refusal from its numbers: TAB, item names, when rewards unlock', () => {
    const itemId = 'cd'.repeat(32);
    const items = new Map<string, ApiItem>([[itemId, { itemId, sku: 'MUG', name: 'Blue mug', issuer: addr(1), supply: '10', createdHeight: 1, holders: 1 }]]);
    const immature = new ApiError('IMMATURE', 'needs 1390, spendable 0, rest not yet mature', {
      details: { type: 'shortfall', asset: 'coin', need: '1390', have: '0', fee: '1390', maturing: (150n * COIN).toString(), enoughIn: { blocks: 7, seconds: 70 } },
    });
    expect(errorMessage(immature)).toBe(
      'Not enough spendable TAB yet: this needs its 0.0000139 TAB fee and you can spend 0 TAB now. Your mining rewards of 150 TAB are still maturing: enough for this in 7 blocks (about 70 s).',
    );
    const broke = new ApiError('INSUFFICIENT_FUNDS', 'x', { details: { type: 'shortfall', asset: 'coin', need: (6n * COIN + 1500n).toString(), have: (5n * COIN).toString(), fee: '1500', maturing: '0' } });
    expect(errorMessage(broke)).toBe('Not enough TAB: this needs 6.000015 TAB (the 0.000015 TAB fee included) and you can spend 5 TAB.');
    const mugs = new ApiError('INSUFFICIENT_FUNDS', 'x', { details: { type: 'shortfall', asset: itemId, need: '5', have: '2', fee: '1500', maturing: '0' } });
    expect(errorMessage(mugs, { items, needsWhat: '5 lots' })).toBe('You hold 2 Blue mug; 5 lots need 5.');
    expect(errorMessage(mugs, { items })).toBe('You hold 2 Blue mug; this needs 5.');
    expect(errorMessage(mugs, { items, needsWhat: 'shipping 5' })).toBe('You hold 2 Blue mug; shipping 5 needs 5.');
    expect(errorMessage(mugs, { items, needsWhat: '1 lot' })).toBe('You hold 2 Blue mug; 1 lot needs 5.');
    expect(errorMessage(new ApiError('LOTS_EXCEEDED', 'x', { details: { type: 'lots', asked: 5, left: 1 } }))).toBe('The offer has only 1 lot left; you asked for 5.');
  });

  it('short forms and times', () => {
    expect(shortHash('ab'.repeat(32))).toBe('abababab…abab');
    expect(shortHash('ab'.repeat(32), 6, 0)).toBe('ababab…');
    const now = 1_800_000_000_000;
    expect(timeAgo(now / 1000 - 90, now)).toBe('1 min ago');
    expect(timeAgo(now / 1000 + 60, now)).toBe('just now'); // block times may run ahead of this clock
    expect(timeAgo(now / 1000 + 600, now)).toBe('in the future');
  });
});

describe('sentences', () => {
  const itemId = 'cd'.repeat(32);
  const items = new Map<string, ApiItem>([[itemId, { itemId, sku: 'MUG', name: 'Blue mug', issuer: addr(1), supply: '10', createdHeight: 1, holders: 1 }]]);
  const base = { txid: 'ef'.repeat(32), nonce: 1, fee: '100', size: 120 };

  it('describes transactions from the reader’s side', () => {
    const me = addr(1);
    const other = addr(2);
    expect(describeTx({ ...base, kind: 'transfer', from: me, to: other, amount: '500000000' }, me, items)).toMatch(/^Sent 5 TAB to tabdev1/);
    expect(describeTx({ ...base, kind: 'transfer', from: other, to: me, amount: '500000000' }, me, items)).toMatch(/^Received 5 TAB from tabdev1/);
    expect(describeTx({ ...base, kind: 'item.transfer', from: me, to: other, itemId, quantity: '2' }, me, items)).toMatch(/^Shipped 2 × Blue mug to/);
    expect(describeTx({ ...base, kind: 'offer.create', from: me, give: { asset: itemId, amount: '1' }, want: { asset: 'coin', amount: '400000000' }, lots: 3 }, me, items)).toBe('Offered 1 × Blue mug for 4 TAB (3 lots)');
    expect(describeTx({ ...base, kind: 'coinbase', from: null, to: me, height: 5 }, me, items)).toBe('Mining reward');
    expect(amountText({ asset: 'ab'.repeat(32), amount: '3' }, items)).toBe('3 × item abababab…abab');
  });
});

describe('review, outcome and history sentences', () => {
  const itemId = 'cd'.repeat(32);
  const items = new Map<string, ApiItem>([[itemId, { itemId, sku: 'MUG', name: 'Blue mug', issuer: addr(1), supply: '10', createdHeight: 1, holders: 1 }]]);
  const me = addr(1);
  const other = addr(2);
  const base = { txid: 'ef'.repeat(32), nonce: 1, fee: '100', size: 120 };

  it('an acceptance says what was bought or sold, from whose side', () => {
    const accept = { ...base, kind: 'offer.accept' as const, offerId: 'ab'.repeat(32), lots: 2, give: { asset: itemId, amount: '1' }, want: { asset: 'coin', amount: '300000000' } };
    expect(describeTx({ ...accept, from: me, maker: other }, me, items)).toMatch(/^Bought 2 × Blue mug for 6 TAB from tabdev1\S+ \(2 lots of offer abababab…abab\)$/);
    expect(describeTx({ ...accept, from: other, maker: me }, me, items)).toMatch(/^Sold 2 × Blue mug for 6 TAB to tabdev1/);
    // Without the offer's terms (not found), the old sentence.
    expect(describeTx({ ...base, kind: 'offer.accept', from: me, offerId: 'ab'.repeat(32), lots: 1 }, me, items)).toBe('Took 1 lot of offer abababab…abab');
  });

  it('reviews say amount, counterpart and fee; sending to yourself is flagged', () => {
    const ctx = { me, items, offers: [{ offerId: 'ab'.repeat(32), maker: other, give: { asset: itemId, amount: '5' }, want: { asset: 'coin', amount: '300000000' }, lotsLeft: 3, lotsTotal: 3, expiresAtHeight: null, createdHeight: 1 }] };
    const send = reviewOf({ kind: 'send', to: other, amount: '150000000' }, '1530', ctx);
    expect(send.lines[0]).toBe(`You are sending 1.5 TAB to ${shortAddress(other)}, fee 0.0000153 TAB.`);
    expect(send.lines[1]).toBe('In all 1.5000153 TAB leaves your wallet.');
    expect(send).toMatchObject({ address: other, warnings: [] });
    expect(reviewOf({ kind: 'send', to: ` ${me} `, amount: '100000000' }, '1530', ctx).warnings[0]).toContain('This is your own address');
    expect(reviewOf({ kind: 'createOffer', give: { asset: itemId, amount: '5' }, want: { asset: 'coin', amount: '300000000' }, lots: 2 }, '2000', ctx).lines[0]).toBe(
      'You offer 2 lots. Each lot: you give 5 × Blue mug and get 3 TAB. Fee 0.00002 TAB.',
    );
    expect(reviewOf({ kind: 'acceptOffer', offerId: 'ab'.repeat(32), lots: 2 }, '1000', ctx).lines[0]).toMatch(/^You take 2 lots: you get 10 × Blue mug and pay 6 TAB to tabdev1/);
    expect(reviewOf({ kind: 'transferItem', itemId, to: other, quantity: 2 }, '1000', ctx).lines[0]).toMatch(/^You are shipping 2 × Blue mug to tabdev1\S+, fee 0.00001 TAB.$/);
  });

  it('after sending: Sent with a peer, Queued without one', () => {
    const send = { kind: 'send' as const, to: other, amount: '1' };
    expect(doneText(send, 'connected')).toMatch(/^Sent\. /);
    for (const c of ['alone', 'connecting'] as const) expect(doneText(send, c)).toMatch(/^Queued: it leaves when a peer is reachable/);
  });

  it('consecutive mining rewards fold into one line with what is still maturing', () => {
    const reward = (h: number, maturesIn: number) => ({ ...base, txid: String(h).padStart(64, '0'), kind: 'coinbase' as const, from: null, to: me, height: h, amount: '5000000000', direction: 'in' as const, state: 'confirmed' as const, confirmations: 1, blockHash: null, blockHeight: h, createdAt: null, maturesIn });
    const send = { ...base, kind: 'transfer' as const, from: me, to: other, amount: '1', direction: 'out' as const, state: 'pending' as const, confirmations: 0, blockHash: null, blockHeight: null, createdAt: 1 };
    const rows = groupRewards([send, reward(5, 2), reward(4, 1), reward(3, 0), { ...send, txid: '11'.repeat(32) }, reward(1, 0)]);
    expect(rows.map((r) => r.kind)).toEqual(['transfer', 'rewards', 'transfer', 'rewards']);
    expect(rows[1]).toMatchObject({ count: 3, total: '15000000000', maturing: '10000000000', nextIn: 1, fromHeight: 3, toHeight: 5 });
    expect(rows[3]).toMatchObject({ count: 1, maturing: '0', nextIn: 0 });
    expect(rewardState(0, 2)).toBe('spendable');
    expect(rewardState(3, 2)).toBe('spendable in 3 blocks (about 6 s)');
  });
});

