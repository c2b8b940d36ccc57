/**
 * A daily schedule at 01:30 in New York on the day the clocks go back (2026-11-01, 01:00–02:00
 * comes twice). BullMQ fires it once when its scheduler steps from slot to slot; but a job that
 * starts late, in the second 01:00–01:30 (the worker was down, the queue busy), has BullMQ compute
 * the next run from that moment: 01:30 EST, the same wall time again, an hour after the first. That
 * slot must not trade a second time: it is recorded as skipped, saying why.
 */
import { randomUUID } from 'node:crypto'
import { Queue, getNextMillis } from 'bullmq'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { deleteQueueKeys } from '../../src/queue/deleteQueueKeys.js'
import { createSchedule } from '../../src/runtime/schedules/createSchedule.js'
import { claimRun } from '../../src/runtime/schedules/run/claimRun.js'
import { listScheduleRuns } from '../../src/runtime/schedules/listScheduleRuns.js'
import { scheduleRuns } from '../../src/store/schema/index.js'
import { REDIS_URL, createHarness, type Harness } from '../worker/support/harness.js'
import { specOf } from './support.js'

let h: Harness
const prefix = `deputy-test-${randomUUID().slice(0, 8)}`
const queue = new Queue('control', { connection: { url: REDIS_URL }, prefix })

beforeAll(async () => { h = await createHarness() })
afterAll(async () => {
  await queue.close()
  await deleteQueueKeys(REDIS_URL, prefix)
  await h?.close()
})

const at = (iso: string) => Date.parse(iso)
const cron = '30 1 * * *'
const timeZone = 'America/New_York'

it('a daily slot BullMQ fires again in the repeated hour of a fall-back day does not run twice', async () => {
  const { wallet } = await h.wallet()
  const schedule = await createSchedule({ db: h.db, queue, now: () => at('2026-10-31T12:00:00Z') }, { walletId: wallet.id, ...specOf({ ETH: '0.5', USD: '0.5' }, { cron, timeZone }) })
  await queue.removeJobScheduler(schedule.id)

  // 01:30 EDT (05:30Z): its job starts 40 minutes late, at 01:10 EST (06:10Z), and runs.
  const first = at('2026-11-01T05:30:00Z')
  const late = at('2026-11-01T06:10:00Z')
  const claimed = await claimRun(h.db, { scheduleId: schedule.id, jobSlot: first, jobId: `repeat:${schedule.id}:${first}`, now: late, staleRunMs: 120_000 })
  expect(claimed).toMatchObject({ kind: 'start', run: { slotAt: new Date(first) } })
  await h.db.update(scheduleRuns).set({ status: 'completed', stage: null, finishedAt: new Date(late) }).where(eq(scheduleRuns.id, claimed.kind === 'start' ? claimed.run.id : ''))

  // The next run BullMQ schedules when that job starts: computed from the moment it started.
  const second = getNextMillis(late, { pattern: cron, tz: timeZone })!
  expect(new Date(second).toISOString()).toBe('2026-11-01T06:30:00.000Z')
  const again = await claimRun(h.db, { scheduleId: schedule.id, jobSlot: second, jobId: `repeat:${schedule.id}:${second}`, now: second, staleRunMs: 120_000 })
  // Before: it started a second run of the day's 01:30, an hour after the first.
  expect(again).toMatchObject({ kind: 'none', outcome: 'repeatedWallTime' })
  const runs = await listScheduleRuns(h.db, { scheduleId: schedule.id })
  expect(runs.map((run) => [run.slotAt.toISOString(), run.status, run.reason])).toEqual([
    ['2026-11-01T06:30:00.000Z', 'skipped', 'repeatedWallTime'],
    ['2026-11-01T05:30:00.000Z', 'completed', 'due'],
  ])
  expect(runs[0]!.detail).toContain('clock went back')

  // The next day's 01:30 runs as usual.
  const nextDay = getNextMillis(second, { pattern: cron, tz: timeZone })!
  expect(await claimRun(h.db, { scheduleId: schedule.id, jobSlot: nextDay, jobId: `repeat:${schedule.id}:${nextDay}`, now: nextDay, staleRunMs: 120_000 }))
    .toMatchObject({ kind: 'start', run: { slotAt: new Date('2026-11-02T06:30:00.000Z') } })
})

it('an hourly schedule runs both 01:00s of a fall-back day: an hour apart, each its own slot', async () => {
  const { wallet } = await h.wallet()
  const schedule = await createSchedule({ db: h.db, queue, now: () => at('2026-10-30T12:00:00Z') }, { walletId: wallet.id, ...specOf({ ETH: '0.5', USD: '0.5' }, { cron: '0 * * * *', timeZone }) })
  await queue.removeJobScheduler(schedule.id)
  for (const slot of [at('2026-11-01T05:00:00Z'), at('2026-11-01T06:00:00Z')]) {
    const claimed = await claimRun(h.db, { scheduleId: schedule.id, jobSlot: slot, jobId: `repeat:${schedule.id}:${slot}`, now: slot, staleRunMs: 120_000 })
    expect(claimed).toMatchObject({ kind: 'start', run: { slotAt: new Date(slot) } })
    await h.db.update(scheduleRuns).set({ status: 'completed', stage: null, finishedAt: new Date(slot) }).where(eq(scheduleRuns.id, claimed.kind === 'start' ? claimed.run.id : ''))
  }
})
