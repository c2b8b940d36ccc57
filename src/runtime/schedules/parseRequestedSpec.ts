import { type ScheduleSpec, parseScheduleSpec } from '../../core/rebalance/parseScheduleSpec.js'
import { scheduleTimingProblem } from '../../core/rebalance/scheduleTimingProblem.js'
import { ScheduleValidationError } from '../../core/rebalance/ScheduleValidationError.js'
import { checkTargetMarkets } from './checkTargetMarkets.js'
import type { ScheduleContext } from './types.js'

/**
 * A spec someone asks for (a new schedule, or an edit merged into the stored one): its fields
 * (`parseScheduleSpec`, as a stored row is read), then what this deployment requires of new
 * work: a market at the operator for every target, runs no closer together than
 * `ctx.minIntervalSeconds` (when given), and a cron the scheduler can run through the time zone's
 * clock changes of the next two years without dropping a run at a wall time a jump skips.
 * The timing checks run on `ctx.timing` (the API's thread) when given, else here.
 */
export async function parseRequestedSpec(ctx: ScheduleContext, input: unknown): Promise<ScheduleSpec> {
  const spec = parseScheduleSpec(input)
  checkTargetMarkets(spec, ctx.markets)
  const timing = { cron: spec.cron, timeZone: spec.timeZone, minIntervalSeconds: ctx.minIntervalSeconds, fromMs: (ctx.now ?? Date.now)() }
  const problem = ctx.timing ? await ctx.timing.problem(timing) : scheduleTimingProblem(timing)
  if (problem) throw new ScheduleValidationError([problem])
  return spec
}
