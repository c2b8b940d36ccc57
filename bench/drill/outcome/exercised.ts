import type { DrillView } from './drillView.js'
import type { Outcome } from './types.js'

/** What reached the operator in a run (user cancels, modifies applied, partial fills, IOC remainders, orders a session's end cancelled and those placed again), to show what it exercised. */
export function exercisedAtOperator(v: DrillView): Outcome['exercised'] {
  const { venueEvents, venueOrders, venueFills, orderByCloid, allOutbox } = v
  const exercised = {
    userCancels: 0, userCancelsOfPartlyFilled: 0, modifiesApplied: 0, modifiedThenFilled: 0, partiallyFilled: 0, iocRemaindersCancelled: 0,
    cancelledBySessionEnd: 0, placedAgain: 0, modifiesMovedToReplacement: allOutbox.filter((r) => r.kind === 'ModifyOrder' && r.payload.follows !== undefined).length,
  }
  for (const [cloid, list] of venueEvents) {
    const venue = venueOrders.get(cloid)
    if (list.some((e) => e.type === 'OrderCancelled' && (e.data.reason === 'sessionRevoked' || e.data.reason === 'sessionExpired'))) {
      exercised.cancelledBySessionEnd++
      if (orderByCloid.get(cloid)?.replacedBy) exercised.placedAgain++
    }
    for (const e of list) {
      if (e.type === 'OrderCancelled' && e.data.reason === 'user') {
        exercised.userCancels++
        if (venue && venue.filled > 0n) exercised.userCancelsOfPartlyFilled++
      }
      if (e.type === 'OrderCancelled' && e.data.reason === 'ioc' && venue && venue.filled > 0n) exercised.iocRemaindersCancelled++
      if (e.type === 'OrderModified') exercised.modifiesApplied++
    }
    const firstModified = list.findIndex((e) => e.type === 'OrderModified')
    if (firstModified >= 0 && list.slice(firstModified).some((e) => e.type === 'OrderFilled')) exercised.modifiedThenFilled++
  }
  for (const [cloid, venue] of venueOrders) {
    if (venue.filled > 0n && (venue.filled < venue.size || (venueFills.get(cloid)?.length ?? 0) > 1)) exercised.partiallyFilled++
  }
  return exercised
}
