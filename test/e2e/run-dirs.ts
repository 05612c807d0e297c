/** Temporary paths of one vitest run's e2e tests (shared by the globalSetup and the harness). */
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function e2eRunDirs(runId: string): { dist: string; buildLock: string; slotLock: string } {
  const base = join(tmpdir(), `tabchain-e2e-${runId}`);
  return { dist: `${base}-dist`, buildLock: `${base}-build.lock`, slotLock: `${base}-slot.lock` };
}
