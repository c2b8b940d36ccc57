import { randomUUID } from 'node:crypto'
import type { Db } from '../../store/Database.js'
import { groupCommit } from '../groupCommit.js'
import type { MarketRules } from './marketRules.js'
import { type PlaceLimitOrderInput, type PlaceOutcome, type PlaceRequest, type Placed, placeLimitOrders } from './placeLimitOrders.js'

/**
 * `placeLimitOrder` for callers that place concurrently (API requests, a bulk
 * import): placements arriving while a transaction is in flight are written
 * together by the next one (`placeLimitOrders`), so concurrent intake shares
 * its statements and commits instead of paying them per order. Each caller
 * gets its own answer or its own `ValidationError`. If the shared transaction
 * fails, each of its placements is tried again alone, under the intent id it was first given:
 * one the failed transaction did store after all is answered, not stored again.
 * `rules` is read at each batch, so refreshed market rules apply.
 */
export function groupedPlaceLimitOrder(db: Db, rules: () => MarketRules) {
  const together = groupCommit((requests: PlaceRequest[]) => placeLimitOrders(db, rules(), requests))
  /**
   * `intentId`: the caller's id for this placement, when it may be asked again after an outcome it
   * lost (the API's Idempotency-Key action id): a placement already stored under it is answered.
   * Chosen here otherwise, so that the retry below finds what a shared transaction stored if it
   * failed only after its COMMIT landed (the connection lost on the reply): never placed twice.
   */
  return async (input: PlaceLimitOrderInput, now: Date, intentId: string = randomUUID()): Promise<Placed> => {
    let outcome: PlaceOutcome
    try {
      outcome = await together({ input, now, intentId })
    } catch {
      ;[outcome] = await placeLimitOrders(db, rules(), [{ input, now, intentId }]) as [PlaceOutcome]
    }
    if (!outcome.ok) throw outcome.error
    return outcome.placed
  }
}
