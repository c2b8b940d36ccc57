import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Side } from '../../../src/core/eip712/types.js'
import { parseAmount } from '../../../src/core/money/decimal.js'
import { limitPrice } from '../../../src/core/rebalance/limitPrice.js'

const amt = (s: string): bigint => parseAmount('amount', s)

describe('limitPrice', () => {
  it('offsets a buy above the mark and rounds up to the tick', () => {
    // 2000.37 × 1.005 = 2010.37185 → 2010.38
    expect(limitPrice({ side: Side.buy, mark: amt('2000.37'), offsetBps: 50, tickSize: amt('0.01') })).toBe(amt('2010.38'))
  })

  it('offsets a sell below the mark and rounds down to the tick', () => {
    // 2000.37 × 0.995 = 1990.36815 → 1990.36
    expect(limitPrice({ side: Side.sell, mark: amt('2000.37'), offsetBps: 50, tickSize: amt('0.01') })).toBe(amt('1990.36'))
  })

  it('keeps an exact tick multiple as is, and still rounds a 0 bps mark off the tick outwards', () => {
    expect(limitPrice({ side: Side.buy, mark: amt('60000'), offsetBps: 100, tickSize: amt('0.1') })).toBe(amt('60600'))
    expect(limitPrice({ side: Side.buy, mark: amt('2000.005'), offsetBps: 0, tickSize: amt('0.01') })).toBe(amt('2000.01'))
    expect(limitPrice({ side: Side.sell, mark: amt('2000.005'), offsetBps: 0, tickSize: amt('0.01') })).toBe(amt('2000'))
  })

  it('lets a sell round to 0 when the mark is under one tick', () => {
    expect(limitPrice({ side: Side.sell, mark: amt('0.005'), offsetBps: 0, tickSize: amt('0.01') })).toBe(0n)
  })

  it('is the nearest tick on the marketable side of mark × (1 ± bps)', () => {
    fc.assert(
      fc.property(
        fc.bigInt(1n, 10n ** 26n),
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 0, max: 20 }).map((k) => 10n ** BigInt(k)),
        (mark, bps, tickSize) => {
          const buy = limitPrice({ side: Side.buy, mark, offsetBps: bps, tickSize })
          const sell = limitPrice({ side: Side.sell, mark, offsetBps: bps, tickSize })
          const up = mark * BigInt(10_000 + bps)
          const down = mark * BigInt(10_000 - bps)
          expect(buy % tickSize).toBe(0n)
          expect(sell % tickSize).toBe(0n)
          // buy ≥ mark × (1 + bps) and one tick less would be below it
          expect(buy * 10_000n >= up).toBe(true)
          expect((buy - tickSize) * 10_000n < up).toBe(true)
          // sell ≤ mark × (1 − bps) and one tick more would be above it
          expect(sell * 10_000n <= down).toBe(true)
          expect((sell + tickSize) * 10_000n > down).toBe(true)
          expect(sell >= 0n && buy >= mark && sell <= mark).toBe(true)
        },
      ),
    )
  })
})
