import { eq } from 'drizzle-orm'
import { type OrderUpdate, applyOrderUpdate } from '../../core/orders/applyOrderUpdate.js'
import type { Db } from '../Database.js'
import { type OrderRow, orders } from '../schema/index.js'
import { type OrderKey, lockOrder } from './lockOrder.js'
import { fromSnapshot, toSnapshot } from './orderSnapshot.js'

/**
 * Applies updates to one order under its row lock (`lockOrder`), so the event
 * consumer, the submit jobs and the reconciler, in any process, never lose each
 * other's writes. Call inside a transaction. Answers the row after the update,
 * or undefined when no such order exists.
 */
export async function mutateOrder(tx: Db, key: OrderKey, updates: readonly OrderUpdate[]): Promise<{ before: OrderRow; after: OrderRow } | undefined> {
  const row = await lockOrder(tx, key)
  if (!row) return undefined
  const before = toSnapshot(row)
  const after = updates.reduce(applyOrderUpdate, before)
  if (after === before) return { before: row, after: row }
  const [updated] = await tx.update(orders).set(fromSnapshot(after)).where(eq(orders.id, row.id)).returning()
  return { before: row, after: updated! }
}
