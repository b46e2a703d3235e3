import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.node-red/**', 'nodes/**', 'examples/**', '.ci/**', 'test-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // No `any`: Node-RED's API is typed at its boundary (src/nodes/lib/red.ts), the test helper in
    // test/support/shims.d.ts, the browser editor's in test/editor/red-window.d.ts.
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'error' },
  },
  {
    // `const node = this` in a node's constructor or editor function, as in Node-RED's own nodes.
    files: ['src/nodes/**/*.ts', 'src/editor/nodes/**/*.ts'],
    rules: { '@typescript-eslint/no-this-alias': 'off' },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-this-alias': 'off',
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    // The editor side (src/editor/): modules bundled for the browser, where Node-RED's editor gives
    // RED and jQuery (typed in src/editor/globals.d.ts); nothing else is global.
    files: ['src/editor/**/*.ts'],
    languageOptions: { globals: { ...globals.browser, ...globals.jquery } },
    rules: { eqeqeq: ['error', 'smart'], 'array-callback-return': 'error', 'no-unused-expressions': 'error' },
  },
  {
    files: ['scripts/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly' } },
  },
);
