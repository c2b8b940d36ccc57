import type { RequestFamily } from './actions.js'
import { requestFamilies } from './actions.js'

/** What a wallet's automation does; each need maps to the request families it sends. */
export type AutomationNeeds = {
  /** Place limit orders, cancel them on request or at their good-till time. */
  limitOrders?: boolean
  /** Change a resting order's price or size (resting limit orders: placed and cancelled too). */
  modifications?: boolean
  /** Rebalancing schedules: place legs, cancel a previous run's stale legs. */
  schedules?: boolean
  /** The per-wallet kill switch. */
  killSwitch?: boolean
}

/**
 * The families a wallet's work needs, in canonical order: limit orders without
 * modification need `Order, CancelOrder`; modification adds `ModifyOrder` to them
 * (the orders it modifies are limit orders, which are cancelled on request, at
 * their good-till time and by the kill switch, one by one without `CancelAll`);
 * the kill switch adds `CancelAll`. Feed the result to `narrowestScope`.
 */
export function familiesFor(needs: AutomationNeeds): RequestFamily[] {
  const wanted = new Set<RequestFamily>()
  if (needs.limitOrders || needs.schedules || needs.modifications) { wanted.add('Order'); wanted.add('CancelOrder') }
  if (needs.modifications) wanted.add('ModifyOrder')
  if (needs.killSwitch) wanted.add('CancelAll')
  return requestFamilies.filter((family) => wanted.has(family))
}
