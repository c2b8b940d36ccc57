import { Side } from '../eip712/types.js'
import { BPS, ONE, formatAmount } from '../money/decimal.js'
import { floorToStep, mulAmount } from '../money/increments.js'
import { legNotional } from './legNotional.js'
import { limitPrice } from './limitPrice.js'
import type { RebalanceLeg, RebalanceMarket, SkippedTarget } from './types.js'

export type ProposeLegParameters = {
  leg: number
  asset: string
  market: RebalanceMarket
  mark: bigint
  /** Total held: what the asset is worth. */
  balance: bigint
  /** Spendable: the most a sell may give up. */
  available: bigint
  target: bigint
  portfolioValue: bigint
  toleranceBand: bigint
  minTradeNotional: bigint
  limitOffsetBps: number
}

export type ProposeLegResult =
  | { kind: 'withinBand' }
  | { kind: 'leg'; leg: RebalanceLeg }
  | { kind: 'skip'; skip: SkippedTarget }

/** How far past `limitOffsetBps` rounding the limit price to the tick may take it, in basis points. */
export const MAX_TICK_ROUNDING_BPS = 10

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b
}

/**
 * The leg that moves one asset towards its target, valued at the mark against the
 * pre-trade portfolio value V. Sizes round down to the lot, away from the target:
 * a sell keeps at least target × V of the asset, a buy ends at most at target × V,
 * so lot rounding never overshoots. The limit offset is a cost, not a sizing input.
 */
export function proposeLeg(p: ProposeLegParameters): ProposeLegResult {
  const value = mulAmount(p.balance, p.mark)
  // Compare in value × ONE units: exact, where floored weights could flip a borderline drift.
  const drift = value * ONE - p.target * p.portfolioValue
  const absDrift = drift < 0n ? -drift : drift
  if (absDrift <= p.toleranceBand * p.portfolioValue) return { kind: 'withinBand' }

  const side = drift > 0n ? Side.sell : Side.buy
  const targetValue = (p.target * p.portfolioValue) / ONE
  const { lotSize, tickSize, market } = p.market
  let size: bigint
  if (side === Side.sell) {
    // The least the asset must keep to stay worth targetValue at the mark.
    const keep = ceilDiv(targetValue * ONE, p.mark)
    const excess = p.balance > keep ? p.balance - keep : 0n
    size = floorToStep(excess < p.available ? excess : p.available, lotSize)
  } else {
    const most = (targetValue * ONE) / p.mark
    size = most > p.balance ? floorToStep(most - p.balance, lotSize) : 0n
  }

  const price = limitPrice({ side, mark: p.mark, offsetBps: p.limitOffsetBps, tickSize })
  if (price === 0n) {
    return { kind: 'skip', skip: { asset: p.asset, reason: 'noMark', detail: `limit price rounds to 0 at tick ${formatAmount(tickSize)} (mark ${formatAmount(p.mark)})` } }
  }
  // Rounding to the tick moves the price away from the mark; a tick coarse against the mark would
  // pay (or give up) far more than the offset the user allowed.
  const offsetBps = ceilDiv((price > p.mark ? price - p.mark : p.mark - price) * BPS, p.mark)
  if (offsetBps > BigInt(p.limitOffsetBps + MAX_TICK_ROUNDING_BPS)) {
    return {
      kind: 'skip',
      skip: { asset: p.asset, reason: 'tickTooCoarse', detail: `tick ${formatAmount(tickSize)} puts the limit price at ${formatAmount(price)}, ${offsetBps} bps from the mark ${formatAmount(p.mark)}, beyond limitOffsetBps ${p.limitOffsetBps} + ${MAX_TICK_ROUNDING_BPS}` },
    }
  }
  if (size === 0n) {
    const why = side === Side.sell && p.available < p.balance && p.available < lotSize ? 'less than one lot is available to sell' : 'the trade is less than one lot'
    return { kind: 'skip', skip: { asset: p.asset, reason: 'dust', detail: `${why} (lot ${formatAmount(lotSize)})` } }
  }
  const leg: RebalanceLeg = {
    leg: p.leg,
    asset: p.asset,
    market,
    side,
    size,
    price,
    notional: legNotional(side, size, price),
    mark: p.mark,
    idealSize: size,
    limitedBy: [],
  }
  if (leg.notional < p.minTradeNotional) {
    return {
      kind: 'skip',
      skip: { asset: p.asset, reason: 'dust', detail: `notional ${formatAmount(leg.notional)} is below minTradeNotional ${formatAmount(p.minTradeNotional)}`, proposed: leg },
    }
  }
  return { kind: 'leg', leg }
}
