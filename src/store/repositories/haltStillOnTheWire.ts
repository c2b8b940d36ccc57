import { sql } from 'drizzle-orm'
import type { Db } from '../Database.js'
import { executeNamed } from '../executeNamed.js'
import { haltReason } from './outboxRepo.js'

/** What of a halt has not reached the operator yet, besides its CancelAll (see `haltStillOnTheWire`). */
export type HaltOnTheWire =
  | { kind: 'order'; id: string; status: string }
  | { kind: 'cancel'; id: string; status: string; orderId: string }

/**
 * Work of the wallet's halt, other than its CancelAll, that has not reached the operator yet: a
 * placement queued before a halt and still on the wire (`submitting`, or `unknown`: its answer lost),
 * which may land after the CancelAll and then needs a cancel of its own; or such a cancel (a
 * CancelOrder with reason `halted`: one queued for an order that landed after the CancelAll, or one
 * of a CancelAll sent one by one) still queued, enqueued or held. One statement, so a placement
 * answered while it runs is seen either on the wire or with its cancel. Undefined when none.
 */
export async function haltStillOnTheWire(tx: Db, walletId: string): Promise<HaltOnTheWire | undefined> {
  const { rows } = await executeNamed<{ kind: 'order' | 'cancel'; id: string; status: string; order_id: string | null }>(tx, 'deputy_halt_still_on_the_wire', sql`
    (select 'order' as kind, o.id, o.state::text as status, null::uuid as order_id from orders o
     where o.wallet_id = ${walletId} and o.state in ('submitting', 'unknown')
       and exists (select 1 from outbox c where c.wallet_id = o.wallet_id and c.kind = 'CancelAll' and ${haltReason(sql`c.payload`)}
         and c.seq > coalesce((select min(x.seq) from outbox x where x.order_id = o.id and x.kind = 'Order'), 0))
     limit 1)
    union all
    (select 'cancel', x.id, x.status::text, x.order_id from outbox x
     where x.wallet_id = ${walletId} and x.kind = 'CancelOrder' and x.status in ('pending', 'enqueued', 'held') and x.payload->>'reason' = 'halted'
     limit 1)`)
  const row = rows[0]
  if (!row) return undefined
  return row.kind === 'order' ? { kind: 'order', id: row.id, status: row.status } : { kind: 'cancel', id: row.id, status: row.status, orderId: row.order_id! }
}
