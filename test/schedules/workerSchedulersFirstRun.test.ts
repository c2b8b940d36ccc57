/**
 * The worker's own job schedulers, as written at start-up (and again by the repair sweep once Redis
 * lost them). BullMQ runs a new `every` scheduler's first job at once: for the reconciliation that
 * was a second full pass right behind the start-up one (every wallet's orders and fills read from
 * the operator again), and both raced the process's first work, a test's own run among it (an
 * orphan adopted by the scheduled pass before the test's ORPHAN_POLICY=cancel pass could queue its
 * cancel; a scheduled maintenance run taking the rotations a test's run was to make). Each first run
 * is now a period on; an unchanged scheduler keeps its next run.
 */
import { expect, it } from 'vitest'
import { controlJobs } from '../../src/queue/names.js'
import { upsertWorkerSchedulers } from '../../src/runtime/schedules/restoreLostSchedulers.js'
import { controlQueueForFile } from './support.js'

const queue = controlQueueForFile()
const periods = { reconcileMs: 60_000, maintenanceMs: 10_000 }

/** When each of the worker's schedulers runs next (unix ms), and the jobs waiting to run now. */
async function nextRuns() {
  const [reconcile, maintenance] = await Promise.all([controlJobs.reconcile, controlJobs.maintainSessions].map((id) => queue.getJobScheduler(id)))
  const waiting = (await queue.getJobs(['waiting', 'prioritized'])).map((job) => job.name)
  return { reconcile: reconcile?.next, maintenance: maintenance?.next, waiting }
}

it('writes each first run a period after now, nothing to run at once; written again, neither moves; a new period starts a period on', async () => {
  const nowMs = Date.now()
  await upsertWorkerSchedulers(queue, periods, nowMs)
  const first = await nextRuns()
  expect(first).toEqual({ reconcile: nowMs + periods.reconcileMs, maintenance: nowMs + periods.maintenanceMs, waiting: [] })

  // Another worker's start, 5 s on: neither next run moves (not 5 s later).
  await upsertWorkerSchedulers(queue, periods, nowMs + 5_000)
  expect(await nextRuns()).toEqual(first)

  // A new period (RECONCILE_INTERVAL_MS changed): the first run of the new one is a new period on.
  await upsertWorkerSchedulers(queue, { ...periods, reconcileMs: 120_000 }, nowMs + 5_000)
  expect(await nextRuns()).toEqual({ ...first, reconcile: nowMs + 5_000 + 120_000 })
})
