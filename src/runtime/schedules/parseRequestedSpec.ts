import { clockChangeProblem } from '../../core/rebalance/clockChangeProblem.js'
import { cronIntervalProblem } from '../../core/rebalance/cronIntervalProblem.js'
import { type ScheduleSpec, parseScheduleSpec } from '../../core/rebalance/parseScheduleSpec.js'
import { ScheduleValidationError } from '../../core/rebalance/ScheduleValidationError.js'
import { checkTargetMarkets } from './checkTargetMarkets.js'
import type { ScheduleContext } from './types.js'

/**
 * A spec someone asks for (a new schedule, or an edit merged into the stored one): its fields
 * (`parseScheduleSpec`, as a stored row is read), then what this deployment requires of new
 * work: a market at the operator for every target, runs no closer together than
 * `ctx.minIntervalSeconds` (when given), and a cron the scheduler can run through the time zone's
 * clock changes of the next two years without dropping a run at a wall time a jump skips.
 */
export function parseRequestedSpec(ctx: ScheduleContext, input: unknown): ScheduleSpec {
  const spec = parseScheduleSpec(input)
  checkTargetMarkets(spec, ctx.markets)
  const tooFrequent = ctx.minIntervalSeconds === undefined ? undefined : cronIntervalProblem(spec.cron, spec.timeZone, ctx.minIntervalSeconds)
  if (tooFrequent) throw new ScheduleValidationError([tooFrequent])
  const stops = clockChangeProblem(spec.cron, spec.timeZone, (ctx.now ?? Date.now)())
  if (stops) throw new ScheduleValidationError([stops])
  return spec
}
