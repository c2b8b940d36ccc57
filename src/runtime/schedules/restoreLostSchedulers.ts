import type { Queue } from 'bullmq'
import { count, eq } from 'drizzle-orm'
import { controlJobOptions } from '../../queue/jobOptions.js'
import { controlJobs } from '../../queue/names.js'
import type { Db } from '../../store/Database.js'
import { schedules } from '../../store/schema/index.js'
import { type SyncAllSchedulesResult, syncAllSchedules } from './syncAllSchedules.js'
import type { SchedulerQueue } from './types.js'

/** How often the worker's own job schedulers fire (unix ms periods). */
export type WorkerSchedulerPeriods = { reconcileMs: number; maintenanceMs: number }

/** The worker's own job schedulers, by id: the periodic reconciliation and session maintenance. */
const WORKER_SCHEDULERS = [controlJobs.reconcile, controlJobs.maintainSessions] as const

/** Writes the worker's own job schedulers (idempotent: an unchanged one keeps its next run). */
export async function upsertWorkerSchedulers(queue: SchedulerQueue, periods: WorkerSchedulerPeriods): Promise<void> {
  await queue.upsertJobScheduler(controlJobs.reconcile, { every: periods.reconcileMs }, { name: controlJobs.reconcile, data: { reason: 'scheduled' }, opts: controlJobOptions })
  await queue.upsertJobScheduler(controlJobs.maintainSessions, { every: periods.maintenanceMs }, { name: controlJobs.maintainSessions, data: { reason: 'scheduled' }, opts: controlJobOptions })
}

/**
 * Job schedulers live in Redis only, which loses them when flushed or restarted without
 * persistence: the periodic reconciliation, session maintenance (sessions would no longer be
 * rotated before they expire) and every rebalancing schedule would stop until a worker restarted.
 * This checks cheaply that none is missing (the worker's own by id; as many schedulers as
 * Postgres has active schedules, plus those) and, when the check fails, writes the worker's own
 * again and brings every schedule's in line with Postgres (`syncAllSchedules`). Answers what it
 * restored (the worker's own that were missing, and the sync's counts), or undefined when the
 * check passed.
 */
export async function restoreLostSchedulers(db: Db, queue: SchedulerQueue & Pick<Queue, 'getJobSchedulersCount'>, periods: WorkerSchedulerPeriods):
  Promise<({ worker: number } & SyncAllSchedulesResult) | undefined> {
  const [present, inRedis, [active]] = await Promise.all([
    Promise.all(WORKER_SCHEDULERS.map((id) => queue.getJobScheduler(id))),
    queue.getJobSchedulersCount(),
    db.select({ n: count() }).from(schedules).where(eq(schedules.status, 'active')),
  ])
  const workerMissing = present.filter((scheduler) => !scheduler).length
  if (workerMissing === 0 && inRedis === active!.n + WORKER_SCHEDULERS.length) return undefined
  await upsertWorkerSchedulers(queue, periods)
  return { worker: workerMissing, ...(await syncAllSchedules(db, queue)) }
}
