import { randomUUID } from 'node:crypto'
import { Queue } from 'bullmq'
import { afterAll, beforeAll } from 'vitest'
import type { ApiDeps } from '../../../src/api/ApiDeps.js'
import { type Metrics, createMetrics } from '../../../src/api/metrics/createMetrics.js'
import { deleteQueueKeys } from '../../../src/queue/deleteQueueKeys.js'
import type { Db } from '../../../src/store/Database.js'
import { createTestDatabase, type TestDatabase } from '../../support/database.js'
import { REDIS_URL } from '../../worker/support/harness.js'

/**
 * This test file's `createMetrics` on a database of its own and two empty queues under a prefix of
 * its own, with no worker running, so the rows stay as written: made before its tests, closed after
 * them. Read `db` and `metrics` inside tests. `operatorNow` replaces the operator's clock.
 */
export function metricsForFile(options: { operatorNow?: () => number } = {}): { db: Db; metrics: Metrics } {
  const file = {} as { db: Db; metrics: Metrics }
  let testDb: TestDatabase | undefined
  const prefix = `deputy-test-${randomUUID().slice(0, 8)}`
  const submitQueue = new Queue('submit', { connection: { url: REDIS_URL }, prefix })
  const controlQueue = new Queue('control', { connection: { url: REDIS_URL }, prefix })
  beforeAll(async () => {
    testDb = await createTestDatabase()
    file.db = testDb.database.db
    const runtime = { db: file.db, now: Date.now, operatorNow: options.operatorNow ?? Date.now }
    // createMetrics reads the database, the clocks and the queues only.
    file.metrics = createMetrics({ runtime, submitQueue, controlQueue } as unknown as ApiDeps)
  })
  afterAll(async () => {
    await submitQueue.close()
    await controlQueue.close()
    await deleteQueueKeys(REDIS_URL, prefix)
    await testDb?.drop()
  })
  return file
}
