import { describe, expect, it } from 'vitest'
import { Side } from '../../../src/core/eip712/types.js'
import { ValidationError } from '../../../src/core/errors/ValidationError.js'
import { formatAmount } from '../../../src/core/money/decimal.js'
import { buyBudget, computeRebalance } from '../../../src/core/rebalance/computeRebalance.js'
import { parseScheduleSpec } from '../../../src/core/rebalance/parseScheduleSpec.js'
import { amt, marks, markets, spec } from './fixtures.js'

const weights = (rows: { asset: string; weight: bigint }[]): Record<string, string> =>
  Object.fromEntries(rows.map((row) => [row.asset, formatAmount(row.weight)]))

describe('computeRebalance', () => {
  it('places no legs for a portfolio already within the band', () => {
    // ETH 5100 / USD 4900 of 10000: 0.51 against 0.5, inside 0.02
    const result = computeRebalance({ balances: { USD: amt('4900'), ETH: amt('2.55') }, marks, markets, spec: spec({ ETH: '0.5', USD: '0.5' }) })
    expect(result.legs).toEqual([])
    expect(result.skipped).toEqual([])
    expect(result.portfolioValue).toBe(amt('10000'))
    expect(weights(result.before)).toEqual({ ETH: '0.51', USD: '0.49' })
    expect(result.after).toEqual(result.before)
  })

  it('buys ETH from all-USD for 50/50, size rounded down to the lot and price up to the tick', () => {
    const result = computeRebalance({
      balances: { USD: amt('10000') },
      marks: { 'ETH-USD': amt('2000.37') },
      markets,
      spec: spec({ ETH: '0.5', USD: '0.5' }, { limitOffsetBps: 50 }),
    })
    // target 5000 / 2000.37 = 2.4995376 ETH → 2.499; 2000.37 × 1.005 = 2010.37185 → 2010.38
    expect(result.legs).toEqual([
      {
        leg: 0,
        asset: 'ETH',
        market: 'ETH-USD',
        side: Side.buy,
        size: amt('2.499'),
        price: amt('2010.38'),
        notional: amt('5023.93962'),
        mark: amt('2000.37'),
        idealSize: amt('2.499'),
        limitedBy: [],
      },
    ])
    expect(result.skipped).toEqual([])
    expect(result.adjustments).toEqual([])
    expect(result.before).toEqual([
      { asset: 'ETH', balance: 0n, value: 0n, weight: 0n, target: amt('0.5') },
      { asset: 'USD', balance: amt('10000'), value: amt('10000'), weight: amt('1'), target: amt('0.5') },
    ])
    // filled at the limit: ETH worth 2.499 × 2000.37 = 4998.92463, USD 10000 − 5023.93962
    const [eth, usd] = result.after
    expect(eth).toMatchObject({ balance: amt('2.499'), value: amt('4998.92463') })
    expect(usd).toMatchObject({ balance: amt('4976.06038'), value: amt('4976.06038') })
    expect(result.projectedValue).toBe(amt('9974.98501'))
    expect(eth!.weight).toBeLessThanOrEqual(amt('0.5') + amt('0.003'))
  })

  it('accepts the spec parseScheduleSpec returns', () => {
    const parsed = parseScheduleSpec({
      targets: { ETH: '0.5', USD: '0.5' },
      cron: '0 9 * * 1',
      timeZone: 'UTC',
      toleranceBand: '0.02',
      minTradeNotional: '10',
      limitOffsetBps: 0,
    })
    const result = computeRebalance({ balances: { USD: amt('10000') }, marks, markets, spec: parsed })
    expect(result.legs.map((l) => [l.side, formatAmount(l.size), formatAmount(l.price)])).toEqual([[Side.buy, '2.5', '2000']])
  })

  it('rotates ETH into BTC: sells first, and the sell proceeds fund the buy', () => {
    const result = computeRebalance({ balances: { ETH: amt('5') }, marks, markets, spec: spec({ ETH: '0', BTC: '1' }) })
    expect(result.legs.map((l) => ({ leg: l.leg, asset: l.asset, side: l.side, size: formatAmount(l.size), price: formatAmount(l.price), notional: formatAmount(l.notional) }))).toEqual([
      { leg: 1, asset: 'ETH', side: Side.sell, size: '5', price: '2000', notional: '10000' },
      // 10000 / 60000 = 0.16666… → 0.1666 BTC
      { leg: 0, asset: 'BTC', side: Side.buy, size: '0.1666', price: '60000', notional: '9996' },
    ])
    expect(result.adjustments).toEqual([])
    expect(weights(result.after)).toEqual({ BTC: '0.9996', ETH: '0', USD: '0.0004' })
  })

  it('scales buys down when the limit offset makes them cost more than quote plus sell proceeds', () => {
    const result = computeRebalance({ balances: { ETH: amt('5') }, marks, markets, spec: spec({ ETH: '0', BTC: '1' }, { limitOffsetBps: 100 }) })
    const [sell, buy] = result.legs
    // 5 ETH at 1980 yields 9900; 0.1666 BTC at 60600 would cost 10095.96
    expect(sell).toMatchObject({ side: Side.sell, size: amt('5'), price: amt('1980'), notional: amt('9900') })
    // 9900 / 60600 = 0.163366… → 0.1633 BTC costing 9895.98
    expect(buy).toMatchObject({ side: Side.buy, size: amt('0.1633'), idealSize: amt('0.1666'), price: amt('60600'), notional: amt('9895.98'), limitedBy: ['insufficientQuote'] })
    expect(result.adjustments).toEqual([
      { reason: 'insufficientQuote', requestedNotional: amt('10095.96'), budget: amt('9900'), resultingNotional: amt('9895.98') },
    ])
    const usdAfter = result.after.find((row) => row.asset === 'USD')
    expect(usdAfter?.balance).toBe(amt('4.02'))
  })

  it('drops a buy the quote cannot fund as insufficientQuote', () => {
    // USD 1000 held but only 100 spendable: the 0.0166 BTC buy (996) scales to 0.0016 (96), under minTradeNotional 200
    const funded = computeRebalance({
      balances: { USD: amt('1000') },
      available: { USD: amt('100') },
      marks,
      markets,
      spec: spec({ BTC: '1' }, { minTradeNotional: amt('200') }),
    })
    expect(funded.legs).toEqual([])
    expect(funded.skipped).toMatchObject([{ asset: 'BTC', reason: 'insufficientQuote', proposed: { size: amt('0.0166') } }])
  })

  it('skips dust: a leg under minTradeNotional, and one under a lot', () => {
    // ETH worth 4990 of 10000 against 0.5 with no band: buy 0.005 ETH = 10 USD < 25
    const small = computeRebalance({
      balances: { USD: amt('5010'), ETH: amt('2.495') },
      marks,
      markets,
      spec: spec({ ETH: '0.5', USD: '0.5' }, { toleranceBand: 0n, minTradeNotional: amt('25') }),
    })
    expect(small.legs).toEqual([])
    expect(small.skipped).toMatchObject([{ asset: 'ETH', reason: 'dust', detail: 'notional 10 is below minTradeNotional 25', proposed: { size: amt('0.005'), notional: amt('10') } }])

    // 0.0008 ETH short of target, under the 0.001 lot
    const underLot = computeRebalance({
      balances: { USD: amt('5001.6'), ETH: amt('2.4992') },
      marks,
      markets,
      spec: spec({ ETH: '0.5', USD: '0.5' }, { toleranceBand: 0n, minTradeNotional: 0n }),
    })
    expect(underLot.legs).toEqual([])
    expect(underLot.skipped).toEqual([{ asset: 'ETH', reason: 'dust', detail: 'the trade is less than one lot (lot 0.001)' }])
  })

  it('reports a weight that cannot be reached and leaves it in USD', () => {
    const result = computeRebalance({
      balances: { USD: amt('10000'), SOL: amt('3') },
      marks,
      markets,
      spec: spec({ ETH: '0.5', SOL: '0.5' }),
    })
    expect(result.skipped).toEqual([{ asset: 'SOL', reason: 'noMarket', detail: 'no SOL-USD market: target weight 0.5 cannot be reached and stays in USD' }])
    expect(result.legs).toMatchObject([{ asset: 'ETH', side: Side.buy, size: amt('2.5'), leg: 0 }])
    expect(result.portfolioValue).toBe(amt('10000'))
    expect(weights(result.after)).toEqual({ ETH: '0.5', USD: '0.5' })
  })

  it('skips a market without a mark, and one with an unusable lot', () => {
    const result = computeRebalance({
      balances: { USD: amt('10000') },
      marks: { 'ETH-USD': amt('2000') },
      markets: [...markets, { market: 'SOL-USD', base: 'SOL', quote: 'USD', tickSize: amt('0.01'), lotSize: 0n }],
      spec: spec({ ETH: '0.4', BTC: '0.3', SOL: '0.3' }),
    })
    expect(result.skipped.map((s) => [s.asset, s.reason])).toEqual([
      ['BTC', 'noMark'],
      ['SOL', 'noMarket'],
    ])
    expect(result.legs.map((l) => [l.asset, l.leg])).toEqual([['ETH', 1]])
  })

  it('trades nothing while a targeted asset the wallet holds has no mark: the others\' weights are unknown', () => {
    // On target at 30 / 30 / 40 of 100,000. Without BTC's mark, ETH's 30,000 would read as 43% of a
    // 70,000 portfolio and be sold down to 21,000 (and bought back once the mark returned).
    const targets = spec({ ETH: '0.3', BTC: '0.3', USD: '0.4' })
    const noMark = computeRebalance({ balances: { USD: amt('40000'), ETH: amt('15'), BTC: amt('0.5') }, marks: { 'ETH-USD': amt('2000') }, markets, spec: targets })
    expect(noMark.legs).toEqual([])
    expect(noMark.skipped).toEqual([
      { asset: 'BTC', reason: 'noMark', detail: 'no mark for BTC-USD: target weight 0.3 cannot be reached and stays in USD' },
      { asset: 'BTC', reason: 'unvalued', detail: 'BTC is held (0.5) but BTC-USD has no mark to value it: the weights of the others are unknown, so nothing is traded' },
    ])
    // Not held: its weight stays in USD, and the rest trades.
    const notHeld = computeRebalance({ balances: { USD: amt('70000'), ETH: amt('10') }, marks: { 'ETH-USD': amt('2000') }, markets, spec: targets })
    expect(notHeld.legs).toMatchObject([{ asset: 'ETH', side: Side.buy }])
  })

  it('skips a leg whose tick is so coarse that its limit price lands more than 10 bps past limitOffsetBps', () => {
    const coarse = { market: 'XYZ-USD', base: 'XYZ', quote: 'USD', tickSize: amt('1'), lotSize: amt('1') }
    const run = (mark: string) => computeRebalance({
      balances: { USD: amt('10000') }, marks: { ...marks, 'XYZ-USD': amt(mark) }, markets: [...markets, coarse],
      spec: spec({ XYZ: '0.5', USD: '0.5' }, { limitOffsetBps: 10 }),
    })
    // At 1.5 the buy would be priced 2: 3,334 bps above the mark where 10 were allowed.
    expect(run('1.5').legs).toEqual([])
    expect(run('1.5').skipped).toEqual([{ asset: 'XYZ', reason: 'tickTooCoarse', detail: 'tick 1 puts the limit price at 2, 3334 bps from the mark 1.5, beyond limitOffsetBps 10 + 10' }])
    // At 2,000.5 the same tick puts it 13 bps from the mark (rounded up), within 10 + 10: the buy goes at 2,003.
    expect(run('2000.5').legs).toMatchObject([{ asset: 'XYZ', side: Side.buy, price: amt('2003'), size: amt('2') }])
  })

  it('leaves held assets that are not targets alone and outside the portfolio value', () => {
    const result = computeRebalance({
      balances: { USD: amt('10000'), DOGE: amt('1000') },
      marks: { ...marks, 'DOGE-USD': amt('0.1') },
      markets: [...markets, { market: 'DOGE-USD', base: 'DOGE', quote: 'USD', tickSize: amt('0.0001'), lotSize: amt('1') }],
      spec: spec({ ETH: '0.5', USD: '0.5' }),
    })
    expect(result.skipped).toEqual([{ asset: 'DOGE', reason: 'untargeted', detail: '1000 held but not a target: left untouched' }])
    expect(result.portfolioValue).toBe(amt('10000'))
    expect(result.before.map((r) => r.asset)).toEqual(['ETH', 'USD'])
    expect(result.legs.map((l) => l.asset)).toEqual(['ETH'])
  })

  it('places nothing for an empty portfolio', () => {
    const result = computeRebalance({ balances: { USD: 0n }, marks, markets, spec: spec({ ETH: '0.5', USD: '0.5' }) })
    expect(result.legs).toEqual([])
    expect(result.skipped).toMatchObject([{ reason: 'emptyPortfolio' }])
    expect(result.portfolioValue).toBe(0n)
    expect(result.before.every((r) => r.weight === 0n)).toBe(true)
  })

  it('never sells more than is available when other orders reserve part of the holding', () => {
    const result = computeRebalance({
      balances: { ETH: amt('5') },
      available: { ETH: amt('1.2345') },
      marks,
      markets,
      spec: spec({ ETH: '0', USD: '1' }),
    })
    expect(result.legs).toMatchObject([{ asset: 'ETH', side: Side.sell, size: amt('1.234') }])
  })

  it('a sell keeps at least the target value when the mark does not divide it', () => {
    // 1-wei lot so only the keep rounding decides: V = 31, target 15.5, keep ⌈15.5 / 3⌉ = 5.166…667
    const result = computeRebalance({
      balances: { USD: amt('1'), XYZ: amt('10') },
      marks: { 'XYZ-USD': amt('3') },
      markets: [{ market: 'XYZ-USD', base: 'XYZ', quote: 'USD', tickSize: amt('0.01'), lotSize: 1n }],
      spec: spec({ XYZ: '0.5', USD: '0.5' }, { toleranceBand: 0n, minTradeNotional: 0n }),
    })
    expect(result.legs).toMatchObject([{ side: Side.sell, size: amt('4.833333333333333333') }])
    expect(result.after.find((r) => r.asset === 'XYZ')?.value).toBe(amt('15.500000000000000001'))
  })

  it('sells the whole holding for a target of 0, at any mark', () => {
    const result = computeRebalance({ balances: { ETH: amt('1.234') }, marks: { 'ETH-USD': amt('1999.999999999999999999') }, markets, spec: spec({ ETH: '0', USD: '1' }) })
    expect(result.legs).toMatchObject([{ side: Side.sell, size: amt('1.234') }])
  })

  it('scales every leg proportionally to maxNotionalPerRun and records it', () => {
    const result = computeRebalance({ balances: { ETH: amt('5') }, marks, markets, spec: spec({ ETH: '0', BTC: '1' }, { maxNotionalPerRun: amt('5000') }) })
    // asked 10000 + 9996 = 19996; shares 2500.50… and 2499.49… → 1.25 ETH and 0.0416 BTC
    expect(result.legs.map((l) => [l.asset, formatAmount(l.size), formatAmount(l.notional), l.limitedBy])).toEqual([
      ['ETH', '1.25', '2500', ['maxNotionalPerRun']],
      ['BTC', '0.0416', '2496', ['maxNotionalPerRun']],
    ])
    expect(result.adjustments).toEqual([{ reason: 'maxNotionalPerRun', requestedNotional: amt('19996'), budget: amt('5000'), resultingNotional: amt('4996') }])
    expect(result.legs.map((l) => l.idealSize)).toEqual([amt('5'), amt('0.1666')])
  })

  it('drops a leg that maxNotionalPerRun shrinks into dust', () => {
    const result = computeRebalance({
      balances: { USD: amt('10000'), ETH: amt('2') },
      marks,
      markets,
      // ETH 4000 of 14000 → sell to 0.2 (2800): 1200; BTC 0 → 0.5 (7000)
      spec: spec({ ETH: '0.2', BTC: '0.5', USD: '0.3' }, { maxNotionalPerRun: amt('1000'), minTradeNotional: amt('200') }),
    })
    expect(result.legs.map((l) => l.asset)).toEqual(['BTC'])
    expect(result.skipped).toMatchObject([{ asset: 'ETH', reason: 'maxNotionalPerRun', proposed: { size: amt('0.6') } }])
    expect(result.legs[0]!.notional).toBeLessThanOrEqual(amt('1000'))
  })

  it('keeps each asset on the same leg index whatever the balances, so re-runs reuse idempotency keys', () => {
    const targets = spec({ BTC: '0.3', ETH: '0.3', SOL: '0.2', USD: '0.2' })
    const balances: Record<string, bigint>[] = [{ USD: amt('10000') }, { ETH: amt('5') }, { BTC: amt('1'), USD: amt('1') }]
    const runs = balances.map((balances) =>
      computeRebalance({ balances, marks, markets, spec: targets }),
    )
    for (const run of runs) {
      for (const leg of run.legs) expect(leg.leg).toBe({ BTC: 0, ETH: 1, SOL: 2 }[leg.asset])
    }
    expect(runs[1]!.legs.map((l) => [l.asset, l.side])).toEqual([
      ['ETH', Side.sell],
      ['BTC', Side.buy],
    ])
  })

  it('rejects malformed inputs with a ValidationError naming the field', () => {
    expect(() => computeRebalance({ balances: { ETH: -1n }, marks, markets, spec: spec({ ETH: '1' }) })).toThrow(ValidationError)
    expect(() => computeRebalance({ balances: { ETH: -1n }, marks, markets, spec: spec({ ETH: '1' }) })).toThrow('balances.ETH')
    expect(() => computeRebalance({ balances: {}, marks, markets: [...markets, markets[0]!], spec: spec({ ETH: '1' }) })).toThrow('must not list ETH-USD twice')
    expect(() => computeRebalance({ balances: {}, marks, markets, spec: spec({ ETH: '1' }, { limitOffsetBps: 2.5 }) })).toThrow('limitOffsetBps')
  })

  it('keeps the fee reserve out of what buys may spend, on the quote held and on the sells\' proceeds', () => {
    // 10 bps: 10,000 USD held pays buys of 10,000 / 1.001; 1,000 of proceeds arrive as 999 first.
    expect(buyBudget(amt('10000'), 0n, 10)).toBe((amt('10000') * 10_000n) / 10_010n)
    expect(buyBudget(0n, amt('1000'), 10)).toBe((amt('1000') * 9_990n) / 10_010n)
    expect(buyBudget(amt('10000'), amt('1000'), 0)).toBe(amt('11000'))
    const all = computeRebalance({ balances: { USD: amt('10000') }, marks, markets, spec: spec({ ETH: '1' }), feeReserveBps: 10 })
    const [buy] = all.legs
    expect(buy!.notional * 10_010n).toBeLessThanOrEqual(amt('10000') * 10_000n)
    expect(all.adjustments).toMatchObject([{ reason: 'insufficientQuote', budget: buyBudget(amt('10000'), 0n, 10) }])
    expect(() => computeRebalance({ balances: { USD: amt('1') }, marks, markets, spec: spec({ ETH: '1' }), feeReserveBps: 1_001 }))
      .toThrow(expect.objectContaining({ field: 'feeReserveBps' }) as unknown as Error)
  })

  it('after the sells went first, proposes only buys, and counts no proceeds of a sell it will not place', () => {
    // Still 1.75 ETH against a target of 1: a sell would be proposed again (and its proceeds counted).
    const both = computeRebalance({ balances: { ETH: amt('1.75'), USD: amt('499.5') }, marks, markets, spec: spec({ ETH: '0.5', BTC: '0.5' }) })
    expect(both.legs.map((leg) => leg.side)).toEqual([Side.sell, Side.buy])
    const buys = computeRebalance({ balances: { ETH: amt('1.75'), USD: amt('499.5') }, marks, markets, spec: spec({ ETH: '0.5', BTC: '0.5' }), only: 'buys' })
    expect(buys.legs.map((leg) => [leg.asset, leg.side])).toEqual([['BTC', Side.buy]])
    expect(buys.legs[0]!.notional).toBeLessThanOrEqual(amt('499.5'))
  })
})
