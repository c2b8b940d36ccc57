import { eq } from 'drizzle-orm'
import { controlJobs } from '../../queue/names.js'
import type { Db } from '../../store/Database.js'
import { schedules } from '../../store/schema/index.js'
import { resyncSchedule } from './resyncSchedule.js'
import type { SchedulerQueue } from './types.js'

export type SyncAllSchedulesResult = { upserted: number; unchanged: number; removed: number }

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * Brings every job scheduler in line with Postgres (worker start-up, and the repair sweep when one is missing): each
 * active schedule gets its scheduler; a `scheduleRun` scheduler whose schedule is
 * not active is removed. A stray is re-checked through `resyncSchedule`, which reads its row
 * again, since a schedule created or resumed while this ran is active though the list above missed it.
 */
export async function syncAllSchedules(db: Db, queue: SchedulerQueue): Promise<SyncAllSchedulesResult> {
  const result: SyncAllSchedulesResult = { upserted: 0, unchanged: 0, removed: 0 }
  // Ids only: each is written through resyncSchedule, which reads its row (a schedule edited while
  // this runs is written from its latest version).
  const active = await db.select({ id: schedules.id }).from(schedules).where(eq(schedules.status, 'active'))
  for (const row of active) result[await resyncSchedule(db, queue, row.id)]++
  const activeIds = new Set(active.map((row) => row.id))
  for (const scheduler of await queue.getJobSchedulers(0, -1)) {
    if (scheduler.name !== controlJobs.scheduleRun || activeIds.has(scheduler.key)) continue
    if (uuid.test(scheduler.key)) result[await resyncSchedule(db, queue, scheduler.key)]++
    else {
      await queue.removeJobScheduler(scheduler.key)
      result.removed++
    }
  }
  return result
}
