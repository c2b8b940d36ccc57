import type { Queue } from 'bullmq'
import type { Logger } from 'pino'
import { type SweepCursor, sweepOutbox } from '../../jobs/relayOutbox.js'
import type { SubmitJobData } from '../queue/payloads.js'
import type { OutboxRow } from '../store/schema/index.js'
import type { Db } from '../store/Database.js'
import type { WorkerDeps } from './deps.js'
import { finishStoppedSchedules } from './schedules/finishStoppedSchedules.js'
import { type WorkerSchedulerPeriods, restoreLostSchedulers } from './schedules/restoreLostSchedulers.js'
import { everyInterval } from './everyInterval.js'
import type { SessionSigners } from './sessionSigners.js'
import { throttledErrorLog } from './throttledErrorLog.js'

export type RepairSweepsOptions = {
  db: Db
  submitQueue: Queue<SubmitJobData>
  controlQueue: Queue
  schedulerPeriods: WorkerSchedulerPeriods
  log: Logger
  intervalMs: number
  /** The process's unsealed session keys, pruned of sessions no longer active. */
  sessions: Pick<SessionSigners, 'prune'>
  alert: WorkerDeps['alert']
}

/**
 * Every `intervalMs`, repairs what Redis lost (flushed, restarted without persistence), one run at
 * a time: outbox rows whose job vanished (or failed for good) are enqueued again (`sweepOutbox`),
 * and job schedulers that vanished are written again from Postgres (`restoreLostSchedulers`);
 * the cancels of a pause or delete whose process died before queueing them are queued
 * (`finishStoppedSchedules`); and the unsealed keys of sessions that another process ended are dropped from memory.
 * Each says what it repaired; a failing run (Postgres or Redis down) logs once per failure.
 * `close()` stops the timer and waits for a run in progress, so no run meets closed queues.
 */
export function startRepairSweeps(options: RepairSweepsOptions): { close(): Promise<void> } {
  const { db, submitQueue, controlQueue, schedulerPeriods, log } = options
  const sweepFailed = throttledErrorLog(log, 'outbox sweep failed')
  const checkFailed = throttledErrorLog(log, 'job scheduler check failed')
  const pruneFailed = throttledErrorLog(log, 'session key prune failed')
  const stopsFailed = throttledErrorLog(log, "queueing stopped schedules' cancels failed")
  // Each run goes on where the last one stopped (`sweepOutbox`).
  const cursor: SweepCursor = { afterSeq: 0 }
  // Work whose job used up its attempts (about three minutes of failures) needs a person to look.
  const onUsedUp = (row: OutboxRow, lastFailure: string | undefined) => {
    const last = lastFailure ?? row.lastError
    options.alert({
      walletId: row.walletId, code: 'WORK_STALLED',
      message: `${row.kind} has not gone out after every retry${last ? ` (last: ${last})` : ''}; it keeps being retried`,
      details: { outboxId: row.id, kind: row.kind, ...(row.orderId ? { orderId: row.orderId } : {}) },
    })
  }
  const sweep = async () => {
    const requeued = await sweepOutbox(db, submitQueue, { cursor, onUsedUp }).catch(sweepFailed)
    if (requeued) log.warn({ requeued }, 'outbox sweep re-enqueued jobs missing from Redis or failed for good')
    const restored = await restoreLostSchedulers(db, controlQueue, schedulerPeriods).catch(checkFailed)
    if (restored && (restored.worker || restored.upserted || restored.removed)) {
      log.warn({ restored }, 'job schedulers were missing from Redis (flushed or restarted?); restored from Postgres')
    }
    const stopped = await finishStoppedSchedules(db, stopsFailed).catch(stopsFailed)
    const finished = stopped?.filter(({ cancelled }) => cancelled.length)
    if (finished?.length) log.warn({ finished }, 'queued the cancels of paused or deleted schedules whose change did not queue them (its process died, or lost Postgres)')
    const forgotten = await options.sessions.prune().catch(pruneFailed)
    if (forgotten) log.info({ forgotten }, 'dropped the unsealed keys of sessions no longer active')
  }
  return everyInterval(sweep, options.intervalMs)
}
