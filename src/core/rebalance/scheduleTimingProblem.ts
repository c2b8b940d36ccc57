import { clockChangeProblem } from './clockChangeProblem.js'
import { cronIntervalProblem } from './cronIntervalProblem.js'
import type { ValidationProblem } from './ScheduleValidationError.js'

/** What `scheduleTimingProblem` checks: a cron already parsed as valid, its zone, and from when. */
export type ScheduleTiming = {
  cron: string
  timeZone: string
  /** Runs closer together than this many seconds are refused; undefined: no floor. */
  minIntervalSeconds?: number | undefined
  /** Unix ms the clock changes are looked for from. */
  fromMs: number
}

/**
 * The first timing problem of a valid cron in its zone: runs closer together than the deployment
 * allows (`cronIntervalProblem`), then a clock change the scheduler cannot step through
 * (`clockChangeProblem`); undefined when there is none. It steps through up to a year of slots:
 * 0.1–1 s of CPU the first time a cron and zone are asked (the answers are kept).
 */
export function scheduleTimingProblem(timing: ScheduleTiming): ValidationProblem | undefined {
  const { cron, timeZone, minIntervalSeconds, fromMs } = timing
  const tooFrequent = minIntervalSeconds === undefined ? undefined : cronIntervalProblem(cron, timeZone, minIntervalSeconds)
  return tooFrequent ?? clockChangeProblem(cron, timeZone, fromMs)
}
