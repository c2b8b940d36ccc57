import { and, eq, gt, inArray } from 'drizzle-orm'
import { formatAmount, parseAmount, parsePositiveAmount } from '../../core/money/decimal.js'
import type { Db } from '../../store/Database.js'
import { audit } from '../../store/repositories/audit.js'
import { type OrderRow, type OutboxRow, outbox } from '../../store/schema/index.js'

/**
 * A ModifyOrder queued for an order that its session's end cancelled and that was placed again
 * (`replaced_by`) moves to the replacement, so the user's change is not lost to a rotation. Its
 * size is a new total for the order it named: the replacement was placed for what had not filled,
 * so its new total is that size less what the cancelled order filled. Call in the claim's
 * transaction, before anything is signed for the row; answers the reason to record when the
 * modification cannot apply, or undefined once the row names the replacement (the job runs again
 * and waits there for the replacement's acknowledgement, as for any order).
 */
export async function followReplacement(tx: Db, row: OutboxRow, cancelled: OrderRow & { replacedBy: string }): Promise<string | undefined> {
  const size = parsePositiveAmount('size', row.payload.size)
  const filled = parseAmount('filled', cancelled.filled)
  const placedAgain = `order cancelled when its session ended and placed again as ${cancelled.replacedBy}`
  if (size <= filled) return `${placedAgain}: modification not applied (size ${formatAmount(size)} does not exceed the ${formatAmount(filled)} it filled)`
  // A modification asked for the replacement itself since this one was queued supersedes it: moved
  // there, this older one would be sent after it (it does not wait for it) and undo it.
  const [later] = await tx.select({ id: outbox.id }).from(outbox)
    .where(and(eq(outbox.orderId, cancelled.replacedBy), eq(outbox.kind, 'ModifyOrder'), gt(outbox.seq, row.seq))).limit(1)
  if (later) return `${placedAgain}: modification not applied (superseded by a later modification of the replacement)`
  const moved = await tx.update(outbox)
    .set({ orderId: cancelled.replacedBy, payload: { ...row.payload, size: formatAmount(size - filled), follows: cancelled.id } })
    .where(and(eq(outbox.id, row.id), eq(outbox.orderId, cancelled.id), inArray(outbox.status, ['pending', 'enqueued'])))
    .returning({ id: outbox.id })
  if (!moved.length) return `${placedAgain}: modification not applied`
  await audit(tx, { walletId: row.walletId, actor: 'worker', action: 'ModifyOrder.followed', details: { outboxId: row.id, from: cancelled.id, to: cancelled.replacedBy, size: formatAmount(size - filled) } })
  return undefined
}
