import type { Db } from '../../store/Database.js'
import type { MarketRules } from './marketRules.js'
import { type PlaceLimitOrderInput, type Placed, placeLimitOrders } from './placeLimitOrders.js'

export type { PlaceLimitOrderInput, Placed } from './placeLimitOrders.js'

/**
 * Intake of one user's limit order (`placeLimitOrders` for one): validates
 * everything first, then writes the intent, its order and the outbox row in one
 * transaction. Throws the `ValidationError` naming the field and the rule.
 */
export async function placeLimitOrder(db: Db, rules: MarketRules, input: PlaceLimitOrderInput, now: Date): Promise<Placed> {
  const [outcome] = await placeLimitOrders(db, rules, [{ input, now }])
  if (!outcome!.ok) throw outcome!.error
  return outcome!.placed
}
