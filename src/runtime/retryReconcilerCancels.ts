import { and, desc, eq, exists, inArray, not } from 'drizzle-orm'
import { ORPHAN_CANCEL_REASON, liveAtOperatorCancel, reconcilerCancel, unfinishedCancelsOf } from '../store/repositories/unfinishedCancels.js'
import { orders, outbox } from '../store/schema/index.js'
import { cancelRetryDue } from '../store/repositories/cancelRetryDue.js'
import type { WorkerDeps } from './deps.js'
import type { RecordRepair } from './orderRepairs.js'

/**
 * Orders the reconciler queued a cancel of (`reconcilerCancel`: an orphan to cancel under
 * ORPHAN_POLICY=cancel, or an order recorded ended here that the operator listed open) that the
 * operator still lists open, their cancel failed for good (a local policy refused it, the operator
 * did, or it was refused out of scope before such cancels were held for a scope change) and no other
 * cancel of them on its way: a new CancelOrder with the same payload (reason and flag) is queued, and
 * a person told (once an hour per order: the alert sink's rule), since the order trades the user's
 * money at the operator meanwhile. Not at every sweep: once the time since the last failure reaches
 * `intervalMs` (the sweep interval), doubled for each further failure in a row, up to an hour, or at
 * once after a rotation (`cancelRetryDue`), so an operator that refuses every attempt gets one
 * signed request an hour at most rather than one a sweep, and the order's work does not grow by a
 * row a sweep. An orphan's: audit `orphan.cancelRetried`, alert ORPHAN_UNCANCELLED, only while
 * `orphans` is `cancel`; one recorded ended here: audit `order.cancelRetried`, alert
 * ORDER_UNCANCELLED, whatever the policy. Answers how many were queued again.
 */
export async function retryReconcilerCancels(deps: Pick<WorkerDeps, 'db' | 'alert'>, walletId: string, listedOpen: string[], record: RecordRepair,
  options: { orphans: 'adopt' | 'cancel'; intervalMs: number }): Promise<number> {
  if (listedOpen.length === 0) return 0
  const retried = options.orphans === 'cancel' ? reconcilerCancel : liveAtOperatorCancel
  const failed = await deps.db.select({ id: orders.id, clientOrderId: orders.clientOrderId }).from(orders).where(and(
    eq(orders.walletId, walletId), inArray(orders.clientOrderId, listedOpen), inArray(orders.state, ['open', 'partially_filled']),
    exists(deps.db.select({ id: outbox.id }).from(outbox).where(and(eq(outbox.orderId, orders.id), retried, eq(outbox.status, 'failed')))),
    not(exists(deps.db.select({ id: outbox.id }).from(outbox).where(unfinishedCancelsOf(orders.id)))),
  ))
  let queued = 0
  for (const order of failed) {
    const last = await deps.db.transaction(async (tx) => {
      // Under the order's lock, which a user's cancel takes before it is queued: one queued since is not doubled.
      const [locked] = await tx.select({ state: orders.state }).from(orders).where(eq(orders.id, order.id)).for('update')
      if (!locked || (locked.state !== 'open' && locked.state !== 'partially_filled')) return undefined
      const [unfinished] = await tx.select({ id: outbox.id }).from(outbox).where(unfinishedCancelsOf(order.id)).limit(1)
      if (unfinished) return undefined
      if (!(await cancelRetryDue(tx, { walletId, orderId: order.id, retried, intervalMs: options.intervalMs }))) return undefined
      const [last] = await tx.select({ payload: outbox.payload, lastError: outbox.lastError }).from(outbox)
        .where(and(eq(outbox.orderId, order.id), retried)).orderBy(desc(outbox.seq)).limit(1)
      if (!last) return undefined
      const orphan = last.payload.reason === ORPHAN_CANCEL_REASON
      const [row] = await tx.insert(outbox).values({ walletId, kind: 'CancelOrder', orderId: order.id, payload: last.payload }).returning({ id: outbox.id })
      await record(tx, orphan ? 'orphan.cancelRetried' : 'order.cancelRetried', { orderId: order.id, clientOrderId: order.clientOrderId, outboxId: row!.id, lastError: last.lastError })
      return { orphan, lastError: last.lastError ?? 'unknown' }
    })
    if (last === undefined) continue
    queued++
    const again = `its cancel failed (${last.lastError}); a new cancel is queued, and after each further failure a longer wait (doubling, up to an hour, or none after a rotation)`
    deps.alert(last.orphan
      ? {
        walletId, code: 'ORPHAN_UNCANCELLED', details: { orderId: order.id, clientOrderId: order.clientOrderId },
        message: `order ${order.clientOrderId}, which Deputy does not hold and was to cancel (ORPHAN_POLICY=cancel), is still live at the operator: ${again}`,
      }
      : {
        walletId, code: 'ORDER_UNCANCELLED', details: { orderId: order.id, clientOrderId: order.clientOrderId },
        message: `order ${order.clientOrderId}, which ended here (its user was told so) and which the operator listed open, is still live at the operator: ${again}`,
      })
  }
  return queued
}
