import { and, asc, isNotNull, lt, ne, sql } from 'drizzle-orm'
import type { Db } from '../../store/Database.js'
import { audit } from '../../store/repositories/audit.js'
import { schedules } from '../../store/schema/index.js'
import { cancelStoppedScheduleOrders } from './cancelStoppedScheduleOrders.js'

/** How long a stop's own cancels are given before the sweep queues them (its request still at work). */
export const STOP_CANCELS_GRACE_MS = 60_000

/** Schedules looked at per call; the next call goes on. */
const PER_CALL = 100

export type FinishedStop = { scheduleId: string; walletId: string; cancelled: string[] }

/**
 * The pauses and deletes that owe the cancels of their schedule's working orders and whose process
 * died (or lost Postgres) after the change committed and before the cancels were all queued: the
 * change's `cancelOrdersOwedSince` is still set `STOP_CANCELS_GRACE_MS` after it (both on
 * Postgres's clock). Their cancels are queued now (`cancelStoppedScheduleOrders`, each only while
 * the schedule is still stopped) and each audited in its transaction (`schedule.stopCancelFinished`); without this a user
 * told nothing trades for a paused or deleted schedule had its legs resting, able to fill, until they
 * paused or deleted it again. A schedule whose cancels fail is handed to `onFailure` and the next is
 * tried: one failing does not hold the others back. A step of the worker's repair sweep.
 */
export async function finishStoppedSchedules(db: Db, onFailure: (error: unknown) => void = () => {}): Promise<FinishedStop[]> {
  const owed = await db.select({ id: schedules.id, walletId: schedules.walletId, status: schedules.status }).from(schedules)
    .where(and(isNotNull(schedules.cancelOrdersOwedSince), ne(schedules.status, 'active'),
      lt(schedules.cancelOrdersOwedSince, sql`now() - ${STOP_CANCELS_GRACE_MS}::double precision * interval '1 millisecond'`)))
    .orderBy(asc(schedules.cancelOrdersOwedSince)).limit(PER_CALL)
  const finished: FinishedStop[] = []
  for (const schedule of owed) {
    try {
      // Each cancel audited in its own transaction: a crash between the two leaves neither.
      const cancelled = await cancelStoppedScheduleOrders(db, schedule, (tx, orderId) =>
        audit(tx, { walletId: schedule.walletId, actor: 'worker', action: 'schedule.stopCancelFinished', details: { scheduleId: schedule.id, status: schedule.status, orderId } }))
      finished.push({ scheduleId: schedule.id, walletId: schedule.walletId, cancelled })
    } catch (error) {
      onFailure(error)
    }
  }
  return finished
}
