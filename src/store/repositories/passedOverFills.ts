import { sql } from 'drizzle-orm'
import { UNREADABLE_FRAME } from '../../core/orders/eventProblem.js'
import type { Db } from '../Database.js'

/**
 * The client order ids (lower-case) of the wallet's OrderFilled events that were passed over as
 * malformed (`event.unappliable`, written with the pass-over) and whose fill is still not stored:
 * the stream's cursor moved past them, so neither the stream nor a fill read since the cursor
 * brings them back, and an order the stream then saw end (cancelled) is not read back by the
 * sweep's other rules. Also a frame that could not be read, passed over at its seq, that names
 * OrderFilled, a client order id and a fill id as far as can be made out (`unreadableFrameStandIn`).
 * Once the fill is stored the event no longer names its order; one whose stored event is pruned
 * (RETENTION_DAYS) no longer either.
 */
export async function passedOverFills(db: Db, walletId: string): Promise<string[]> {
  const { rows } = await db.execute<{ cloid: string }>(sql`
    select distinct lower(a.details->>'clientOrderId') as cloid
    from audit_log a
    join events e on e.wallet_id = a.wallet_id and e.seq = case when jsonb_typeof(a.details->'seq') = 'number' then (a.details->>'seq')::numeric end
    where a.wallet_id = ${walletId} and a.action = 'event.unappliable'
      and (a.details->>'type' = 'OrderFilled' or (a.details->>'type' = ${UNREADABLE_FRAME} and e.payload->'data'->>'typeNamed' = 'OrderFilled'))
      and a.details->>'clientOrderId' is not null
      and not exists (select 1 from fills f where f.wallet_id = e.wallet_id and f.fill_id = e.payload->'data'->>'fillId')`)
  return rows.map((row) => row.cloid)
}
