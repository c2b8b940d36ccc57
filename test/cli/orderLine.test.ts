import { describe, expect, it } from 'vitest'
import { orderLine } from '../../src/cli/commands/orders.js'
import type { OrderDto } from '../../src/cli/types.js'

const order: OrderDto = {
  id: '11111111-1111-4111-8111-111111111111', walletId: '22222222-2222-4222-8222-222222222222', clientOrderId: `0x${'ab'.repeat(16)}`,
  clientRef: null, scheduleId: null, market: 'ETH-USD', side: 'buy', price: '1700', size: '0.2', timeInForce: 'GTC', state: 'open',
  filled: '0', averagePrice: null, fees: '0', venueOrderId: 'V-1', sessionId: null, cancelReason: null, replacedBy: null, rejectCode: null, rejectReason: null,
  adoptedAt: null, createdAt: '2026-12-04T10:00:00.000Z', updatedAt: '2026-12-04T10:00:00.000Z',
}

describe('the CLI line for an order', () => {
  it('shows why a cancelled order ended and which order a rotation placed in its stead', () => {
    expect(orderLine(order)).toBe(`order ${order.id}  buy 0.2 ETH-USD @ 1700 GTC  open`)
    const replacement = '33333333-3333-4333-8333-333333333333'
    expect(orderLine({ ...order, state: 'cancelled', cancelReason: 'sessionRevoked', filled: '0.05', averagePrice: '1700', replacedBy: replacement }))
      .toBe(`order ${order.id}  buy 0.2 ETH-USD @ 1700 GTC  cancelled (sessionRevoked)  filled 0.05 avg 1700  replaced by ${replacement}`)
  })

  it('says an order was adopted (not placed by Deputy), its time in force unknown', () => {
    expect(orderLine({ ...order, timeInForce: null, adoptedAt: '2026-12-04T10:00:00.000Z' }))
      .toBe(`order ${order.id}  buy 0.2 ETH-USD @ 1700 TIF unknown  open  adopted (not placed by Deputy)`)
  })

  it("keeps the operator's reject reason on the order's line", () => {
    // The operator's text: a line feed in it must not print a line of its own.
    expect(orderLine({ ...order, state: 'rejected', rejectCode: 'InvalidRequest', rejectReason: 'bad price\norder 4444  buy 9 ETH-USD @ 1 GTC  filled' }))
      .toBe(`order ${order.id}  buy 0.2 ETH-USD @ 1700 GTC  rejected  (InvalidRequest: bad price\\norder 4444  buy 9 ETH-USD @ 1 GTC  filled)`)
  })
})
