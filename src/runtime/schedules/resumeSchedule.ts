import type { ValidationError } from '../../core/errors/ValidationError.js'
import type { ScheduleRow } from '../../store/schema/index.js'
import { setScheduleStatus } from './setScheduleStatus.js'
import type { ScheduleContext } from './types.js'

/** Unknown or deleted schedule. */
export type ResumeScheduleErrorType = ValidationError

/**
 * Restarts a paused schedule from its next slot. `activeSince` moves to now, so
 * the slots that fell while paused are not "missed": they are never coalesced
 * into the next run. Resuming an active schedule changes nothing. A pause's cancels not queued yet
 * are dropped (`cancelOrdersOwedSince`): the next run cancels the working orders of the runs before it.
 */
export async function resumeSchedule(ctx: ScheduleContext, scheduleId: string): Promise<ScheduleRow> {
  return setScheduleStatus(ctx, scheduleId, { status: 'active', action: 'resumed', set: { activeSince: new Date((ctx.now ?? Date.now)()) }, owesCancels: false })
}
