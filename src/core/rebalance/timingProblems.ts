import { CronExpressionParser } from 'cron-parser'
import type { ValidationProblem } from './ScheduleValidationError.js'
import { errorMessage } from '../errors/errorMessage.js'

const MAX_CRON_LENGTH = 200
// A fixed reference date keeps validation independent of the clock (cron-parser
// otherwise reads "now"); a Date, because it treats the number 0 as "no date".
export const REFERENCE_DATE = new Date(0)

function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat(undefined, { timeZone })
    return true
  } catch {
    return false
  }
}

/**
 * cron-parser resolves `H` with Math.random unless BullMQ passes a seed, which it does not: each
 * scheduling would pick another time (`0 9 * * H#2`: another weekday each month), or, with `H`
 * as a range's end (`1-H`), sometimes fail, which stops a BullMQ job scheduler for good. It is
 * refused wherever it stands; the only `H` a cron may hold otherwise is THU's.
 */
function usesHashedValue(fields: readonly string[]): boolean {
  return fields.some((field) => /h/i.test(field.replace(/thu/gi, '')))
}


/** Whether cron-parser (BullMQ's cron engine) accepts the expression in the zone and finds a first slot. */
function schedulerError(cron: string, timeZone?: string): string | undefined {
  try {
    CronExpressionParser.parse(cron, { currentDate: REFERENCE_DATE, ...(timeZone === undefined ? {} : { tz: timeZone }) }).next()
    return undefined
  } catch (error) {
    return errorMessage(error)
  }
}

/**
 * Checks a schedule's `cron` (5 fields, or 6 with seconds first) and `timeZone`
 * (IANA). Validates with cron-parser, the engine BullMQ's job schedulers run, so
 * an accepted schedule is one BullMQ can schedule, in that zone. Returns every problem.
 */
export function timingProblems(cron: unknown, timeZone: unknown): ValidationProblem[] {
  const zoneOk = typeof timeZone === 'string' && timeZone.length > 0 && isTimeZone(timeZone)
  const problems = cronProblems(cron)
  if (typeof timeZone !== 'string' || timeZone.length === 0) problems.push({ field: 'timeZone', rule: 'must be an IANA time zone name like "Europe/Paris"' })
  else if (!zoneOk) problems.push({ field: 'timeZone', rule: `must be an IANA time zone name, got ${JSON.stringify(timeZone.slice(0, 60))}` })
  // Intl and the scheduler's time zone library may disagree on a name; both must accept it.
  else if (problems.length === 0 && schedulerError(cron as string, timeZone) !== undefined) {
    problems.push({ field: 'timeZone', rule: `is not supported by the scheduler: ${JSON.stringify(timeZone)}` })
  }
  return problems
}

function cronProblems(cron: unknown): ValidationProblem[] {
  if (typeof cron !== 'string' || cron.trim().length === 0) return [{ field: 'cron', rule: 'must be a cron expression like "0 9 * * 1"' }]
  if (cron.length > MAX_CRON_LENGTH) return [{ field: 'cron', rule: `must be at most ${MAX_CRON_LENGTH} characters` }]
  // Aliases such as "@daily" are refused on purpose: the stored spec states its fields.
  const fields = cron.trim().split(/\s+/)
  if (fields.length !== 5 && fields.length !== 6) {
    return [{ field: 'cron', rule: `must have 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first), got ${fields.length}` }]
  }
  if (usesHashedValue(fields)) return [{ field: 'cron', rule: 'must not use hashed values (H): the scheduler would pick a different time on every run' }]
  const error = schedulerError(cron)
  return error === undefined ? [] : [{ field: 'cron', rule: `is not a valid cron expression: ${error}` }]
}
