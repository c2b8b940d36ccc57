import { sql } from 'drizzle-orm'
import type { Db } from '../Database.js'
import type { OrderRow } from '../schema/index.js'
import { executeNamed } from '../executeNamed.js'
import type { SnapshotColumns } from './orderSnapshot.js'

/** What the batched writers read of a locked order: its keys and the state machine's columns (`toSnapshot`). */
export type LockedOrder = Pick<OrderRow, 'id' | 'walletId' | 'clientOrderId'> & SnapshotColumns

type Row = {
  id: string; wallet_id: string; client_order_id: string; state: OrderRow['state']; price: string; size: string; filled: string
  filled_notional: string; fees: string; venue_revision: number; venue_order_id: string | null; cancel_reason: string | null; reject_code: string | null
}

// Hand-written statements and mapping, not drizzle's select builder: the batched writers lock
// orders on every run, and building drizzle's select cost 80–120 µs each time (micro-benchmark).
const columns = sql.raw(`id, wallet_id, client_order_id, state, price::text as price, size::text as size, filled::text as filled,
  filled_notional::text as filled_notional, fees::text as fees, venue_revision, venue_order_id, cancel_reason, reject_code`)

/**
 * Row-locks (`FOR UPDATE SKIP LOCKED`, in id order) the orders with these ids that no other
 * transaction holds, and reads what the state machine needs; the held ones are left out, not waited for.
 */
export function lockOrdersSkippingHeld(db: Db, ids: readonly string[]): Promise<LockedOrder[]> {
  return executeNamed<Row>(db, 'deputy_lock_orders_skipping_held', sql`
    select ${columns} from orders where id = any(${sql.param(ids)}::uuid[]) order by id for update skip locked`).then(toLockedOrders)
}

/** Row-locks (`FOR UPDATE`, in id order) the orders with these (wallet, client order id) keys; the ids are lower case. */
export function lockOrdersByKey(db: Db, keys: readonly { walletId: string; clientOrderId: string }[]): Promise<LockedOrder[]> {
  return executeNamed<Row>(db, 'deputy_lock_orders_by_key', sql`
    select ${columns} from orders
    where (wallet_id, client_order_id) in (select * from unnest(${sql.param(keys.map((k) => k.walletId))}::uuid[], ${sql.param(keys.map((k) => k.clientOrderId))}::text[]))
    order by id for update`).then(toLockedOrders)
}

function toLockedOrders({ rows }: { rows: Row[] }): LockedOrder[] {
  return rows.map((row) => ({
    id: row.id,
    walletId: row.wallet_id,
    clientOrderId: row.client_order_id,
    state: row.state,
    price: row.price,
    size: row.size,
    filled: row.filled,
    filledNotional: row.filled_notional,
    fees: row.fees,
    venueRevision: Number(row.venue_revision),
    venueOrderId: row.venue_order_id,
    cancelReason: row.cancel_reason,
    rejectCode: row.reject_code,
  }))
}
