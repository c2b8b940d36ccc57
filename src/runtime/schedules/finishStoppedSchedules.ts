import { and, eq, lt, ne, sql } from 'drizzle-orm'
import type { Db } from '../../store/Database.js'
import { audit } from '../../store/repositories/audit.js'
import { schedules } from '../../store/schema/index.js'
import { cancelStoppedScheduleOrders } from './cancelStoppedScheduleOrders.js'

/** How long a stop's own cancels are given before the sweep queues them (its request still at work). */
export const STOP_CANCELS_GRACE_MS = 60_000

export type FinishedStop = { scheduleId: string; walletId: string; cancelled: string[] }

/**
 * The pauses and deletes that asked for the schedule's working orders to be cancelled and whose
 * process died (or lost Postgres) after the change committed and before its cancels were all queued:
 * the change's `cancelOrdersPending` is still set `STOP_CANCELS_GRACE_MS` after it. Their cancels are
 * queued now (`cancelStoppedScheduleOrders`) and audited (`schedule.stopCancelsFinished`); without
 * this a user told nothing trades for a paused or deleted schedule had its legs resting, able to
 * fill, until they paused or deleted it again. A step of the worker's repair sweep.
 */
export async function finishStoppedSchedules(db: Db, now: number = Date.now()): Promise<FinishedStop[]> {
  const pending = await db.select({ id: schedules.id, walletId: schedules.walletId, version: schedules.version, status: schedules.status }).from(schedules)
    .where(and(eq(schedules.cancelOrdersPending, true), ne(schedules.status, 'active'), lt(schedules.updatedAt, new Date(now - STOP_CANCELS_GRACE_MS))))
    .orderBy(sql`${schedules.updatedAt}`).limit(100)
  const finished: FinishedStop[] = []
  for (const schedule of pending) {
    const cancelled = await cancelStoppedScheduleOrders(db, schedule)
    if (cancelled.length) {
      await audit(db, { walletId: schedule.walletId, actor: 'worker', action: 'schedule.stopCancelsFinished', details: { scheduleId: schedule.id, status: schedule.status, version: schedule.version, orderIds: cancelled } })
    }
    finished.push({ scheduleId: schedule.id, walletId: schedule.walletId, cancelled })
  }
  return finished
}
