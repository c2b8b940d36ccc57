import { eq, sql } from 'drizzle-orm'
import { audit } from '../../store/repositories/audit.js'
import { type ScheduleRow, type ScheduleStatus, schedules } from '../../store/schema/index.js'
import { assertOnlyActiveSchedule } from './assertOnlyActiveSchedule.js'
import { assertSessionCoversSchedules } from './assertSessionCoversSchedules.js'
import { lockSchedule } from './lockSchedule.js'
import { resyncAfterCommit } from './resyncAfterCommit.js'
import type { ScheduleContext } from './types.js'

/**
 * Moves a schedule to `status` under its row lock (a run in flight sees the new
 * status and writes no orders), with a new version and an audit entry
 * `schedule.<action>`, then brings its job scheduler in line. A schedule already
 * in that status is answered unchanged. `set` adds columns to the change, `owesCancels` marks
 * whether it owes the cancels of the schedule's working orders (`cancelStoppedScheduleOrders`). A
 * schedule becomes active only if no other schedule of its wallet is, and if the
 * wallet's active session covers what it sends.
 */
export async function setScheduleStatus(
  ctx: ScheduleContext,
  scheduleId: string,
  change: {
    status: ScheduleStatus
    action: 'paused' | 'resumed' | 'deleted'
    set?: Partial<Pick<ScheduleRow, 'activeSince' | 'deletedAt'>>
    /** True: the change owes the cancels of the schedule's working orders (`cancelOrdersOwedSince` set to now); false: owes none. */
    owesCancels?: boolean
  },
): Promise<ScheduleRow> {
  const row = await ctx.db.transaction(async (tx) => {
    const current = await lockSchedule(tx, scheduleId, { allowDeleted: change.status === 'deleted' })
    if (current.status === change.status) return current
    if (change.status === 'active') {
      await assertOnlyActiveSchedule(tx, { walletId: current.walletId, field: 'scheduleId', exceptId: current.id })
      await assertSessionCoversSchedules(tx, { walletId: current.walletId, field: 'scheduleId' })
    }
    const [updated] = await tx.update(schedules)
      .set({
        ...change.set, status: change.status, version: sql`${schedules.version} + 1`,
        ...(change.owesCancels === undefined ? {} : { cancelOrdersOwedSince: change.owesCancels ? sql`now()` : null }),
      })
      .where(eq(schedules.id, current.id))
      .returning()
    await audit(tx, { walletId: current.walletId, actor: ctx.actor ?? 'api', action: `schedule.${change.action}`, details: { scheduleId: current.id, version: updated!.version } })
    return updated!
  })
  await resyncAfterCommit(ctx, row.id)
  return row
}
