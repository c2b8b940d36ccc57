import { formatAmount, parseAmount, parseSignedAmount } from '../../core/money/decimal.js'
import type { OrderSnapshot } from '../../core/orders/applyOrderUpdate.js'
import { averagePrice } from '../../core/orders/applyOrderUpdate.js'
import type { OrderRow } from '../schema/index.js'

/** The columns of an order the state machine reads. */
export type SnapshotColumns = Pick<OrderRow,
  'state' | 'price' | 'size' | 'filled' | 'filledNotional' | 'fees' | 'venueRevision' | 'venueOrderId' | 'cancelReason' | 'rejectCode'>

/** Reads the state machine's view of a row. */
export function toSnapshot(row: SnapshotColumns): OrderSnapshot {
  const filled = parseAmount('filled', row.filled)
  return {
    state: row.state,
    price: parseAmount('price', row.price),
    size: parseAmount('size', row.size),
    filled,
    filledNotional: BigInt(row.filledNotional),
    // Below zero once maker rebates exceed the fees paid.
    fees: parseSignedAmount('fees', row.fees),
    venueRevision: row.venueRevision,
    venueOrderId: row.venueOrderId,
    cancelReason: row.cancelReason,
    rejectCode: row.rejectCode,
  }
}

/** The columns a snapshot writes back. */
export function fromSnapshot(snapshot: OrderSnapshot) {
  const average = averagePrice(snapshot)
  return {
    state: snapshot.state,
    price: formatAmount(snapshot.price),
    size: formatAmount(snapshot.size),
    filled: formatAmount(snapshot.filled),
    filledNotional: snapshot.filledNotional.toString(),
    averagePrice: average === null ? null : formatAmount(average),
    fees: formatAmount(snapshot.fees),
    venueRevision: snapshot.venueRevision,
    venueOrderId: snapshot.venueOrderId,
    cancelReason: snapshot.cancelReason,
    rejectCode: snapshot.rejectCode,
    // The operator's words go with the code: gone when the operator turned out to hold the order.
    ...(snapshot.rejectCode === null ? { rejectReason: null } : {}),
  }
}
