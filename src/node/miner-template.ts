/**
 * Adapts src/chain's block template ({@link buildBlockTemplate} + {@link withExtraNonce}) to the
 * miner's {@link MinerTemplate}: the miner asks for the 80-byte header of each extraNonce it
 * rolls to, and for the complete block once it found a nonce.
 * @module
 */
import { encodeHeader } from '../chain/header.ts';
import { withExtraNonce, type BlockTemplate } from '../chain/template.ts';
import type { Block } from '../chain/types.ts';
import type { MinerTemplate } from '../miner/service.ts';

/**
 * @example
 * ```ts
 * miner.setTemplate(minerTemplate(buildBlockTemplate({ params, state, prev: tip, mempool, minerPubKey, now, medianTimePast })));
 * ```
 */
export function minerTemplate(template: BlockTemplate): MinerTemplate<Block> {
  const base = template.block.txs[0];
  if (base?.kind !== 'coinbase') throw new TypeError('minerTemplate: the template has no coinbase');
  // The miner asks for each extraNonce twice at most (header, then block): keep the last one.
  let last: { extraNonce: bigint; template: BlockTemplate } = { extraNonce: base.extraNonce, template };
  const forExtraNonce = (extraNonce: bigint): BlockTemplate => {
    if (last.extraNonce !== extraNonce) last = { extraNonce, template: withExtraNonce(template, extraNonce) };
    return last.template;
  };
  return {
    target: template.target,
    headerFor: (extraNonce) => encodeHeader(forExtraNonce(extraNonce).block.header),
    blockFor: (extraNonce, nonce) => {
      const { header, txs } = forExtraNonce(extraNonce).block;
      return { header: { ...header, nonce }, txs };
    },
  };
}
