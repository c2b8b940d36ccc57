import { ValidationError } from '../errors/ValidationError.js'
import { ONE } from '../money/decimal.js'
import { floorToStep } from '../money/increments.js'
import { legNotional } from './legNotional.js'
import type { LegLimit, RebalanceAdjustment, RebalanceLeg } from './types.js'

export type ScaleLegsParameters = {
  legs: readonly RebalanceLeg[]
  /** Most total notional the legs may carry. */
  budget: bigint
  /** Lot size per market name. */
  lots: ReadonlyMap<string, bigint>
  minTradeNotional: bigint
  reason: LegLimit
}

export type ScaleLegsResult = {
  legs: RebalanceLeg[]
  /** Legs scaled below one lot or `minTradeNotional`, as they were before scaling. */
  dropped: RebalanceLeg[]
  /** Present when the legs asked for more than the budget. */
  adjustment?: RebalanceAdjustment
}

/**
 * Scales legs down proportionally so their total notional fits `budget`. Each leg
 * gets the budget share its notional asked for, rounded down, and the largest lot
 * multiple whose notional fits that share, so the total never exceeds the budget
 * even after rounding. Order is kept; scaled legs record `reason`.
 */
export function scaleLegs({ legs, budget, lots, minTradeNotional, reason }: ScaleLegsParameters): ScaleLegsResult {
  const requested = legs.reduce((sum, leg) => sum + leg.notional, 0n)
  if (requested <= budget) return { legs: [...legs], dropped: [] }
  const kept: RebalanceLeg[] = []
  const dropped: RebalanceLeg[] = []
  for (const leg of legs) {
    const lot = lots.get(leg.market)
    if (lot === undefined) throw new ValidationError('markets', `must include ${leg.market}, which a leg trades`)
    const share = (leg.notional * budget) / requested
    const fitting = floorToStep((share * ONE) / leg.price, lot)
    const size = fitting < leg.size ? fitting : leg.size
    const notional = legNotional(leg.side, size, leg.price)
    if (size === 0n || notional < minTradeNotional) {
      dropped.push(leg)
      continue
    }
    kept.push(size === leg.size ? leg : { ...leg, size, notional, limitedBy: [...leg.limitedBy, reason] })
  }
  const resultingNotional = kept.reduce((sum, leg) => sum + leg.notional, 0n)
  return { legs: kept, dropped, adjustment: { reason, requestedNotional: requested, budget, resultingNotional } }
}
