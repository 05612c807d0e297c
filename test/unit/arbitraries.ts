/**
 * fast-check arbitraries for the consensus data model, shared by the unit tests.
 *
 * Two families:
 * - `arbTx`, `arbTxOfKind`, `arbBlock`, …: anything the codec can encode (every u64, any bytes,
 *   zero amounts, coinbases of any shape). For encode/decode round trips and fuzzing.
 * - `arbSaneTx`, `arbSaneCoinbase`: transactions that pass checkTxSanity for a chainId — real
 *   signatures by {@link TEST_KEYS}, nonce ≥ 1, amounts in range. For rule tests.
 */
import fc from 'fast-check';
import { ed25519 } from '@noble/curves/ed25519.js';
import { MAX_AMOUNT, isValidItemName, makeCoinbase, signTx } from '../../src/chain/tx.ts';
import { TX_KIND_TAGS } from '../../src/chain/types.ts';
import type { Asset, AssetAmount, Block, BlockHeader, Transaction, TxKind, TxOfKind, UnsignedTransaction } from '../../src/chain/types.ts';

export const TX_KINDS = Object.keys(TX_KIND_TAGS) as TxKind[];

export const arbBytes = (n: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: n, maxLength: n });
export const arbHash: fc.Arbitrary<Uint8Array> = arbBytes(32);
export const arbSignature: fc.Arbitrary<Uint8Array> = arbBytes(64);
export const arbU32: fc.Arbitrary<number> = fc.oneof(
  fc.integer({ min: 0, max: 0xffffffff }),
  fc.constantFrom(0, 1, 0xfc, 0xfd, 0xffff, 0x10000, 0xffffffff),
);
export const arbU64: fc.Arbitrary<bigint> = fc.oneof(
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  fc.constantFrom(0n, 1n, (1n << 63n) - 1n, 1n << 63n, (1n << 64n) - 1n),
);
/** Amounts that checkTxSanity accepts: 1..2^63−1. */
export const arbAmount: fc.Arbitrary<bigint> = fc.oneof(fc.bigInt({ min: 1n, max: MAX_AMOUNT }), fc.bigInt({ min: 1n, max: 1_000_000n }));

/** 1..32 printable ASCII characters. */
export const arbSku: fc.Arbitrary<string> = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  minLength: 1,
  maxLength: 32,
});

/** Well-formed UTF-8 of at most 64 bytes (ASCII, any code points, and emoji / BOM edge cases). */
export const arbItemName: fc.Arbitrary<string> = fc
  .oneof(
    fc.string({ unit: 'grapheme-ascii', maxLength: 64 }),
    fc.string({ unit: 'binary', maxLength: 16 }),
    fc.constantFrom('', '\uFEFFbom first', 'Ünïcödé ✓', '👕'.repeat(16)),
  )
  .filter(isValidItemName);

export const arbAsset: fc.Arbitrary<Asset> = fc.oneof(
  fc.constant<Asset>({ type: 'coin' }),
  arbHash.map((itemId): Asset => ({ type: 'item', itemId })),
);
const arbAssetAmount = (amount: fc.Arbitrary<bigint>): fc.Arbitrary<AssetAmount> => fc.record({ asset: arbAsset, amount });

interface PayloadOpts {
  amount: fc.Arbitrary<bigint>;
  u32: fc.Arbitrary<number>;
  lots: fc.Arbitrary<number>;
}
const ANY: PayloadOpts = { amount: arbU64, u32: arbU32, lots: arbU32 };

function arbPayload(kind: TxKind, o: PayloadOpts): fc.Arbitrary<Record<string, unknown>> {
  switch (kind) {
    case 'coinbase':
      return fc.record({ height: o.u32, miner: arbHash, extraNonce: arbU64 });
    case 'transfer':
      return fc.record({ to: arbHash, amount: o.amount });
    case 'item.create':
      return fc.record({ sku: arbSku, name: arbItemName, quantity: o.amount });
    case 'item.mint':
    case 'item.burn':
      return fc.record({ itemId: arbHash, quantity: o.amount });
    case 'item.transfer':
      return fc.record({ itemId: arbHash, to: arbHash, quantity: o.amount });
    case 'offer.create':
      return fc.record({
        give: arbAssetAmount(o.amount),
        want: arbAssetAmount(o.amount),
        lots: o.lots,
        expiresAtHeight: fc.option(o.u32, { nil: null }),
      });
    case 'offer.accept':
      return fc.record({ offerId: arbHash, lots: o.lots });
    case 'offer.cancel':
      return fc.record({ offerId: arbHash });
  }
}

/** Any encodable transaction of one kind. */
export function arbTxOfKind<K extends TxKind>(kind: K, chainId?: number): fc.Arbitrary<TxOfKind<K>> {
  return fc
    .record({
      chainId: chainId === undefined ? arbU32 : fc.constant(chainId),
      from: arbHash,
      nonce: arbU32,
      fee: arbU64,
      payload: arbPayload(kind, ANY),
      signature: arbSignature,
    })
    .map(({ payload, signature, ...common }) => ({ ...common, kind, ...payload, signature }) as unknown as TxOfKind<K>);
}

/** Any encodable transaction of any kind. */
export const arbTx: fc.Arbitrary<Transaction> = fc.oneof(...TX_KINDS.map((k) => arbTxOfKind(k) as fc.Arbitrary<Transaction>));

export const arbHeader: fc.Arbitrary<BlockHeader> = fc.record({
  version: arbU32,
  prevHash: arbHash,
  merkleRoot: arbHash,
  time: arbU32,
  bits: arbU32,
  nonce: arbU32,
});

/** Any encodable block (0..maxTxs transactions of any kinds). */
export const arbBlock = (maxTxs = 6): fc.Arbitrary<Block> => fc.record({ header: arbHeader, txs: fc.array(arbTx, { maxLength: maxTxs }) });

// ---------------------------------------------------------------------------------------------
// Transactions that pass checkTxSanity.

/** Four fixed test keys (secret seeds 0x01.., 0x02.., …) and their public keys. */
export const TEST_KEYS: { priv: Uint8Array; pub: Uint8Array }[] = [1, 2, 3, 4].map((b) => {
  const priv = new Uint8Array(32).fill(b);
  return { priv, pub: ed25519.getPublicKey(priv) };
});

const SANE: PayloadOpts = {
  amount: arbAmount,
  u32: arbU32,
  lots: fc.oneof(fc.integer({ min: 1, max: 0xffffffff }), fc.integer({ min: 1, max: 10 })),
};

function offerIsSane(p: Record<string, unknown>): boolean {
  const give = p.give as AssetAmount;
  const want = p.want as AssetAmount;
  const lots = BigInt(p.lots as number);
  if (give.amount * lots > MAX_AMOUNT || want.amount * lots > MAX_AMOUNT) return false;
  if (give.asset.type === 'coin' || want.asset.type === 'coin') return give.asset.type !== want.asset.type;
  return Buffer.compare(give.asset.itemId, want.asset.itemId) !== 0;
}

/** A signed non-coinbase transaction that passes checkTxSanity for `chainId`. */
export function arbSaneTx(chainId: number, kinds: TxKind[] = TX_KINDS.filter((k) => k !== 'coinbase')): fc.Arbitrary<Transaction> {
  return fc
    .record({
      kind: fc.constantFrom(...kinds),
      key: fc.constantFrom(...TEST_KEYS),
      nonce: fc.integer({ min: 1, max: 0xffffffff }),
      fee: fc.oneof(fc.bigInt({ min: 0n, max: MAX_AMOUNT }), fc.bigInt({ min: 0n, max: 10_000n })),
    })
    .chain(({ kind, key, nonce, fee }) =>
      arbPayload(kind, SANE)
        .filter((p) => kind !== 'offer.create' || offerIsSane(p))
        .map((payload) => {
          const unsigned = { chainId, kind, from: key.pub, nonce, fee, ...payload } as unknown as UnsignedTransaction;
          return signTx(unsigned, key.priv) as Transaction;
        }),
    );
}

/** A coinbase that passes checkTxSanity for `chainId`. */
export function arbSaneCoinbase(chainId: number): fc.Arbitrary<Transaction> {
  return fc.record({ height: arbU32, miner: arbHash, extraNonce: arbU64 }).map((c) => makeCoinbase(chainId, c.height, c.miner, c.extraNonce));
}
