import { and, eq, ne, sql } from 'drizzle-orm'
import type { Db } from '../../store/Database.js'
import { type ScheduleRow, schedules } from '../../store/schema/index.js'
import { type CancelScheduleOrdersParameters, cancelScheduleOrders } from './cancelScheduleOrders.js'

/**
 * Queues a CancelOrder for each working order of a paused or deleted schedule (reason
 * `schedulePaused` or `scheduleDeleted`), each only while the schedule is still stopped: a resume
 * committed meanwhile drops the rest (`whileStopped`). First marks the cancels owed
 * (`cancelOrdersOwedSince`, kept if the change set it already, as it does in its own transaction; a
 * pause of a schedule already paused sets it here), and clears the mark once they are queued if no
 * change came since (same version): a later stop clears its own. Neither write moves `updated_at`,
 * which says when the schedule itself last changed. `onQueued` runs in each cancel's transaction.
 * Answers the order ids queued. Run by the pause or
 * delete itself, and by the repair sweep for one whose process died between its commit and its
 * cancels (`finishStoppedSchedules`).
 */
export async function cancelStoppedScheduleOrders(db: Db, schedule: Pick<ScheduleRow, 'id' | 'status'>,
  onQueued?: CancelScheduleOrdersParameters['onQueued']): Promise<string[]> {
  const [owed] = await db.update(schedules)
    .set({ cancelOrdersOwedSince: sql`coalesce(${schedules.cancelOrdersOwedSince}, now())`, updatedAt: sql`${schedules.updatedAt}` })
    .where(and(eq(schedules.id, schedule.id), ne(schedules.status, 'active')))
    .returning({ version: schedules.version })
  if (!owed) return []
  const reason = schedule.status === 'deleted' ? 'scheduleDeleted' : 'schedulePaused'
  const queued = await cancelScheduleOrders(db, { scheduleId: schedule.id, reason, whileStopped: true, ...(onQueued ? { onQueued } : {}) })
  await db.update(schedules).set({ cancelOrdersOwedSince: null, updatedAt: sql`${schedules.updatedAt}` })
    .where(and(eq(schedules.id, schedule.id), eq(schedules.version, owed.version)))
  return queued
}
