/**
 * A daily schedule at 01:30 in New York on the day the clocks go back (2026-11-01, 01:00–02:00
 * comes twice). BullMQ fires it once when its scheduler steps from slot to slot; but a job that
 * starts late, in the second 01:00–01:30 (the worker was down, the queue busy), has BullMQ compute
 * the next run from that moment: 01:30 EST, the same wall time again, an hour after the first. That
 * slot must not trade a second time: it is recorded as skipped, saying why.
 */
import { getNextMillis } from 'bullmq'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createSchedule } from '../../src/runtime/schedules/createSchedule.js'
import { claimRun } from '../../src/runtime/schedules/run/claimRun.js'
import { listScheduleRuns } from '../../src/runtime/schedules/listScheduleRuns.js'
import { scheduleRuns } from '../../src/store/schema/index.js'
import { createHarness, type Harness } from '../worker/support/harness.js'
import { controlQueueForFile, specOf } from './support.js'

let h: Harness
const queue = controlQueueForFile()

beforeAll(async () => { h = await createHarness() })
afterAll(async () => { await h?.close() })

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

/**
 * Antarctica/Troll goes back two hours (UTC+2 to UTC+0 at 01:00 UTC on the last Sunday of October:
 * 03:00 becomes 01:00, so 01:00–03:00 comes twice). cron-parser, stepping from slot to slot as
 * BullMQ's scheduler does, suppresses only the first repeated hour: a daily 02:30 fires at 02:30
 * UTC+2 and again at 02:30 UTC+0, two hours later. A cron that names its hours runs each of their
 * wall times once, as in a one-hour zone (New York's 01:30 above); one that fires every hour still
 * runs on elapsed time.
 */
const troll = 'Antarctica/Troll'

/** The slots BullMQ's scheduler fires between two moments, each computed from the one before. */
function schedulerSlots(pattern: string, tz: string, from: number, to: number): number[] {
  const slots: number[] = []
  for (let slot = getNextMillis(from, { pattern, tz })!; slot <= to; slot = getNextMillis(slot, { pattern, tz })!) slots.push(slot)
  return slots
}

/** Claims each slot on time and completes what started; the run log afterwards, oldest first. */
async function claimEach(scheduleId: string, slots: number[]): Promise<[string, string, string][]> {
  for (const slot of slots) {
    const claimed = await claimRun(h.db, { scheduleId, jobSlot: slot, jobId: `repeat:${scheduleId}:${slot}`, now: slot, staleRunMs: 120_000 })
    if (claimed.kind === 'start') await h.db.update(scheduleRuns).set({ status: 'completed', stage: null, finishedAt: new Date(slot) }).where(eq(scheduleRuns.id, claimed.run.id))
  }
  const runs = await listScheduleRuns(h.db, { scheduleId })
  return runs.reverse().map((run) => [run.slotAt.toISOString(), run.status, run.reason])
}

/** A schedule created at `createdAt`, its runs claimed by hand. */
async function trollSchedule(cron: string, createdAt: number) {
  const { wallet } = await h.wallet()
  const schedule = await createSchedule({ db: h.db, queue, now: () => createdAt }, { walletId: wallet.id, ...specOf({ ETH: '0.5', USD: '0.5' }, { cron, timeZone: troll }) })
  await queue.removeJobScheduler(schedule.id)
  return schedule
}

it('a daily 02:30 in Antarctica/Troll runs once on the day its clock goes back two hours', async () => {
  const from = at('2026-10-24T12:00:00Z')
  const schedule = await trollSchedule('30 2 * * *', from)
  const slots = schedulerSlots('30 2 * * *', troll, from, at('2026-10-26T12:00:00Z'))
  // The scheduler fires 02:30 twice that day: UTC+2 (00:30Z) and UTC+0 (02:30Z).
  expect(slots.map((slot) => new Date(slot).toISOString())).toEqual(['2026-10-25T00:30:00.000Z', '2026-10-25T02:30:00.000Z', '2026-10-26T02:30:00.000Z'])
  expect(await claimEach(schedule.id, slots)).toEqual([
    ['2026-10-25T00:30:00.000Z', 'completed', 'due'],
    ['2026-10-25T02:30:00.000Z', 'skipped', 'repeatedWallTime'],
    ['2026-10-26T02:30:00.000Z', 'completed', 'due'],
  ])
})

it('a cron at 01:00 and 02:00 in Antarctica/Troll runs each once on the fall-back day, not again in the repeated hours', async () => {
  const from = at('2026-10-24T22:00:00Z')
  const schedule = await trollSchedule('0 1,2 * * *', from)
  const slots = schedulerSlots('0 1,2 * * *', troll, from, at('2026-10-26T01:30:00Z'))
  expect(await claimEach(schedule.id, slots)).toEqual([
    ['2026-10-24T23:00:00.000Z', 'completed', 'due'],
    ['2026-10-25T00:00:00.000Z', 'completed', 'due'],
    ['2026-10-25T01:00:00.000Z', 'skipped', 'repeatedWallTime'],
    // Compared with the last slot that ran (02:00 UTC+2), not with the skipped one before it.
    ['2026-10-25T02:00:00.000Z', 'skipped', 'repeatedWallTime'],
    ['2026-10-26T01:00:00.000Z', 'completed', 'due'],
  ])
})

it('an hourly schedule in Antarctica/Troll runs every hour through the fall-back, the repeated hours included', async () => {
  const from = at('2026-10-24T21:30:00Z')
  const schedule = await trollSchedule('0 * * * *', from)
  const slots = schedulerSlots('0 * * * *', troll, from, at('2026-10-25T03:30:00Z'))
  expect((await claimEach(schedule.id, slots)).map(([slot, status]) => [slot, status])).toEqual(
    ['22', '23'].map((hh) => [`2026-10-24T${hh}:00:00.000Z`, 'completed']).concat(['00', '01', '02', '03'].map((hh) => [`2026-10-25T${hh}:00:00.000Z`, 'completed'])),
  )
})
