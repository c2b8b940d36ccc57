import { sql } from 'drizzle-orm'
import { applyOrderUpdate } from '../../core/orders/applyOrderUpdate.js'
import type { Db } from '../Database.js'
import type { Receipt } from '../../venue/types.js'
import { lockOrdersSkippingHeld } from './lockOrders.js'
import { toSnapshot } from './orderSnapshot.js'
import { lateCancelsInsert } from './queueLateCancels.js'
import { type OrderSnapshotValues, orderSnapshotValues, orderSnapshotsUpdate } from './writeOrderSnapshots.js'
import { namedStatement } from '../namedStatement.js'

export type AcceptedOrder = {
  outboxId: string
  orderId: string
  requestId: string
  sessionId: string
  receipt: Receipt
  /** When the send that got the receipt began. */
  sentAt: Date
}

/**
 * The batched form of recording accepted Orders, in one transaction: the
 * requests get their receipts (and `sent_at`, unless an earlier send's outcome set it), each order goes through the state machine
 * (`accepted`, under the row lock, so an event applied first is never undone)
 * and remembers its session, an order a kill switch or a CancelAll asked after it
 * may have missed gets a CancelOrder (`queueLateCancels`, as one by one), and the
 * outbox rows are done. Answers the
 * orders recorded; the others were locked elsewhere and are left untouched.
 */
export async function recordAcceptedOrders(db: Db, batch: readonly AcceptedOrder[], completedAt: Date): Promise<Set<string>> {
  if (batch.length === 0) return new Set()
  return db.transaction(async (tx) => {
    // Orders another transaction holds (the event consumer applies a fill) are skipped, not waited
    // for: this never waits on an order row, so it cannot deadlock with the consumer, which locks a
    // wallet's orders in event order. The caller records those one by one.
    const rows = await lockOrdersSkippingHeld(tx, batch.map((a) => a.orderId))
    const byOrder = new Map(batch.map((a) => [a.orderId, a]))
    const accepted = rows.map((row) => byOrder.get(row.id)!)
    if (accepted.length === 0) return new Set()
    // The four writes in one statement (writable CTEs), one round trip instead of four: none reads
    // what another changes (all see the statement's snapshot, taken after the locks above, as each
    // one's own was; queueLateCancels reads the orders' wallets and markets, the wallets' status,
    // the CancelAll rows and the Order rows' seq, none of which is written here). The requests' ids
    // twice, as in writeOrderSnapshots: by primary key, not by a seq scan of `requests`.
    await recordAccepted(tx, {
      receipts: JSON.stringify(accepted.map((a) => ({ id: a.requestId, receipt: a.receipt, duplicate: a.receipt.duplicate, sent_at: a.sentAt }))),
      requestIds: accepted.map((a) => a.requestId),
      completedAt,
      ...orderSnapshotValues(rows.map((row) => ({
        id: row.id,
        sessionId: byOrder.get(row.id)!.sessionId,
        snapshot: applyOrderUpdate(toSnapshot(row), { kind: 'accepted', venueOrderId: byOrder.get(row.id)!.receipt.orderId }),
      }))),
      lateCancelOrderIds: accepted.map((a) => a.orderId),
      outboxIds: accepted.map((a) => a.outboxId),
    })
    return new Set(accepted.map((a) => a.orderId))
  })
}

const recordAccepted = namedStatement<never, OrderSnapshotValues & {
  receipts: string; requestIds: string[]; completedAt: Date; lateCancelOrderIds: string[]; outboxIds: string[]
}>('deputy_record_accepted', () => sql`
  with accepted_requests as (
    update requests r set status = 'accepted', receipt = v.receipt, duplicate = v.duplicate, completed_at = ${sql.placeholder('completedAt')},
      sent_at = coalesce(r.sent_at, v.sent_at)
    from jsonb_to_recordset(${sql.placeholder('receipts')}::jsonb) as v(id uuid, receipt jsonb, duplicate boolean, sent_at timestamptz)
    where r.id = v.id and r.id = any(${sql.placeholder('requestIds')}::uuid[])
  ), snapshots as (${orderSnapshotsUpdate()}
  ), late_cancels as (${lateCancelsInsert()}
  )
  update outbox set status = 'done', updated_at = now() where id = any(${sql.placeholder('outboxIds')}::uuid[])`)
