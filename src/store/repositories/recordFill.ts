import { and, asc, eq, isNull } from 'drizzle-orm'
import type { Hex } from 'viem'
import type { Db } from '../Database.js'
import { type FillRow, fills, orders } from '../schema/index.js'
import { uncountableFill } from '../../core/orders/uncountableFill.js'
import { mutateOrder } from './mutateOrder.js'
import { toSnapshot } from './orderSnapshot.js'
import { type FillOutcome, fillUpdate, orderWorkspace } from './orderWorkspace.js'

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
 * One its order cannot count (`uncountableFill`) is not stored: the outcome says why.
 */
export async function recordFill(tx: Db, fill: FillInput): Promise<FillOutcome> {
  const workspace = orderWorkspace(tx)
  const outcome = await workspace.fill(fill)
  await workspace.flush()
  return outcome
}

/** A fill linked to its order by `linkUnmatchedFills`; `uncountable` says why it was not counted on it. */
export type LinkedFill = FillRow & { uncountable?: string }

/**
 * Fills recorded before their order was known (an orphan's, delivered by the
 * stream before reconciliation adopted the order) are linked to the order now
 * known under their cloid, and counted on it. Only unlinked fills are taken,
 * each with a conditional update, so concurrent callers count a fill once.
 * One that would take the order's totals past what is stored (`uncountableFill`) is linked and
 * not counted (the state machine's rule): its `uncountable` says why, for the caller's alert.
 * Call inside a transaction. Answers the fills linked.
 */
export async function linkUnmatchedFills(tx: Db, walletId: string): Promise<LinkedFill[]> {
  const unmatched = await tx.select({ fill: fills, orderId: orders.id, market: orders.market, side: orders.side }).from(fills)
    .innerJoin(orders, and(eq(orders.walletId, fills.walletId), eq(orders.clientOrderId, fills.clientOrderId)))
    .where(and(eq(fills.walletId, walletId), isNull(fills.orderId)))
    .orderBy(asc(fills.seq))
  const linked: LinkedFill[] = []
  for (const { fill, orderId, market, side } of unmatched) {
    // Stored before its order was known, perhaps without a market or side (OrderFilled need not carry them): the order's.
    const [taken] = await tx.update(fills).set({ orderId, market, side }).where(and(eq(fills.id, fill.id), isNull(fills.orderId))).returning()
    if (!taken) continue
    const update = fillUpdate(fill)
    const counted = await mutateOrder(tx, { id: orderId }, [update])
    // The order as it was before: a fill it cannot count leaves it as it is.
    const uncountable = counted && uncountableFill(toSnapshot(counted.before), update)
    linked.push(uncountable ? { ...taken, uncountable } : taken)
  }
  return linked
}
