import { eq, sql } from 'drizzle-orm'
import type { ValidationError } from '../../core/errors/ValidationError.js'
import { type ScheduleRow, schedules } from '../../store/schema/index.js'
import { cancelScheduleOrders } from './cancelScheduleOrders.js'
import { lockSchedule } from './lockSchedule.js'
import { resyncSchedule } from './resyncSchedule.js'
import { audit } from '../../store/repositories/audit.js'
import type { ScheduleContext } from './types.js'

export type DeleteScheduleOptions = {
  /** Cancel the schedule's orders that are still working (default true): nothing trades for a deleted schedule. */
  cancelOpenOrders?: boolean
}

export type DeleteScheduleResult = { schedule: ScheduleRow; cancelledOrderIds: string[] }

/** Unknown schedule. */
export type DeleteScheduleErrorType = ValidationError

/**
 * Deletes a schedule: status `deleted` (the row and its run log stay, for the
 * audit trail), its job scheduler removed, and by default its working orders
 * cancelled. A run in flight writes nothing. Deleting twice changes nothing more.
 */
export async function deleteSchedule(ctx: ScheduleContext, scheduleId: string, options: DeleteScheduleOptions = {}): Promise<DeleteScheduleResult> {
  const now = new Date((ctx.now ?? Date.now)())
  const schedule = await ctx.db.transaction(async (tx) => {
    const current = await lockSchedule(tx, scheduleId, { allowDeleted: true })
    if (current.status === 'deleted') return current
    const [updated] = await tx.update(schedules)
      .set({ status: 'deleted', deletedAt: now, version: sql`${schedules.version} + 1` })
      .where(eq(schedules.id, current.id))
      .returning()
    await audit(tx, { walletId: current.walletId, actor: ctx.actor ?? 'api', action: 'schedule.deleted', details: { scheduleId: current.id, version: updated!.version } })
    return updated!
  })
  await resyncSchedule(ctx.db, ctx.queue, schedule.id)
  const cancelledOrderIds = options.cancelOpenOrders === false ? [] : await cancelScheduleOrders(ctx.db, { scheduleId: schedule.id, reason: 'scheduleDeleted' })
  return { schedule, cancelledOrderIds }
}
