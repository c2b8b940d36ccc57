import type { ValidationError } from '../../core/errors/ValidationError.js'
import type { ScheduleRow } from '../../store/schema/index.js'
import { cancelStoppedScheduleOrders } from './cancelStoppedScheduleOrders.js'
import { setScheduleStatus } from './setScheduleStatus.js'
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
 * cancelled. A run in flight writes nothing. Deleting twice changes nothing more. As a pause, the
 * delete commits with `cancelOrdersOwedSince` set, for the repair sweep should it die before its cancels.
 */
export async function deleteSchedule(ctx: ScheduleContext, scheduleId: string, options: DeleteScheduleOptions = {}): Promise<DeleteScheduleResult> {
  const cancel = options.cancelOpenOrders !== false
  const schedule = await setScheduleStatus(ctx, scheduleId, { status: 'deleted', action: 'deleted', set: { deletedAt: new Date((ctx.now ?? Date.now)()) }, owesCancels: cancel })
  const cancelledOrderIds = cancel ? await cancelStoppedScheduleOrders(ctx.db, schedule) : []
  return { schedule, cancelledOrderIds }
}
