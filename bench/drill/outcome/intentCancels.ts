import type { OrderRow, OutboxRow } from '../../../src/store/schema/index.js'
import type { DrillView } from './drillView.js'
import type { HaltExplanations } from './halts.js'
import type { Tally } from './tally.js'
import type { VenueOrder } from './types.js'

const IOC = 1

/**
 * An asked cancel ends the intent's final order at the operator, unless it filled before the cancel
 * was settled; without one, no order of the intent is cancelled at the operator (an IOC remainder,
 * a session's re-placed order, and one a halt ended excepted: cancelled by its CancelAll, or by a
 * session's end and not placed again because of the halt).
 */
export function checkIntentCancels(v: DrillView, t: Tally, o: { final: OrderRow | undefined; finalVenue: VenueOrder | undefined; atVenue: OrderRow[]; cancelAsked: boolean; cancelRows: OutboxRow[] }, halts: HaltExplanations): void {
  const { venueOf } = v
  const { final, finalVenue, atVenue, cancelAsked, cancelRows } = o
  if (cancelAsked && final && finalVenue) {
    const lastCancelDone = Math.max(...cancelRows.map((r) => r.updatedAt.getTime()))
    if (finalVenue.status === 'open' || finalVenue.status === 'partiallyFilled') {
      t.cancelsWrong++
      t.note(`order ${final.id} ${final.clientOrderId}: a cancel was asked, the operator still has it ${finalVenue.status}`)
      t.explain(final, finalVenue.wallet)
    } else if (finalVenue.status === 'filled' && !(finalVenue.updatedAt <= lastCancelDone)) {
      t.cancelsWrong++
      t.note(`order ${final.id} ${final.clientOrderId}: a cancel was asked and settled at ${new Date(lastCancelDone).toISOString()}, the order filled later (${new Date(finalVenue.updatedAt).toISOString()})`)
      t.explain(final, finalVenue.wallet)
    }
  }
  if (!cancelAsked) {
    for (const o of atVenue) {
      const venue = venueOf(o)!
      const cancel = (v.venueEvents.get(o.clientOrderId.toLowerCase()) ?? []).find((e) => e.type === 'OrderCancelled')
      if (venue.status === 'cancelled' && cancel && halts.cancelledAtOperator(o, { reason: cancel.data.reason, at: cancel.at })) { t.cancelledByHaltAtOperator++; continue }
      if (venue.status === 'cancelled' && o.timeInForce !== IOC && !o.replacedBy) {
        t.cancelsWrong++
        t.note(`order ${o.id} ${o.clientOrderId} is cancelled at the operator though nobody asked to cancel it`)
        t.explain(o, venue.wallet)
      }
    }
  }
}
