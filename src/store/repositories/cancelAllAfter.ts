import { type SQL, sql } from 'drizzle-orm'
import type { Db } from '../Database.js'
import { executeNamed } from '../executeNamed.js'
import type { OutboxStatus } from '../schema/index.js'
import { haltReason } from './outboxRepo.js'

/**
 * SQL condition: a CancelAll covering the order's market (or every market) was asked for its
 * wallet after the order was first queued, and has one of `statuses`. `order` names a row of
 * `orders` in the enclosing statement. Two index probes: the wallet's CancelAll rows after a seq
 * (`outbox_cancel_all_idx`, CancelAll rows only) and the order's first Order row (`outbox_order_seq_idx`).
 * An order whose Order row is gone (settled and pruned past RETENTION_DAYS: a resting order older
 * than that) was queued before the CancelAll rows still on record, which are newer or unsettled, so
 * each of those counts: compared with the missing row none would, and a session's end would place
 * the order again after a CancelAll that was to cancel it.
 */
/** SQL condition: outbox row `c` is a CancelAll of the order's wallet covering its market (or every market). */
function coversOrder(order: SQL): SQL {
  return sql`c.kind = 'CancelAll' and c.wallet_id = ${order}.wallet_id and coalesce(c.payload->>'market', '') in ('', ${order}.market)`
}

/** SQL: the seq of the order's first Order row (null once pruned). */
function firstOrderSeq(order: SQL): SQL {
  return sql`(select min(x.seq) from outbox x where x.order_id = ${order}.id and x.kind = 'Order')`
}

export function cancelAllAsked(order: SQL, statuses: readonly OutboxStatus[], options: { anyHalt?: boolean } = {}): SQL {
  const inStatuses = sql`c.status in (${sql.join(statuses.map((s) => sql`${s}`), sql`, `)})`
  // A halt's CancelAll (kill switch, compromise) marks the halt whatever became of it: one refused
  // (a scope with no cancel) still means the placement was queued before the halt.
  const statusOk = options.anyHalt ? sql`(${inStatuses} or ${haltReason(sql`c.payload`)})` : inStatuses
  return sql`exists (select 1 from outbox c where ${coversOrder(order)} and ${statusOk} and c.seq > coalesce(${firstOrderSeq(order)}, 0))`
}

/** A CancelAll not refused: still to go out, or sent. One asked after an Order was queued stops it at its claim. */
export const cancelAllNotRefused: readonly OutboxStatus[] = ['pending', 'enqueued', 'held', 'done']

/**
 * Whether a CancelAll not refused was asked after this order was queued; by default a halt's counts
 * even when refused (it still marks the halt). `anyHalt: false` asks whether one may have cancelled
 * orders at the operator (a refused one cancelled nothing).
 */
export async function cancelAllAfter(tx: Db, orderId: string, { anyHalt = true }: { anyHalt?: boolean } = {}): Promise<boolean> {
  const { rows } = await executeNamed<{ asked: boolean }>(tx, anyHalt ? 'deputy_cancel_all_after' : 'deputy_cancel_all_after_sent', sql`
    select ${cancelAllAsked(sql`o`, cancelAllNotRefused, { anyHalt })} as asked from orders o where o.id = ${orderId}`)
  return rows[0]?.asked === true
}

/**
 * Whether the CancelAll asked after this order was queued (`cancelAllAfter`) includes a halt's (the
 * kill switch's, or a compromise's; whatever became of it): the order was queued before a halt, and
 * stopped by it, which is what it is cancelled for (`halted`), also when it is claimed after the resume.
 */
export async function haltAfter(tx: Db, orderId: string): Promise<boolean> {
  const { rows } = await executeNamed<{ asked: boolean }>(tx, 'deputy_halt_after', sql`
    select exists (select 1 from outbox c where ${coversOrder(sql`o`)} and ${haltReason(sql`c.payload`)} and c.seq > coalesce(${firstOrderSeq(sql`o`)}, 0)) as asked
    from orders o where o.id = ${orderId}`)
  return rows[0]?.asked === true
}

/**
 * SQL condition: a CancelAll covering the order's market (or every market) was asked for its wallet
 * before the order was first queued and has not gone out yet (`pending`, `enqueued` — say resent
 * after a 503 — or `held`). Placed now, the order would be cancelled by it when it lands, though
 * the user asked to cancel only what was there before: the placement waits for it.
 */
export function cancelAllBefore(order: SQL): SQL {
  return sql`exists (select 1 from outbox c where ${waitingCancelAllBefore(order)})`
}

/** SQL condition: outbox row `c` is a CancelAll `cancelAllBefore` waits for. */
function waitingCancelAllBefore(order: SQL): SQL {
  return sql`${coversOrder(order)} and c.status in ('pending', 'enqueued', 'held') and c.seq < ${firstOrderSeq(order)}`
}

/** The status of a CancelAll the order's placement waits for (`cancelAllBefore`): `held` first, if any. */
export async function cancelAllBeforeStatus(tx: Db, orderId: string): Promise<OutboxStatus | undefined> {
  const { rows } = await executeNamed<{ status: OutboxStatus }>(tx, 'deputy_cancel_all_before', sql`
    select c.status from orders o join outbox c on ${waitingCancelAllBefore(sql`o`)}
    where o.id = ${orderId}
    order by c.status = 'held' desc
    limit 1`)
  return rows[0]?.status
}
