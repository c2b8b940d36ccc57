/**
 * A schedule whose cron or time zone is edited: its next run counts missed slots of the new timing
 * from the edit on, not from its last run under the old one (slots that never existed for it).
 */
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createSchedule } from '../../src/runtime/schedules/createSchedule.js'
import { claimRun } from '../../src/runtime/schedules/run/claimRun.js'
import { updateSchedule } from '../../src/runtime/schedules/updateSchedule.js'
import { scheduleRuns } from '../../src/store/schema/index.js'
import { createHarness, type Harness } from '../worker/support/harness.js'
import { controlQueueForFile, specOf } from './support.js'

let h: Harness
const queue = controlQueueForFile()

beforeAll(async () => { h = await createHarness() })
afterAll(async () => { await h?.close() })

const at = (iso: string) => Date.parse(iso)

/** A daily 09:00 (UTC) schedule that ran its 2026-03-02 slot. */
async function ranAtNine() {
  const { wallet } = await h.wallet()
  const schedule = await createSchedule({ db: h.db, queue, now: () => at('2026-03-01T12:00:00Z') }, { walletId: wallet.id, ...specOf({ ETH: '0.5', USD: '0.5' }, { cron: '0 9 * * *' }) })
  await queue.removeJobScheduler(schedule.id)
  const slot = at('2026-03-02T09:00:00Z')
  const claimed = await claimRun(h.db, { scheduleId: schedule.id, jobSlot: slot, jobId: `repeat:${schedule.id}:${slot}`, now: slot, staleRunMs: 120_000 })
  expect(claimed).toMatchObject({ kind: 'start', run: { slotAt: new Date(slot) } })
  await h.db.update(scheduleRuns).set({ status: 'completed', stage: null, finishedAt: new Date(slot) }).where(eq(scheduleRuns.id, claimed.kind === 'start' ? claimed.run.id : ''))
  return schedule
}

it('after its cron is edited, the next run does not report slots of the new cron from before the edit as missed', async () => {
  const schedule = await ranAtNine()
  // At 12:30 the user makes it hourly: 10:00, 11:00 and 12:00 were never slots of this schedule.
  const edited = await updateSchedule({ db: h.db, queue, now: () => at('2026-03-02T12:30:00Z') }, schedule.id, { cron: '0 * * * *' })
  await queue.removeJobScheduler(schedule.id)
  const slot = at('2026-03-02T13:00:00Z')
  const claimed = await claimRun(h.db, { scheduleId: schedule.id, jobSlot: slot, jobId: `repeat:${schedule.id}:${slot}`, now: slot, staleRunMs: 120_000 })
  // Before: reason 'coalesced', three "missed" slots (10:00, 11:00, 12:00).
  expect(claimed).toMatchObject({ kind: 'start', run: { slotAt: new Date(slot), reason: 'due', coalesced: 0, coalescedSlots: [] } })
  // The schedule says so: its timing is in effect since the edit.
  expect(edited.activeSince).toEqual(new Date('2026-03-02T12:30:00Z'))
})

it('after its time zone is edited, likewise; an edit of another field does not move where missed slots are counted from', async () => {
  const schedule = await ranAtNine()
  // Another field: slots missed under the same timing (2026-03-03 09:00) are still missed.
  const tolerance = await updateSchedule({ db: h.db, queue, now: () => at('2026-03-03T10:00:00Z') }, schedule.id, { toleranceBand: '0.05' })
  expect(tolerance.activeSince).toEqual(schedule.activeSince)
  // 09:00 in Tokyo is 00:00 UTC: the one of 2026-03-03 came after the last run, but before the edit.
  await updateSchedule({ db: h.db, queue, now: () => at('2026-03-03T12:00:00Z') }, schedule.id, { timeZone: 'Asia/Tokyo' })
  await queue.removeJobScheduler(schedule.id)
  // The old timing's 2026-03-03 09:00 UTC, whose job starts only after the edit, does not run.
  const old = at('2026-03-03T09:00:00Z')
  expect(await claimRun(h.db, { scheduleId: schedule.id, jobSlot: old, jobId: `repeat:${schedule.id}:${old}`, now: at('2026-03-03T12:05:00Z'), staleRunMs: 120_000 }))
    .toMatchObject({ kind: 'none', outcome: 'nothingDue' })
  const slot = at('2026-03-04T00:00:00Z')
  const claimed = await claimRun(h.db, { scheduleId: schedule.id, jobSlot: slot, jobId: `repeat:${schedule.id}:${slot}`, now: slot, staleRunMs: 120_000 })
  expect(claimed).toMatchObject({ kind: 'start', run: { slotAt: new Date(slot), reason: 'due', coalesced: 0, coalescedSlots: [] } })
})
