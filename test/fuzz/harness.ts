/**
 * The fuzz harness: every target is one vitest test that feeds FUZZ_RUNS inputs through a
 * fast-check property, seeded, so that one code path serves both runs:
 *
 * - `npm test` (vitest over test/fuzz with no variables set): a sample of
 *   {@link DEFAULT_FUZZ_RUNS} inputs per target under the fixed {@link DEFAULT_FUZZ_SEED}, so the
 *   suite is deterministic.
 * - `npm run fuzz` (scripts/fuzz.ts): FUZZ_RUNS=100000 per target, a fresh seed each run (printed),
 *   and a table target → inputs → time built from the records each target appends to FUZZ_REPORT.
 *
 * A failure is fast-check's report: the shrunk counterexample, the seed and the path. Reproduce
 * with `FUZZ_SEED=<seed> FUZZ_PATH=<path> npx vitest run test/fuzz -t '<target>'` (or drop
 * FUZZ_PATH and rerun the whole target with the same seed and FUZZ_RUNS).
 *
 * Async targets get a per-input time limit ({@link FUZZ_INPUT_TIMEOUT_MS}): an input that makes a
 * handler hang fails the property with that input as the counterexample, instead of hanging the run.
 * @module
 */
import { appendFileSync } from 'node:fs';
import fc from 'fast-check';
import { it } from 'vitest';

/** Inputs per target in `npm test`. */
export const DEFAULT_FUZZ_RUNS = 1000;
/** Seed of `npm test` (fixed: a sample that changes every run would make the suite flaky). */
export const DEFAULT_FUZZ_SEED = 0x7ab_c4a1;
/** Longest an async target may take on one input before it counts as a hang, ms. */
export const FUZZ_INPUT_TIMEOUT_MS = 20_000;

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new Error(`${name} must be an integer, got ${JSON.stringify(raw)}`);
  return n;
}

/** Inputs per target (FUZZ_RUNS). */
export const FUZZ_RUNS = envInt('FUZZ_RUNS', DEFAULT_FUZZ_RUNS);
/** The seed of every target (FUZZ_SEED); fast-check prints it with any counterexample. */
export const FUZZ_SEED = envInt('FUZZ_SEED', DEFAULT_FUZZ_SEED);
/** fast-check's replay path of a counterexample (FUZZ_PATH), to replay one failure directly. */
const FUZZ_PATH = process.env.FUZZ_PATH || undefined;

/** One target's figures, as `npm run fuzz` tabulates them. */
export interface FuzzRecord {
  file: string;
  target: string;
  inputs: number;
  ms: number;
  seed: number;
  /** How many inputs ended in each outcome the target names (e.g. accepted / refused). */
  outcomes: Record<string, number>;
}

/**
 * What a target's check may return: the name of the outcome of this input ('accepted',
 * 'refused', 'MALFORMED', …), tallied into the report.
 */
export type Outcome = string | void;

export interface FuzzOptions {
  /**
   * Outcomes that must each happen at least once, else the target fails: a fuzzer whose inputs
   * all end the same way (all refused at the first byte, say) is not exploring the code.
   */
  mustSee?: readonly string[];
}

function record(r: FuzzRecord): void {
  const path = process.env.FUZZ_REPORT;
  if (path) appendFileSync(path, JSON.stringify(r) + '\n');
}

function tally(outcomes: Record<string, number>, o: Outcome): void {
  if (typeof o === 'string') outcomes[o] = (outcomes[o] ?? 0) + 1;
}

function checkSeen(target: string, outcomes: Record<string, number>, opts: FuzzOptions): void {
  const missing = (opts.mustSee ?? []).filter((o) => !outcomes[o]);
  if (missing.length > 0) throw new Error(`${target}: no input ended as ${missing.join(', ')} (outcomes: ${JSON.stringify(outcomes)})`);
}

function fileOf(url: string | undefined): string {
  return (url ?? '').replace(/^.*\/test\/fuzz\//, '');
}

function options<T>(): fc.Parameters<[T]> {
  return { numRuns: FUZZ_RUNS, seed: FUZZ_SEED, ...(FUZZ_PATH ? { path: FUZZ_PATH, endOnFailure: true } : {}) };
}

/**
 * A synchronous fuzz target: `check` must not throw for any input `arb` generates (it throws, via
 * `expect` or by itself, when the property fails).
 * @example
 * ```ts
 * fuzz('decodeTx', arbTxInput, (bytes) => expectDecodesCanonically(bytes, decodeTx, encodeTx), import.meta.url);
 * ```
 */
export function fuzz<T>(target: string, arb: fc.Arbitrary<T>, check: (input: T) => Outcome, fileUrl?: string, opts: FuzzOptions = {}): void {
  it(target, () => {
    let inputs = 0;
    const outcomes: Record<string, number> = {};
    const start = performance.now();
    fc.assert(
      fc.property(arb, (x) => {
        inputs++;
        tally(outcomes, check(x));
      }),
      options<T>(),
    );
    const ms = performance.now() - start;
    checkSeen(target, outcomes, opts);
    record({ file: fileOf(fileUrl), target, inputs, ms, seed: FUZZ_SEED, outcomes });
  });
}

/** An async fuzz target (see {@link fuzz}); each input has {@link FUZZ_INPUT_TIMEOUT_MS} to settle. */
export function fuzzAsync<T>(target: string, arb: fc.Arbitrary<T>, check: (input: T) => Promise<Outcome>, fileUrl?: string, opts: FuzzOptions = {}): void {
  it(target, async () => {
    let inputs = 0;
    const outcomes: Record<string, number> = {};
    const start = performance.now();
    await fc.assert(
      fc.asyncProperty(arb, async (x) => {
        inputs++;
        tally(outcomes, await check(x));
      }),
      { ...options<T>(), timeout: FUZZ_INPUT_TIMEOUT_MS },
    );
    const ms = performance.now() - start;
    checkSeen(target, outcomes, opts);
    record({ file: fileOf(fileUrl), target, inputs, ms, seed: FUZZ_SEED, outcomes });
  });
}

/**
 * Runs `fn` and returns what it threw (undefined if nothing): for properties of the form "returns a
 * canonical value or throws exactly this error type".
 */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
    return undefined;
  } catch (e) {
    return e;
  }
}

/** Async {@link thrownBy}. */
export async function rejectionOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
    return undefined;
  } catch (e) {
    return e;
  }
}

/** An error's class name and message, for assertion messages that name what went wrong. */
export function describeError(e: unknown): string {
  return e instanceof Error ? `${e.constructor.name}: ${e.message}` : `non-Error ${String(e)}`;
}
