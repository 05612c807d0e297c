// Lint: TypeScript rules plus the dependency direction of docs/ARCHITECTURE.md (§Layout and
// dependency direction),
//   ui → node → {p2p, miner, storage} → chain,
// enforced with no-restricted-imports per folder. src/chain may import only @noble/*, @scure/*
// and its own modules, and may not touch the DOM, IndexedDB, timers or the network.
import tseslint from 'typescript-eslint';

const upward = (names) => names.map((n) => ({ group: [`**/${n}/*`, `**/${n}`], message: `dependency direction: this layer may not import src/${n} (see docs/ARCHITECTURE.md §Layout and dependency direction)` }));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'src/miner/wasm/build/**', 'coverage/**', 'test/e2e/artifacts/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['src/chain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!@noble/|@scure/|\\./)',
              message: 'src/chain is pure consensus: it imports only @noble/*, @scure/* and its own modules.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        ...['window', 'document', 'navigator', 'indexedDB', 'localStorage', 'sessionStorage', 'fetch', 'WebSocket', 'setTimeout', 'setInterval', 'Worker', 'BroadcastChannel', 'process'].map((name) => ({
          name,
          message: 'src/chain is pure consensus: no DOM, storage, network, timers or process.',
        })),
      ],
    },
  },
  { files: ['src/storage/**/*.ts', 'src/miner/**/*.ts', 'src/p2p/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: upward(['node', 'ui']) }] } },
  { files: ['src/node/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: upward(['ui']) }] } },
  {
    // main.ts installs window.tabchain synchronously; a top-level await anywhere in the page's
    // module graph makes its evaluation asynchronous, so the load event can fire before it (a
    // busy machine showed window.tabchain undefined after load). default-scan.ts is for tools.
    files: ['src/**/*.ts'],
    ignores: ['src/miner/default-scan.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        ...[
          'Program > ExpressionStatement > AwaitExpression',
          'Program > VariableDeclaration > VariableDeclarator > AwaitExpression.init',
          'Program > ExportNamedDeclaration > VariableDeclaration > VariableDeclarator > AwaitExpression.init',
          'Program > ForOfStatement[await=true]',
        ].map((selector) => ({ selector, message: 'no top-level await in src/: it delays main.ts (and window.tabchain) past the page load' })),
      ],
    },
  },
  {
    files: ['relay/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: upward(['node', 'ui', 'storage', 'miner', 'chain']) }] },
  },
  {
    // Playwright's waitForFunction does not await a returned promise: an async predicate is a
    // truthy Promise and passes at once. Poll with test/e2e/harness.ts's waitInPage instead.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.property.name='waitForFunction'] > :matches(ArrowFunctionExpression, FunctionExpression)[async=true]",
          message: 'waitForFunction does not await promises: use waitInPage (test/e2e/harness.ts).',
        },
      ],
    },
  },
);
