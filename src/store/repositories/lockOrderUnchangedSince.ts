import type { Db } from '../Database.js'
import { orders } from '../schema/index.js'
import { type OrderKey, orderWhere } from './mutateOrder.js'

/**
 * Row-locks an order (call inside a transaction) and tells whether the operator's read of it, taken
 * at `readAt`, may be applied: `changed` when the order changed at or after that moment (the read
 * may be older than what Postgres holds, a cancel accepted or a fill applied meanwhile, and would
 * move it back), `unchanged` when it did not, `missing` when there is no such order.
 */
export async function lockOrderUnchangedSince(tx: Db, key: OrderKey, readAt: Date): Promise<'unchanged' | 'changed' | 'missing'> {
  const [current] = await tx.select({ updatedAt: orders.updatedAt }).from(orders).where(orderWhere(key)).for('no key update')
  if (!current) return 'missing'
  return current.updatedAt >= readAt ? 'changed' : 'unchanged'
}
