import type { Db } from '../../store/Database.js'
import { groupCommit } from '../groupCommit.js'
import type { MarketRules } from './marketRules.js'
import { placeLimitOrder } from './placeLimitOrder.js'
import { type PlaceLimitOrderInput, type PlaceOutcome, type PlaceRequest, type Placed, placeLimitOrders } from './placeLimitOrders.js'

/**
 * `placeLimitOrder` for callers that place concurrently (API requests, a bulk
 * import): placements arriving while a transaction is in flight are written
 * together by the next one (`placeLimitOrders`), so concurrent intake shares
 * its statements and commits instead of paying them per order. Each caller
 * gets its own answer or its own `ValidationError`. If the shared transaction
 * fails, each of its placements is tried again alone (nothing of it was stored).
 * `rules` is read at each batch, so refreshed market rules apply.
 */
export function groupedPlaceLimitOrder(db: Db, rules: () => MarketRules) {
  const together = groupCommit((requests: PlaceRequest[]) => placeLimitOrders(db, rules(), requests))
  return async (input: PlaceLimitOrderInput, now: Date): Promise<Placed> => {
    let outcome: PlaceOutcome
    try {
      outcome = await together({ input, now })
    } catch {
      return placeLimitOrder(db, rules(), input, now)
    }
    if (!outcome.ok) throw outcome.error
    return outcome.placed
  }
}
