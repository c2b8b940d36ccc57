import { and, desc, eq, exists, inArray, not } from 'drizzle-orm'
import type { Db } from '../store/Database.js'
import { ORPHAN_CANCEL_REASON, orphanCancel, unfinishedCancelsOf } from '../store/repositories/unfinishedCancels.js'
import { orders, outbox } from '../store/schema/index.js'
import type { WorkerDeps } from './deps.js'

type RecordRepair = (tx: Db, action: string, details: { [key: string]: unknown }) => Promise<void>

/**
 * Orphans recorded to be cancelled (ORPHAN_POLICY=cancel) that the operator still lists open, their
 * cancel failed for good (a local policy refused it, the operator did, or it was refused out of scope
 * before such cancels were held for a scope change) and no other cancel of them on its way: a new
 * CancelOrder is queued (audit `orphan.cancelRetried`) on every sweep, and a person told
 * (ORPHAN_UNCANCELLED, once an hour per order: the alert sink's rule), since the order trades the
 * user's money at the operator meanwhile. Answers how many were queued again.
 */
export async function retryOrphanCancels(deps: Pick<WorkerDeps, 'db' | 'alert'>, walletId: string, listedOpen: string[], record: RecordRepair): Promise<number> {
  if (listedOpen.length === 0) return 0
  const failed = await deps.db.select({ id: orders.id, clientOrderId: orders.clientOrderId }).from(orders).where(and(
    eq(orders.walletId, walletId), inArray(orders.clientOrderId, listedOpen), inArray(orders.state, ['open', 'partially_filled']),
    exists(deps.db.select({ id: outbox.id }).from(outbox).where(and(eq(outbox.orderId, orders.id), orphanCancel, eq(outbox.status, 'failed')))),
    not(exists(deps.db.select({ id: outbox.id }).from(outbox).where(unfinishedCancelsOf(orders.id)))),
  ))
  let queued = 0
  for (const order of failed) {
    const lastError = await deps.db.transaction(async (tx) => {
      // Under the order's lock, which a user's cancel takes before it is queued: one queued since is not doubled.
      const [locked] = await tx.select({ state: orders.state }).from(orders).where(eq(orders.id, order.id)).for('update')
      if (!locked || (locked.state !== 'open' && locked.state !== 'partially_filled')) return undefined
      const [unfinished] = await tx.select({ id: outbox.id }).from(outbox).where(unfinishedCancelsOf(order.id)).limit(1)
      if (unfinished) return undefined
      const [last] = await tx.select({ lastError: outbox.lastError }).from(outbox).where(and(eq(outbox.orderId, order.id), orphanCancel)).orderBy(desc(outbox.seq)).limit(1)
      const [row] = await tx.insert(outbox).values({ walletId, kind: 'CancelOrder', orderId: order.id, payload: { reason: ORPHAN_CANCEL_REASON } }).returning({ id: outbox.id })
      await record(tx, 'orphan.cancelRetried', { orderId: order.id, clientOrderId: order.clientOrderId, outboxId: row!.id, lastError: last?.lastError ?? null })
      return last?.lastError ?? 'unknown'
    })
    if (lastError === undefined) continue
    queued++
    deps.alert({
      walletId, code: 'ORPHAN_UNCANCELLED',
      message: `order ${order.clientOrderId}, which Deputy does not hold and was to cancel (ORPHAN_POLICY=cancel), is still live at the operator: its cancel failed (${lastError}); a new cancel is queued on every sweep`,
      details: { orderId: order.id, clientOrderId: order.clientOrderId },
    })
  }
  return queued
}
