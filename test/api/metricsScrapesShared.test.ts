/**
 * Scrapes of `/metrics` that arrive together share their refreshes: the one under way, and one
 * queued behind it for every scrape that came meanwhile (each sees values read after it arrived).
 * Chained one per scrape before, a burst of N scrapes ran N refreshes of six aggregate queries each.
 */
import { randomUUID } from 'node:crypto'
import { Queue } from 'bullmq'
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { ApiDeps } from '../../src/api/ApiDeps.js'
import { type Metrics, createMetrics } from '../../src/api/metrics/createMetrics.js'
import { deleteQueueKeys } from '../../src/queue/deleteQueueKeys.js'
import { createTestDatabase, type TestDatabase } from '../support/database.js'
import { REDIS_URL } from '../worker/support/harness.js'

let testDb: TestDatabase
let metrics: Metrics
/** Each refresh reads the operator's clock once, for the sessions' expiry windows. */
let refreshes = 0
const prefix = `deputy-test-${randomUUID().slice(0, 8)}`
const submitQueue = new Queue('submit', { connection: { url: REDIS_URL }, prefix })
const controlQueue = new Queue('control', { connection: { url: REDIS_URL }, prefix })

beforeAll(async () => {
  testDb = await createTestDatabase()
  const runtime = { db: testDb.database.db, now: Date.now, operatorNow: () => { refreshes++; return Date.now() } }
  // createMetrics reads the database, the clocks and the queues only.
  metrics = createMetrics({ runtime, submitQueue, controlQueue } as unknown as ApiDeps)
})
afterAll(async () => {
  await submitQueue.close()
  await controlQueue.close()
  await deleteQueueKeys(REDIS_URL, prefix)
  await testDb?.drop()
})

it('ten scrapes at once cost two refreshes, each scrape answered in full; a later scrape refreshes again', async () => {
  const before = refreshes
  const bodies = await Promise.all(Array.from({ length: 10 }, async () => (await metrics.render()).body))
  expect(refreshes - before).toBe(2)
  for (const body of bodies) expect(body).toMatch(/^deputy_metrics_source_up\{source="postgres"\} 1$/m)
  await metrics.render()
  expect(refreshes - before).toBe(3)
})
