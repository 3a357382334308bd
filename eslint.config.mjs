import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Workflow code must be deterministic and domain code pure: neither may reach Node built-ins
// or I/O libraries. Workflows import activities, the database and services as types only.
const io = ['kysely', 'better-sqlite3', 'pino', 'file-type', 'commander', '@temporalio/client', '@temporalio/activity', '@temporalio/worker', '@temporalio/testing'];
const nodeBuiltins = builtinModules.flatMap((m) => [m, `node:${m}`]);
const restricted = (message, extraPatterns = []) => [
  'error',
  {
    paths: [...nodeBuiltins, ...io].map((name) => ({ name, message, allowTypeImports: true })),
    patterns: [
      { group: ['node:*'], message },
      ...extraPatterns.map((group) => ({ group, message, allowTypeImports: true })),
    ],
  },
];

export default tseslint.config(
  // test/generated/ is openapi-typescript's output (scripts/generate-api-types.ts): its style is the
  // generator's; the tests that use it are linted and type-checked against it.
  { ignores: ['docs/examples/**', 'dist/**', 'node_modules/**', 'data/**', 'bin/**', '*.mjs', '*.mts', 'test/generated/**', 'web/assets/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    // Fastify plugins and route handlers are async by contract, awaiting or not.
    files: ['api/**/*.ts', 'web/**/*.ts'],
    rules: { '@typescript-eslint/require-await': 'off' },
  },
  {
    // Tests read JSON responses: untyped member access there is the point, not a slip.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': restricted(
        'workflow code is deterministic: no Node built-ins or I/O (import activities and db as types only)',
        [['../activities/*', '../db/*', '../services/*', '../worker/*', '../config/*', '../cli/*']],
      ),
      'no-restricted-globals': ['error', 'fetch', 'setImmediate', 'process', 'require'],
    },
  },
  {
    files: ['domain/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': restricted('domain code is pure: no I/O', [
        ['../activities/*', '../db/*', '../services/*', '../worker/*', '../config/*', '../cli/*', '../workflows/*'],
      ]),
      'no-restricted-globals': ['error', 'fetch', 'process', 'require'],
    },
  },
);
