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
import { amountText, describeTx } from '../../src/ui/describe.ts';
import { InputError, addressProblem, errorMessage, formatTab, parseCount, parseTab, shortHash, timeAgo } from '../../src/ui/format.ts';

const addr = (n: number, prefix = 'tabdev') => encodeAddress(publicKeyOf(new Uint8Array(32).fill(n)), prefix);

describe('amounts', () => {
  it('parseTab reads decimal TAB exactly and formatTab prints it back', () => {
    expect(parseTab('1.5')).toBe('150000000');
    expect(parseTab(' 0.00000001 ')).toBe('1');
    expect(parseTab('1,000')).toBe((1000n * COIN).toString());
    expect(parseTab('.5')).toBe('50000000');
    expect(formatTab('150000000')).toBe('1.5 TAB');
    expect(formatTab(123456n * COIN)).toBe('123,456 TAB');
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: (1n << 62n) - 1n }), (units) => {
        expect(parseTab(formatTab(units, { unit: false }))).toBe(units.toString());
      }),
      { numRuns: 200 },
    );
  });

  it('parseTab and parseCount refuse what is not a plain positive amount, saying why', () => {
    for (const bad of ['', 'abc', '1.123456789', '0', '-1', '1e3', '0.000000000']) expect(() => parseTab(bad)).toThrow(InputError);
    expect(() => parseTab('1.123456789')).toThrow('At most 8 decimal places');
    expect(() => parseTab('99999999999999999')).toThrow('too large');
    expect(parseCount('3')).toBe(3);
    expect(() => parseCount('2.5', 'Lots')).toThrow('Lots must be a whole number.');
    expect(() => parseCount('0', 'Lots')).toThrow('Lots must be at least 1.');
    expect(() => parseCount('9', 'Lots', 3)).toThrow('Lots must be at most 3.');
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
