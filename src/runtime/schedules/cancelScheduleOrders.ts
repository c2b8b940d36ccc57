import { eq } from 'drizzle-orm'
import { terminalOrderStates } from '../../core/orders/orderState.js'
import type { Db } from '../../store/Database.js'
import { lockOrder } from '../../store/repositories/lockOrder.js'
import { intents, outbox } from '../../store/schema/index.js'
import { workingScheduleOrders } from './workingScheduleOrders.js'

export type CancelScheduleOrdersParameters = {
  scheduleId: string
  /** Only orders of runs before this slot (a run cancels its predecessors', never its own). */
  beforeSlot?: Date
  /** Carried in the CancelOrder outbox payload, for the audit trail. */
  reason: string
}

/**
 * Queues a CancelOrder for each working order of the schedule whose cancel was
 * not requested yet; answers the order ids it queued. Each cancel is queued
 * behind whatever is in flight for its order (the submission recipe orders
 * requests per order), so an order not sent yet is sent, then cancelled.
 */
export async function cancelScheduleOrders(db: Db, { scheduleId, beforeSlot, reason }: CancelScheduleOrdersParameters): Promise<string[]> {
  const working = await workingScheduleOrders(db, { scheduleId, ...(beforeSlot ? { which: { kind: 'earlier' as const, slot: beforeSlot } } : {}) })
  const queued: string[] = []
  for (const candidate of working) {
    if (candidate.intentStatus !== 'active') continue
    const done = await db.transaction(async (tx) => {
      // Order, then intent: the same lock order as intake's requestCancel, so the two never deadlock.
      const order = await lockOrder(tx, { id: candidate.orderId })
      if (!order || terminalOrderStates.includes(order.state)) return false
      const [intent] = await tx.select({ status: intents.status }).from(intents).where(eq(intents.id, candidate.intentId)).for('update')
      // Two runs (or a run and a delete) racing: the first to get here queues the one cancel.
      if (intent?.status !== 'active') return false
      await tx.update(intents).set({ status: 'cancel_requested' }).where(eq(intents.id, candidate.intentId))
      await tx.insert(outbox).values({ walletId: order.walletId, kind: 'CancelOrder', orderId: order.id, payload: { reason } })
      return true
    })
    if (done) queued.push(candidate.orderId)
  }
  return queued
}
