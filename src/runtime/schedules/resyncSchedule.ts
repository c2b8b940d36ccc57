import { and, eq, sql } from 'drizzle-orm'
import type { Db } from '../../store/Database.js'
import { schedules } from '../../store/schema/index.js'
import { type SyncScheduleResult, syncSchedule } from './syncSchedule.js'
import type { SchedulerQueue } from './types.js'

/** Passes before giving up on a schedule that keeps changing (the repair sweep catches up). */
const MAX_PASSES = 5

/**
 * Mirrors the schedule's committed state to its job scheduler. Two changes racing (a pause and
 * a resume) each sync after their commit, in any order: each pass reads the row, writes the
 * scheduler, and reads the row's version again; if a change committed meanwhile, it passes again.
 * The last write to Redis then follows the last committed version (a change committed after a
 * pass's second read has its own sync, which writes after it). No row lock is held while Redis
 * is written, so a Redis that does not answer holds no Postgres lock or transaction open.
 * A schedule that no longer exists loses its scheduler. A pass that saw no change commit meanwhile
 * records the version it wrote (`schedulerVersion`), so a change whose write failed or never happened
 * (Redis refused it, the process died first) stays visibly behind for the repair sweep.
 */
export async function resyncSchedule(db: Db, queue: SchedulerQueue, scheduleId: string): Promise<SyncScheduleResult> {
  let result: SyncScheduleResult = 'unchanged'
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const [row] = await db.select().from(schedules).where(eq(schedules.id, scheduleId))
    if (row) result = await syncSchedule(queue, row)
    else {
      await queue.removeJobScheduler(scheduleId)
      result = 'removed'
    }
    const [now] = await db.select({ version: schedules.version }).from(schedules).where(eq(schedules.id, scheduleId))
    if (now?.version === row?.version) {
      // `updated_at` keeps saying when the schedule itself last changed.
      if (row && row.schedulerVersion !== row.version) {
        await db.update(schedules).set({ schedulerVersion: row.version, updatedAt: sql`${schedules.updatedAt}` })
          .where(and(eq(schedules.id, scheduleId), eq(schedules.version, row.version)))
      }
      break
    }
  }
  return result
}
