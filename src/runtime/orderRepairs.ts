import { formatAmount, parseAmount } from '../core/money/decimal.js'
import type { RepairAction } from '../core/orders/repairActions.js'
import type { Db } from '../store/Database.js'
import type { OrderRow } from '../store/schema/index.js'

/** Writes one reconciler repair's audit entry inside the transaction that makes the repair (`reconcile`'s `record`). */
export type RecordRepair = (tx: Db, action: RepairAction, details: Record<string, unknown>) => Promise<void>

export type OrderRepair = { action: Extract<RepairAction, 'order.state' | 'order.modified'>; details: Record<string, unknown> }

const amount = (name: string, value: string) => formatAmount(parseAmount(name, value))

/**
 * What an operator read changed on an order, as the reconciler's audit entries: its state
 * (`order.state`), and its price, size or revision (`order.modified`: a modify whose receipt and
 * event Postgres never applied). Nothing when the read changed neither.
 */
export function orderRepairs({ before, after }: { before: OrderRow; after: OrderRow }): OrderRepair[] {
  const repairs: OrderRepair[] = []
  if (before.state !== after.state) repairs.push({ action: 'order.state', details: { orderId: after.id, from: before.state, to: after.state } })
  const price = { from: amount('price', before.price), to: amount('price', after.price) }
  const size = { from: amount('size', before.size), to: amount('size', after.size) }
  if (before.venueRevision !== after.venueRevision || price.from !== price.to || size.from !== size.to) {
    repairs.push({ action: 'order.modified', details: { orderId: after.id, price, size, revision: { from: before.venueRevision, to: after.venueRevision } } })
  }
  return repairs
}
