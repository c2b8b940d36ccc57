import { sql } from 'drizzle-orm'
import type { Db } from '../Database.js'
import { namedStatement } from '../namedStatement.js'
import { cancelAllAsked, cancelAllBefore, cancelAllNotRefused } from './cancelAllAfter.js'

/** An Order claimed by `claimPendingOrders`: what signing it needs. */
export type ClaimedOrder = {
  outboxId: string
  orderId: string
  walletId: string
  /** The wallet's active session, read in the same statement. */
  sessionId: string
  /** The wallet has policy rows (the local policy must be evaluated). */
  hasPolicy: boolean
  market: string
  side: 0 | 1
  price: string
  size: string
  timeInForce: 0 | 1 | 2
  clientOrderId: string
}

/**
 * The batched form of the Order claim, for the common case only: in one
 * transaction (the orders locked, then one statement), moves `pending` → `submitting` the orders of the given outbox rows
 * whose row is still due and not finished, whose wallet is not halted, whose
 * intent is not cancelled (nor has a cancel queued) and whose good-till time
 * has not passed, for which no CancelAll was asked since it was queued (nor
 * one asked before it is still to go out: it waits for it), that
 * need not read back the order they replace first (`readBack`), and
 * whose wallet has an active session valid past
 * `minExpiryUnix`. The compare-and-set is the same as the one-by-one claim
 * (`orders.state = 'pending'`, re-checked under the row lock). Rows it does not
 * answer are left untouched for the one-by-one path, which handles every case.
 */
export async function claimPendingOrders(db: Db, outboxIds: readonly string[], minExpiryUnix: number): Promise<ClaimedOrder[]> {
  if (outboxIds.length === 0) return []
  return db.transaction(async (tx) => {
    // The orders are locked first (in id order, `lockOrder`'s lock), by a statement of their own, so
    // that the claim below reads the intents after any cancel that held an order's lock has
    // committed: a cancel asked meanwhile (requestCancel locks the order, then marks the intent) is
    // seen, not read from before it, and the order is never sent.
    const { rows: locked } = await lockPending(tx, { outboxIds })
    if (locked.length === 0) return []
    const { rows } = await claimLocked(tx, { outboxIds, orderIds: locked.map((row) => row.id), minExpiryUnix })
    return rows.map((row) => ({
      outboxId: row.outbox_id,
      orderId: row.order_id,
      walletId: row.wallet_id,
      sessionId: row.session_id,
      hasPolicy: row.has_policy,
      market: row.market,
      side: Number(row.side) as 0 | 1,
      price: row.price,
      size: row.size,
      timeInForce: Number(row.time_in_force) as 0 | 1 | 2,
      clientOrderId: row.client_order_id,
    }))
  })
}

const lockPending = namedStatement<{ id: string }, { outboxIds: readonly string[] }>('deputy_claim_lock_pending_orders', () => sql`
  select o.id from outbox x join orders o on o.id = x.order_id
  where x.id = any(${sql.placeholder('outboxIds')}::uuid[]) and x.kind = 'Order' and o.state = 'pending'
  order by o.id for no key update of o`)

const claimLocked = namedStatement<{
  outbox_id: string; order_id: string; wallet_id: string; session_id: string; has_policy: boolean
  market: string; side: number; price: string; size: string; time_in_force: number; client_order_id: string
}, { outboxIds: readonly string[]; orderIds: readonly string[]; minExpiryUnix: number }>('deputy_claim_pending_orders', () => sql`
  with candidates as (
    select x.id as outbox_id, o.id as order_id, s.id as session_id,
           exists (select 1 from policies p where p.wallet_id = x.wallet_id) as has_policy
    from outbox x
    join orders o on o.id = x.order_id
    join wallets w on w.id = x.wallet_id
    join sessions s on s.wallet_id = x.wallet_id and s.status = 'active' and s.expiry_unix > ${sql.placeholder('minExpiryUnix')}
    left join intents i on i.id = o.intent_id
    where x.id = any(${sql.placeholder('outboxIds')}::uuid[]) and o.id = any(${sql.placeholder('orderIds')}::uuid[])
      and x.kind = 'Order' and x.status in ('pending', 'enqueued') and x.available_at <= now()
      and x.payload->'readBack' is null
      and o.state = 'pending' and o.time_in_force is not null and w.status <> 'halted' and (i.id is null or i.status not in ('cancelled', 'cancel_requested'))
      and (i.good_till is null or i.good_till > now())
      and not ${cancelAllAsked(sql`o`, cancelAllNotRefused, { anyHalt: true })}
      and not ${cancelAllBefore(sql`o`)}
  )
  update orders o set state = 'submitting', session_id = null, updated_at = now()
  from candidates c
  where o.id = c.order_id and o.state = 'pending'
  returning c.outbox_id, c.order_id, o.wallet_id, c.session_id, c.has_policy,
            o.market, o.side, o.price::text as price, o.size::text as size, o.time_in_force, o.client_order_id`)
