import { CronExpressionParser } from 'cron-parser'
import type { ValidationProblem } from './ScheduleValidationError.js'
import { errorMessage } from '../errors/errorMessage.js'
import { REFERENCE_DATE } from './timingProblems.js'
import { BoundedMemo } from './BoundedMemo.js'

/** The least time between two runs of a schedule the API accepts, unless configured otherwise. */
export const DEFAULT_SCHEDULE_MIN_INTERVAL_SECONDS = 60
/**
 * Slots looked at: a cron's seconds and minutes fields repeat every minute and hour it fires, so
 * a busy cron's shortest gaps show within its first slots; at most this many, over at most a
 * year and a month, which holds every month's and the year's turn: a sparse cron's shortest gap
 * may be there only (`0 0,23 1,31 * *` runs 23:00 on the 31st and 00:00 on the 1st, an hour
 * apart). About 100 ms at worst (a weekday cron's 200 slots), once per cron and zone (kept).
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
  const gap = shortestGap(cron, timeZone)
  // `timingProblems` refuses such a cron first; this stays a problem, not a thrown 500, if one slips by.
  if (typeof gap === 'string') return { field: 'cron', rule: `is not a valid cron expression: ${gap}` }
  if (gap >= minSeconds * 1000) return undefined
  return { field: 'cron', rule: `must fire at most once every ${minSeconds} s, but two of its runs are ${gap / 1000} s apart` }
}

/** Gaps kept, per cron and zone (they alone decide one: slots are counted from `REFERENCE_DATE`). */
const gaps = new BoundedMemo<number | string>(256)

/** The shortest gap (ms) between the slots `cronIntervalProblem` looks at, or why cron-parser cannot list them; kept. */
function shortestGap(cron: string, timeZone: string): number | string {
  return gaps.get(JSON.stringify([cron, timeZone]), () => measureShortestGap(cron, timeZone))
}

function measureShortestGap(cron: string, timeZone: string): number | string {
  let slots: ReturnType<typeof CronExpressionParser.parse>
  let first: number
  try {
    slots = CronExpressionParser.parse(cron, { currentDate: REFERENCE_DATE, tz: timeZone })
    first = slots.next().getTime()
  } catch (error) {
    return errorMessage(error)
  }
  let previous = first
  let shortest = Number.POSITIVE_INFINITY
  for (let i = 1; i < SLOTS_CHECKED && previous - first <= SPAN_CHECKED_MS; i++) {
    let next: number
    // A slot cron-parser cannot find ends the list (`hasNext()` would find it first, doubling the work).
    try {
      next = slots.next().getTime()
    } catch {
      break
    }
    shortest = Math.min(shortest, next - previous)
    previous = next
  }
  return shortest
}
