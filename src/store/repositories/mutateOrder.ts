import { type SQL, and, eq } from 'drizzle-orm'
import type { Hex } from 'viem'
import { type OrderUpdate, applyOrderUpdate } from '../../core/orders/applyOrderUpdate.js'
import type { Db } from '../Database.js'
import { type OrderRow, orders } from '../schema/index.js'
import { fromSnapshot, toSnapshot } from './orderSnapshot.js'

export type OrderKey = { id: string } | { walletId: string; clientOrderId: Hex | string }

/** The condition that selects one order by its key. */
export function orderWhere(key: OrderKey): SQL {
  return 'id' in key
    ? eq(orders.id, key.id)
    : and(eq(orders.walletId, key.walletId), eq(orders.clientOrderId, key.clientOrderId.toLowerCase()))!
}

/**
 * Applies updates to one order under a row lock, so the event consumer, the
 * submit jobs and the reconciler, in any process, never lose each other's writes.
 * Call inside a transaction. Answers the row after the update, or undefined when
 * no such order exists.
 *
 * The lock is `FOR NO KEY UPDATE`, as every writer of an order takes it: it
 * excludes the other writers but not the insert of a row that references the
 * order (a request, a fill, an outbox row), whose foreign-key check takes
 * `FOR KEY SHARE`. No writer changes an order's keys.
 */
export async function mutateOrder(tx: Db, key: OrderKey, updates: readonly OrderUpdate[]): Promise<{ before: OrderRow; after: OrderRow } | undefined> {
  const [row] = await tx.select().from(orders).where(orderWhere(key)).for('no key update')
  if (!row) return undefined
  const before = toSnapshot(row)
  const after = updates.reduce(applyOrderUpdate, before)
  if (after === before) return { before: row, after: row }
  const [updated] = await tx.update(orders).set(fromSnapshot(after)).where(eq(orders.id, row.id)).returning()
  return { before: row, after: updated! }
}
