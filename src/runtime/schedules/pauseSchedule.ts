import type { ValidationError } from '../../core/errors/ValidationError.js'
import type { ScheduleRow } from '../../store/schema/index.js'
import { setScheduleStatus } from './setScheduleStatus.js'
import type { ScheduleContext } from './types.js'

/** Unknown or deleted schedule. */
export type PauseScheduleErrorType = ValidationError

/**
 * Stops a schedule firing: status `paused` and its job scheduler removed. A run
 * already in flight sees the new status under the row lock and writes no orders,
 * nor does it once the schedule is resumed (`pausedSince`): a resume starts from
 * the next slot.
 * Pausing a paused schedule changes nothing. Resting orders are left to rest.
 */
export async function pauseSchedule(ctx: ScheduleContext, scheduleId: string): Promise<ScheduleRow> {
  return setScheduleStatus(ctx, scheduleId, { status: 'paused', action: 'paused' })
}
