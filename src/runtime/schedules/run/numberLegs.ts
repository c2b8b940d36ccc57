import { Side } from '../../../core/eip712/types.js'
import type { RebalanceLeg } from '../../../core/rebalance/types.js'
import type { RunLeg } from '../../../store/schema/index.js'

export type NumberedLegs = {
  /** The legs to place, each under a number no leg of the run holds yet. */
  place: RebalanceLeg[]
  /** Legs of an asset the run already traded the other way, with that earlier leg. */
  alreadyTraded: { leg: RebalanceLeg; earlier: RunLeg }[]
}

/**
 * Which of a stage's legs a run may still place, and under which number. A leg's number (its
 * asset's place among the spec's targets) keys its intent and its cloid, but an edit of the targets
 * between a run's stages gives the assets other places: so the run's legs are matched by asset. A
 * leg of an asset the run already traded the same way is that leg again (left out), the other way
 * is not placed (a run trades an asset one way only); a leg whose number another asset's leg of the
 * run holds takes the next number free. Legs already written keep their numbers, and so their cloids.
 */
export function numberLegs(written: readonly RunLeg[], legs: readonly RebalanceLeg[]): NumberedLegs {
  const byAsset = new Map(written.map((leg) => [leg.asset, leg]))
  const taken = new Set(written.map((leg) => leg.leg))
  let free = Math.max(-1, ...written.map((leg) => leg.leg), ...legs.map((leg) => leg.leg)) + 1
  const place: RebalanceLeg[] = []
  const alreadyTraded: NumberedLegs['alreadyTraded'] = []
  for (const leg of legs) {
    const earlier = byAsset.get(leg.asset)
    if (earlier) {
      if (earlier.side !== (leg.side === Side.buy ? 'buy' : 'sell')) alreadyTraded.push({ leg, earlier })
      continue
    }
    const number = taken.has(leg.leg) ? free++ : leg.leg
    taken.add(number)
    place.push(number === leg.leg ? leg : { ...leg, leg: number })
  }
  return { place, alreadyTraded }
}
