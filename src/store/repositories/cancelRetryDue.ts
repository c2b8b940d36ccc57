import { type SQL, and, count, desc, eq, gt, isNotNull, max, ne } from 'drizzle-orm'
import { cancelRetryDelayMs } from '../../core/orders/cancelRetryDelay.js'
import type { Db } from '../Database.js'
import { outbox, sessions } from '../schema/index.js'
import { postgresNow } from './postgresNow.js'

/**
 * Whether the reconciler's cancel of an order (`retried`: its rows), failed for good, is due to be
 * queued again: the time since the last failure has reached `cancelRetryDelayMs` of the failures in
 * a row (those after the last of its cancels that did not fail), or the wallet's active session was
 * activated since that failure (a rotation, a scope change: what was refused may now go through).
 * Read from the stored rows, so it holds across restarts and worker processes. A failure is dated
 * by its row's `updated_at`, written on the clock of the process that failed it: a skew between
 * processes moves a retry by as much, which this rule can bear.
 */
export async function cancelRetryDue(tx: Db, input: { walletId: string; orderId: string; retried: SQL; intervalMs: number }): Promise<boolean> {
  const ofOrder = and(eq(outbox.orderId, input.orderId), input.retried)
  const [settled] = await tx.select({ seq: outbox.seq }).from(outbox).where(and(ofOrder, ne(outbox.status, 'failed'))).orderBy(desc(outbox.seq)).limit(1)
  const [tail] = await tx.select({ failures: count(), last: max(outbox.updatedAt) }).from(outbox)
    .where(and(ofOrder, eq(outbox.status, 'failed'), settled ? gt(outbox.seq, settled.seq) : undefined))
  if (!tail?.last || tail.failures === 0) return false
  const [rotated] = await tx.select({ id: sessions.id }).from(sessions)
    .where(and(eq(sessions.walletId, input.walletId), eq(sessions.status, 'active'), isNotNull(sessions.activatedAt), gt(sessions.activatedAt, tail.last))).limit(1)
  if (rotated) return true
  return (await postgresNow(tx)).getTime() - tail.last.getTime() >= cancelRetryDelayMs(tail.failures, input.intervalMs)
}
