import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Starts installed-but-stopped Postgres/Redis, or stops at once saying how to get them.
    globalSetup: ['test/support/globalSetup.ts'],
    // Fails a file whose code queried the outer pool inside an open transaction (PGlite would hang).
    setupFiles: ['test/support/transactionGuard.ts'],
    // Integration tests share one Redis and one Postgres server; each file uses its
    // own queue prefix and database, so files may run in parallel.
    pool: 'forks',
    // Two files at a time: most of a file's time is spent waiting on the sandbox, Redis and Postgres,
    // so on CI's 2 vCPUs the suite takes about 8.5 minutes instead of 15 (vitest's default is one
    // file at a time there: the CPU count less one).
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/support/summaryReporter.ts'],
  },
})
