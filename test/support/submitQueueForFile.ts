import { randomUUID } from 'node:crypto'
import { Queue } from 'bullmq'
import { afterAll, beforeAll } from 'vitest'
import { createRedis } from '../../src/queue/connection.js'
import { deleteQueueKeys } from '../../src/queue/deleteQueueKeys.js'
import type { SubmitJobData } from '../../src/queue/payloads.js'
import { createTestDatabase, type TestDatabase } from './database.js'

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

/**
 * A fresh migrated database and a submit queue under a prefix of its own on the real Redis, for a
 * test file of the relay and the sweep (no worker): set up before the file's tests, torn down after.
 * `t` and `queue` are there once the file's tests run.
 */
export function submitQueueForFile(name: string) {
  const file = { prefix: `deputy-test-${name}-${randomUUID().slice(0, 8)}` } as { prefix: string; t: TestDatabase; queue: Queue<SubmitJobData> }
  beforeAll(async () => {
    file.t = await createTestDatabase()
    file.queue = new Queue<SubmitJobData>('submit', { connection: createRedis(REDIS_URL), prefix: file.prefix })
  })
  afterAll(async () => {
    await file.queue?.close()
    await deleteQueueKeys(REDIS_URL, file.prefix)
    await file.t?.drop()
  })
  return file
}
