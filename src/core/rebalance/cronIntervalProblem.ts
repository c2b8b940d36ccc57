import { CronExpressionParser } from 'cron-parser'
import type { ValidationProblem } from './ScheduleValidationError.js'
import { errorMessage } from '../errors/errorMessage.js'
import { REFERENCE_DATE } from './timingProblems.js'

/** The least time between two runs of a schedule the API accepts, unless configured otherwise. */
export const DEFAULT_SCHEDULE_MIN_INTERVAL_SECONDS = 60
/**
 * Slots looked at: a cron's seconds and minutes fields repeat every minute and hour it fires, so
 * a busy cron's shortest gaps show within its first slots; at most this many, over at most a
 * year and a month, which holds every month's and the year's turn: a sparse cron's shortest gap
 * may be there only (`0 0,23 1,31 * *` runs 23:00 on the 31st and 00:00 on the 1st, an hour
 * apart). About 100 ms at worst (a weekday cron's 200 slots), once per schedule written.
 */
const SLOTS_CHECKED = 200
const SPAN_CHECKED_MS = 400 * 24 * 3600_000

/**
 * A problem when two consecutive slots of `cron` (a valid expression, read in `timeZone`) are
 * less than `minSeconds` apart, else undefined. Each run reads the wallet's balances at the
 * operator and records a run row: `* * * * * *` (six fields, seconds first, perhaps meant as
 * a five-field cron plus a year) would do so every second.
 */
export function cronIntervalProblem(cron: string, timeZone: string, minSeconds: number): ValidationProblem | undefined {
  let slots: ReturnType<typeof CronExpressionParser.parse>
  let first: number
  try {
    slots = CronExpressionParser.parse(cron, { currentDate: REFERENCE_DATE, tz: timeZone })
    first = slots.next().getTime()
  } catch (error) {
    // `timingProblems` refuses such a cron first; this stays a problem, not a thrown 500, if one slips by.
    return { field: 'cron', rule: `is not a valid cron expression: ${errorMessage(error)}` }
  }
  let previous = first
  let shortest = Number.POSITIVE_INFINITY
  for (let i = 1; i < SLOTS_CHECKED && previous - first <= SPAN_CHECKED_MS && slots.hasNext(); i++) {
    const next = slots.next().getTime()
    shortest = Math.min(shortest, next - previous)
    previous = next
  }
  if (shortest >= minSeconds * 1000) return undefined
  return { field: 'cron', rule: `must fire at most once every ${minSeconds} s, but two of its runs are ${shortest / 1000} s apart` }
}
