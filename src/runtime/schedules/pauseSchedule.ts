import type { ValidationError } from '../../core/errors/ValidationError.js'
import type { ScheduleRow } from '../../store/schema/index.js'
import { cancelStoppedScheduleOrders } from './cancelStoppedScheduleOrders.js'
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
 * but cancels what is still working (a retry of a pause whose cancels were not queued). The pause
 * commits with `cancelOrdersOwedSince` set: a process dying before its cancels are queued leaves them
 * to the worker's repair sweep (`finishStoppedSchedules`), not to a retry nobody may send.
 */
export async function pauseSchedule(ctx: ScheduleContext, scheduleId: string, options: PauseScheduleOptions = {}): Promise<PauseScheduleResult> {
  const cancel = options.cancelOpenOrders !== false
  const schedule = await setScheduleStatus(ctx, scheduleId, { status: 'paused', action: 'paused', owesCancels: cancel })
  const cancelledOrderIds = cancel ? await cancelStoppedScheduleOrders(ctx.db, schedule) : []
  return { schedule, cancelledOrderIds }
}
