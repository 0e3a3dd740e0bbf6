import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', '.msec/**', 'tests/artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // The layering rule of design.md: domain and projections stay pure.
    files: ['domain/**/*.ts', 'projections/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['**/adapters/**', '**/apps/**'], message: 'domain/ and projections/ import no adapter or app' },
        { group: ['node:fs', 'node:net', 'node:http', 'node:child_process', 'fs', 'net', 'http'], message: 'domain/ and projections/ do no I/O' },
      ] }],
    },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    files: ['apps/console/web/**/*.js'],
    languageOptions: { globals: { window: 'readonly', document: 'readonly', fetch: 'readonly', location: 'readonly', history: 'readonly', URLSearchParams: 'readonly', console: 'readonly', setTimeout: 'readonly', Blob: 'readonly', URL: 'readonly', FormData: 'readonly', encodeURIComponent: 'readonly', alert: 'readonly', confirm: 'readonly', prompt: 'readonly' } },
  },
);
