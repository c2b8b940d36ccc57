import { type SQL, sql } from 'drizzle-orm'
import type { OrderSnapshot } from '../../core/orders/applyOrderUpdate.js'
import type { Db } from '../Database.js'
import { fromSnapshot } from './orderSnapshot.js'
import { namedStatement } from '../namedStatement.js'

/**
 * Writes the state machine's view of several orders in one statement (the
 * batched form of `mutateOrder`'s write). The caller holds their row locks.
 * `sessionId`, when given, is recorded too (the session an accepted order belongs to).
 * The ids are passed again as an array: Postgres guesses 100 rows for any
 * `jsonb_to_recordset`, and against a table of tens of thousands of orders its
 * plan for the join alone was a seq scan of `orders` on every call (3 ms at
 * 15,000 orders, EXPLAIN ANALYZE); `id = any(…)` has it read them by primary key.
 */
export async function writeOrderSnapshots(tx: Db, rows: readonly OrderSnapshotRow[]): Promise<void> {
  if (rows.length === 0) return
  await writeSnapshots(tx, orderSnapshotValues(rows))
}

/** An order's state machine view to write, with the session to record (`writeOrderSnapshots`). */
export type OrderSnapshotRow = { id: string; snapshot: OrderSnapshot; sessionId?: string }

/** The values of `orderSnapshotsUpdate`'s placeholders. */
export type OrderSnapshotValues = { snapshots: string; snapshotIds: string[] }

/** `orderSnapshotsUpdate`'s values for these rows (not empty). */
export function orderSnapshotValues(rows: readonly OrderSnapshotRow[]): OrderSnapshotValues {
  const values = rows.map(({ id, snapshot, sessionId }) => ({ id, sessionId: sessionId ?? null, ...fromSnapshot(snapshot) }))
  return { snapshots: JSON.stringify(values), snapshotIds: rows.map((row) => row.id) }
}

/**
 * `writeOrderSnapshots`' statement, for a caller that runs it inside a `namedStatement` of its own
 * (a writable CTE); its placeholders' values are `orderSnapshotValues`.
 */
export function orderSnapshotsUpdate(): SQL {
  return sql`
    update orders o set state = v."state", price = v.price, size = v.size, filled = v.filled, filled_notional = v."filledNotional",
      average_price = v."averagePrice", fees = v.fees, venue_revision = v."venueRevision", venue_order_id = v."venueOrderId",
      cancel_reason = v."cancelReason", reject_code = v."rejectCode",
      reject_reason = case when v."rejectCode" is null then null else o.reject_reason end, session_id = coalesce(v."sessionId", o.session_id), updated_at = now()
    from jsonb_to_recordset(${sql.placeholder('snapshots')}::jsonb) as v(
      id uuid, "state" text, price numeric, size numeric, filled numeric, "filledNotional" numeric, "averagePrice" numeric, fees numeric,
      "venueRevision" integer, "venueOrderId" text, "cancelReason" text, "rejectCode" text, "sessionId" uuid)
    where o.id = v.id and o.id = any(${sql.placeholder('snapshotIds')}::uuid[])`
}

const writeSnapshots = namedStatement<never, OrderSnapshotValues>('deputy_write_order_snapshots', orderSnapshotsUpdate)
