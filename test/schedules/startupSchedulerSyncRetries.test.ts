/**
 * The worker's last start-up step writes its own job schedulers (reconciliation, session
 * maintenance) and syncs every schedule's. A Redis error on the first (a failover's command timeout)
 * was thrown, not retried as the sync was: the worker was left half-started, its parts running but
 * not its schedulers, neither ready nor exiting. Both are now retried together until done.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { controlJobs } from '../../src/queue/names.js'
import { syncSchedulersAtStartup } from '../../src/runtime/schedules/syncSchedulersAtStartup.js'
import type { SchedulerQueue } from '../../src/runtime/schedules/types.js'
import { capturedLog } from '../support/capturedLog.js'
import { createTestDatabase, type TestDatabase } from '../support/database.js'
import { controlQueueForFile } from './support.js'

const queue = controlQueueForFile()
let t: TestDatabase
beforeAll(async () => { t = await createTestDatabase() })
afterAll(async () => { await t?.drop() })

it('retries the worker\'s own schedulers\' upsert after a Redis error, and writes them', async () => {
  // The real queue, its first upsert failing as a timed-out command would.
  let failures = 0
  const flaky: SchedulerQueue = Object.assign(Object.create(queue) as SchedulerQueue, {
    upsertJobScheduler: (...args: Parameters<SchedulerQueue['upsertJobScheduler']>) => {
      if (failures++ === 0) return Promise.reject(new Error('Command timed out'))
      return queue.upsertJobScheduler(...args)
    },
  })
  const { log, entries } = capturedLog('warn')
  await syncSchedulersAtStartup(t.database.db, flaky, { reconcileMs: 60_000, maintenanceMs: 10_000 }, log)
  expect(entries().filter((e) => e.msg === 'start-up schedule sync failed; retrying').map((e) => e.err?.message)).toEqual(['Command timed out'])
  expect((await queue.getJobScheduler(controlJobs.reconcile))?.every).toBe(60_000)
  expect((await queue.getJobScheduler(controlJobs.maintainSessions))?.every).toBe(10_000)
})
