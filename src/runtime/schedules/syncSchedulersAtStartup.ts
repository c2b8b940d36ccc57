import type { Logger } from 'pino'
import type { Db } from '../../store/Database.js'
import { retryUntilDone } from '../retryUntilDone.js'
import { type WorkerSchedulerPeriods, upsertWorkerSchedulers } from './restoreLostSchedulers.js'
import { syncAllSchedules } from './syncAllSchedules.js'
import type { SchedulerQueue } from './types.js'

/**
 * A worker's last start-up step: writes its own job schedulers (reconciliation, session
 * maintenance) and brings every schedule's in line with Postgres. Redis may have lost schedulers,
 * or kept ones for schedules paused while no worker ran. Upserts and removals: a failed step (a
 * dropped connection) is run again whole, like the reconciliation, until `signal` aborts.
 */
export async function syncSchedulersAtStartup(db: Db, queue: SchedulerQueue, periods: WorkerSchedulerPeriods, log: Logger, signal?: AbortSignal): Promise<void> {
  // Its own schedulers too: a Redis error on their upsert (a failover's timeout) is retried as the
  // sync is; thrown, it left a worker half-started, neither running its schedulers nor exiting.
  const schedulers = await retryUntilDone(async () => {
    await upsertWorkerSchedulers(queue, periods)
    return syncAllSchedules(db, queue)
  }, {
    signal,
    onFailure: (error, retryInMs) => log.warn({ err: error, retryInMs }, 'start-up schedule sync failed; retrying'),
  })
  log.info({ schedules: schedulers }, 'schedule job schedulers synced')
}
