import { describe, expect, it } from 'vitest'
import { fillReadProblem, orderReadProblem, readClientOrderId } from '../../../src/core/orders/readProblem.js'

const cloid = '0x000102030405060708090A0B0C0D0E0F'
const order = { clientOrderId: cloid, orderId: '7', market: 'ETH-USD', side: 0, price: '2000.5', size: '1', filled: '0', averagePrice: '0', status: 'open', revision: 0, updatedAt: 1 }
const fill = { fillId: '3', seq: '12', clientOrderId: cloid, market: 'ETH-USD', side: 1, price: '2000', size: '0.3', fee: '-0.12', at: 1_700_000_000_000 }

describe('orderReadProblem and fillReadProblem: whether an operator read can be applied', () => {
  it('take well-formed reads (a maker rebate is a negative fee; a side the caller could not read is not theirs to check)', () => {
    expect(orderReadProblem(order)).toBeUndefined()
    expect(orderReadProblem({ ...order, side: null, revision: '3', status: 'partiallyFilled', filled: '0.25' })).toBeUndefined()
    expect(fillReadProblem(fill)).toBeUndefined()
    expect(fillReadProblem({ ...fill, seq: 12, side: null })).toBeUndefined()
  })

  it('name the field that would fail the parse or the write', () => {
    expect(orderReadProblem({ ...order, filled: 'NaN' })).toBe('filled: must be a finite number')
    expect(orderReadProblem({ ...order, price: undefined })).toBe('price: must be a decimal string, got undefined')
    expect(orderReadProblem({ ...order, revision: 2 ** 31 })).toBe(`revision: must be an integer from 0 to ${2 ** 31 - 1}`)
    expect(orderReadProblem({ ...order, filled: '1.5' })).toBe('filled: must not exceed the size (1.5 > 1)')
    expect(orderReadProblem({ ...order, filled: '1', status: 'filled' })).toBeUndefined()
    expect(orderReadProblem({ ...order, status: 'expired' })).toBe('status: must be open, partiallyFilled, filled or cancelled')
    expect(orderReadProblem({ ...order, clientOrderId: 12 })).toBe('clientOrderId: must be 16 bytes of 0x-hex')
    expect(orderReadProblem(null)).toBe('read: must be an object')
    expect(fillReadProblem({ ...fill, fee: '1e3' })).toBe('fee: must not use exponent notation')
    expect(fillReadProblem({ ...fill, at: 'yesterday' })).toBe('at: must be a time (unix milliseconds)')
    expect(fillReadProblem({ ...fill, seq: '-1' })).toBe('seq: must be a non-negative integer')
    expect(fillReadProblem({ ...fill, fillId: '' })).toBe('fillId: must be a non-empty string')
  })

  it('readClientOrderId answers a matchable cloid lower-cased, else null', () => {
    expect(readClientOrderId(order)).toBe(cloid.toLowerCase())
    expect(readClientOrderId({ clientOrderId: '0x12' })).toBeNull()
    expect(readClientOrderId(undefined)).toBeNull()
  })
})
