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

/**
 * The payload flag (`liveAtOperator: true`) of the reconciler's cancel of an order Postgres had as
 * ended (cancelled, rejected) that the operator still lists open (audit `order.liveAtOperator`). Its
 * reason is the order's own, what the user reads once it is cancelled: the flag says what it is.
 */
export const LIVE_AT_OPERATOR = 'liveAtOperator'

/** SQL condition on an outbox row: the reconciler's cancel of an order recorded ended here and live at the operator. */
export const liveAtOperatorCancel = sql`(${outbox.kind} = 'CancelOrder' and ${outbox.payload}->>${LIVE_AT_OPERATOR} = 'true')`

/**
 * SQL condition on an outbox row: a cancel the reconciler queued for an order live at the operator
 * that nobody is to keep trading (an orphan's, or one recorded ended here). Nobody waits for its
 * answer, so it is held for a scope change rather than failed (`isReconcilerCancel`), and queued
 * again while the operator lists the order open after it failed for good (`retryReconcilerCancels`, with
 * a wait that doubles per failure in a row: `cancelRetryDue`).
 */
export const reconcilerCancel = sql`(${orphanCancel} or ${liveAtOperatorCancel})`

/** Whether a CancelOrder's payload is a reconciler's cancel (`reconcilerCancel`, the same rule). */
export function isReconcilerCancel(payload: Record<string, unknown>): boolean {
  return payload.reason === ORPHAN_CANCEL_REASON || payload[LIVE_AT_OPERATOR] === true
}
