import { describe, expect, it } from 'vitest'
import { UNREADABLE_FRAME, eventProblem } from '../../../src/core/orders/eventProblem.js'

const cloid = `0x${'ab'.repeat(32)}`
const at = 1_764_000_000_000

describe('eventProblem: what makes an operator event impossible to apply', () => {
  it('passes the events PROTOCOL.md describes, and the types it does not read fields of', () => {
    expect(eventProblem({ type: 'OrderFilled', at, clientOrderId: cloid, data: { fillId: 'F1', price: '1990.5', size: '0.2', fee: '0.01', remaining: '0.3' } })).toBeUndefined()
    expect(eventProblem({ type: 'OrderFilled', at: '2026-12-05T10:00:00Z', clientOrderId: cloid, data: { fillId: 'F1', price: '1', size: '1' } })).toBeUndefined()
    expect(eventProblem({ type: 'OrderModified', at, clientOrderId: cloid, data: { price: '1990', size: '2', revision: 1 } })).toBeUndefined()
    expect(eventProblem({ type: 'OrderModified', at, clientOrderId: cloid, data: { price: '1990', size: '2', revision: '3' } })).toBeUndefined()
    for (const type of ['OrderAccepted', 'OrderCancelled', 'OrderRejected']) expect(eventProblem({ type, at: 'whenever', clientOrderId: cloid, data: {} })).toBeUndefined()
    expect(eventProblem({ type: 'SessionRevoked', at, data: { delegation: '0x01' } })).toBeUndefined()
    // PROTOCOL.md §7 names no OrderModified fields: one without any says only that the order changed (read back).
    expect(eventProblem({ type: 'OrderModified', at, clientOrderId: cloid, data: {} })).toBeUndefined()
    expect(eventProblem({ type: 'OrderModified', at, clientOrderId: cloid })).toBeUndefined()
    // Without a cloid nothing of the order is read.
    expect(eventProblem({ type: 'OrderFilled', at, data: {} })).toBeUndefined()
  })

  it('names the field and the rule of a malformed one', () => {
    const modified = (data: Record<string, unknown>) => eventProblem({ type: 'OrderModified', at, clientOrderId: cloid, data: { price: '1990', size: '2', revision: 1, ...data } })
    expect(modified({ price: 'NaN' })).toMatch(/^data\.price: /)
    expect(modified({ size: '0' })).toBe('data.size: must be greater than zero')
    expect(modified({ revision: -1 })).toBe('data.revision: must be an integer from 0 to 2147483647')
    expect(modified({ revision: undefined })).toBe('data.revision: must be an integer from 0 to 2147483647')
    expect(modified({ revision: 2 ** 31 })).toBe('data.revision: must be an integer from 0 to 2147483647')
    const filled = (data: Record<string, unknown>, when: unknown = at) => eventProblem({ type: 'OrderFilled', at: when, clientOrderId: cloid, data: { fillId: 'F1', price: '1990', size: '0.2', fee: '0.01', ...data } })
    // A maker rebate is a negative fee; a fee that is not a decimal is not one.
    expect(filled({ fee: '-0.01' })).toBeUndefined()
    expect(filled({ fee: '--0.01' })).toMatch(/^data\.fee: /)
    expect(filled({ fee: '-1e-2' })).toBe('data.fee: must not use exponent notation')
    expect(filled({ fillId: '' })).toBe('data.fillId: must be a non-empty string')
    expect(filled({ size: 0.2 })).toBe('data.size: must be a decimal string, got number')
    expect(filled({}, 'yesterday')).toBe('at: must be a time (unix milliseconds)')
    // Unix microseconds (year 50000 and more), or a year before 1: Postgres cannot read it back from JSON.
    expect(filled({}, Date.parse('2026-12-05T10:00:00Z') * 1000)).toBe('at: must be a time (unix milliseconds)')
    expect(filled({}, Date.parse('+010000-01-01T00:00:00Z'))).toBe('at: must be a time (unix milliseconds)')
    expect(filled({}, -62135596800001)).toBe('at: must be a time (unix milliseconds)')
    expect(filled({}, Date.parse('9999-12-31T23:59:59.999Z'))).toBeUndefined()
    // A side the fill names must be one: never read as a buy.
    expect(filled({ side: 'ask' })).toBe('data.side: must be a side: "buy" or "sell" (or 0 / 1)')
    expect(filled({ side: 'SELL' })).toBeUndefined()
    expect(eventProblem({ type: 'SessionExpired', at: null, data: {} })).toBe('at: must be a time (unix milliseconds)')
    // What every event must have to be stored and dispatched at all.
    expect(eventProblem({ type: undefined, at, data: {} })).toBe('type: must be a non-empty string')
    expect(eventProblem({ type: 'OrderCancelled', at, clientOrderId: 12345, data: { reason: 'user' } })).toBe('clientOrderId: must be a string')
    expect(eventProblem({ type: 'OrderCancelled', at, clientOrderId: cloid, data: ['user'] })).toBe('data: must be an object')
  })

  it('passes over the stand-in for a frame the stream could not read (UnreadableFrame), saying why', () => {
    expect(eventProblem({ type: UNREADABLE_FRAME, at: undefined, clientOrderId: '0x000000000000000000000000000000aa', data: { problem: 'no seq' } })).toBe('frame: cannot be read, on every replay (no seq)')
  })
})
