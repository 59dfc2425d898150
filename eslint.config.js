// Lint: typescript-eslint's recommended rules, plus the workflow sandbox's: workflow code
// is deterministic and runs without Node's APIs, and imports activities as types only.
const tseslint = require('typescript-eslint');

const nodeModules = [
  'fs',
  'path',
  'os',
  'crypto',
  'http',
  'https',
  'net',
  'dns',
  'child_process',
  'timers',
  'worker_threads',
  'stream',
  'url',
  'util',
  'zlib',
];

module.exports = tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      '.hookflow/**',
      'portal/dist/**',
      'coverage/**',
      'bench/results/**',
      'portal/**',
      '**/*.js',
    ],
  },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeModules
            .flatMap((m) => [m, `node:${m}`])
            .map((name) => ({ name, message: 'Workflow code runs in the sandbox: no Node APIs.' })),
          patterns: [
            {
              group: ['../activities', '../activities/*'],
              allowTypeImports: true,
              message: 'Import activities with `import type` only.',
            },
            {
              group: ['undici', 'pg', '@mikro-orm/*', 'pino', 'express'],
              message: 'Workflow code runs in the sandbox: no I/O libraries.',
            },
          ],
        },
      ],
      'no-restricted-globals': ['error', 'process', 'setTimeout', 'setInterval', 'fetch'],
    },
  },
);
