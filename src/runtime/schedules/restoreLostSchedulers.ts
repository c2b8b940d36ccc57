import type { Queue } from 'bullmq'
import { count, eq, sql } from 'drizzle-orm'
import { controlJobOptions } from '../../queue/jobOptions.js'
import { controlJobs } from '../../queue/names.js'
import type { Db } from '../../store/Database.js'
import { schedules } from '../../store/schema/index.js'
import { resyncSchedule } from './resyncSchedule.js'
import { type SyncAllSchedulesResult, syncAllSchedules } from './syncAllSchedules.js'
import type { SchedulerQueue } from './types.js'

/** How often the worker's own job schedulers fire (unix ms periods). */
export type WorkerSchedulerPeriods = { reconcileMs: number; maintenanceMs: number }

/** The worker's own job schedulers, by id: the periodic reconciliation and session maintenance. */
const WORKER_SCHEDULERS = [controlJobs.reconcile, controlJobs.maintainSessions] as const

/** Schedules whose scheduler is behind their row, written again per sweep at most (the next sweep takes the rest). */
const BEHIND_PER_SWEEP = 100

/**
 * Writes the worker's own job schedulers (idempotent: an unchanged one keeps its next run, overdue
 * after a downtime, so it runs at once). BullMQ runs a new `every` scheduler's first job at once;
 * these are dated a period on instead (`startDate`, read only when the scheduler is new or its
 * period changed): a worker writes them right after its start-up reconciliation, which a second
 * pass at once would repeat for nothing (every wallet's orders and fills read from the operator
 * again), and a run at once races whatever the process does first (a test's own run of either).
 */
export async function upsertWorkerSchedulers(queue: SchedulerQueue, periods: WorkerSchedulerPeriods, nowMs = Date.now()): Promise<void> {
  const upsert = (id: (typeof WORKER_SCHEDULERS)[number], periodMs: number) =>
    queue.upsertJobScheduler(id, { every: periodMs, startDate: nowMs + periodMs }, { name: id, data: { reason: 'scheduled' }, opts: controlJobOptions })
  await upsert(controlJobs.reconcile, periods.reconcileMs)
  await upsert(controlJobs.maintainSessions, periods.maintenanceMs)
}

/**
 * Job schedulers live in Redis only, which loses them when flushed or restarted without
 * persistence: the periodic reconciliation, session maintenance (sessions would no longer be
 * rotated before they expire) and every rebalancing schedule would stop until a worker restarted.
 * This checks cheaply that none is missing (the worker's own by id; as many schedulers as
 * Postgres has active schedules, plus those) and, when the check fails, writes the worker's own
 * again (each first run a period on, as at start-up: the sweep that re-queues the lost jobs has
 * just run, and the event streams do not need Redis) and brings every schedule's in line with
 * Postgres (`syncAllSchedules`). Answers what it
 * restored (the worker's own that were missing, and the sync's counts), or undefined when the
 * check passed. A schedule whose scheduler was not written at its current version (a change whose
 * write Redis refused, or whose process died before it: an edited cron would keep its old timing,
 * a count cannot tell) is written again on its own.
 */
export async function restoreLostSchedulers(db: Db, queue: SchedulerQueue & Pick<Queue, 'getJobSchedulersCount'>, periods: WorkerSchedulerPeriods):
  Promise<({ worker: number } & SyncAllSchedulesResult) | undefined> {
  const [present, inRedis, [active], behind] = await Promise.all([
    Promise.all(WORKER_SCHEDULERS.map((id) => queue.getJobScheduler(id))),
    queue.getJobSchedulersCount(),
    db.select({ n: count() }).from(schedules).where(eq(schedules.status, 'active')),
    db.select({ id: schedules.id }).from(schedules).where(sql`${schedules.schedulerVersion} is distinct from ${schedules.version}`).limit(BEHIND_PER_SWEEP),
  ])
  const workerMissing = present.filter((scheduler) => !scheduler).length
  if (workerMissing === 0 && inRedis === active!.n + WORKER_SCHEDULERS.length) {
    if (behind.length === 0) return undefined
    const result: { worker: number } & SyncAllSchedulesResult = { worker: 0, upserted: 0, unchanged: 0, removed: 0 }
    for (const { id } of behind) result[await resyncSchedule(db, queue, id)]++
    return result
  }
  await upsertWorkerSchedulers(queue, periods)
  return { worker: workerMissing, ...(await syncAllSchedules(db, queue)) }
}
