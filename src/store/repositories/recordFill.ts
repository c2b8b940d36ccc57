import { and, eq } from 'drizzle-orm'
import type { Hex } from 'viem'
import { parseAmount } from '../../core/money/decimal.js'
import type { Db } from '../Database.js'
import { fills, orders } from '../schema/index.js'
import { mutateOrder } from './mutateOrder.js'

export type FillInput = {
  walletId: string
  fillId: string
  clientOrderId: Hex | string
  market: string
  side: 0 | 1
  /** Decimal strings as the operator reports them. */
  price: string
  size: string
  fee: string
  seq: number
  at: Date
}

/**
 * Records a fill once (the operator's fill id is the key) and, only when it
 * is new, counts it on its order. Both the event stream and the reconciler
 * call this, in either order, any number of times. Call inside a transaction.
 */
export async function recordFill(tx: Db, fill: FillInput): Promise<boolean> {
  const clientOrderId = fill.clientOrderId.toLowerCase()
  const [order] = await tx.select({ id: orders.id }).from(orders)
    .where(and(eq(orders.walletId, fill.walletId), eq(orders.clientOrderId, clientOrderId)))
  const inserted = await tx.insert(fills).values({ ...fill, clientOrderId, orderId: order?.id ?? null })
    .onConflictDoNothing().returning({ id: fills.id })
  if (inserted.length === 0 || !order) return inserted.length > 0
  await mutateOrder(tx, { id: order.id }, [
    { kind: 'fill', price: parseAmount('price', fill.price), size: parseAmount('size', fill.size), fee: parseAmount('fee', fill.fee) },
  ])
  return true
}
