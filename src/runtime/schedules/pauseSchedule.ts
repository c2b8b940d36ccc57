import { eq, sql } from 'drizzle-orm'
import type { ValidationError } from '../../core/errors/ValidationError.js'
import { type ScheduleRow, schedules } from '../../store/schema/index.js'
import { lockSchedule } from './lockSchedule.js'
import { resyncSchedule } from './resyncSchedule.js'
import { audit } from '../../store/repositories/audit.js'
import type { ScheduleContext } from './types.js'

/** Unknown or deleted schedule. */
export type PauseScheduleErrorType = ValidationError

/**
 * Stops a schedule firing: status `paused` and its job scheduler removed. A run
 * already in flight sees the new status under the row lock and writes no orders.
 * Pausing a paused schedule changes nothing. Resting orders are left to rest.
 */
export async function pauseSchedule(ctx: ScheduleContext, scheduleId: string): Promise<ScheduleRow> {
  const row = await ctx.db.transaction(async (tx) => {
    const current = await lockSchedule(tx, scheduleId)
    if (current.status === 'paused') return current
    const [updated] = await tx.update(schedules)
      .set({ status: 'paused', version: sql`${schedules.version} + 1` })
      .where(eq(schedules.id, current.id))
      .returning()
    await audit(tx, { walletId: current.walletId, actor: ctx.actor ?? 'api', action: 'schedule.paused', details: { scheduleId: current.id, version: updated!.version } })
    return updated!
  })
  await resyncSchedule(ctx.db, ctx.queue, row.id)
  return row
}
