/**
 * Two changes to one schedule race, and the first one's scheduler write reaches Redis last: a
 * resume whose upsert is held up (a slow Redis) while a pause commits and syncs. The held sync
 * reads the row's version again after writing and passes again, so Redis ends as Postgres: no
 * scheduler for the paused schedule.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createSchedule } from '../../src/runtime/schedules/createSchedule.js'
import { pauseSchedule } from '../../src/runtime/schedules/pauseSchedule.js'
import { resumeSchedule } from '../../src/runtime/schedules/resumeSchedule.js'
import type { SchedulerQueue } from '../../src/runtime/schedules/types.js'
import { createHarness, eventually, type Harness } from '../worker/support/harness.js'
import { controlQueueForFile, specOf, YEARLY } from './support.js'

let h: Harness
const queue = controlQueueForFile()

beforeAll(async () => { h = await createHarness() })
afterAll(async () => { await h?.close() })

it('a resume whose scheduler write lands after a later pause is corrected: the paused schedule ends with no scheduler', async () => {
  const { wallet } = await h.wallet()
  const schedule = await createSchedule({ db: h.db, queue }, { walletId: wallet.id, ...specOf({ ETH: '0.5', USD: '0.5' }, { cron: YEARLY }) })
  await pauseSchedule({ db: h.db, queue }, schedule.id)
  expect(await queue.getJobScheduler(schedule.id)).toBeUndefined()

  // The resume's upsert waits at a gate (Redis slow to answer); the change answers without it.
  let open!: () => void
  const gate = new Promise<void>((resolve) => { open = resolve })
  let held = 0
  let removedBySlow = 0
  const slow: SchedulerQueue = {
    getJobScheduler: (id) => queue.getJobScheduler(id),
    getJobSchedulers: (...args) => queue.getJobSchedulers(...args),
    removeJobScheduler: async (id) => {
      removedBySlow++
      return queue.removeJobScheduler(id)
    },
    upsertJobScheduler: async (...args) => {
      held++
      await gate
      return queue.upsertJobScheduler(...args)
    },
  }
  expect((await resumeSchedule({ db: h.db, queue: slow, syncWaitMs: 100 }, schedule.id)).status).toBe('active')
  expect(held).toBe(1)
  // The pause commits and syncs in full while the resume's write is still held.
  expect((await pauseSchedule({ db: h.db, queue }, schedule.id)).schedule.status).toBe('paused')
  expect(await queue.getJobScheduler(schedule.id)).toBeUndefined()

  open()
  // The stale upsert lands; the held sync then reads the newer version and passes again: it removes it.
  await eventually(async () => removedBySlow === 1, 5_000)
  expect(await queue.getJobScheduler(schedule.id)).toBeUndefined()
  expect(held).toBe(1)
})
