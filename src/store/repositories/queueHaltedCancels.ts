import { sql } from 'drizzle-orm'
import type { Db } from '../Database.js'
import { executeNamed } from '../executeNamed.js'

/**
 * Orders just accepted while their wallet is halted: the kill switch tripped while they were on the
 * wire, and its CancelAll may have reached the operator first. Each gets a CancelOrder (reason
 * `halted`; cancels go through while halted). One statement for any number of orders.
 */
export async function queueHaltedCancels(tx: Db, orderIds: readonly string[]): Promise<void> {
  if (orderIds.length === 0) return
  await executeNamed(tx, 'deputy_queue_halted_cancels', sql`
    insert into outbox (wallet_id, kind, order_id, payload)
    select o.wallet_id, 'CancelOrder', o.id, '{"reason":"halted"}'::jsonb
    from orders o join wallets w on w.id = o.wallet_id
    where o.id = any(${sql.param(orderIds)}::uuid[]) and w.status = 'halted'
    order by o.id`)
}
