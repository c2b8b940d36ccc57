import type { Logger } from 'pino'
import type { Db } from '../../store/Database.js'
import { retryUntilDone } from '../retryUntilDone.js'
import { type WorkerSchedulerPeriods, upsertWorkerSchedulers } from './restoreLostSchedulers.js'
import { syncAllSchedules } from './syncAllSchedules.js'
import type { SchedulerQueue } from './types.js'

/**
 * A worker's last start-up step: writes its own job schedulers (reconciliation, session
 * maintenance) and brings every schedule's in line with Postgres. Redis may have lost schedulers,
 * or kept ones for schedules paused while no worker ran. Upserts and removals: a failed sync (a
 * dropped connection) is run again whole, like the reconciliation, until `signal` aborts.
 */
export async function syncSchedulersAtStartup(db: Db, queue: SchedulerQueue, periods: WorkerSchedulerPeriods, log: Logger, signal?: AbortSignal): Promise<void> {
  await upsertWorkerSchedulers(queue, periods)
  const schedulers = await retryUntilDone(() => syncAllSchedules(db, queue), {
    signal,
    onFailure: (error, retryInMs) => log.warn({ err: error, retryInMs }, 'start-up schedule sync failed; retrying'),
  })
  log.info({ schedules: schedulers }, 'schedule job schedulers synced')
}
