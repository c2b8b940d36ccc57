import { type SQL, and, eq, inArray, ne, sql } from 'drizzle-orm'
import { type orders, outbox, unfinishedOutboxStatuses } from '../schema/index.js'

/**
 * The order's CancelOrder outbox rows still to finish: queued, enqueued (perhaps on the wire), or
 * held. A settled one (done, or failed for good) no longer counts.
 */
export function unfinishedCancelsOf(orderId: string | typeof orders.id): SQL {
  return and(eq(outbox.orderId, orderId), eq(outbox.kind, 'CancelOrder'), inArray(outbox.status, [...unfinishedOutboxStatuses]))!
}

/**
 * The order's other unfinished CancelOrders that go before `row` (a CancelOrder of it): those due
 * first, by `available_at` and then `seq`, as the rows stand now. One CancelOrder of an order is
 * sent at a time: a user's cancel asked before the good-till time goes first, though the good-till
 * cancel was queued at intake; the good-till cancel waits for it and, once it has cancelled the
 * order, stands down. A single order over every row, so two cancels never wait for each other.
 */
export function cancelsAheadOf(row: { id: string; orderId: string }): SQL {
  return and(unfinishedCancelsOf(row.orderId), ne(outbox.id, row.id),
    sql`(${outbox.availableAt}, ${outbox.seq}) < (select mine.available_at, mine.seq from outbox mine where mine.id = ${row.id})`)!
}

/** The reason the reconciler gives the CancelOrder of an orphan it is to cancel (ORPHAN_POLICY=cancel). */
export const ORPHAN_CANCEL_REASON = 'orphan'

/** SQL condition on an outbox row: the reconciler's cancel of an orphan. */
export const orphanCancel = sql`(${outbox.kind} = 'CancelOrder' and ${outbox.payload}->>'reason' = ${ORPHAN_CANCEL_REASON})`
