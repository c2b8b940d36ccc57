import { CronExpressionParser } from 'cron-parser'
import { ValidationError } from '../errors/ValidationError.js'
import { errorMessage } from '../errors/errorMessage.js'
import { nextCronSlot } from './nextCronSlot.js'

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
 * backwards from now with cron-parser (BullMQ's engine) to cap the count of very
 * old slots, then forwards over that span as BullMQ's scheduler does (`nextCronSlot`,
 * its repeat strategy), so a slot is listed exactly when BullMQ fires it (also
 * across daylight-saving changes).
 */
export function dueSlots({ cron, timeZone, after, now, limit = 1000 }: DueSlotsParameters): DueSlotsResult {
  if (!Number.isSafeInteger(after)) throw new ValidationError('after', 'must be an integer of unix milliseconds')
  if (!Number.isSafeInteger(now)) throw new ValidationError('now', 'must be an integer of unix milliseconds')
  if (!Number.isSafeInteger(limit) || limit < 1) throw new ValidationError('limit', 'must be a positive integer')
  if (now <= after) return { slots: [], truncated: false }
  const backwards: number[] = []
  let truncated = false
  try {
    // prev() is strictly before currentDate; one millisecond past now makes a slot at exactly now due.
    const expression = CronExpressionParser.parse(cron, { currentDate: new Date(now + 1), tz: timeZone })
    while (expression.hasPrev()) {
      const slot = expression.prev().getTime()
      if (slot <= after) break
      if (backwards.length === limit) { truncated = true; break }
      backwards.push(slot)
    }
    // Walking back lists a wall-clock time twice in the hour a fall-back transition repeats, where
    // BullMQ, walking forwards, fires once: keep only the slots the forward walk produces, from the
    // same start (the earliest slot kept when older ones were left out).
    const start = truncated ? backwards[backwards.length - 1]! - 1 : after
    // Each slot is computed afresh from the one before, by the scheduler's own strategy (nextCronSlot).
    // The forward walk may also list a slot the backward one skipped (a time a spring-forward gap
    // shifted: 02:30 in Berlin comes at 03:30 that day; a quarter hour of Lord Howe's repeated half
    // hour) or never reached (walking back from some days throws in cron-parser, as from
    // America/Santiago's skipped midnight, which ends the walk), also when the backward walk found
    // none; so it is capped a little past the backward count.
    const slots: number[] = []
    for (let slot = nextCronSlot(cron, timeZone, start); slots.length < 2 * backwards.length + 10 && slot <= now; slot = nextCronSlot(cron, timeZone, slot)) {
      slots.push(slot)
    }
    return slots.length > limit ? { slots: slots.slice(-limit), truncated: true } : { slots, truncated }
  } catch (error) {
    // cron-parser reports a bad zone only once it computes a date, so both surface here.
    throw new ValidationError('cron', `is not a valid cron expression in time zone ${JSON.stringify(timeZone)}`, errorMessage(error))
  }
}
