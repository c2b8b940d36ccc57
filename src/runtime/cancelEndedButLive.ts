import { and, eq, inArray, lt } from 'drizzle-orm'
import { parseAmount } from '../core/money/decimal.js'
import { mutateOrder } from '../store/repositories/mutateOrder.js'
import { LIVE_AT_OPERATOR } from '../store/repositories/unfinishedCancels.js'
import { orders, outbox } from '../store/schema/index.js'
import { snapshotUpdate } from '../venue/snapshotUpdate.js'
import type { VenueOrder } from '../venue/types.js'
import type { WorkerDeps } from './deps.js'
import { type RecordRepair, orderRepairs } from './orderRepairs.js'

/**
 * Orders Postgres has as ended (cancelled, rejected) that the operator still lists open, though they
 * ended before the list was read: a placement accepted without Deputy learning it (a crash around a
 * resend after a refusal, say) that was then stopped or refused here. The user was told it is gone,
 * and it can fill: it is read back as it is at the operator and cancelled there (reason as recorded,
 * or `reconcile`), never left live: the cancel is flagged `liveAtOperator`, so it is held for a
 * session whose scope covers CancelOrder rather than failed out of scope, and queued again while the
 * operator lists the order open after it failed for good (`reconcilerCancel`). A step of the
 * reconciler's (`reconcile`); answers how many repairs it made.
 */
export async function cancelEndedButLive(deps: WorkerDeps, walletId: string, venueOpen: Map<string, VenueOrder>, unappliable: Set<string>, settled: Date,
  record: RecordRepair): Promise<number> {
  if (venueOpen.size === 0 && unappliable.size === 0) return 0
  let repairs = 0
  const ended = await deps.db.select().from(orders).where(and(eq(orders.walletId, walletId), inArray(orders.clientOrderId, [...venueOpen.keys(), ...unappliable]),
    inArray(orders.state, ['cancelled', 'rejected']), lt(orders.updatedAt, settled)))
  for (const order of ended) {
    // Listed open with a read that cannot be applied: cancelled there all the same (the cancel needs
    // only the cloid), without the read's values.
    const seen = venueOpen.get(order.clientOrderId.toLowerCase())
    repairs += await deps.db.transaction(async (tx) => {
      // The operator holds it: a rejection recorded here was wrong, code and words alike (the user
      // would read a cancelled order as rejected for, say, InsufficientBalance).
      const state = parseAmount('filled', order.filled) > 0n ? 'partially_filled' : 'open'
      const [row] = await tx.update(orders).set({ state, cancelReason: null, rejectCode: null, rejectReason: null })
        .where(and(eq(orders.id, order.id), inArray(orders.state, ['cancelled', 'rejected']), lt(orders.updatedAt, settled))).returning({ id: orders.id })
      if (!row) return 0
      // What the read changed besides (a modify whose receipt and event Postgres never applied) is a repair of its own.
      const changed = seen ? await mutateOrder(tx, { id: order.id }, [snapshotUpdate(seen)]) : undefined
      await tx.insert(outbox).values({ walletId, kind: 'CancelOrder', orderId: order.id, payload: { reason: order.cancelReason ?? 'reconcile', [LIVE_AT_OPERATOR]: true } })
      await record(tx, 'order.liveAtOperator', { orderId: order.id, clientOrderId: order.clientOrderId, recorded: order.state })
      const made = changed ? orderRepairs(changed) : []
      for (const { action, details } of made) await record(tx, action, details)
      return 1 + made.length
    })
  }
  return repairs
}
