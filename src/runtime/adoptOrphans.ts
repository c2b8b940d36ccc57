import { and, eq, inArray, sql } from 'drizzle-orm'
import type { OrphanPolicy } from '../../jobs/reconcile.js'
import { SIDE_RULE } from '../core/orders/parseSide.js'
import { ORPHAN_CANCEL_REASON } from '../store/repositories/unfinishedCancels.js'
import { orders, outbox } from '../store/schema/index.js'
import type { VenueOrder } from '../venue/types.js'
import type { WorkerDeps } from './deps.js'
import type { RecordRepair } from './orderRepairs.js'
import { alertUnappliableRead } from './unappliableRead.js'

/**
 * Orders the operator lists open that Postgres does not hold (orphans): each adopted as an order of
 * the wallet, and under ORPHAN_POLICY=cancel a CancelOrder queued with it (reason
 * `ORPHAN_CANCEL_REASON`), audited `orphan.adopt` or `orphan.cancel`. One listed without its side is
 * neither (an order row needs its side): it is left live at the operator with a READ_UNAPPLIABLE
 * alert, and read again on the next sweep. A step of the reconciler's (`reconcile`); answers how many
 * were adopted.
 */
export async function adoptOrphans(deps: WorkerDeps, walletId: string, venueOpen: Map<string, VenueOrder>, orphans: OrphanPolicy,
  record: RecordRepair): Promise<number> {
  if (venueOpen.size === 0) return 0
  let repairs = 0
  const known = new Set((await deps.db.select({ cloid: orders.clientOrderId }).from(orders)
    .where(and(eq(orders.walletId, walletId), inArray(orders.clientOrderId, [...venueOpen.keys()]))))
    .map((o) => o.cloid.toLowerCase()))
  for (const [cloid, venueOrder] of venueOpen) {
    if (known.has(cloid)) continue
    if (venueOrder.side === null) {
      // Not adopted with a guessed side, nor cancelled (an order row needs its side): a person is told.
      alertUnappliableRead(deps, walletId, { clientOrderId: cloid, problem: `side: ${SIDE_RULE}` },
        'an order Deputy does not hold is neither adopted nor cancelled (ORPHAN_POLICY) without its side: it is left live at the operator, and read again on the next sweep')
      continue
    }
    const side = venueOrder.side
    // The order, its cancel (ORPHAN_POLICY=cancel) and the audit entry are written together: an
    // order adopted without its cancel would be known from then on, and never cancelled.
    const adopted = await deps.db.transaction(async (tx) => {
      const [row] = await tx.insert(orders).values({
        walletId, clientOrderId: cloid, market: venueOrder.market, side,
        price: venueOrder.price, size: venueOrder.size, timeInForce: null, adoptedAt: sql`now()`, state: venueOrder.status === 'partiallyFilled' ? 'partially_filled' : 'open', venueOrderId: venueOrder.orderId, venueRevision: venueOrder.revision,
      }).onConflictDoNothing().returning({ id: orders.id })
      if (!row) return undefined
      if (orphans === 'cancel') await tx.insert(outbox).values({ walletId, kind: 'CancelOrder', orderId: row.id, payload: { reason: ORPHAN_CANCEL_REASON } })
      await record(tx, orphans === 'cancel' ? 'orphan.cancel' : 'orphan.adopt', { orderId: row.id, clientOrderId: cloid })
      return row
    })
    if (adopted) repairs++
  }
  return repairs
}
