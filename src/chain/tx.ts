/**
 * Transactions: canonical encoding, ids, signatures and context-free sanity rules.
 *
 * Wire layout (all integers little-endian, see codec.ts):
 *
 * | field     | encoding                                  |
 * |-----------|-------------------------------------------|
 * | chainId   | u32                                       |
 * | kind      | u8, {@link TX_KIND_TAGS}                  |
 * | from      | 32 bytes (ed25519 public key)             |
 * | nonce     | u32                                       |
 * | fee       | u64                                       |
 * | payload   | per kind, below                           |
 * | signature | 64 bytes (absent in the unsigned encoding)|
 *
 * Payloads:
 * - coinbase: height u32, miner 32, extraNonce u64
 * - transfer: to 32, amount u64
 * - item.create: sku (CompactSize length 1..32, printable ASCII 0x20–0x7e), name (CompactSize
 *   length ≤ 64, UTF-8), quantity u64
 * - item.mint / item.burn: itemId 32, quantity u64
 * - item.transfer: itemId 32, to 32, quantity u64
 * - offer.create: give asset, give amount u64, want asset, want amount u64, lots u32,
 *   expiresAtHeight (u8 flag 0 = none / 1 = present, then u32 when present).
 *   An asset is u8 tag 0 = coin, or 1 = item followed by the 32-byte itemId.
 * - offer.accept: offerId 32, lots u32
 * - offer.cancel: offerId 32
 *
 * Hashes:
 * - `txid = sha256d(unsigned encoding)` — the id does not depend on the signature, so a signature
 *   cannot be malleated into a different id (the problem BIP 141 fixed for Bitcoin).
 * - `signingHash = sha256("tabchain/tx/v1" || unsigned encoding)`. The ASCII domain tag keeps a
 *   transaction signature from ever being valid for another protocol message signed with the
 *   same key, and from equalling a txid (single SHA-256 of different bytes); the unsigned
 *   encoding starts with chainId, so a signature made for one network never verifies on another
 *   (replay protection, as EIP-155 does for Ethereum).
 *
 * The encoder refuses (TypeError) any value the decoder would refuse, so encode and decode are
 * exact inverses on their whole domain. Rule checks that are about values rather than encoding
 * (zero amounts, overflow, fees, the coinbase shape, signatures) are {@link checkTxSanity}'s.
 * @module
 */
import { Reader, Writer, utf8Bytes } from './codec.ts';
import { concatBytes, equalBytes } from './bytes.ts';
import { DecodeError, RuleError } from './errors.ts';
import { sha256, sha256d } from './hash.ts';
import { publicKeyOf, signMessage, verifySignature } from './keys.ts';
import { TX_KIND_TAGS } from './types.ts';
import type { Asset, AssetAmount, NetworkParams, Transaction, TxKind, TxOfKind, UnsignedTransaction } from './types.ts';
import { SignatureCache } from './sigcache.ts';

/** Maximum encoded size of a transaction by default (consensus: 8 KiB). */
export const MAX_TX_BYTES = 8192;
/** Largest valid amount, quantity or fee: 2^63 − 1 (sums of them stay well inside u64). */
export const MAX_AMOUNT = (1n << 63n) - 1n;
/** sku length bounds in bytes (printable ASCII, so bytes = characters). */
export const MAX_SKU_BYTES = 32;
/** Item name bound in UTF-8 bytes. */
export const MAX_NAME_BYTES = 64;
/** Domain tag that prefixes the unsigned encoding in {@link signingHash}. */
export const TX_SIGNING_DOMAIN = 'tabchain/tx/v1';
/** Domain tag that prefixes issuer || sku in {@link itemIdFor}. */
export const ITEM_ID_DOMAIN = 'tabchain/item/v1';

const HASH = 32;
const SIG = 64;
const ZERO_32 = new Uint8Array(HASH);
const ZERO_64 = new Uint8Array(SIG);
const DOMAIN_BYTES = utf8Bytes(TX_SIGNING_DOMAIN);
const ITEM_ID_DOMAIN_BYTES = utf8Bytes(ITEM_ID_DOMAIN);
const U32_MAX = 0xffffffff;
const U64_MAX = (1n << 64n) - 1n;

const KIND_BY_TAG: TxKind[] = [];
for (const [kind, tag] of Object.entries(TX_KIND_TAGS)) KIND_BY_TAG[tag] = kind as TxKind;

/**
 * Whether `sku` is 1..32 printable ASCII characters (0x20–0x7e).
 * @example
 * ```ts
 * isValidSku('TSHIRT-RED-M') // true
 * isValidSku('') // false
 * ```
 */
export function isValidSku(sku: string): boolean {
  return typeof sku === 'string' && sku.length >= 1 && sku.length <= MAX_SKU_BYTES && /^[\x20-\x7e]*$/.test(sku);
}

/**
 * Code points an item name may not hold: item names are shown in every tab of every user, so text
 * that changes how the REST of a line displays is refused by rule (consensus, not UI policy, so
 * no node stores or serves one):
 * - C0 and C1 controls, U+0000–U+001F and U+007F–U+009F (Unicode general category Cc): NUL,
 *   newlines, escape sequences;
 * - the bidirectional formatting characters (Unicode property Bidi_Control, UAX #9 §2): U+061C,
 *   U+200E–U+200F, U+202A–U+202E, U+2066–U+2069 — "Trojan Source" (CVE-2021-42574) reordering;
 * - the line and paragraph separators U+2028 and U+2029.
 * Written as explicit ranges rather than `\p{…}` classes so the rule cannot drift with the
 * JavaScript engine's Unicode version. Joiners (U+200C, U+200D) stay allowed: emoji sequences and
 * several scripts need them.
 */
const FORBIDDEN_IN_NAME = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;

/**
 * Whether `name` encodes as well-formed UTF-8 of at most 64 bytes and holds no control or
 * bidirectional-formatting character ({@link FORBIDDEN_IN_NAME}).
 * @example
 * ```ts
 * isValidItemName('Red T-shirt, size M') // true
 * isValidItemName('Blue mug \u202egpj.exe') // false
 * ```
 */
export function isValidItemName(name: string): boolean {
  if (typeof name !== 'string' || FORBIDDEN_IN_NAME.test(name)) return false;
  try {
    return utf8Bytes(name).length <= MAX_NAME_BYTES;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding

function writeSku(w: Writer, sku: string): void {
  if (!isValidSku(sku)) throw new TypeError(`sku must be 1..${MAX_SKU_BYTES} printable ASCII characters`);
  w.string(sku, MAX_SKU_BYTES);
}

function writeAsset(w: Writer, a: Asset): void {
  if (a?.type === 'coin') w.u8(0);
  else if (a?.type === 'item') w.u8(1).bytes(a.itemId, HASH);
  else throw new TypeError('asset: expected { type: "coin" } or { type: "item", itemId }');
}

function writeUnsigned(w: Writer, tx: UnsignedTransaction): void {
  const tag = TX_KIND_TAGS[tx.kind];
  if (tag === undefined || !Object.hasOwn(TX_KIND_TAGS, tx.kind)) throw new TypeError(`unknown transaction kind '${String(tx.kind)}'`);
  w.u32(tx.chainId).u8(tag).bytes(tx.from, HASH).u32(tx.nonce).u64(tx.fee);
  switch (tx.kind) {
    case 'coinbase':
      w.u32(tx.height).bytes(tx.miner, HASH).u64(tx.extraNonce);
      break;
    case 'transfer':
      w.bytes(tx.to, HASH).u64(tx.amount);
      break;
    case 'item.create':
      writeSku(w, tx.sku);
      w.string(tx.name, MAX_NAME_BYTES).u64(tx.quantity);
      break;
    case 'item.mint':
    case 'item.burn':
      w.bytes(tx.itemId, HASH).u64(tx.quantity);
      break;
    case 'item.transfer':
      w.bytes(tx.itemId, HASH).bytes(tx.to, HASH).u64(tx.quantity);
      break;
    case 'offer.create':
      writeAsset(w, tx.give.asset);
      w.u64(tx.give.amount);
      writeAsset(w, tx.want.asset);
      w.u64(tx.want.amount).u32(tx.lots);
      if (tx.expiresAtHeight === null) w.u8(0);
      else w.u8(1).u32(tx.expiresAtHeight);
      break;
    case 'offer.accept':
      w.bytes(tx.offerId, HASH).u32(tx.lots);
      break;
    case 'offer.cancel':
      w.bytes(tx.offerId, HASH);
      break;
  }
}

/**
 * The unsigned encoding: every field but the signature (what txid and signingHash commit to).
 * @example
 * ```ts
 * const bytes = encodeUnsignedTx({ chainId, kind: 'transfer', from, nonce: 1, fee: 10n, to, amount: 5n });
 * ```
 */
export function encodeUnsignedTx(tx: UnsignedTransaction): Uint8Array {
  const w = new Writer(160);
  writeUnsigned(w, tx);
  return w.finish();
}

/**
 * The complete encoding, signature last. Throws TypeError for a value that has no encoding
 * (out-of-range integer, wrong byte length, invalid sku or name).
 * @example
 * ```ts
 * const bytes = encodeTx(signedTx);
 * ```
 */
export function encodeTx(tx: Transaction): Uint8Array {
  const w = new Writer(224);
  writeUnsigned(w, tx);
  w.bytes(tx.signature, SIG);
  return w.finish();
}

/**
 * Encoded size in bytes.
 * @example
 * ```ts
 * const feeRate = tx.fee / BigInt(txSize(tx));
 * ```
 */
export function txSize(tx: Transaction): number {
  return encodeTx(tx).length;
}

// ---------------------------------------------------------------------------------------------
// Decoding

function readSku(r: Reader): string {
  const raw = r.varBytes(MAX_SKU_BYTES);
  if (raw.length === 0) throw new DecodeError('empty sku');
  for (const c of raw) if (c < 0x20 || c > 0x7e) throw new DecodeError('sku is not printable ASCII');
  return String.fromCharCode(...raw);
}

function readAsset(r: Reader): Asset {
  const tag = r.u8();
  if (tag === 0) return { type: 'coin' };
  if (tag === 1) return { type: 'item', itemId: r.bytes(HASH) };
  throw new DecodeError(`unknown asset tag ${tag}`);
}

function readAssetAmount(r: Reader): AssetAmount {
  const asset = readAsset(r);
  return { asset, amount: r.u64() };
}

/**
 * Parses a complete transaction. Throws RuleError `TX_TOO_LARGE` if `bytes` is longer than
 * `maxBytes` (checked before parsing), and DecodeError for anything that is not exactly one
 * canonical encoding: truncation, trailing bytes, unknown kind or asset tag, bad sku/name, a
 * flag byte other than 0/1.
 * @example
 * ```ts
 * const tx = decodeTx(bytes, params.maxTxBytes);
 * ```
 */
export function decodeTx(bytes: Uint8Array, maxBytes: number = MAX_TX_BYTES): Transaction {
  if (!(bytes instanceof Uint8Array)) throw new DecodeError('expected a Uint8Array');
  if (bytes.length > maxBytes) throw new RuleError('TX_TOO_LARGE', `${bytes.length} bytes > ${maxBytes}`);
  const r = new Reader(bytes);
  const chainId = r.u32();
  const tag = r.u8();
  const kind = KIND_BY_TAG[tag];
  if (kind === undefined) throw new DecodeError(`unknown transaction kind tag ${tag}`);
  const from = r.bytes(HASH);
  const nonce = r.u32();
  const fee = r.u64();
  const common = { chainId, from, nonce, fee };
  let tx: UnsignedTransaction;
  switch (kind) {
    case 'coinbase':
      tx = { ...common, kind, height: r.u32(), miner: r.bytes(HASH), extraNonce: r.u64() };
      break;
    case 'transfer':
      tx = { ...common, kind, to: r.bytes(HASH), amount: r.u64() };
      break;
    case 'item.create': {
      const sku = readSku(r);
      const name = r.string(MAX_NAME_BYTES);
      tx = { ...common, kind, sku, name, quantity: r.u64() };
      break;
    }
    case 'item.mint':
    case 'item.burn':
      tx = { ...common, kind, itemId: r.bytes(HASH), quantity: r.u64() };
      break;
    case 'item.transfer':
      tx = { ...common, kind, itemId: r.bytes(HASH), to: r.bytes(HASH), quantity: r.u64() };
      break;
    case 'offer.create': {
      const give = readAssetAmount(r);
      const want = readAssetAmount(r);
      const lots = r.u32();
      const flag = r.u8();
      if (flag > 1) throw new DecodeError(`expiresAtHeight flag ${flag} is not 0 or 1`);
      const expiresAtHeight = flag === 1 ? r.u32() : null;
      tx = { ...common, kind, give, want, lots, expiresAtHeight };
      break;
    }
    case 'offer.accept':
      tx = { ...common, kind, offerId: r.bytes(HASH), lots: r.u32() };
      break;
    case 'offer.cancel':
      tx = { ...common, kind, offerId: r.bytes(HASH) };
      break;
  }
  const signature = r.bytes(SIG);
  r.end();
  return { ...tx, signature } as Transaction;
}

// ---------------------------------------------------------------------------------------------
// Ids and signatures

/**
 * Transaction id: sha256d of the unsigned encoding (internal byte order; hashToHex to show).
 * An offer's id is the txid of its offer.create.
 * @example
 * ```ts
 * hashToHex(txid(tx))
 * ```
 */
export function txid(tx: UnsignedTransaction): Uint8Array {
  return sha256d(encodeUnsignedTx(tx));
}

/**
 * The 32-byte message that is signed: sha256("tabchain/tx/v1" || unsigned encoding), see the
 * module comment for why.
 * @example
 * ```ts
 * verifySignature(tx.signature, signingHash(tx), tx.from)
 * ```
 */
export function signingHash(tx: UnsignedTransaction): Uint8Array {
  return sha256(concatBytes(DOMAIN_BYTES, encodeUnsignedTx(tx)));
}

/**
 * {@link signingHash} of the transaction whose complete encoding (`encodeTx(tx)`) is `encoding`:
 * that encoding is the unsigned encoding followed by the 64-byte signature, so the caller that
 * already encoded the transaction (a block's merkle leaves) need not encode it again. Throws
 * TypeError on fewer than 64 bytes.
 * @example signingHashOfEncoding(encodeTx(tx)) // equals signingHash(tx)
 */
export function signingHashOfEncoding(encoding: Uint8Array): Uint8Array {
  if (!(encoding instanceof Uint8Array) || encoding.length < SIG) throw new TypeError('signingHashOfEncoding: not a transaction encoding');
  return sha256(concatBytes(DOMAIN_BYTES, encoding.subarray(0, encoding.length - SIG)));
}

/**
 * Signs an unsigned transaction with the secret key of `from`. Throws RuleError `BAD_SIGNATURE`
 * if the key is not the one of `tx.from` (such a signature could never verify).
 * @example
 * ```ts
 * const tx = signTx({ chainId: params.chainId, kind: 'transfer', from: pub, nonce: 1, fee: 200n, to, amount: COIN }, priv);
 * ```
 */
export function signTx<T extends UnsignedTransaction>(unsigned: T, priv: Uint8Array): T & { signature: Uint8Array } {
  if (!equalBytes(publicKeyOf(priv), unsigned.from)) throw new RuleError('BAD_SIGNATURE', 'secret key does not match tx.from');
  // Drop a stale signature if a signed tx is re-signed; signingHash ignores it anyway.
  const { signature: _stale, ...fields } = unsigned as T & { signature?: Uint8Array };
  return { ...fields, signature: signMessage(signingHash(unsigned), priv) } as T & { signature: Uint8Array };
}

/**
 * Whether the signature is valid for `from` over {@link signingHash}. Never throws. False for a
 * coinbase (it carries no signature; its shape is checked by checkTxSanity) and for a value that
 * has no encoding.
 * @example
 * ```ts
 * if (!verifyTxSignature(tx)) throw new RuleError('BAD_SIGNATURE');
 * ```
 */
export function verifyTxSignature(tx: Transaction): boolean {
  if (tx.kind === 'coinbase') return false;
  let msg: Uint8Array;
  try {
    msg = signingHash(tx);
  } catch {
    return false; // a value with no encoding has no valid signature
  }
  return verifySignature(tx.signature, msg, tx.from);
}

/**
 * An item's id: sha256d("tabchain/item/v1" || issuer || UTF-8(sku)). The issuer is a fixed 32
 * bytes, so the concatenation is unambiguous. The domain tag keeps item ids apart from txids
 * (offer ids) by construction: byte 4 of every transaction encoding is a kind tag ≤ 8, here it is
 * 'h' (0x68), so no preimage of one can be a preimage of the other.
 * @example
 * ```ts
 * const id = itemIdFor(pub, 'TSHIRT-RED-M');
 * ```
 */
export function itemIdFor(issuer: Uint8Array, sku: string): Uint8Array {
  if (!(issuer instanceof Uint8Array) || issuer.length !== HASH) throw new TypeError('issuer: expected 32 bytes');
  if (!isValidSku(sku)) throw new TypeError(`sku must be 1..${MAX_SKU_BYTES} printable ASCII characters`);
  return sha256d(concatBytes(ITEM_ID_DOMAIN_BYTES, issuer, utf8Bytes(sku)));
}

/**
 * The coinbase of a block at `height` paying `miner`: from = 32 zero bytes, nonce 0, fee 0,
 * signature = 64 zero bytes. The reward itself is not in the transaction (it is implied by the
 * height and the block's fees). `extraNonce` widens the miner's search space beyond the header
 * nonce, as Bitcoin's coinbase extra nonce does.
 * @example
 * ```ts
 * const cb = makeCoinbase(params, tipHeight + 1, minerPub, 0n);
 * ```
 */
export function makeCoinbase(
  params: Pick<NetworkParams, 'chainId'> | number,
  height: number,
  miner: Uint8Array,
  extraNonce: bigint = 0n,
): TxOfKind<'coinbase'> {
  const chainId = typeof params === 'number' ? params : params.chainId;
  return {
    chainId,
    kind: 'coinbase',
    from: new Uint8Array(HASH),
    nonce: 0,
    fee: 0n,
    height,
    miner: Uint8Array.from(miner),
    extraNonce,
    signature: new Uint8Array(SIG),
  };
}

// ---------------------------------------------------------------------------------------------
// Sanity

function isU32(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= U32_MAX;
}

function isU64(n: unknown): n is bigint {
  return typeof n === 'bigint' && n >= 0n && n <= U64_MAX;
}

function isBytes(b: unknown, length: number): b is Uint8Array {
  return b instanceof Uint8Array && b.length === length;
}

function need(ok: boolean, code: 'MALFORMED' | 'BAD_AMOUNT' | 'BAD_FEE', what: string): void {
  if (!ok) throw new RuleError(code, what);
}

function checkAmount(n: unknown, what: string): asserts n is bigint {
  need(typeof n === 'bigint' && n > 0n && n <= MAX_AMOUNT, 'BAD_AMOUNT', `${what} must be in 1..2^63-1`);
}

function checkAsset(a: unknown, what: string): asserts a is Asset {
  const asset = a as Asset | undefined;
  need(asset?.type === 'coin' || (asset?.type === 'item' && isBytes(asset.itemId, HASH)), 'MALFORMED', `${what} asset`);
}

function sameAsset(a: Asset, b: Asset): boolean {
  if (a.type === 'coin' || b.type === 'coin') return a.type === b.type;
  return equalBytes(a.itemId, b.itemId);
}

function checkFields(tx: Transaction): void {
  need(typeof tx === 'object' && tx !== null && Object.hasOwn(TX_KIND_TAGS, tx.kind), 'MALFORMED', 'unknown kind');
  need(isBytes(tx.from, HASH), 'MALFORMED', 'from must be 32 bytes');
  need(isU32(tx.nonce), 'MALFORMED', 'nonce must be a u32');
  need(typeof tx.fee === 'bigint' && tx.fee >= 0n && tx.fee <= MAX_AMOUNT, 'BAD_FEE', 'fee must be in 0..2^63-1');
  need(isBytes(tx.signature, SIG), 'MALFORMED', 'signature must be 64 bytes');
  switch (tx.kind) {
    case 'coinbase':
      need(isU32(tx.height), 'MALFORMED', 'height must be a u32');
      need(isBytes(tx.miner, HASH), 'MALFORMED', 'miner must be 32 bytes');
      need(isU64(tx.extraNonce), 'MALFORMED', 'extraNonce must be a u64');
      break;
    case 'transfer':
      need(isBytes(tx.to, HASH), 'MALFORMED', 'to must be 32 bytes');
      checkAmount(tx.amount, 'amount');
      break;
    case 'item.create':
      need(isValidSku(tx.sku), 'MALFORMED', `sku must be 1..${MAX_SKU_BYTES} printable ASCII characters`);
      need(isValidItemName(tx.name), 'MALFORMED', `name must be at most ${MAX_NAME_BYTES} bytes of UTF-8, without control or bidirectional-formatting characters`);
      checkAmount(tx.quantity, 'quantity');
      break;
    case 'item.mint':
    case 'item.burn':
      need(isBytes(tx.itemId, HASH), 'MALFORMED', 'itemId must be 32 bytes');
      checkAmount(tx.quantity, 'quantity');
      break;
    case 'item.transfer':
      need(isBytes(tx.itemId, HASH), 'MALFORMED', 'itemId must be 32 bytes');
      need(isBytes(tx.to, HASH), 'MALFORMED', 'to must be 32 bytes');
      checkAmount(tx.quantity, 'quantity');
      break;
    case 'offer.create': {
      checkAsset(tx.give?.asset, 'give');
      checkAsset(tx.want?.asset, 'want');
      checkAmount(tx.give.amount, 'give amount');
      checkAmount(tx.want.amount, 'want amount');
      need(isU32(tx.lots) && tx.lots >= 1, 'BAD_AMOUNT', 'lots must be in 1..2^32-1');
      need(tx.give.amount * BigInt(tx.lots) <= MAX_AMOUNT, 'BAD_AMOUNT', 'give amount × lots overflows');
      need(tx.want.amount * BigInt(tx.lots) <= MAX_AMOUNT, 'BAD_AMOUNT', 'want amount × lots overflows');
      need(tx.expiresAtHeight === null || isU32(tx.expiresAtHeight), 'MALFORMED', 'expiresAtHeight must be null or a u32');
      need(!sameAsset(tx.give.asset, tx.want.asset), 'MALFORMED', 'an offer must swap two different assets');
      break;
    }
    case 'offer.accept':
      need(isBytes(tx.offerId, HASH), 'MALFORMED', 'offerId must be 32 bytes');
      need(isU32(tx.lots) && tx.lots >= 1, 'BAD_AMOUNT', 'lots must be in 1..2^32-1');
      break;
    case 'offer.cancel':
      need(isBytes(tx.offerId, HASH), 'MALFORMED', 'offerId must be 32 bytes');
      break;
  }
}

/**
 * Context-free transaction rules (Bitcoin Core `CheckTransaction` counterpart), in this order:
 * 1. `WRONG_CHAIN` unless chainId is this network's;
 * 2. field bounds: `MALFORMED` (unknown kind, wrong byte lengths, integers out of range, sku not
 *    1..32 printable ASCII, name over 64 UTF-8 bytes or holding a control or bidirectional
 *    formatting character, an offer giving and wanting the same asset),
 *    `BAD_AMOUNT` (amounts and quantities not in 1..2^63−1, lots 0, give or want amount × lots
 *    over 2^63−1), `BAD_FEE` (fee not in 0..2^63−1);
 * 3. `TX_TOO_LARGE` if the encoding exceeds params.maxTxBytes (the field bounds keep every tx
 *    under ~220 bytes, so this only fires with a smaller maxTxBytes; it is kept as the
 *    consensus limit the decoder also enforces);
 * 4. a coinbase must have from = zero, nonce 0, fee 0, signature = zero (`BAD_COINBASE`);
 *    other kinds need nonce ≥ 1 (`BAD_NONCE`) and a valid signature (`BAD_SIGNATURE`).
 *
 * Whether a coinbase is where it may be (first tx of a block, only there) is a block rule
 * (validate.ts). Transfers to oneself are allowed.
 * @example
 * ```ts
 * checkTxSanity(tx, params); // throws RuleError
 * ```
 */
export function checkTxSanity(tx: Transaction, params: Pick<NetworkParams, 'chainId' | 'maxTxBytes'>, sigCache?: SignatureCache): void {
  txSanity(tx, params, sigCache, undefined, undefined);
}

/**
 * {@link checkTxSanity} for a transaction whose encoding and merkle leaf the caller has just
 * computed from this same object — checkBlockSanity, which encodes and hashes every transaction
 * for the block size and merkle root first: the same checks in the same order with the same
 * errors, without encoding and hashing it twice more (size, signature cache key). `encoding` must
 * be `encodeTx(tx)` and `leaf` `txLeafHash(tx)` (= sha256d(encoding)); anything else is a bug of
 * the caller.
 * @example checkEncodedTxSanity(tx, params, sigCache, encodings[i], leaves[i])
 */
export function checkEncodedTxSanity(tx: Transaction, params: Pick<NetworkParams, 'chainId' | 'maxTxBytes'>, sigCache: SignatureCache | undefined, encoding: Uint8Array, leaf: Uint8Array): void {
  txSanity(tx, params, sigCache, encoding, leaf);
}

function txSanity(tx: Transaction, params: Pick<NetworkParams, 'chainId' | 'maxTxBytes'>, sigCache: SignatureCache | undefined, encoding: Uint8Array | undefined, leaf: Uint8Array | undefined): void {
  if (tx?.chainId !== params.chainId) throw new RuleError('WRONG_CHAIN', `chainId ${tx?.chainId} is not ${params.chainId}`);
  checkFields(tx);
  const size = encoding ? encoding.length : txSize(tx);
  if (size > params.maxTxBytes) throw new RuleError('TX_TOO_LARGE', `${size} bytes > ${params.maxTxBytes}`);
  if (tx.kind === 'coinbase') {
    if (!equalBytes(tx.from, ZERO_32) || tx.nonce !== 0 || tx.fee !== 0n || !equalBytes(tx.signature, ZERO_64)) {
      throw new RuleError('BAD_COINBASE', 'a coinbase has from = 0, nonce 0, fee 0 and a zero signature');
    }
    return;
  }
  if (tx.nonce < 1) throw new RuleError('BAD_NONCE', 'nonce must be at least 1');
  if (sigCache) {
    const key = leaf ? SignatureCache.keyOfLeaf(leaf) : SignatureCache.keyOf(encodeTx(tx));
    if (sigCache.has(key)) return;
    if (!verifyTxSignature(tx)) throw new RuleError('BAD_SIGNATURE');
    sigCache.add(key);
    return;
  }
  if (!verifyTxSignature(tx)) throw new RuleError('BAD_SIGNATURE');
}
