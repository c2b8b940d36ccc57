import { ValidationError } from '../errors/ValidationError.js'
import { parsePositiveAmount, parseSignedAmount } from '../money/decimal.js'
import { FIRST_UNSTORABLE_TIME_MS } from '../text/storableTime.js'
import { parseSide } from './parseSide.js'

/**
 * The type of the stand-in stored for a frame the stream could not read (not JSON, or no seq),
 * sent so at its seq on every replay (`unreadableFrameStandIn`): passed over in its place.
 */
export const UNREADABLE_FRAME = 'UnreadableFrame'

/** The fields of an operator event (PROTOCOL.md §7) that applying it reads. */
export type EventFields = { type: unknown; at: unknown; clientOrderId?: unknown; data?: unknown }

/**
 * Why an operator event cannot be applied, or undefined when it can: a field that applying it
 * reads is missing or malformed (an OrderModified whose price is not a decimal, a fill with a
 * fee that is not a decimal or without a fill id). Such an event would fail every time it is applied and stall
 * its wallet's stream behind it: it is stored and passed over instead (`applyEventRuns`), and
 * reconciliation reads the order's true state from the operator.
 */
export function eventProblem(event: EventFields): string | undefined {
  const data = (typeof event.data === 'object' && event.data !== null ? event.data : {}) as Record<string, unknown>
  try {
    if (event.type === UNREADABLE_FRAME) throw new ValidationError('frame', `cannot be read, on every replay (${String(data.problem)})`)
    if (typeof event.type !== 'string' || event.type.length === 0) throw new ValidationError('type', 'must be a non-empty string')
    if (event.clientOrderId !== undefined && event.clientOrderId !== null && typeof event.clientOrderId !== 'string') throw new ValidationError('clientOrderId', 'must be a string')
    if (event.data !== undefined && event.data !== null && (typeof event.data !== 'object' || Array.isArray(event.data))) throw new ValidationError('data', 'must be an object')
    if (event.type === 'OrderModified' && event.clientOrderId && !saysOnlyModified(event)) {
      parsePositiveAmount('data.price', data.price)
      parsePositiveAmount('data.size', data.size)
      // Stored as a 32-bit integer (orders.venue_revision): a larger one would fail the wallet's every batch.
      if (!isCount(data.revision, MAX_REVISION)) throw new ValidationError('data.revision', `must be an integer from 0 to ${MAX_REVISION}`)
    }
    if (event.type === 'OrderFilled' && event.clientOrderId) {
      if (typeof data.fillId !== 'string' || data.fillId.length === 0) throw new ValidationError('data.fillId', 'must be a non-empty string')
      parsePositiveAmount('data.price', data.price)
      parsePositiveAmount('data.size', data.size)
      // A maker rebate is a negative fee.
      if (data.fee !== undefined) parseSignedAmount('data.fee', data.fee)
      if (data.side !== undefined) parseSide('data.side', data.side)
    }
    // A fill and a session's end are stored with the event's time.
    const timed = event.type === 'OrderFilled' || event.type === 'SessionRevoked' || event.type === 'SessionExpired'
    if (timed && !isTime(event.at)) throw new ValidationError('at', 'must be a time (unix milliseconds)')
  } catch (error) {
    if (error instanceof ValidationError) return error.message
    throw error
  }
  return undefined
}

/** The largest revision Postgres stores (a 32-bit integer). */
export const MAX_REVISION = 2 ** 31 - 1

/** A non-negative safe integer up to `max`, as a number or a decimal string. */
export function isCount(value: unknown, max: number): boolean {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 && n <= max
}

/**
 * Postgres reads the times it is handed as JSON (`Date.toJSON`) only with a four-digit year: one
 * from year 10000 on (unix microseconds taken for milliseconds) would fail the wallet's every batch.
 */
const EARLIEST_TIME = Date.parse('0001-01-01T00:00:00.000Z')

/** A time Postgres stores: unix milliseconds, or a date string, from year 1 to 9999. */
export function isTime(value: unknown): boolean {
  if (typeof value !== 'number' && typeof value !== 'string') return false
  const ms = new Date(value).getTime()
  return Number.isFinite(ms) && ms >= EARLIEST_TIME && ms < FIRST_UNSTORABLE_TIME_MS
}

/**
 * PROTOCOL.md §7 names no data fields for OrderModified (the sandbox sends the new price, size and
 * revision): one carrying none of them says only that the order changed, and the order is read back.
 */
export function saysOnlyModified(event: EventFields): boolean {
  if (event.type !== 'OrderModified') return false
  const data = (typeof event.data === 'object' && event.data !== null ? event.data : {}) as Record<string, unknown>
  return data.price === undefined && data.size === undefined && data.revision === undefined
}
