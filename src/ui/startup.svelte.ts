/**
 * Start-up progress shown while the page opens the node: which step runs now, as a fraction for
 * the progress bar. main.ts drives it; the loading screen reads it.
 * @module
 */

/** The start-up steps, in order. */
export const STARTUP_STEPS = [
  { name: 'network', label: 'Finding the network' },
  { name: 'profile', label: "Choosing this tab's profile" },
  { name: 'storage', label: 'Opening storage and loading the chain' },
  { name: 'wallet', label: 'Opening the wallet' },
  { name: 'ready', label: 'Ready' },
] as const;

export type StartupStepName = (typeof STARTUP_STEPS)[number]['name'];

/**
 * @example
 * ```ts
 * const progress = new StartupProgress();
 * progress.step('storage');
 * progress.fraction // 0.5
 * ```
 */
export class StartupProgress {
  current = $state<StartupStepName>('network');

  /** Moves to a step. @example progress.step('wallet') */
  step(name: StartupStepName): void {
    this.current = name;
  }

  /** Index of the current step. */
  get index(): number {
    return STARTUP_STEPS.findIndex((s) => s.name === this.current);
  }

  /** Done fraction, 0..1. */
  get fraction(): number {
    return this.index / (STARTUP_STEPS.length - 1);
  }

  /** The current step's label. */
  get label(): string {
    return STARTUP_STEPS[this.index]?.label ?? '';
  }
}
