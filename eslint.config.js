// @ts-check
import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import globals from 'globals'

/** I/O that must never reach src/core (it stays pure: time and randomness are passed in). */
const ioModules = [
  'bullmq', 'ioredis', 'pg', 'pino', 'fastify', 'commander', '@electric-sql/pglite', 'eventsource-parser',
  'node:fs', 'node:fs/promises', 'node:net', 'node:http', 'node:https', 'node:child_process',
  'node:dgram', 'node:dns', 'node:tls', 'node:worker_threads', 'node:cluster', 'node:os', 'node:process',
  'fs', 'fs/promises', 'net', 'http', 'https', 'child_process', 'os', 'process',
]

export default tseslint.config(
  { ignores: ['node_modules/**', 'migrations/**', '.data/**', 'dist/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': ['error', { selector: 'ExportAllDeclaration', message: 'No export * barrels: re-export by name.' }],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: ioModules.map((name) => ({ name, message: 'src/core is pure: no I/O imports.' })),
        patterns: [
          { group: ['drizzle-orm', 'drizzle-orm/*', '@bull-board/*'], message: 'src/core is pure: no I/O imports.' },
          { group: ['../../*', '../../../*'], message: 'src/core may import only from src/core (keep core files in a subfolder).' },
        ],
      }],
      'no-restricted-globals': ['error',
        { name: 'fetch', message: 'src/core is pure: do network I/O in an adapter.' },
        { name: 'process', message: 'src/core is pure: read configuration in a composition root.' },
        { name: 'setTimeout', message: 'src/core is pure: no timers.' },
        { name: 'setInterval', message: 'src/core is pure: no timers.' },
      ],
      'no-restricted-properties': ['error',
        { object: 'Date', property: 'now', message: 'src/core is pure: pass the time in.' },
        { object: 'Math', property: 'random', message: 'src/core is pure: pass randomness in.' },
      ],
    },
  },
  { files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
  { files: ['**/*.js', '**/*.mjs'], languageOptions: { globals: globals.node } },
)
