import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';

// The dependency direction is a lint rule; this checks that the rule really bites.
describe('dependency-direction lint', () => {
  const eslint = new ESLint();
  const lint = async (code: string, filePath: string) => (await eslint.lintText(code, { filePath }))[0].messages.map((m) => m.ruleId);

  it('rejects imports of our other layers and of libraries from src/chain', async () => {
    expect(await lint("import { x } from '../storage/store.ts';\nexport const y = x;\n", 'src/chain/example.ts')).toContain('no-restricted-imports');
    expect(await lint("import { openDB } from 'idb';\nexport const y = openDB;\n", 'src/chain/example.ts')).toContain('no-restricted-imports');
  });

  it('rejects DOM and timer globals in src/chain', async () => {
    expect(await lint('export const y = () => setTimeout(() => 0, 1);\n', 'src/chain/example.ts')).toContain('no-restricted-globals');
  });

  it('allows @noble and sibling imports in src/chain', async () => {
    expect(await lint("import { sha256 } from '@noble/hashes/sha2.js';\nimport { RuleError } from './errors.ts';\nexport const y = [sha256, RuleError];\n", 'src/chain/example.ts')).toEqual([]);
  });

  it('rejects node → ui and storage → node imports', async () => {
    expect(await lint("import { a } from '../ui/state.ts';\nexport const y = a;\n", 'src/node/example.ts')).toContain('no-restricted-imports');
    expect(await lint("import { a } from '../node/full-node.ts';\nexport const y = a;\n", 'src/storage/example.ts')).toContain('no-restricted-imports');
  });

  it('rejects a top-level await in src/ (it would delay window.tabchain past the page load)', async () => {
    expect(await lint('declare const f: () => Promise<number>;\nexport const x = await f();\n', 'src/miner/example.ts')).toContain('no-restricted-syntax');
    expect(await lint('declare const f: () => Promise<number>;\nawait f();\n', 'src/node/example.ts')).toContain('no-restricted-syntax');
    expect(await lint('declare const f: () => Promise<number>;\nexport const g = async () => await f();\n', 'src/node/example.ts')).toEqual([]);
  });

  it('rejects an async predicate in Playwright waitForFunction (it would pass at once)', async () => {
    const code = (fn: string) => `declare const page: { waitForFunction(f: unknown): Promise<void> };\nexport const w = () => page.waitForFunction(${fn});\n`;
    expect(await lint(code('async () => false'), 'test/e2e/example.ts')).toContain('no-restricted-syntax');
    expect(await lint(code('() => false'), 'test/e2e/example.ts')).toEqual([]);
  });
});
