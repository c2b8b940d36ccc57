import { formatAmount, parseAmount } from '../../../src/core/money/decimal.js'
import type { IntentRow, OrderRow } from '../../../src/store/schema/index.js'
import type { DrillView } from './drillView.js'
import type { HaltExplanations } from './halts.js'
import type { Tally } from './tally.js'

const sessionEnds = ['sessionExpired', 'sessionRevoked']
const venueState = { open: 'open', partiallyFilled: 'partially_filled', filled: 'filled', cancelled: 'cancelled' } as const

/**
 * An intent's orders against the operator's: one chain of orders, each following only a predecessor
 * its session's end cancelled at the operator (else a duplicate); an order never at the operator only when a cancel was
 * asked before placement, a halt cancelled it before placement (`halts`), or the operator rejected it; every order at the operator agreeing with its
 * Postgres row in state, filled size, price and size, and in its fills (average price, notional,
 * fees, and each fill row by fill id).
 */
export function checkIntentOrders(v: DrillView, t: Tally, intent: IntentRow, intentOrders: OrderRow[], chains: OrderRow[][], atVenue: OrderRow[], cancelAsked: boolean, halts: HaltExplanations): void {
  const { venueOf, walletKeyOf, venueEvents, venueFills, fillRowById } = v
  // Duplicates: one chain, and in it an order follows only a predecessor its session's end
  // cancelled at the operator (an IOC remainder, a user's cancel, are not placed again).
  const endedWithSession = (o: OrderRow | undefined) => venueOf(o)?.status === 'cancelled' &&
    (venueEvents.get(o!.clientOrderId.toLowerCase()) ?? []).some((e) => e.type === 'OrderCancelled' && sessionEnds.includes(String(e.data.reason)))
  let firstSeen = false
  for (const chain of chains) {
    chain.forEach((o, i) => {
      if (!venueOf(o)) return
      const legit = !firstSeen || (i > 0 && endedWithSession(chain[i - 1]))
      firstSeen = true
      if (!legit) {
        t.duplicates++
        t.note(`intent ${intent.id}: operator order ${o.clientOrderId} (${venueOf(o)!.status}) is a second order for it (the intent has ${atVenue.length} at the operator${i > 0 ? `, its predecessor is ${venueOf(chain[i - 1])?.status ?? 'not at the operator'}` : ', no replaced_by names it'})`)
        t.explain(o, walletKeyOf(o))
      }
    })
  }

  // Orders never at the operator: cancelled before placement on an asked cancel, or rejected by the operator.
  for (const o of intentOrders) {
    if (venueOf(o)) continue
    const rejectedAtVenue = (venueEvents.get(o.clientOrderId.toLowerCase()) ?? []).some((e) => e.type === 'OrderRejected')
    if (o.state === 'cancelled' && o.venueOrderId === null && cancelAsked) { t.cancelledBeforePlacement++; continue }
    // The kill switch dropped it unsent: the user's halt cancelled it, not lost.
    if (halts.cancelledBeforePlacement(o)) { t.cancelledByHaltBeforePlacement++; continue }
    if (o.state === 'rejected' && rejectedAtVenue) continue
    if (atVenue.length === 0) { t.lost++; t.note(`intent ${intent.id} (order ${o.id} ${o.state}${o.state === 'cancelled' && !cancelAsked ? ', no cancel asked' : ''}) has no order at the operator`) }
    else { t.mismatched++; t.note(`order ${o.id} ${o.clientOrderId} is ${o.state} in Postgres and not at the operator`) }
  }

  // Every order at the operator against its Postgres row.
  for (const o of atVenue) {
    const venue = venueOf(o)!
    const differences: string[] = []
    if (venueState[venue.status as keyof typeof venueState] !== o.state) differences.push(`state ${o.state} vs ${venue.status}`)
    if (parseAmount('filled', o.filled) !== venue.filled) differences.push(`filled ${o.filled} vs ${formatAmount(venue.filled)}`)
    if (parseAmount('price', o.price) !== venue.price) differences.push(`price ${o.price} vs ${formatAmount(venue.price)}`)
    if (parseAmount('size', o.size) !== venue.size) differences.push(`size ${o.size} vs ${formatAmount(venue.size)}`)
    if (differences.length) {
      t.mismatched++
      t.note(`order ${o.id} ${o.clientOrderId}: ${differences.join(', ')} (revision ${o.venueRevision} vs ${venue.revision})`)
      t.explain(o, venue.wallet)
    }
    // Fills: average price, fees, and the fill rows by fill id.
    const opFills = venueFills.get(o.clientOrderId.toLowerCase()) ?? []
    const fillDiffs: string[] = []
    const opFilled = opFills.reduce((s, f) => s + f.size, 0n)
    const opNotional = opFills.reduce((s, f) => s + f.price * f.size, 0n)
    const opFees = opFills.reduce((s, f) => s + f.fee, 0n)
    const opAverage = opFilled === 0n ? null : opNotional / opFilled
    const pgAverage = o.averagePrice === null ? null : parseAmount('averagePrice', o.averagePrice)
    if (opAverage !== pgAverage) fillDiffs.push(`average price ${o.averagePrice ?? '-'} vs ${opAverage === null ? '-' : formatAmount(opAverage)}`)
    if (BigInt(o.filledNotional) !== opNotional) fillDiffs.push(`filled notional ${o.filledNotional} vs ${opNotional}`)
    if (parseAmount('fees', o.fees) !== opFees) fillDiffs.push(`fees ${o.fees} vs ${formatAmount(opFees)}`)
    for (const f of opFills) {
      const row = fillRowById.get(f.fillId.slice(venue.wallet.length + 1))
      if (!row) fillDiffs.push(`fill ${f.fillId} missing in Postgres`)
      else if (row.orderId !== o.id || parseAmount('price', row.price) !== f.price || parseAmount('size', row.size) !== f.size || parseAmount('fee', row.fee) !== f.fee) {
        fillDiffs.push(`fill ${f.fillId}: ${row.price} x ${row.size} fee ${row.fee} (order ${row.orderId}) vs ${formatAmount(f.price)} x ${formatAmount(f.size)} fee ${formatAmount(f.fee)}`)
      }
    }
    if (fillDiffs.length) {
      t.fillsDiffering++
      t.note(`order ${o.id} ${o.clientOrderId} fills: ${fillDiffs.join(', ')}`)
      t.explain(o, venue.wallet)
    }
  }
}
