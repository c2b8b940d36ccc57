import { type SQL, and, eq } from 'drizzle-orm'
import type { Hex } from 'viem'
import type { Db } from '../Database.js'
import { type OrderRow, orders } from '../schema/index.js'

export type OrderKey = { id: string } | { walletId: string; clientOrderId: Hex | string }

function orderWhere(key: OrderKey): SQL {
  return 'id' in key
    ? eq(orders.id, key.id)
    : and(eq(orders.walletId, key.walletId), eq(orders.clientOrderId, key.clientOrderId.toLowerCase()))!
}

/**
 * Row-locks one order and reads it (call inside a transaction); undefined when there is none.
 *
 * `FOR NO KEY UPDATE` is the lock every writer of an order takes (here, and in the batched
 * writers' statements of `lockOrders`): it excludes the other writers but not the insert of a
 * row that references the order (a request, a fill, an outbox row), whose foreign-key check
 * takes `FOR KEY SHARE`. No writer changes an order's keys.
 */
export async function lockOrder(tx: Db, key: OrderKey): Promise<OrderRow | undefined> {
  const [row] = await tx.select().from(orders).where(orderWhere(key)).for('no key update')
  return row
}
