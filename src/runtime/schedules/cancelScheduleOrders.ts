import { and, eq, isNull, lt } from 'drizzle-orm'
import { terminalOrderStates } from '../../core/orders/orderState.js'
import type { Db } from '../../store/Database.js'
import { lockOrder } from '../../store/repositories/lockOrder.js'
import { unfinishedCancelsOf } from '../../store/repositories/unfinishedCancels.js'
import { intents, orders, outbox, schedules } from '../../store/schema/index.js'
import { workingScheduleOrders } from './workingScheduleOrders.js'
import { noteCancelled } from './run/noteCancelled.js'

export type CancelScheduleOrdersParameters = {
  scheduleId: string
  /** Only orders of runs before this slot (a run cancels its predecessors', never its own). */
  beforeSlot?: Date
  /** Carried in the CancelOrder outbox payload, for the audit trail. */
  reason: string
  /**
   * The schedule run cancelling them: each order queued is noted in its `cancelledOrderIds` in the
   * transaction that queues its cancel. Noted after them all, a crash between left the run's record
   * without cancels it made, which its retry found on their way and did not queue (nor note) again.
   */
  runId?: string
  /**
   * A pause's or delete's cancels: each is queued only while the schedule is still stopped, read
   * under a share lock in its transaction (schedule, then order: the lock order of a run writing its
   * legs); once a resume has committed, the rest are dropped (the next run cancels its predecessors').
   */
  whileStopped?: boolean
  /** Written in the transaction that queues each cancel (an audit row), so neither exists without the other. */
  onQueued?: (tx: Db, orderId: string) => Promise<void>
}

/**
 * Queues a CancelOrder for each working order of the schedule that has none on
 * its way: one whose cancel was not requested yet, and one whose cancel ended
 * without effect (refused for good, say, while the order still rests at the
 * operator: asked for only once, it would keep every later run waiting, then
 * skipped, for good). Answers the order ids it queued. Each cancel is queued
 * behind whatever is in flight for its order (the submission recipe orders
 * requests per order), so an order not sent yet is sent, then cancelled.
 */
export async function cancelScheduleOrders(db: Db, { scheduleId, beforeSlot, reason, runId, whileStopped, onQueued }: CancelScheduleOrdersParameters): Promise<string[]> {
  // First: a replacement the stream's event places meanwhile is then a working order, cancelled below.
  await retireEndedLegs(db, scheduleId, beforeSlot)
  const working = await workingScheduleOrders(db, { scheduleId, ...(beforeSlot ? { which: { kind: 'earlier' as const, slot: beforeSlot } } : {}) })
  const queued: string[] = []
  for (const candidate of working) {
    const done = await db.transaction(async (tx) => {
      if (whileStopped && (await resumedSince(tx, scheduleId))) return 'resumed' as const
      // Order, then intent: the same lock order as intake's requestCancel, so the two never deadlock.
      const order = await lockOrder(tx, { id: candidate.orderId })
      if (!order || terminalOrderStates.includes(order.state)) return false
      const [intent] = await tx.select({ status: intents.status }).from(intents).where(eq(intents.id, candidate.intentId)).for('update')
      // Two runs (or a run and a delete) racing: the first to get here queues the one cancel, which
      // the other then finds on its way (the order's lock orders them).
      if (intent?.status !== 'active' && (await cancelOnItsWay(tx, order.id))) return false
      if (intent?.status === 'active') await tx.update(intents).set({ status: 'cancel_requested' }).where(eq(intents.id, candidate.intentId))
      await tx.insert(outbox).values({ walletId: order.walletId, kind: 'CancelOrder', orderId: order.id, payload: { reason } })
      if (runId) await noteCancelled(tx, runId, [order.id])
      await onQueued?.(tx, order.id)
      return true
    })
    if (done === 'resumed') break
    if (done) queued.push(candidate.orderId)
  }
  return queued
}

/** Whether the schedule is active again, read under a share lock (a resume under way is waited for). */
async function resumedSince(tx: Db, scheduleId: string): Promise<boolean> {
  const [row] = await tx.select({ status: schedules.status }).from(schedules).where(eq(schedules.id, scheduleId)).for('share')
  return row?.status === 'active'
}

/** A CancelOrder of the order queued, held, or being sent (a settled one, done or failed, left it working). */
async function cancelOnItsWay(tx: Db, orderId: string): Promise<boolean> {
  const [row] = await tx.select({ id: outbox.id }).from(outbox)
    .where(unfinishedCancelsOf(orderId)).limit(1)
  return row !== undefined
}

/**
 * A leg whose order a session's end cancelled, recorded by an operator read (a reconcile, a
 * read-back) before the stream's event, has no working order and an intent still active: the event,
 * when it comes, would place it again under the new session (`replaceSessionOrder`), beside the
 * newer run's legs, or after the schedule was deleted. The schedule no longer wants it: its intent
 * is retired. Intent first, then a fresh read of its orders (an event placing a replacement holds
 * the intent's lock, and its replacement is then a working order).
 */
async function retireEndedLegs(db: Db, scheduleId: string, beforeSlot: Date | undefined): Promise<void> {
  const ended = await db.selectDistinct({ id: intents.id }).from(intents).innerJoin(orders, eq(orders.intentId, intents.id))
    .where(and(eq(intents.scheduleId, scheduleId), eq(intents.status, 'active'), eq(orders.state, 'cancelled'), isNull(orders.replacedBy),
      ...(beforeSlot ? [lt(intents.slotAt, beforeSlot)] : [])))
  for (const { id } of ended) {
    await db.transaction(async (tx) => {
      const [intent] = await tx.select({ status: intents.status }).from(intents).where(eq(intents.id, id)).for('update')
      if (intent?.status !== 'active') return
      const legOrders = await tx.select({ state: orders.state }).from(orders).where(eq(orders.intentId, id))
      if (legOrders.every((order) => terminalOrderStates.includes(order.state))) await tx.update(intents).set({ status: 'cancelled' }).where(eq(intents.id, id))
    })
  }
}
