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
    // Files run one after another in each of the two processes, not each in a fresh one: the
    // module graph (viem, Fastify, BullMQ, drizzle, ...) is loaded once per process instead of once
    // per file, which cost a third of the suite's time (import 370 s of CPU in all, now 24 s: the
    // suite is CPU-bound on 2 vCPUs, 947 s → 626 s on one host). Each file still has its own database and
    // queue prefix, and closes what it opened (its harness's `afterAll`); none mocks modules or
    // leaves the environment or fake timers changed.
    isolate: false,
    // Two files at a time (vitest's default is one on 2 vCPUs: the CPU count less one). A third
    // adds nothing: with two the machine is already busy (measured with isolation: no faster, and
    // loaded enough for waits in tests to run out).
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/support/summaryReporter.ts'],
  },
})
