import { formatAmount, parseAmount } from '../../../src/core/money/decimal.js'
import type { IntentRow, OrderRow, OutboxRow } from '../../../src/store/schema/index.js'
import type { DrillView } from './drillView.js'
import type { HaltExplanations } from './halts.js'
import type { Tally } from './tally.js'
import type { VenueOrder } from './types.js'

/**
 * The operator's modifications of an intent's orders are the asked ones, in order (a modify moved
 * to a session's replacement may apply to the order it left, and again to the replacement); one not applied
 * was refused (its size does not exceed what filled), came after the order ended, targeted an
 * order never placed, was superseded by a later modify of the same order before it went out, or was
 * dropped unsent by a halt (`halts`); the final price and size are the last applied ask (or the placement, less what
 * replaced predecessors filled, or as a modify asked before it was sent made it).
 */
export function checkIntentModifies(v: DrillView, t: Tally, o: { intent: IntentRow; chains: OrderRow[][]; final: OrderRow; finalVenue: VenueOrder; modifyRows: OutboxRow[] }, halts: HaltExplanations): void {
  const { venueOf, walletKeyOf, venueEvents, orderById } = v
  const { intent, chains, final, finalVenue, modifyRows } = o
  const chain = chains.find((c) => c.includes(final)) ?? [final]
  let price = parseAmount('price', intent.price)
  let size = parseAmount('size', intent.size)
  const applied = new Set<string>()
  /**
   * The size a modify row asked of an order of the chain, or undefined when it never named it. One
   * moved to a session's replacement (`follows`) was asked of the order it follows, or of one before
   * it, at its size plus what those orders filled (`followReplacement` takes it off at each move),
   * and may have been applied there before its session ended.
   */
  const sizeAskedOf = (r: OutboxRow, o: OrderRow): bigint | undefined => {
    const rowSize = parseAmount('size', String(r.payload.size))
    if (r.orderId === o.id) return rowSize
    const from = chain.indexOf(o)
    const to = chain.findIndex((c) => c.id === r.payload.follows)
    if (from < 0 || to < from) return undefined
    return chain.slice(from, to + 1).reduce((sum, c) => sum + (venueOf(c)?.filled ?? 0n), rowSize)
  }
  // Up to the final order at the operator: one after it never reached the operator (a replacement a
  // halt or a cancel ended before placement) and its size (what was left) is not the operator's.
  for (const [k, o] of chain.slice(0, chain.indexOf(final) + 1).entries()) {
    if (k > 0) size -= venueOf(chain[k - 1])?.filled ?? 0n
    // The operator applies an order's modifies in the order asked; a row moved on may apply again on the replacement.
    let next = 0
    // A modify asked before the order was sent changed the order itself (requestModify): the
    // placement went out with its price and size. Its ModifyOrder may follow (the same values) and
    // is matched below like any other, or may find the order already ended. Moved on to a session's
    // replacement since (`follows` names this order), it still made this order's placement.
    for (const row of modifyRows.filter((r) => r.payload.beforePlacement === true && (r.orderId === o.id || r.payload.follows === o.id))) {
      price = parseAmount('price', String(row.payload.price))
      size = sizeAskedOf(row, o) ?? parseAmount('size', String(row.payload.size))
    }
    for (const e of (venueEvents.get(o.clientOrderId.toLowerCase()) ?? []).filter((x) => x.type === 'OrderModified')) {
      const eventPrice = parseAmount('price', String(e.data.price))
      const eventSize = parseAmount('size', String(e.data.size))
      const at = modifyRows.findIndex((r, i) => i >= next && parseAmount('price', String(r.payload.price)) === eventPrice && sizeAskedOf(r, o) === eventSize)
      if (at < 0) {
        t.modifiesWrong++
        t.note(`order ${o.id} ${o.clientOrderId}: the operator applied ${String(e.data.price)} x ${String(e.data.size)} (seq ${e.seq}), which no pending modify asked`)
        t.explain(o, walletKeyOf(o))
        continue
      }
      applied.add(modifyRows[at]!.id)
      next = at + 1
      price = eventPrice
      size = eventSize
    }
  }
  for (const row of modifyRows) {
    if (applied.has(row.id)) continue
    const target = row.orderId ? orderById.get(row.orderId) : undefined
    const venue = venueOf(target)
    const rowSize = parseAmount('size', String(row.payload.size))
    const ended = venue && (venue.status === 'filled' || venue.status === 'cancelled') && venue.updatedAt <= row.updatedAt.getTime() && (row.status === 'done' || row.status === 'failed')
    const refused = venue && rowSize <= venue.filled
    const neverPlaced = target && !venue && target.state === 'cancelled' && target.venueOrderId === null
    // Not sent: the user asked another modify of the same order before this one went out (the last asked wins).
    const superseded = row.status === 'done' && row.lastError?.startsWith('superseded by a later modification of this order') && modifyRows.some((r) => r.orderId === row.orderId && r.seq > row.seq)
    if (halts.droppedModify(row)) { t.modifiesDroppedByHalt++; continue }
    if (!ended && !refused && !neverPlaced && !superseded) {
      t.modifiesWrong++
      t.note(`order ${target?.id ?? row.orderId} ${target?.clientOrderId ?? ''}: modify ${row.id} (${String(row.payload.price)} x ${String(row.payload.size)}, outbox ${row.status}${row.lastError ? `: ${row.lastError}` : ''}, settled ${row.updatedAt.toISOString()}) was not applied though the order was ${venue ? `${venue.status} (last change ${new Date(venue.updatedAt).toISOString()})` : 'not at the operator'}`)
      t.explain(target, target && walletKeyOf(target))
    }
  }
  if (finalVenue.price !== price || finalVenue.size !== size) {
    t.modifiesWrong++
    t.note(`order ${final.id} ${final.clientOrderId}: the operator has ${formatAmount(finalVenue.price)} x ${formatAmount(finalVenue.size)}, the last applied ask was ${formatAmount(price)} x ${formatAmount(size)}`)
    t.explain(final, finalVenue.wallet)
  }
}
