import { and, eq } from 'drizzle-orm'
import type { Db } from '../../store/Database.js'
import { type ScheduleRow, schedules } from '../../store/schema/index.js'
import { cancelScheduleOrders } from './cancelScheduleOrders.js'

/**
 * Queues a CancelOrder for each working order of a paused or deleted schedule (reason
 * `schedulePaused` or `scheduleDeleted`), then clears the schedule's `cancelOrdersPending`, set in
 * the transaction that stopped it, if no change came since (same version): a later pause clears its
 * own. Answers the order ids queued. Run by the pause or delete itself, and by the repair sweep for
 * one whose process died between its commit and its cancels (`finishStoppedSchedules`).
 */
export async function cancelStoppedScheduleOrders(db: Db, schedule: Pick<ScheduleRow, 'id' | 'version' | 'status'>): Promise<string[]> {
  const reason = schedule.status === 'deleted' ? 'scheduleDeleted' : 'schedulePaused'
  const queued = await cancelScheduleOrders(db, { scheduleId: schedule.id, reason })
  await db.update(schedules).set({ cancelOrdersPending: false })
    .where(and(eq(schedules.id, schedule.id), eq(schedules.version, schedule.version), eq(schedules.cancelOrdersPending, true)))
  return queued
}
