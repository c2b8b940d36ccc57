/**
 * Redis does not answer (down, failing over) while a user creates or pauses a schedule: the
 * change is committed in Postgres, which runs read before they trade, so it answers after a short
 * wait instead of hanging until Redis is back; the job scheduler is written later (by the pending
 * command once Redis answers, or by the worker's repair sweep).
 */
import { Queue } from 'bullmq'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createSchedule } from '../../src/runtime/schedules/createSchedule.js'
import { pauseSchedule } from '../../src/runtime/schedules/pauseSchedule.js'
import type { ScheduleContext } from '../../src/runtime/schedules/types.js'
import { schedules } from '../../src/store/schema/index.js'
import { capturedLog } from '../support/capturedLog.js'
import { createHarness, type Harness } from '../worker/support/harness.js'
import { YEARLY, specOf } from './support.js'

let h: Harness
// Port 9 (discard) refuses connections here: a Redis that does not come back during the test.
const queue = new Queue('control', { connection: { host: '127.0.0.1', port: 9, maxRetriesPerRequest: null }, prefix: 'deputy-test-redis-down' })
queue.on('error', () => undefined)
const { log, entries } = capturedLog()

beforeAll(async () => { h = await createHarness() })
afterAll(async () => {
  await queue.close().catch(() => undefined)
  await h?.close()
})

it('creating and pausing a schedule answer within the wait, with the change committed, and say the scheduler is pending', async () => {
  const ctx: ScheduleContext = { db: h.db, queue, syncWaitMs: 300, log }
  const { wallet } = await h.wallet()
  const started = Date.now()
  const created = await createSchedule(ctx, { walletId: wallet.id, ...specOf({ ETH: '0.5', USD: '0.5' }, { cron: YEARLY }) })
  const { schedule: paused } = await pauseSchedule(ctx, created.id)
  expect(Date.now() - started).toBeLessThan(5_000)
  expect(paused.status).toBe('paused')
  const [stored] = await h.db.select().from(schedules).where(eq(schedules.id, created.id))
  expect(stored).toMatchObject({ status: 'paused', version: created.version + 1 })
  expect(entries()).toEqual([
    expect.objectContaining({ msg: 'schedule saved; Redis did not take its job scheduler in time, the worker will write it', scheduleId: created.id }),
    expect.objectContaining({ msg: 'schedule saved; Redis did not take its job scheduler in time, the worker will write it', scheduleId: created.id }),
  ])
}, 30_000)
