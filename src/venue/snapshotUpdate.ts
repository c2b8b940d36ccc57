import { parseAmount } from '../core/money/decimal.js'
import type { OrderUpdate } from '../core/orders/applyOrderUpdate.js'
import type { VenueOrder } from './types.js'

/** The operator's read of one order, as an update for the order state machine. */
export function snapshotUpdate(order: VenueOrder): Extract<OrderUpdate, { kind: 'venueSnapshot' }> {
  return {
    kind: 'venueSnapshot',
    status: order.status,
    price: parseAmount('price', order.price),
    size: parseAmount('size', order.size),
    filled: parseAmount('filled', order.filled),
    revision: order.revision,
    venueOrderId: order.orderId,
  }
}
