/**
 * Which view the page shows, kept in the URL hash (`#wallet`, `#explorer/block/<hash>`) so links,
 * the back button and a reload all work, and a teacher can share a link to a block.
 * @module
 */

/** The views, in navigation order. */
export const VIEWS = [
  { id: 'mine', label: 'Mine' },
  { id: 'wallet', label: 'Wallet' },
  { id: 'items', label: 'Items' },
  { id: 'market', label: 'Market' },
  { id: 'explorer', label: 'Explorer' },
  { id: 'chain', label: 'Chain' },
  { id: 'network', label: 'Network' },
  { id: 'profile', label: 'Profile' },
] as const;

export type ViewId = (typeof VIEWS)[number]['id'];

function isView(v: string): v is ViewId {
  return VIEWS.some((x) => x.id === v);
}

/**
 * The hash of a view with arguments.
 * @example href('explorer', 'block', '12') // '#explorer/block/12'
 */
export function href(view: ViewId, ...args: (string | number)[]): string {
  return '#' + [view, ...args.map((a) => encodeURIComponent(String(a)))].join('/');
}

/**
 * @example
 * ```ts
 * const router = new Router();
 * router.view // 'mine'
 * router.go('explorer', 'block', 5);
 * ```
 */
export class Router {
  view = $state<ViewId>('mine');
  args = $state<string[]>([]);
  readonly #onHash = () => this.#parse();

  constructor() {
    this.#parse();
    addEventListener('hashchange', this.#onHash);
  }

  #parse(): void {
    const [view = '', ...args] = location.hash.replace(/^#/, '').split('/');
    this.view = isView(view) ? view : 'mine';
    this.args = isView(view) ? args.map((a) => decodeURIComponent(a)) : [];
  }

  /** Shows a view (adds a history entry). @example router.go('wallet') */
  go(view: ViewId, ...args: (string | number)[]): void {
    location.hash = href(view, ...args);
  }

  /** Stops listening. */
  destroy(): void {
    removeEventListener('hashchange', this.#onHash);
  }
}
