/**
 * A schedule change is committed in Postgres, then mirrored to its job scheduler. When Redis
 * refuses that write (an error, not a silence: out of memory, a failover's READONLY), the change
 * answers all the same and says the worker will write the scheduler: the worker's repair sweep
 * must then bring it in line with Postgres, also when no scheduler went missing, as after an edit
 * of the cron or the time zone, whose scheduler is still there with the old timing.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createSchedule } from '../../src/runtime/schedules/createSchedule.js'
import { restoreLostSchedulers } from '../../src/runtime/schedules/restoreLostSchedulers.js'
import type { SchedulerQueue } from '../../src/runtime/schedules/types.js'
import { updateSchedule } from '../../src/runtime/schedules/updateSchedule.js'
import { createHarness, type Harness } from '../worker/support/harness.js'
import { controlQueueForFile, specOf, YEARLY } from './support.js'

let h: Harness
const queue = controlQueueForFile()
const periods = { reconcileMs: 60_000, maintenanceMs: 60_000 }

beforeAll(async () => { h = await createHarness() })
afterAll(async () => { await h?.close() })

/** The control queue as a Redis that refuses writes sees it: reads answer, the scheduler write fails. */
const refusing: SchedulerQueue = {
  getJobScheduler: (id) => queue.getJobScheduler(id),
  getJobSchedulers: (...args) => queue.getJobSchedulers(...args),
  removeJobScheduler: async () => { throw new Error("READONLY You can't write against a read only replica.") },
  upsertJobScheduler: async () => { throw new Error("READONLY You can't write against a read only replica.") },
}

it('an edit of the cron and time zone whose scheduler write Redis refused is written by the repair sweep', async () => {
  const { wallet } = await h.wallet()
  const schedule = await createSchedule({ db: h.db, queue }, { walletId: wallet.id, ...specOf({ ETH: '0.5', USD: '0.5' }, { cron: YEARLY }) })
  // The worker's own schedulers are in place: the sweep's check passes as it does in a running deployment.
  await restoreLostSchedulers(h.db, queue, periods)
  expect(await restoreLostSchedulers(h.db, queue, periods)).toBeUndefined()

  const edited = await updateSchedule({ db: h.db, queue: refusing, syncWaitMs: 1_000 }, schedule.id, { cron: '0 9 * * 1', timeZone: 'Europe/Paris' })
  expect(edited).toMatchObject({ cron: '0 9 * * 1', timeZone: 'Europe/Paris', version: 2 })
  expect(await queue.getJobScheduler(schedule.id)).toMatchObject({ pattern: YEARLY, tz: 'UTC' })

  await restoreLostSchedulers(h.db, queue, periods)
  // Before: the sweep counted schedulers only, found none missing, and the old timing kept firing.
  expect(await queue.getJobScheduler(schedule.id)).toMatchObject({ pattern: '0 9 * * 1', tz: 'Europe/Paris' })
  expect(await restoreLostSchedulers(h.db, queue, periods)).toBeUndefined()
})
