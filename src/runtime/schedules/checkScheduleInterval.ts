import { cronIntervalProblem } from '../../core/rebalance/cronIntervalProblem.js'
import type { ScheduleSpec } from '../../core/rebalance/parseScheduleSpec.js'
import { ScheduleValidationError } from '../../core/rebalance/ScheduleValidationError.js'

/** Refuses a schedule whose runs come closer together than `minSeconds` (none given: no minimum). */
export function checkScheduleInterval(spec: ScheduleSpec, minSeconds: number | undefined): void {
  if (minSeconds === undefined) return
  const problem = cronIntervalProblem(spec.cron, spec.timeZone, minSeconds)
  if (problem) throw new ScheduleValidationError([problem])
}
