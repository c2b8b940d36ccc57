import { eq } from 'drizzle-orm'
import type { Db } from '../../store/Database.js'
import { schedules } from '../../store/schema/index.js'
import { type SyncScheduleResult, syncSchedule } from './syncSchedule.js'
import type { SchedulerQueue } from './types.js'

/**
 * Mirrors the schedule's committed state to its job scheduler while holding the
 * row lock. Two changes racing (a pause and a resume) each sync after their
 * commit; the lock makes the later sync see the later state, so Redis cannot end
 * up behind Postgres. A schedule that no longer exists loses its scheduler.
 */
export async function resyncSchedule(db: Db, queue: SchedulerQueue, scheduleId: string): Promise<SyncScheduleResult> {
  return db.transaction(async (tx) => {
    const [row] = await tx.select().from(schedules).where(eq(schedules.id, scheduleId)).for('update')
    if (!row) {
      await queue.removeJobScheduler(scheduleId)
      return 'removed'
    }
    return syncSchedule(queue, row)
  })
}
