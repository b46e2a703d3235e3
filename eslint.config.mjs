import js from '@eslint/js';
import html from 'eslint-plugin-html';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.node-red/**', 'nodes/locales/**', 'examples/**', '.ci/**'] },
  js.configs.recommended,
  // typescript-eslint's parser and rules are for the TypeScript sources, not the editor's scripts.
  ...tseslint.configs.recommended.map((config) => ({ ...config, ignores: ['nodes/**'] })),
  {
    ignores: ['nodes/**'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // No `any` in the product: Node-RED's API is typed at its boundary (src/nodes/lib/red.ts).
    files: ['src/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'error' },
  },
  {
    // `const node = this` in a node's constructor, as in Node-RED's own nodes.
    files: ['src/nodes/**/*.ts'],
    rules: { '@typescript-eslint/no-this-alias': 'off' },
  },
  {
    // Tests and benchmarks drive Node-RED's untyped test helper.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-this-alias': 'off',
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    // The editor side: the <script type="text/javascript"> blocks of nodes/*.html (templates of type
    // text/html are not JavaScript and are skipped), run as classic browser scripts by the editor.
    files: ['nodes/*.html'],
    plugins: { html },
    languageOptions: {
      ecmaVersion: 2020,
      sourceType: 'script',
      globals: {
        ...globals.browser,
        ...globals.jquery,
        RED: 'readonly',
        // Defined by nodes/imis-editor.html, loaded (as a plugin) before the node definitions.
        ImisEditor: 'readonly',
      },
    },
    rules: {
      // The scripts share the editor page's global scope: nothing may leak into it by accident.
      'no-implicit-globals': 'error',
      eqeqeq: ['error', 'smart'],
      'array-callback-return': 'error',
      'no-unused-expressions': 'error',
    },
  },
  {
    // The Runs dashboard's script, shared by the sidebar and the full-page view (a classic script).
    files: ['nodes/*.js'],
    languageOptions: { ecmaVersion: 2020, sourceType: 'script', globals: { ...globals.browser } },
    rules: { 'no-implicit-globals': 'error', eqeqeq: ['error', 'smart'], 'no-unused-expressions': 'error' },
  },
  {
    files: ['scripts/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly' } },
  },
);
