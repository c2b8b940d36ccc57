import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Side } from '../../../src/core/eip712/types.js'
import { BPS, ONE } from '../../../src/core/money/decimal.js'
import { type ComputeRebalanceParameters, computeRebalance } from '../../../src/core/rebalance/computeRebalance.js'
import type { RebalanceMarket } from '../../../src/core/rebalance/types.js'

const tradable = ['BTC', 'ETH', 'SOL'] as const
// XYZ has no market: its weight is unreachable.
const pool = [...tradable, 'XYZ', 'USD'] as const
const pow10 = (k: number): bigint => 10n ** BigInt(k)

const amount = (max: bigint) => fc.oneof({ weight: 1, arbitrary: fc.constant(0n) }, { weight: 4, arbitrary: fc.bigInt(1n, max) })

/** Random weights over a non-empty subset of the pool, with at least one non-quote asset, summing to exactly ONE. */
const targetsArb = fc
  .subarray([...pool], { minLength: 1 })
  .filter((assets) => assets.some((a) => a !== 'USD'))
  .chain((assets) =>
    fc.array(fc.oneof(fc.constant(0n), fc.bigInt(1n, 1000n)), { minLength: assets.length, maxLength: assets.length }).map((raw) => {
      const total = raw.reduce((a, b) => a + b, 0n)
      const weights = total === 0n ? raw.map((_, i) => (i === 0 ? ONE : 0n)) : raw.map((r) => (r * ONE) / total)
      const sum = weights.reduce((a, b) => a + b, 0n)
      weights[weights.length - 1]! += ONE - sum
      return Object.fromEntries(assets.map((asset, i) => [asset, weights[i]!]))
    }),
  )

const marketArb = (asset: string) =>
  fc.record({
    market: fc.constant(`${asset}-USD`),
    base: fc.constant(asset),
    quote: fc.constant('USD'),
    tickSize: fc.integer({ min: 8, max: 18 }).map(pow10),
    lotSize: fc.integer({ min: 10, max: 18 }).map(pow10),
  })

const scenarioArb: fc.Arbitrary<ComputeRebalanceParameters> = fc
  .record({
    markets: fc.tuple(...tradable.map(marketArb)),
    marks: fc.tuple(...tradable.map(() => fc.bigInt(pow10(15), pow10(24)))),
    balances: fc.tuple(...pool.map(() => amount(pow10(24)))),
    availableShare: fc.option(fc.tuple(...pool.map(() => fc.bigInt(0n, 100n))), { nil: undefined }),
    targets: targetsArb,
    toleranceBand: fc.oneof(fc.constant(0n), fc.bigInt(0n, ONE / 10n)),
    minTradeNotional: fc.oneof(fc.constant(0n), fc.bigInt(0n, 100n * ONE)),
    limitOffsetBps: fc.integer({ min: 0, max: 1000 }),
    maxNotionalPerRun: fc.option(fc.bigInt(1n, pow10(24)), { nil: undefined }),
    feeReserveBps: fc.option(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 1000 })), { nil: undefined }),
    only: fc.option(fc.constant('buys' as const), { nil: undefined, freq: 4 }),
  })
  .map((s) => {
    const balances = Object.fromEntries(pool.map((asset, i) => [asset, s.balances[i]!]))
    return {
      balances,
      available: s.availableShare && Object.fromEntries(pool.map((asset, i) => [asset, (balances[asset]! * s.availableShare![i]!) / 100n])),
      marks: Object.fromEntries(tradable.map((asset, i) => [`${asset}-USD`, s.marks[i]!])),
      markets: s.markets as RebalanceMarket[],
      ...(s.feeReserveBps === undefined ? {} : { feeReserveBps: s.feeReserveBps }),
      ...(s.only === undefined ? {} : { only: s.only }),
      spec: {
        targets: s.targets,
        toleranceBand: s.toleranceBand,
        minTradeNotional: s.minTradeNotional,
        limitOffsetBps: s.limitOffsetBps,
        ...(s.maxNotionalPerRun === undefined ? {} : { maxNotionalPerRun: s.maxNotionalPerRun }),
      },
    }
  })

const abs = (x: bigint): bigint => (x < 0n ? -x : x)
const runs = { numRuns: 400 }

describe('computeRebalance properties', () => {
  it('sizes are lot multiples, prices tick multiples on the marketable side, one leg per asset, sells first', () => {
    fc.assert(
      fc.property(scenarioArb, (input) => {
        const { legs } = computeRebalance(input)
        const nonQuote = Object.keys(input.spec.targets).filter((a) => a !== 'USD').sort()
        for (const leg of legs) {
          const market = input.markets.find((m) => m.market === leg.market)!
          expect(leg.market).toBe(`${leg.asset}-USD`)
          expect(leg.size > 0n && leg.size % market.lotSize === 0n).toBe(true)
          expect(leg.price > 0n && leg.price % market.tickSize === 0n).toBe(true)
          expect(leg.mark).toBe(input.marks[leg.market])
          if (leg.side === Side.buy) expect(leg.price >= leg.mark).toBe(true)
          else expect(leg.price <= leg.mark).toBe(true)
          expect(leg.size <= leg.idealSize).toBe(true)
          expect(leg.leg).toBe(nonQuote.indexOf(leg.asset))
        }
        expect(new Set(legs.map((l) => l.asset)).size).toBe(legs.length)
        const sides = legs.map((l) => l.side)
        expect(sides).toEqual([...sides].sort((a, b) => b - a))
      }),
      runs,
    )
  })

  it('never sells more than held, never spends more than quote plus sell proceeds, respects the caps', () => {
    fc.assert(
      fc.property(scenarioArb, (input) => {
        const result = computeRebalance(input)
        const spendable = (asset: string): bigint => (input.available ? (input.available[asset] ?? 0n) : (input.balances[asset] ?? 0n))
        const sells = result.legs.filter((l) => l.side === Side.sell)
        const buys = result.legs.filter((l) => l.side === Side.buy)
        for (const sell of sells) expect(sell.size <= spendable(sell.asset)).toBe(true)
        const proceeds = sells.reduce((sum, l) => sum + l.notional, 0n)
        const cost = buys.reduce((sum, l) => sum + l.notional, 0n)
        expect(cost <= spendable('USD') + proceeds).toBe(true)
        // The fee reserve: each buy holds its notional plus its fee, each sell yields its notional less its fee.
        const fee = BigInt(input.feeReserveBps ?? 0)
        expect(cost * (BPS + fee) <= spendable('USD') * BPS + proceeds * (BPS - fee)).toBe(true)
        // The buy stage after the sells: no sell again, and the buys paid from the quote on hand alone.
        if (input.only === 'buys') {
          expect(sells).toEqual([])
          expect(cost * (BPS + fee) <= spendable('USD') * BPS).toBe(true)
        }
        for (const leg of result.legs) expect(leg.notional >= input.spec.minTradeNotional).toBe(true)
        if (input.spec.maxNotionalPerRun !== undefined) {
          expect(proceeds + cost <= input.spec.maxNotionalPerRun).toBe(true)
        }
        for (const row of result.after) expect(row.balance >= 0n).toBe(true)
      }),
      runs,
    )
  })

  it('lot rounding never overshoots: at the mark, a traded asset ends between where it was and its target value', () => {
    fc.assert(
      fc.property(scenarioArb, (input) => {
        const result = computeRebalance(input)
        const V = result.portfolioValue
        for (const leg of result.legs) {
          const before = result.before.find((r) => r.asset === leg.asset)!
          const after = result.after.find((r) => r.asset === leg.asset)!
          const target = input.spec.targets[leg.asset]!
          const targetValue = (target * V) / ONE
          // The leg exists only because the drift exceeded the band, in the leg's direction.
          const drift = before.value * ONE - target * V
          expect(abs(drift) > input.spec.toleranceBand * V).toBe(true)
          expect(leg.side).toBe(drift > 0n ? Side.sell : Side.buy)
          if (leg.side === Side.sell) expect(targetValue <= after.value && after.value < before.value).toBe(true)
          else expect(before.value < after.value && after.value <= targetValue).toBe(true)
        }
        for (const row of result.after) {
          if (row.asset !== 'USD' && !result.legs.some((l) => l.asset === row.asset)) {
            expect(row.balance).toBe(result.before.find((r) => r.asset === row.asset)!.balance)
          }
        }
      }),
      runs,
    )
  })

  it('projected weights are never further from target than before, beyond the limit-offset cost', () => {
    fc.assert(
      fc.property(scenarioArb, (input) => {
        const result = computeRebalance(input)
        const V = result.portfolioValue
        const V2 = result.projectedValue
        if (V === 0n) return
        // Fills at the limit price cost at most the offset: the projected value never grows.
        expect(V2 <= V).toBe(true)
        for (const before of result.before) {
          if (before.asset === 'USD') continue // the quote asset is the residual, never traded itself
          const t = before.target
          if (abs(before.value * ONE - t * V) <= input.spec.toleranceBand * V) continue
          const after = result.after.find((r) => r.asset === before.asset)!
          // |a − t| ≤ |b − t| + (V − V′)/V′ + 1/V′, with a = v′/V′, b = v/V, scaled by ONE·V·V′;
          // (V − V′)/V′ is the share of value the offset costs, 1/V′ one unit of rounding.
          const lhs = abs(after.value * ONE * V - t * V * V2)
          const rhs = abs(before.value * ONE * V2 - t * V * V2) + (V - V2) * ONE * V + ONE * V
          expect(lhs <= rhs).toBe(true)
        }
      }),
      runs,
    )
  })

  it('the generator reaches every path, so the properties above are not vacuous', () => {
    const seen = new Set<string>()
    for (const input of fc.sample(scenarioArb, { numRuns: 400, seed: 7 })) {
      const result = computeRebalance(input)
      for (const leg of result.legs) seen.add(leg.side === Side.buy ? 'buy' : 'sell')
      for (const skip of result.skipped) seen.add(skip.reason)
      for (const adjustment of result.adjustments) seen.add(`adjusted:${adjustment.reason}`)
      if (result.legs.some((l) => l.limitedBy.length > 0)) seen.add('scaled leg')
    }
    expect([...seen].sort()).toEqual(
      ['adjusted:insufficientQuote', 'adjusted:maxNotionalPerRun', 'buy', 'dust', 'emptyPortfolio', 'insufficientQuote', 'maxNotionalPerRun', 'noMark', 'noMarket', 'scaled leg', 'sell', 'tickTooCoarse', 'untargeted'].sort(),
    )
  })

  it('is deterministic', () => {
    fc.assert(
      fc.property(scenarioArb, (input) => {
        expect(computeRebalance(input)).toEqual(computeRebalance(input))
      }),
      { numRuns: 50 },
    )
  })
})
