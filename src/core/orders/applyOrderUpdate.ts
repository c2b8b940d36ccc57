import type { OrderState } from './orderState.js'
import { isTerminal } from './orderState.js'
import { uncountableFill } from './uncountableFill.js'

/** What Deputy knows of one order; amounts are 18-decimal bigints. */
export type OrderSnapshot = {
  state: OrderState
  price: bigint
  size: bigint
  filled: bigint
  /** Σ price×size of counted fills (18+18 decimals), to derive the average price exactly. */
  filledNotional: bigint
  fees: bigint
  venueRevision: number
  venueOrderId: string | null
  cancelReason: string | null
  rejectCode: string | null
}

/** One thing that happened to an order, from a receipt, an event, or a venue read. */
export type OrderUpdate =
  | { kind: 'submitting' }
  | { kind: 'unknown' }
  | { kind: 'accepted'; venueOrderId?: string }
  | { kind: 'modified'; price: bigint; size: bigint; revision: number }
  /** A fill not counted before (the caller dedupes by fill id). */
  | { kind: 'fill'; price: bigint; size: bigint; fee: bigint }
  | { kind: 'cancelled'; reason: string }
  | { kind: 'rejected'; code: string }
  /** The operator's view from a read; authoritative for status, revision and totals. */
  | { kind: 'venueSnapshot'; status: 'open' | 'partiallyFilled' | 'filled' | 'cancelled'; price: bigint; size: bigint; filled: bigint; revision: number; venueOrderId: string }

const rank: Record<OrderState, number> = {
  pending: 0, submitting: 1, unknown: 1, open: 2, partially_filled: 3, filled: 4, cancelled: 4, rejected: 4,
}

/** Advances only forward, so duplicates and re-ordered inputs cannot move an order back. */
function advance(current: OrderState, next: OrderState): OrderState {
  if (current === next) return current
  if (isTerminal(current)) return current
  return rank[next] >= rank[current] || current === 'unknown' ? next : current
}

function liveState(filled: bigint, size: bigint): OrderState {
  if (filled === 0n) return 'open'
  return filled >= size ? 'filled' : 'partially_filled'
}

/**
 * An order counted filled against its size before a modify that the operator applied ahead of its
 * fills, learnt of only after them (an OrderModified without fields, read back; a receipt stored
 * after the stream): at the later revision's size its fills fall short, so it is not filled. A read
 * that says `filled` has the order's last revision, so no later one comes to an order truly filled.
 */
function filledAgainstOldSize(order: OrderSnapshot, revision: number, size: bigint): boolean {
  return order.state === 'filled' && revision > order.venueRevision && order.filled < size
}

/**
 * The order state machine: a pure function of the snapshot and one update.
 * Idempotent for `accepted`/`modified`/`cancelled`/`venueSnapshot`; fills must
 * be deduplicated by the caller (fill ids are unique), which makes the whole
 * machine tolerant of duplicated and re-ordered delivery.
 */
export function applyOrderUpdate(order: OrderSnapshot, update: OrderUpdate): OrderSnapshot {
  switch (update.kind) {
    case 'submitting':
      return { ...order, state: order.state === 'pending' ? 'submitting' : order.state }
    case 'unknown':
      return { ...order, state: order.state === 'submitting' || order.state === 'pending' ? 'unknown' : order.state }
    case 'accepted':
      // An acceptance proves the operator holds the order, so, like a fill, it overrules a rejection
      // of an earlier attempt (a rejection whose answer was lost, then the same cloid accepted).
      if (order.state === 'rejected') {
        return { ...order, state: liveState(order.filled, order.size), rejectCode: null, venueOrderId: update.venueOrderId ?? order.venueOrderId }
      }
      return {
        ...order,
        state: advance(order.state, liveState(order.filled, order.size)),
        venueOrderId: update.venueOrderId ?? order.venueOrderId,
      }
    case 'modified': {
      if (update.revision <= order.venueRevision) return order
      const next = { ...order, price: update.price, size: update.size, venueRevision: update.revision }
      // A modify only reaches an open order, so one applied to a final order happened before its end
      // and arrived late: the order stays final, with the price and size the operator shows for it,
      // unless it was only counted filled against the size this modify replaced.
      if (filledAgainstOldSize(order, update.revision, update.size)) return { ...next, state: liveState(next.filled, next.size) }
      if (isTerminal(order.state)) return next
      return { ...next, state: advance(order.state === 'unknown' || order.state === 'submitting' ? 'open' : order.state, liveState(next.filled, next.size)) }
    }
    case 'fill': {
      // One that would take a total past what is stored is not counted (the caller passes it over, `uncountableFill`).
      if (uncountableFill(order, update)) return order
      const filled = order.filled + update.size
      const next = {
        ...order,
        filled,
        filledNotional: order.filledNotional + update.price * update.size,
        fees: order.fees + update.fee,
      }
      // A fill proves the operator accepted the order, so it overrides a local rejection;
      // a cancelled order stays cancelled unless the fill completed it.
      let state: OrderState
      if (order.state === 'rejected') state = liveState(filled, order.size)
      else if (order.state === 'cancelled') state = filled >= order.size ? 'filled' : 'cancelled'
      else state = advance(order.state, liveState(filled, order.size))
      return { ...next, state, rejectCode: order.state === 'rejected' ? null : order.rejectCode }
    }
    case 'cancelled':
      // Every cancel comes from the operator (its event, or its receipt of a CancelOrder or CancelAll),
      // which cancels only an order it holds open: one counted filled here was counted against the
      // size of a modify not applied yet (an OrderModified without fields), and is cancelled there.
      return { ...order, state: 'cancelled', cancelReason: order.cancelReason ?? update.reason }
    case 'rejected':
      // A rejection answers one request; it cannot undo an order the operator already holds.
      if (order.state === 'pending' || order.state === 'submitting' || order.state === 'unknown') {
        return { ...order, state: 'rejected', rejectCode: update.code }
      }
      return order
    case 'venueSnapshot': {
      const reported: OrderState = update.status === 'partiallyFilled' ? 'partially_filled' : update.status
      // Filled and cancelled are final at the operator: a read that still shows the order live was
      // taken before the cancel (or the last fill) and must not revive it. A local rejection, on the
      // other hand, is overruled by an operator that holds the order.
      const againstOldSize = filledAgainstOldSize(order, update.revision, update.size)
      const final = (order.state === 'filled' && !againstOldSize) || (order.state === 'cancelled' && reported !== 'filled')
      // A live order only moves forward: a read taken before a fill the stream applied since says `open`.
      const state = final ? order.state
        : againstOldSize ? advance(liveState(order.filled, update.size), reported)
        : isTerminal(order.state) ? reported : advance(order.state, reported)
      return {
        ...order,
        state,
        rejectCode: order.state === 'rejected' ? null : order.rejectCode,
        price: update.revision >= order.venueRevision ? update.price : order.price,
        size: update.revision >= order.venueRevision ? update.size : order.size,
        venueRevision: Math.max(order.venueRevision, update.revision),
        venueOrderId: update.venueOrderId,
      }
    }
  }
}

/** Average fill price (18 decimals), or null before the first fill. */
export function averagePrice(order: Pick<OrderSnapshot, 'filled' | 'filledNotional'>): bigint | null {
  return order.filled === 0n ? null : order.filledNotional / order.filled
}
