/**
 * vitest globalSetup for the e2e tests: gives the run an id under which the e2e harness builds the
 * app once (lazily, on the first e2e file that needs it — a unit-only run builds nothing), and
 * removes that build when the run ends.
 */
import { rm } from 'node:fs/promises';
import type { TestProject } from 'vitest/node';
import { e2eRunDirs } from './run-dirs.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    e2eRunId: string;
  }
}

export default function setup(project: TestProject): () => Promise<void> {
  const runId = `${process.pid}-${Date.now().toString(36)}`;
  project.provide('e2eRunId', runId);
  return async () => {
    const dirs = e2eRunDirs(runId);
    for (const d of [dirs.dist, dirs.buildLock, dirs.slotLock]) await rm(d, { recursive: true, force: true });
  };
}
