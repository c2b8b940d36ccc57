import { CronExpressionParser } from 'cron-parser'
import type { ValidationProblem } from './ScheduleValidationError.js'
import { REFERENCE_DATE } from './timingProblems.js'

/** The least time between two runs of a schedule the API accepts, unless configured otherwise. */
export const DEFAULT_SCHEDULE_MIN_INTERVAL_SECONDS = 60
/**
 * Slots looked at: a cron's seconds and minutes fields repeat every minute and hour it fires, so
 * its shortest gaps show within its first slots; at most this many, over at most two days (a
 * yearly cron's slots are slow to compute, and its gaps are long anyway).
 */
const SLOTS_CHECKED = 200
const SPAN_CHECKED_MS = 2 * 24 * 3600_000

/**
 * A problem when two consecutive slots of `cron` (a valid expression, read in `timeZone`) are
 * less than `minSeconds` apart, else undefined. Each run reads the wallet's balances at the
 * operator and records a run row: `* * * * * *` (six fields, seconds first, perhaps meant as
 * a five-field cron plus a year) would do so every second.
 */
export function cronIntervalProblem(cron: string, timeZone: string, minSeconds: number): ValidationProblem | undefined {
  const slots = CronExpressionParser.parse(cron, { currentDate: REFERENCE_DATE, tz: timeZone })
  const first = slots.next().getTime()
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
