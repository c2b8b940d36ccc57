import { ValidationError } from '../errors/ValidationError.js'
import { formatAmount, parseAmount, parsePositiveAmount, parseSignedAmount } from '../money/decimal.js'
import { MAX_REVISION, isCount, isTime } from './eventProblem.js'

const cloidPattern = /^0x[0-9a-fA-F]{32}$/
const statuses: readonly unknown[] = ['open', 'partiallyFilled', 'filled', 'cancelled']

/**
 * Why the operator's read of one order (PROTOCOL.md §6) cannot be applied, or undefined when it
 * can: a field the reconciler parses or stores is missing or malformed (a `filled` that is not a
 * decimal or above the size, a status the protocol does not name, a revision too large for Postgres). As with an
 * event (`eventProblem`), such a read would fail every time it is applied, and with it the sweep of
 * the whole wallet: the order is passed over instead, and the rest of the wallet reconciled.
 * `side` is not checked: reads carry it as null when unknown (`withSide`).
 */
export function orderReadProblem(order: unknown): string | undefined {
  return problemOf(() => {
    const read = fieldsOf(order)
    cloidOf(read)
    if (!statuses.includes(read.status)) throw new ValidationError('status', 'must be open, partiallyFilled, filled or cancelled')
    parsePositiveAmount('price', read.price)
    const size = parsePositiveAmount('size', read.size)
    // The operator fills an order up to its size (a modify's size is the new total, above what filled):
    // more says the read is wrong, status included (a `filled` order with nothing filled here).
    const filled = parseAmount('filled', read.filled)
    if (filled > size) throw new ValidationError('filled', `must not exceed the size (${formatAmount(filled)} > ${formatAmount(size)})`)
    // Stored as a 32-bit integer (orders.venue_revision).
    if (!isCount(read.revision, MAX_REVISION)) throw new ValidationError('revision', `must be an integer from 0 to ${MAX_REVISION}`)
    if (typeof read.orderId !== 'string' && typeof read.orderId !== 'number') throw new ValidationError('orderId', 'must be a string')
    if (typeof read.market !== 'string' || read.market.length === 0) throw new ValidationError('market', 'must be a non-empty string')
  })
}

/** Why the operator's read of one fill (`GET /v1/fills`) cannot be recorded, or undefined when it can. */
export function fillReadProblem(fill: unknown): string | undefined {
  return problemOf(() => {
    const read = fieldsOf(fill)
    cloidOf(read)
    if (typeof read.fillId !== 'string' || read.fillId.length === 0) throw new ValidationError('fillId', 'must be a non-empty string')
    if (typeof read.market !== 'string') throw new ValidationError('market', 'must be a string')
    parsePositiveAmount('price', read.price)
    parsePositiveAmount('size', read.size)
    // A maker rebate is a negative fee.
    parseSignedAmount('fee', read.fee)
    // Stored as a bigint, and as a JavaScript number on the way.
    if (!isCount(read.seq, Number.MAX_SAFE_INTEGER)) throw new ValidationError('seq', 'must be a non-negative integer')
    if (!isTime(read.at)) throw new ValidationError('at', 'must be a time (unix milliseconds)')
  })
}

/** The client order id a read names, when it names one that can be matched (else null). */
export function readClientOrderId(read: unknown): string | null {
  const cloid = typeof read === 'object' && read !== null ? (read as { clientOrderId?: unknown }).clientOrderId : undefined
  return typeof cloid === 'string' && cloidPattern.test(cloid) ? cloid.toLowerCase() : null
}

function fieldsOf(read: unknown): Record<string, unknown> {
  if (typeof read !== 'object' || read === null || Array.isArray(read)) throw new ValidationError('read', 'must be an object')
  return read as Record<string, unknown>
}

function cloidOf(read: Record<string, unknown>): void {
  if (readClientOrderId(read) === null) throw new ValidationError('clientOrderId', 'must be 16 bytes of 0x-hex')
}

function problemOf(check: () => void): string | undefined {
  try {
    check()
  } catch (error) {
    if (error instanceof ValidationError) return error.message
    throw error
  }
  return undefined
}
