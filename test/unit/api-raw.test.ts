/**
 * window.tabchain.sendRawTransaction / decodeTransaction: a transaction signed outside the node
 * goes in by its hex; hostile hex — wrong type, empty, odd, not hex, longer than any transaction,
 * bytes that do not decode, a bad signature, a coinbase, an overspend — is refused with its code
 * before anything reaches the mempool.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { COIN, bytesToHex, encodeAddress, encodeTx, generatePrivateKey, makeCoinbase, publicKeyOf } from '../../src/chain/index.ts';
import { maxRawTxHexChars } from '../../src/node/api-raw.ts';
import { signedTransfer } from '../support/raw-tx.ts';
import { codeOf, params, startRig, stopAll, type Rig } from './helpers/wallet-node.ts';

afterEach(stopAll);

/** A rig whose profile A has coins and an outside key that holds 10 TAB. */
async function withOutsideKey(): Promise<{ rig: Rig; priv: Uint8Array; address: string }> {
  const rig = await startRig();
  const [A] = rig.profiles;
  await A.api.mineBlocks(4);
  const priv = generatePrivateKey();
  const address = encodeAddress(publicKeyOf(priv), params.addressPrefix);
  await A.api.send(address, (10n * COIN).toString());
  await rig.mineElsewhere(1);
  expect(await A.api.balance(address)).toBe((10n * COIN).toString());
  return { rig, priv, address };
}

describe('sendRawTransaction', () => {
  it('takes a transfer signed outside the node, decodes it, and answers the same txid again', async () => {
    const { rig, priv } = await withOutsideKey();
    const [A] = rig.profiles;
    const to = await A.api.address();
    const raw = signedTransfer(params, priv, to, 3n * COIN, 1);
    const view = await A.api.decodeTransaction(raw.hex.toUpperCase());
    expect(view).toMatchObject({ txid: raw.txid, kind: 'transfer', to, amount: (3n * COIN).toString(), nonce: 1 });
    expect(rig.node.mempool.size).toBe(0); // decoding submits nothing

    expect(await A.api.sendRawTransaction(raw.hex)).toBe(raw.txid);
    expect(rig.node.mempool.size).toBe(1);
    expect(await A.api.txStatus(raw.txid)).toEqual({ state: 'pending', confirmations: 0 });
    expect(await A.api.sendRawTransaction(raw.hex)).toBe(raw.txid); // already known: same answer
    expect(rig.node.mempool.size).toBe(1);
    await rig.mineElsewhere(1);
    expect(await A.api.txStatus(raw.txid)).toEqual({ state: 'confirmed', confirmations: 1 });
  });

  it('refuses hostile hex with its code and adds nothing to the mempool', async () => {
    const { rig, priv } = await withOutsideKey();
    const [A] = rig.profiles;
    const to = await A.api.address();
    const good = signedTransfer(params, priv, to, COIN, 1);
    const max = maxRawTxHexChars(params);
    const flipped = good.hex.slice(0, -2) + (good.hex.endsWith('00') ? '01' : '00'); // last signature byte changed
    const coinbase = bytesToHex(encodeTx(makeCoinbase(params, 9, publicKeyOf(priv))));
    const cases: [unknown, string][] = [
      [123, 'BAD_INPUT'],
      [null, 'BAD_INPUT'],
      [{ hex: good.hex }, 'BAD_INPUT'],
      [[good.hex], 'BAD_INPUT'],
      ['', 'BAD_INPUT'],
      [good.hex.slice(1), 'BAD_INPUT'], // odd length
      [`zz${good.hex.slice(2)}`, 'BAD_INPUT'],
      [` ${good.hex.slice(1)}`, 'BAD_INPUT'],
      ['0'.repeat(max + 2), 'TX_TOO_LARGE'],
      ['ab'.repeat(8 * 1024 * 1024), 'TX_TOO_LARGE'], // 16 MiB of text: refused on its length, never decoded
      ['00ff', 'MALFORMED'],
      [`${good.hex}00`, 'MALFORMED'], // trailing byte
      [flipped, 'BAD_SIGNATURE'],
      [coinbase, 'BAD_COINBASE'],
      [signedTransfer(params, priv, to, 11n * COIN, 1).hex, 'INSUFFICIENT_FUNDS'],
      [signedTransfer(params, priv, to, COIN, 0).hex, 'BAD_NONCE'], // below the account's next nonce (a gap above it would wait in the mempool)
      [signedTransfer(params, generatePrivateKey(), to, COIN, 1).hex, 'INSUFFICIENT_FUNDS'],
    ];
    for (const [hex, code] of cases) {
      expect(await codeOf(A.api.sendRawTransaction(hex as string)), `${String(hex).slice(0, 40)}`).toBe(code);
      expect(rig.node.mempool.size).toBe(0);
    }
    for (const [hex, code] of cases.slice(0, 12)) expect(await codeOf(A.api.decodeTransaction(hex as string)), `decode ${String(hex).slice(0, 40)}`).toBe(code);
  });
});
