import type { Db } from '../Database.js'
import { type OrderKey, lockOrder } from './lockOrder.js'

/**
 * Row-locks an order (call inside a transaction) and tells whether the operator's read of it, taken
 * at `readAt`, may be applied: `changed` when the order changed at or after that moment (the read
 * may be older than what Postgres holds, a cancel accepted or a fill applied meanwhile, and would
 * move it back), `unchanged` when it did not, `missing` when there is no such order.
 */
export async function lockOrderUnchangedSince(tx: Db, key: OrderKey, readAt: Date): Promise<'unchanged' | 'changed' | 'missing'> {
  const current = await lockOrder(tx, key)
  if (!current) return 'missing'
  return current.updatedAt >= readAt ? 'changed' : 'unchanged'
}
