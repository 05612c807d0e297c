/** Web Worker of the Chromium miner bench: measures one kernel, posts MH/s. */
import { makeHasher, measure, type BenchKernel } from './measure.ts';

const scope = globalThis as unknown as { postMessage(m: unknown): void; onmessage: ((e: MessageEvent) => void) | null };
scope.onmessage = async (e: MessageEvent<{ kind: BenchKernel; warmMs: number; measureMs: number }>) => {
  try {
    const { kind, warmMs, measureMs } = e.data;
    scope.postMessage({ ok: true, mhs: measure(await makeHasher(kind), warmMs, measureMs) });
  } catch (err) {
    scope.postMessage({ ok: false, error: String(err) });
  }
};
