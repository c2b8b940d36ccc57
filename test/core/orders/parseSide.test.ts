import { describe, expect, it } from 'vitest'
import { parseSide } from '../../../src/core/orders/parseSide.js'

describe('parseSide: a side read back from the operator', () => {
  it('takes the struct encoding and the words, in any case', () => {
    for (const buy of [0, '0', 'buy', 'BUY', ' Buy ']) expect(parseSide('side', buy)).toBe(0)
    for (const sell of [1, '1', 'sell', 'SELL', 'Sell']) expect(parseSide('side', sell)).toBe(1)
  })

  it('refuses anything else naming the field, rather than reading it as a buy', () => {
    for (const value of ['ask', 'bid', 2, '', null, undefined, true, 'short']) {
      expect(() => parseSide('orders[0].side', value)).toThrow('orders[0].side: must be a side: "buy" or "sell" (or 0 / 1)')
    }
  })
})
