import { type SQL, sql } from 'drizzle-orm'
import type { Db } from '../Database.js'
import { namedStatement } from '../namedStatement.js'
import { cancelAllAsked } from './cancelAllAfter.js'

/**
 * Orders just accepted that something asked to cancel while they were on the wire, and whose cancel
 * may have reached the operator first: their wallet is halted (the kill switch's CancelAll), or a
 * CancelAll for their market was asked after they were queued and may already have been sent
 * (enqueued or done; one still pending or held goes out later and covers them). Each gets a
 * CancelOrder (reason `halted` or `cancelAll`; cancels go through while halted); a second cancel of
 * an order the CancelAll did reach is answered UnknownOrder and read back. One statement for any
 * number of orders.
 */
export async function queueLateCancels(tx: Db, orderIds: readonly string[]): Promise<void> {
  if (orderIds.length === 0) return
  await queueLate(tx, { lateCancelOrderIds: orderIds })
}

/**
 * `queueLateCancels`' statement, for a caller that runs it inside one of its own (a writable CTE,
 * whose other parts must not change what it reads: the orders' wallets and markets, the wallets'
 * status, the CancelAll rows and the orders' first Order rows' seq), a `namedStatement`: its placeholder
 * `lateCancelOrderIds` is the orders' ids (not empty).
 */
export function lateCancelsInsert(): SQL {
  return sql`
    insert into outbox (wallet_id, kind, order_id, payload)
    select o.wallet_id, 'CancelOrder', o.id, jsonb_build_object('reason', case when w.status = 'halted' then 'halted' else 'cancelAll' end)
    from orders o join wallets w on w.id = o.wallet_id
    where o.id = any(${sql.placeholder('lateCancelOrderIds')}::uuid[])
      and (w.status = 'halted' or ${cancelAllAsked(sql`o`, ['enqueued', 'done'])})
    order by o.id`
}

const queueLate = namedStatement<never, { lateCancelOrderIds: readonly string[] }>('deputy_queue_late_cancels', lateCancelsInsert)
