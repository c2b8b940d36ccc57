import { eq, sql } from 'drizzle-orm'
import type { ValidationError } from '../../core/errors/ValidationError.js'
import { type ScheduleRow, schedules } from '../../store/schema/index.js'
import { lockSchedule } from './lockSchedule.js'
import { resyncSchedule } from './resyncSchedule.js'
import { audit } from '../../store/repositories/audit.js'
import type { ScheduleContext } from './types.js'

/** Unknown or deleted schedule. */
export type ResumeScheduleErrorType = ValidationError

/**
 * Restarts a paused schedule from its next slot. `activeSince` moves to now, so
 * the slots that fell while paused are not "missed": they are never coalesced
 * into the next run. Resuming an active schedule changes nothing.
 */
export async function resumeSchedule(ctx: ScheduleContext, scheduleId: string): Promise<ScheduleRow> {
  const now = new Date((ctx.now ?? Date.now)())
  const row = await ctx.db.transaction(async (tx) => {
    const current = await lockSchedule(tx, scheduleId)
    if (current.status === 'active') return current
    const [updated] = await tx.update(schedules)
      .set({ status: 'active', activeSince: now, version: sql`${schedules.version} + 1` })
      .where(eq(schedules.id, current.id))
      .returning()
    await audit(tx, { walletId: current.walletId, actor: ctx.actor ?? 'api', action: 'schedule.resumed', details: { scheduleId: current.id, version: updated!.version } })
    return updated!
  })
  await resyncSchedule(ctx.db, ctx.queue, row.id)
  return row
}
