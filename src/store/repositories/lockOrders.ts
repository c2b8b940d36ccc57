import { sql } from 'drizzle-orm'
import type { Db } from '../Database.js'
import { orders } from '../schema/index.js'
import { namedStatement } from '../namedStatement.js'
import { tableRows } from '../tableRows.js'

// Hand-written statements, not drizzle's select builder: the batched writers lock orders on every
// run, and building drizzle's select cost 80–120 µs each time (micro-benchmark). They read the keys
// and the state machine's columns (`toSnapshot`) only.
const locked = tableRows(orders, [
  'id', 'walletId', 'clientOrderId',
  'state', 'price', 'size', 'filled', 'filledNotional', 'fees', 'venueRevision', 'venueOrderId', 'cancelReason', 'rejectCode',
])

/** What the batched writers read of a locked order. */
export type LockedOrder = ReturnType<typeof locked.read>

/**
 * Row-locks (`FOR NO KEY UPDATE SKIP LOCKED`, in id order: `lockOrder`'s lock) the orders with these ids that no other
 * transaction holds, and reads what the state machine needs; the held ones are left out, not waited for.
 */
export async function lockOrdersSkippingHeld(db: Db, ids: readonly string[]): Promise<LockedOrder[]> {
  const { rows } = await lockSkippingHeld(db, { ids })
  return rows.map((row) => locked.read(row))
}

/** Row-locks (`FOR NO KEY UPDATE`, in id order: `lockOrder`'s lock) the orders with these (wallet, client order id) keys; the ids are lower case. */
export async function lockOrdersByKey(db: Db, keys: readonly { walletId: string; clientOrderId: string }[]): Promise<LockedOrder[]> {
  const { rows } = await lockByKey(db, { walletIds: keys.map((k) => k.walletId), clientOrderIds: keys.map((k) => k.clientOrderId) })
  return rows.map((row) => locked.read(row))
}

const lockSkippingHeld = namedStatement<Record<string, unknown>, { ids: readonly string[] }>('deputy_lock_orders_skipping_held', () => sql`
  select ${locked.list} from orders where id = any(${sql.placeholder('ids')}::uuid[]) order by id for no key update skip locked`)

const lockByKey = namedStatement<Record<string, unknown>, { walletIds: string[]; clientOrderIds: string[] }>('deputy_lock_orders_by_key', () => sql`
  select ${locked.list} from orders
  where (wallet_id, client_order_id) in (select * from unnest(${sql.placeholder('walletIds')}::uuid[], ${sql.placeholder('clientOrderIds')}::text[]))
  order by id for no key update`)
