/**
 * A slot whose job starts long after its time (the worker or Redis was down for hours, and BullMQ
 * fires the missed job when it is back) must not trade on a plan made for another moment: past
 * SCHEDULE_MAX_LATENESS_MS it is recorded `skipped`, reason `late`, in the run log the API lists and
 * in the audit trail, and the schedule goes on from its next slot. 0 lets a late run trade.
 */
import { and, eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type RunControl, runSchedule } from '../../jobs/runSchedule.js'
import { controlJobs } from '../../src/queue/names.js'
import type { Alert } from '../../src/runtime/createAlertSink.js'
import { createSchedule } from '../../src/runtime/schedules/createSchedule.js'
import { claimRun } from '../../src/runtime/schedules/run/claimRun.js'
import { listScheduleRuns } from '../../src/runtime/schedules/listScheduleRuns.js'
import { auditLog } from '../../src/store/schema/index.js'
import { createHarness, eventually, type Harness } from '../worker/support/harness.js'
import { controlQueueForFile, specOf, waitForRun, YEARLY } from './support.js'
import { transactionStartOf } from '../support/transactionStartOf.js'

let h: Harness
const queue = controlQueueForFile()

beforeAll(async () => { h = await createHarness() })
afterAll(async () => { await h?.close() })

const HOUR = 3600_000

/** A schedule active since a day before `slot` (its cron never fires meanwhile): its runs come from the jobs a test adds. */
async function scheduleBefore(slot: number) {
  const { wallet } = await h.wallet()
  const schedule = await createSchedule({ db: h.db, queue, now: () => slot - 24 * HOUR }, { walletId: wallet.id, ...specOf({ ETH: '0.5', USD: '0.5' }, { cron: YEARLY }) })
  await queue.removeJobScheduler(schedule.id)
  return schedule
}

it('a slot whose job starts three hours late is skipped, recorded late in the run log and the audit trail, and trades nothing', async () => {
  const worker = await h.startWorker()
  const slot = Date.now() - 3 * HOUR
  const schedule = await scheduleBefore(slot)
  await worker.controlQueue.add(controlJobs.scheduleRun as never, { scheduleId: schedule.id } as never, { prevMillis: slot })

  const run = await waitForRun(worker, schedule.id, (r) => r.status !== 'running')
  // Before: the run was claimed and traded from the balances as they are now, three hours late.
  expect(run).toMatchObject({ slotAt: new Date(slot), status: 'skipped', reason: 'late', legs: [] })
  expect(run.detail).toMatch(/started 3h0m\d+s after its slot, later than SCHEDULE_MAX_LATENESS_MS/)
  const runs = await listScheduleRuns(h.db, { scheduleId: schedule.id })
  expect(runs.map((r) => [r.status, r.reason])).toEqual([['skipped', 'late']])
  const [entry] = await h.db.select().from(auditLog).where(and(eq(auditLog.walletId, schedule.walletId), eq(auditLog.action, 'schedule.run.skipped')))
  expect(entry?.details).toMatchObject({ scheduleId: schedule.id, runId: run.id, slot: new Date(slot).toISOString(), reason: 'late' })
  // A person is told (before: only the run log and the audit trail, nobody alerted): the alert sink
  // writes it to the wallet's audit trail (`alert.<code>`), logs it and posts it to the webhook.
  const alerts = await eventually(async () => {
    const found = await h.db.select().from(auditLog).where(and(eq(auditLog.walletId, schedule.walletId), eq(auditLog.action, 'alert.SCHEDULE_RUN_SKIPPED')))
    return found.length > 0 && found
  })
  expect(alerts.map((a) => a.details)).toEqual([expect.objectContaining({
    scheduleId: schedule.id, runId: run.id, slot: new Date(slot).toISOString(), reason: 'late', latenessMs: expect.any(Number), maxLatenessMs: 10 * 60_000,
    message: expect.stringMatching(new RegExp(`^schedule ${schedule.id}: the run of slot ${new Date(slot).toISOString()} was skipped: started 3h0m\\d+s after its slot`)),
  })])
  expect((alerts[0]!.details as { latenessMs: number }).latenessMs).toBeGreaterThanOrEqual(3 * HOUR)
  // Claimed in the transaction that recorded the skip: a worker dying right after the commit leaves
  // it to the sweep of undelivered alerts.
  expect(await transactionStartOf(h.db, alerts[0]!.id)).toBe(await transactionStartOf(h.db, entry!.id))
  await worker.close()
})

it('a late slot alerts SCHEDULE_RUN_SKIPPED once: the job delivered again, or another job for the slot, alerts nothing more', async () => {
  const raised: Alert[] = []
  const worker = await h.startWorker({ alert: (alert) => { raised.push(alert) } })
  const deps = worker.deps
  const control: RunControl = { delay: async () => { throw new Error('the late run does not wait') } }
  const slot = Date.now() - 3 * HOUR
  const schedule = await scheduleBefore(slot)
  const run = (jobId: string) => runSchedule(deps, { scheduleId: schedule.id, jobSlot: slot, jobId, queue, control })
  expect(await run('a')).toMatchObject({ outcome: 'late' })
  expect(raised).toEqual([{
    walletId: schedule.walletId, code: 'SCHEDULE_RUN_SKIPPED', message: expect.stringContaining(`the run of slot ${new Date(slot).toISOString()} was skipped`),
    details: { scheduleId: schedule.id, runId: expect.any(String), slot: new Date(slot).toISOString(), reason: 'late', latenessMs: expect.any(Number), maxLatenessMs: 10 * 60_000 },
  }])
  expect(await run('a')).toMatchObject({ outcome: 'alreadyRan' })
  expect(await run('b')).toMatchObject({ outcome: 'alreadyRan' })
  expect(raised).toHaveLength(1)
  await worker.close()
})

it('a run left before it placed anything and taken over past the limit alerts SCHEDULE_RUN_SKIPPED, once', async () => {
  const raised: Alert[] = []
  const worker = await h.startWorker({ alert: (alert) => { raised.push(alert) } })
  const deps = worker.deps
  const control: RunControl = { delay: async () => { throw new Error('the late run does not wait') } }
  const slot = Date.now() - 3 * HOUR
  const schedule = await scheduleBefore(slot)
  const jobId = `${schedule.id}:${slot}`
  expect(await claimRun(h.db, { scheduleId: schedule.id, jobSlot: slot, jobId, now: slot + 1_000, staleRunMs: 120_000, maxLatenessMs: 10 * 60_000 })).toMatchObject({ kind: 'start' })
  await h.db.execute(sql`update schedule_runs set updated_at = now() - interval '3 hours' where schedule_id = ${schedule.id}`)
  const run = () => runSchedule(deps, { scheduleId: schedule.id, jobSlot: slot, jobId, queue, control })
  expect(await run()).toMatchObject({ outcome: 'late' })
  expect(raised).toEqual([expect.objectContaining({
    walletId: schedule.walletId, code: 'SCHEDULE_RUN_SKIPPED', message: expect.stringMatching(/was skipped: taken over 3h0m\d+s after its slot/),
    details: expect.objectContaining({ scheduleId: schedule.id, slot: new Date(slot).toISOString(), reason: 'late' }),
  })])
  expect(await run()).toMatchObject({ outcome: 'alreadyRan' })
  expect(raised).toHaveLength(1)
  await worker.close()
})

it('a slot within the limit runs, and with the limit at 0 a late one runs too', async () => {
  const slot = Date.now() - 3 * HOUR
  const onTime = await scheduleBefore(slot)
  expect(await claimRun(h.db, { scheduleId: onTime.id, jobSlot: slot, jobId: `${onTime.id}:${slot}`, now: slot + 5 * 60_000, staleRunMs: 120_000, maxLatenessMs: 10 * 60_000 }))
    .toMatchObject({ kind: 'start', run: { slotAt: new Date(slot), status: 'running' } })
  const unlimited = await scheduleBefore(slot)
  expect(await claimRun(h.db, { scheduleId: unlimited.id, jobSlot: slot, jobId: `${unlimited.id}:${slot}`, now: slot + 3 * HOUR, staleRunMs: 120_000, maxLatenessMs: 0 }))
    .toMatchObject({ kind: 'start', run: { slotAt: new Date(slot), status: 'running' } })
})

it('missed slots coalesced into a late one are named in its skipped run', async () => {
  const slot = Date.parse('2026-06-01T12:00:00Z')
  const { wallet } = await h.wallet()
  const schedule = await createSchedule({ db: h.db, queue, now: () => slot - 3.5 * HOUR }, { walletId: wallet.id, ...specOf({ ETH: '0.5', USD: '0.5' }, { cron: '0 * * * *' }) })
  await queue.removeJobScheduler(schedule.id)
  // The worker is back at 14:30: the 09:00 to 14:00 slots are due, the latest half an hour late.
  const claimed = await claimRun(h.db, { scheduleId: schedule.id, jobSlot: slot - 3 * HOUR, jobId: `${schedule.id}:late`, now: slot + 2.5 * HOUR, staleRunMs: 120_000, maxLatenessMs: 10 * 60_000 })
  expect(claimed).toMatchObject({ kind: 'none', outcome: 'late' })
  const [run] = await listScheduleRuns(h.db, { scheduleId: schedule.id })
  expect(run).toMatchObject({ slotAt: new Date(slot + 2 * HOUR), status: 'skipped', reason: 'late', coalesced: 5 })
})

it('a run left before it placed anything, taken over by its own job only after the limit, is skipped late, not traded then', async () => {
  const slot = Date.now() - 3 * HOUR
  const schedule = await scheduleBefore(slot)
  const jobId = `${schedule.id}:${slot}`
  const claim = (now: number) => claimRun(h.db, { scheduleId: schedule.id, jobSlot: slot, jobId, now, staleRunMs: 120_000, maxLatenessMs: 10 * 60_000 })
  // Claimed on time; its worker then went down before the run placed a leg, and came back three hours later.
  expect(await claim(slot + 1_000)).toMatchObject({ kind: 'start', run: { status: 'running', stage: 'settling' } })
  await h.db.execute(sql`update schedule_runs set updated_at = now() - interval '3 hours' where schedule_id = ${schedule.id}`)
  // No later slot is due (the cron is yearly): before, the run was resumed and traded three hours after its slot.
  expect(await claim(Date.now())).toMatchObject({ kind: 'none', outcome: 'late' })
  const runs = await listScheduleRuns(h.db, { scheduleId: schedule.id })
  expect(runs.map((r) => [r.status, r.reason, r.legs])).toEqual([['skipped', 'late', []]])
  expect(runs[0]!.detail).toMatch(/taken over 3h0m\d+s after its slot, later than SCHEDULE_MAX_LATENESS_MS/)
  const [entry] = await h.db.select().from(auditLog).where(and(eq(auditLog.walletId, schedule.walletId), eq(auditLog.action, 'schedule.run.skipped')))
  expect(entry?.details).toMatchObject({ scheduleId: schedule.id, runId: runs[0]!.id, reason: 'late' })
})
