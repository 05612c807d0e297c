/**
 * A step of the node's block and transaction paths (full-node.ts): signatures are verified
 * natively, on every core (sig-pool.ts), BEFORE consensus code looks at them, and every YES goes
 * into the node's signature cache (src/chain/sigcache.ts) under the key consensus code looks up
 * (`SignatureCache.keyOf(encodeTx(tx))`). checkBlockSanity and the mempool — unchanged,
 * synchronous, pure JS — then find those signatures verified and skip them; whatever got no YES
 * (refused natively, a worker failed, the pool was full, a platform without native Ed25519) they
 * verify themselves, exactly as before. Only YESes of the construction of
 * src/chain/sig-precheck.ts enter the cache, so verdicts are those of the pure-JS rule.
 *
 * Cheap checks come first, as in the block path itself: a block's signatures are preverified only
 * if its body matches its header (merkle root, no mutation) — a body forged under someone else's
 * header costs us a merkle computation, never 10,000 signature checks.
 * @module
 */
import { RuleError, SignatureCache, checkBlockStructureEncoded, signingHash, signingHashOfEncoding, txLeafHash, type Block, type NetworkParams, type Transaction } from '../chain/index.ts';
import type { SignatureItem, SignaturePool } from './sig-pool.ts';

/**
 * Blocks remembered as preverified (the last few: a run's current block and those preverified
 * ahead of it, up to two batches of full-node.ts PREVERIFY_AHEAD). One forgotten early is only
 * looked at again: its signatures are in the cache.
 */
const RECENT_BLOCKS = 32;

/** What one preverification did. */
export interface PreverifyCounts {
  /** Signatures in the block (coinbase excluded) or 1 for a transaction. */
  signatures: number;
  /** Already in the cache (seen in the mempool, or preverified before). */
  cached: number;
  /** Newly accepted natively and added to the cache. */
  accepted: number;
}

/** Signatures to verify, their cache keys, and the counts so far. */
interface Collected {
  items: SignatureItem[];
  keys: string[];
  counts: PreverifyCounts;
}

/**
 * @example
 * ```ts
 * const pre = new SignaturePreverifier({ params, sigCache, pool: new SignaturePool() });
 * await pre.block(block, hex); // then checkBlockSanity(block, params, { sigCache }) skips them
 * ```
 */
export class SignaturePreverifier {
  readonly #params: NetworkParams;
  readonly #cache: SignatureCache;
  readonly #pool: SignaturePool;
  readonly #inFlight = new Map<string, Promise<PreverifyCounts | null>>();
  readonly #recent = new Set<string>();

  constructor(opts: { params: NetworkParams; sigCache: SignatureCache; pool: SignaturePool }) {
    this.#params = opts.params;
    this.#cache = opts.sigCache;
    this.#pool = opts.pool;
  }

  /** The pool's counters (tests, benches). */
  get pool(): SignaturePool {
    return this.#pool;
  }

  /**
   * Preverifies a block's signatures (or joins the preverification already under way for this
   * hash). Resolves with what it did, or null when the block was skipped (its body does not match
   * its header, or it was done recently). Never rejects; throws only on a bug.
   * @example await pre.block(block, hashToHex(blockHash(block.header)))
   */
  block(block: Block, hex: string): Promise<PreverifyCounts | null> {
    // First, and before the maps below: a forged body shares its header's hash, and must not
    // stand in for the real body.
    const body = this.#bodyMatchesHeader(block);
    if (!body) return Promise.resolve(null);
    if (this.#recent.has(hex)) return Promise.resolve(null);
    return this.#inFlight.get(hex) ?? this.#track(hex, this.#preverify(block.txs, body.leaves, body.encodings).catch(() => null));
  }

  /**
   * Starts the preverification of several blocks as ONE batch for the pool, each block then
   * joined by its hash as {@link block} joins it: blocks too small to reach the pool's workers on
   * their own (fewer signatures than its worker batch, sig-pool.ts) reach them together instead of
   * being verified on the calling thread. Skips what block() skips. Never throws but on a bug.
   * @example pre.blocks(run.map((b) => ({ block: b, hex: hashToHex(blockHash(b.header)) })))
   */
  blocks(list: readonly { block: Block; hex: string }[]): void {
    const parts: { hex: string; c: Collected }[] = [];
    for (const { block, hex } of list) {
      const body = this.#bodyMatchesHeader(block); // first, as in block()
      if (!body || this.#recent.has(hex) || this.#inFlight.has(hex) || parts.some((p) => p.hex === hex)) continue;
      parts.push({ hex, c: this.#collect(block.txs, body.leaves, body.encodings) });
    }
    const all: Collected = { items: parts.flatMap((p) => p.c.items), keys: parts.flatMap((p) => p.c.keys), counts: { signatures: 0, cached: 0, accepted: 0 } };
    const shared = all.items.length > 0 ? this.#verify(all) : Promise.resolve([]);
    let from = 0;
    for (const { hex, c } of parts) {
      // Each block counts the verdicts of its own items, as block() does.
      const [start, end] = [from, (from += c.items.length)];
      const counted = shared.then((yes) => {
        for (let i = start; i < end; i++) if (yes[i] === 1) c.counts.accepted++;
        return c.counts;
      });
      this.#track(hex, counted.catch(() => null));
    }
  }

  /** Registers a block's preverification under way; once done, it is remembered as recent. */
  #track(hex: string, p: Promise<PreverifyCounts | null>): Promise<PreverifyCounts | null> {
    this.#inFlight.set(hex, p);
    void p.then(() => {
      this.#inFlight.delete(hex);
      this.#recent.add(hex);
      if (this.#recent.size > RECENT_BLOCKS) this.#recent.delete(this.#recent.values().next().value!);
    });
    return p;
  }

  /**
   * Preverifies one transaction's signature (the mempool path). Never rejects.
   * @example await pre.tx(tx); node.mempool.add(tx, …) // finds it cached if it verified
   */
  async tx(tx: Transaction): Promise<PreverifyCounts> {
    let leaf: Uint8Array;
    try {
      leaf = txLeafHash(tx);
    } catch {
      return { signatures: 1, cached: 0, accepted: 0 }; // no encoding: consensus code rejects it
    }
    return this.#preverify([tx], [leaf]);
  }

  /**
   * The cheap body checks of sanity (merkle root, no mutation, coinbase first and only first);
   * their merkle leaves and the transactions' encodings, or null.
   */
  #bodyMatchesHeader(block: Block): { encodings: Uint8Array[]; leaves: Uint8Array[] } | null {
    try {
      return checkBlockStructureEncoded(block, this.#params);
    } catch (e) {
      if (e instanceof RuleError || e instanceof TypeError) return null; // sanity will say why
      throw e;
    }
  }

  async #preverify(txs: readonly Transaction[], leaves: readonly Uint8Array[], encodings?: readonly Uint8Array[]): Promise<PreverifyCounts> {
    const collected = this.#collect(txs, leaves, encodings);
    if (collected.items.length > 0) await this.#verify(collected);
    return collected.counts;
  }

  /**
   * The signatures of `txs` that are not in the cache, with their cache keys. A transaction's key
   * is its merkle leaf's (`SignatureCache.keyOfLeaf(txLeafHash(tx))` = `keyOf(encodeTx(tx))`,
   * the key consensus code looks up). A transaction's message is its signing hash, from its
   * encoding when the block's structure check computed it (`signingHashOfEncoding`).
   */
  #collect(txs: readonly Transaction[], leaves: readonly Uint8Array[], encodings?: readonly Uint8Array[]): Collected {
    const items: SignatureItem[] = [];
    const keys: string[] = [];
    const counts: PreverifyCounts = { signatures: 0, cached: 0, accepted: 0 };
    for (let i = 0; i < txs.length; i++) {
      const tx = txs[i];
      if (tx?.kind === 'coinbase') continue;
      counts.signatures++;
      const key = SignatureCache.keyOfLeaf(leaves[i]);
      let msg: Uint8Array;
      try {
        msg = encodings ? signingHashOfEncoding(encodings[i]) : signingHash(tx);
      } catch {
        continue; // no encoding: consensus code rejects it
      }
      if (this.#cache.has(key)) {
        counts.cached++;
        continue;
      }
      items.push({ sig: tx.signature, msg, pub: tx.from });
      keys.push(key);
    }
    return { items, keys, counts };
  }

  /** Verifies the collected signatures, caches each YES; resolves with the pool's verdicts (1 = YES), in order. */
  async #verify(c: Collected): Promise<ArrayLike<number>> {
    const yes = await this.#pool.acceptedNatively(c.items);
    for (let i = 0; i < yes.length; i++) {
      if (yes[i] !== 1) continue;
      this.#cache.add(c.keys[i]);
      c.counts.accepted++;
    }
    return yes;
  }

  /** Closes the pool. @example pre.close() */
  close(): void {
    this.#pool.close();
  }
}
