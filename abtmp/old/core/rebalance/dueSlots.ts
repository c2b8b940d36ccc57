import { CronExpressionParser } from 'cron-parser'
import { ValidationError } from '../errors/ValidationError.js'

export type DueSlotsParameters = {
  cron: string
  timeZone: string
  /** Exclusive lower bound (unix ms): the last slot run, or when the schedule was created. */
  after: number
  /** Inclusive upper bound (unix ms): passed in, core never reads the clock. */
  now: number
  /** Most slots to list, the latest ones (default 1000), so a long outage of a fast cron stays cheap. */
  limit?: number
}

export type DueSlotsResult = {
  /** Slot times in (after, now], ascending; the latest `limit` of them. */
  slots: number[]
  /** True when older due slots were left out because of `limit`. */
  truncated: boolean
}

export type DueSlotsErrorType = ValidationError

/**
 * The cron slots that fell due in (after, now], in the schedule's time zone, for
 * `slotToRun` when all a caller knows is the previous slot and the time. Walks
 * backwards from now with cron-parser (BullMQ's engine), so the latest slot is
 * always exact and only the count of very old slots is capped.
 */
export function dueSlots({ cron, timeZone, after, now, limit = 1000 }: DueSlotsParameters): DueSlotsResult {
  if (!Number.isSafeInteger(after)) throw new ValidationError('after', 'must be an integer of unix milliseconds')
  if (!Number.isSafeInteger(now)) throw new ValidationError('now', 'must be an integer of unix milliseconds')
  if (!Number.isSafeInteger(limit) || limit < 1) throw new ValidationError('limit', 'must be a positive integer')
  if (now <= after) return { slots: [], truncated: false }
  const slots: number[] = []
  try {
    // prev() is strictly before currentDate; one millisecond past now makes a slot at exactly now due.
    const expression = CronExpressionParser.parse(cron, { currentDate: new Date(now + 1), tz: timeZone })
    while (expression.hasPrev()) {
      const slot = expression.prev().getTime()
      if (slot <= after) break
      if (slots.length === limit) return { slots: slots.reverse(), truncated: true }
      slots.push(slot)
    }
  } catch (error) {
    // cron-parser reports a bad zone only once it computes a date, so both surface here.
    throw new ValidationError('cron', `is not a valid cron expression in time zone ${JSON.stringify(timeZone)}`, error instanceof Error ? error.message : String(error))
  }
  return { slots: slots.reverse(), truncated: false }
}
