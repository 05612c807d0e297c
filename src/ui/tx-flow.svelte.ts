/**
 * One wallet form's way from typing to sent: edit → check (api.previewTx: the exact fee, or the
 * refusal in words before anything leaves the tab) → review (what will happen, with Confirm and
 * Back) → send → done ("Sent." with a peer, "Queued: …" without). Every form that sends a
 * transaction (send coins, create / restock / ship / use up an item, make / take / cancel an
 * offer) runs one, so they all behave alike.
 * @module
 */
import type { ApiTxIntent } from '../node/api.ts';
import { doneText, reviewOf, type Review } from './describe.ts';
import { errorMessage, type ErrorContext } from './format.ts';
import type { NodeState } from './node-state.svelte.ts';

/**
 * @example
 * ```ts
 * const flow = new TxFlow(node);
 * await flow.check({ kind: 'send', to, amount }); // flow.stage: 'review' or 'edit' with flow.error
 * await flow.confirm();                          // flow.done: 'Sent. …' or flow.error
 * ```
 */
export class TxFlow {
  stage = $state<'edit' | 'checking' | 'review' | 'sending'>('edit');
  review = $state<Review | null>(null);
  /** The last refusal, in words. */
  error = $state('');
  /** What happened after the last confirmed call. */
  done = $state('');
  /** Its txid. */
  txid = $state<string | null>(null);
  readonly #node: NodeState;
  #intent: ApiTxIntent | null = null;
  #ctx: ErrorContext = {};

  constructor(node: NodeState) {
    this.#node = node;
  }

  /** The call under review (null outside the review stage). */
  get intent(): ApiTxIntent | null {
    return this.stage === 'review' || this.stage === 'sending' ? this.#intent : null;
  }

  /** Busy checking or sending. */
  get busy(): boolean {
    return this.stage === 'checking' || this.stage === 'sending';
  }

  /**
   * Asks the node what `intent` would cost and whether it would go through; shows the review, or
   * the refusal in words (`ctx` helps word it: "5 lots need 5").
   */
  async check(intent: ApiTxIntent, ctx: ErrorContext = {}): Promise<void> {
    this.error = '';
    this.done = '';
    this.txid = null;
    this.#ctx = ctx;
    this.stage = 'checking';
    const r = await this.#node.preview(intent);
    if (!r.ok || r.value.error) {
      this.error = r.ok ? errorMessage(r.value.error, { items: this.#node.itemsById, ...ctx }) : r.error;
      this.stage = 'edit';
      return;
    }
    this.#intent = intent;
    this.review = reviewOf(intent, r.value.fee, { me: this.#node.status?.address ?? '', items: this.#node.itemsById, offers: this.#node.offers });
    this.stage = 'review';
  }

  /** Sends what was reviewed. Resolves true when it went through. */
  async confirm(): Promise<boolean> {
    const intent = this.#intent;
    if (this.stage !== 'review' || !intent) return false;
    this.stage = 'sending';
    const r = await this.#node.act(() => this.#node.submit(intent), this.#ctx);
    this.review = null;
    this.#intent = null;
    this.stage = 'edit';
    if (!r.ok) {
      this.error = r.error;
      return false;
    }
    this.txid = r.value;
    this.done = doneText(intent, this.#node.connection, { me: this.#node.status?.address ?? '', items: this.#node.itemsById, offers: this.#node.offers });
    return true;
  }

  /** Back to editing, nothing sent. */
  back(): void {
    if (this.stage !== 'review') return;
    this.review = null;
    this.#intent = null;
    this.stage = 'edit';
  }

  /** The form changed: an earlier outcome no longer describes it. */
  edited(): void {
    if (this.stage !== 'edit') return;
    this.done = '';
    this.error = '';
  }

  /** Shows a problem found before asking the node (a field that does not parse). */
  fail(message: string): void {
    this.done = '';
    this.txid = null;
    this.error = message;
  }
}
