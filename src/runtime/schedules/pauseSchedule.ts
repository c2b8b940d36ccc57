import type { ValidationError } from '../../core/errors/ValidationError.js'
import type { ScheduleRow } from '../../store/schema/index.js'
import { cancelScheduleOrders } from './cancelScheduleOrders.js'
import { setScheduleStatus } from './setScheduleStatus.js'
import type { ScheduleContext } from './types.js'

export type PauseScheduleOptions = {
  /**
   * Cancel the schedule's orders that are still working (default true): a user who paused it expects
   * nothing to trade for it, and a resting leg could fill while paused. `false` leaves them resting.
   */
  cancelOpenOrders?: boolean
}

export type PauseScheduleResult = { schedule: ScheduleRow; cancelledOrderIds: string[] }

/** Unknown or deleted schedule. */
export type PauseScheduleErrorType = ValidationError

/**
 * Stops a schedule firing: status `paused`, its job scheduler removed, and by default its working
 * orders cancelled (reason `schedulePaused`), as a delete does. A run already in flight sees the new
 * status under the row lock and writes no orders, nor does it once the schedule is resumed
 * (`pausedSince`): a resume starts from the next slot. Pausing a paused schedule changes nothing,
 * but cancels what is still working (a retry of a pause whose cancels were not queued).
 */
export async function pauseSchedule(ctx: ScheduleContext, scheduleId: string, options: PauseScheduleOptions = {}): Promise<PauseScheduleResult> {
  const schedule = await setScheduleStatus(ctx, scheduleId, { status: 'paused', action: 'paused' })
  const cancelledOrderIds = options.cancelOpenOrders === false ? [] : await cancelScheduleOrders(ctx.db, { scheduleId: schedule.id, reason: 'schedulePaused' })
  return { schedule, cancelledOrderIds }
}
