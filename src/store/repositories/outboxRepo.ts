import { type SQL, and, eq, inArray, lt, lte, ne, or, sql } from 'drizzle-orm'
import type { Db } from '../Database.js'
import { type OutboxRow, type OutboxStatus, orders, outbox, unfinishedOutboxStatuses } from '../schema/index.js'
import { cancelAllBeforeStatus } from './cancelAllAfter.js'
import { cancelsAheadOf } from './unfinishedCancels.js'

/**
 * The Postgres channel on which outbox work ready to relay is announced: migration 0006's
 * insert trigger for new rows, and `requeue` for rows put back to `pending` on purpose.
 * A relay that fails and puts its rows back does not announce them (its poll takes them), so
 * it cannot wake itself in a loop.
 */
export const OUTBOX_CHANNEL = 'deputy_outbox'

/**
 * SQL condition: the row is a halt's CancelAll (the kill switch's, or a suspected compromise's),
 * which cancels whatever is live at the operator when it lands. The cancel lane sends these
 * without waiting for the queue; resuming the wallet waits for them.
 */
export const haltCancelAll = sql`(${outbox.kind} = 'CancelAll' and ${haltReason(sql`${outbox.payload}`)})`

/** SQL condition: a CancelAll's `payload` says a halt asked for it (the kill switch, or a suspected compromise). */
export function haltReason(payload: SQL): SQL {
  return sql`${payload}->>'reason' in ('killSwitch', 'compromise')`
}

/**
 * SQL: how many milliseconds until the row is due (0 when it is), on Postgres's clock, which dates
 * `available_at` (its now() at insert, or a good-till time it is compared with elsewhere too): a
 * process that took this from its own clock would, running d behind, hold every job back by d.
 */
export const outboxDueInMs = sql<number>`greatest(0, ceil(extract(epoch from ${outbox.availableAt} - clock_timestamp()) * 1000))::float8`.mapWith(Number)

/** The BullMQ job id of an outbox row's current dispatch generation. */
export function outboxJobId(row: Pick<OutboxRow, 'id' | 'generation'>): string {
  return row.generation === 0 ? row.id : `${row.id}.${row.generation}`
}

export async function loadOutbox(db: Db, id: string): Promise<OutboxRow | undefined> {
  const [row] = await db.select().from(outbox).where(eq(outbox.id, id))
  return row
}

/**
 * Locks a run's outbox row (FOR UPDATE, in its transaction) and answers, when another run of the
 * same work settled it (or held it) since this one loaded it, why (`outbox <status> by another run`);
 * undefined while it is still queued (`pending`, `enqueued`) and this run's to settle.
 */
export async function settledByAnotherRun(tx: Db, id: string): Promise<string | undefined> {
  const [current] = await tx.select({ status: outbox.status }).from(outbox).where(eq(outbox.id, id)).for('update')
  return current?.status === 'pending' || current?.status === 'enqueued' ? undefined : `outbox ${current?.status ?? 'row missing'} by another run`
}

export async function setOutboxStatus(db: Db, id: string, status: OutboxStatus, lastError?: string): Promise<void> {
  await db.update(outbox).set({ status, ...(lastError === undefined ? {} : { lastError }) }).where(eq(outbox.id, id))
}

/**
 * The status of the earliest unfinished request for the same order that `row` must wait for, if
 * any. Requests for one order go out in creation order, whichever process runs them, with two
 * exceptions: the order's cancels go in the order they are due (`cancelsAheadOf`), and a cancel
 * never waits for a modify. Cancelling is what reduces a user's risk, and a
 * modify still queued (its job stuck with Redis down, or behind a backlog) would hold it; a modify
 * that runs after the cancel finds the order cancelled and is not applied (a modify already sent
 * lands before the cancel, or is refused `UnknownOrder`). A cancel still waits for its Order, and
 * an Order for a CancelAll of its wallet asked before it (`cancelAllBefore`).
 */
export async function earlierUnfinished(db: Db, row: Pick<OutboxRow, 'id' | 'orderId' | 'seq' | 'kind'>): Promise<OutboxStatus | undefined> {
  // A placement goes first whatever its seq: reconcile re-places an order that was never placed
  // with a new row created after the modifies and cancels queued for it, which wait for the order.
  if (!row.orderId) return undefined
  // A placement waits for a CancelAll of its wallet asked before it and not gone out yet, which
  // would otherwise cancel it when it lands.
  if (row.kind === 'Order') return cancelAllBeforeStatus(db, row.orderId)
  // A cancel waits for the order's other cancels due before it, not for those queued before it: a
  // good-till cancel is queued at intake, and a user's cancel asked before its time goes first.
  const before = row.kind === 'CancelOrder'
    ? or(and(ne(outbox.kind, 'CancelOrder'), lt(outbox.seq, row.seq)), cancelsAheadOf({ id: row.id, orderId: row.orderId }))
    : lt(outbox.seq, row.seq)
  const [earlier] = await db.select({ status: outbox.status }).from(outbox)
    // Rows not yet due (a good-till cancel) do not block what comes after them.
    .where(and(
      eq(outbox.orderId, row.orderId), before, inArray(outbox.status, [...unfinishedOutboxStatuses]), lte(outbox.availableAt, sql`now()`),
      row.kind === 'CancelOrder' ? ne(outbox.kind, 'ModifyOrder') : undefined,
    ))
    .orderBy(outbox.seq)
    .limit(1)
  return earlier?.status
}

/** Releases a wallet's held work (it was waiting for a valid session); see `requeue`. */
export function releaseHeld(db: Db, walletId: string): Promise<number> {
  return requeue(db, and(eq(outbox.walletId, walletId), eq(outbox.status, 'held'))!)
}

/**
 * SQL condition on an outbox row: its order has ended for good (filled, rejected, or cancelled for a
 * known reason and not placed again), so the work will never go out.
 */
export const outboxOrderEnded = sql`exists (select 1 from ${orders} where ${orders.id} = ${outbox.orderId} and (${orders.state} in ('filled', 'rejected')
  or (${orders.state} = 'cancelled' and ${orders.replacedBy} is null and ${orders.cancelReason} is not null)))`

/**
 * Queues again held placements, modifications and cancels (the reconciler's, held for a scope change)
 * whose order has ended since they were held (filled, rejected, or cancelled for a known reason and
 * not placed again): their claim settles them as it settles any such work ("not applied",
 * "cancelled before submission", "order already cancelled"). Held for a scope change, they
 * would otherwise have the session widened for work nobody needs any more. See `requeue`.
 */
export function releaseHeldOfEndedOrders(db: Db, walletId?: string): Promise<number> {
  return requeue(db, and(eq(outbox.status, 'held'), inArray(outbox.kind, ['Order', 'ModifyOrder', 'CancelOrder']), walletId ? eq(outbox.walletId, walletId) : undefined, outboxOrderEnded)!)
}

/** Queues one row again (its wait ended before it was held); see `requeue`. */
export async function requeueRow(db: Db, id: string): Promise<void> {
  await requeue(db, eq(outbox.id, id))
}

/**
 * Puts rows back to `pending` under a new dispatch generation, so the relay enqueues them under a
 * fresh job id, and wakes the relays as soon as the caller's transaction commits (the notification
 * is dropped if it rolls back). Answers how many rows went back.
 */
async function requeue(db: Db, where: SQL): Promise<number> {
  const requeued = await db.update(outbox)
    .set({ status: 'pending', generation: sql`${outbox.generation} + 1`, availableAt: sql`now()` })
    .where(where)
    .returning({ id: outbox.id })
  if (requeued.length) await db.execute(sql`select pg_notify(${OUTBOX_CHANNEL}, '')`)
  return requeued.length
}
