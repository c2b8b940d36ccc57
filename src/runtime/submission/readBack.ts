import type { Hex } from 'viem'
import { parseAmount } from '../../core/money/decimal.js'
import { audit } from '../../store/repositories/audit.js'
import { mutateOrder } from '../../store/repositories/mutateOrder.js'
import type { VenueOrder } from '../../venue/types.js'
import { snapshotUpdate } from '../../venue/snapshotUpdate.js'
import { backfillFills } from '../backfillFills.js'
import { checkedOrderRead } from '../checkedOrderRead.js'
import type { WorkerDeps } from '../deps.js'
import { type RecordRepair, orderRepairs } from '../orderRepairs.js'
import type { ActiveSession } from '../sessionSigners.js'

/** What a read-back does without a read it cannot apply. */
const LEFT_AS_IT_IS = 'nothing of it is stored: the order is left as it is here, and the next sweep reads it again'

/**
 * Reads one order by cloid and records the operator's view. Answers whether it was recorded: not
 * when the operator does not know the cloid (it was never placed), nor when its read cannot be
 * applied (`checkedOrderRead`: alerted READ_UNAPPLIABLE, the order left as it is for the sweep).
 */
export async function readBackOrder(deps: WorkerDeps, session: ActiveSession, walletId: string, clientOrderId: Hex): Promise<boolean> {
  const order = await checkedOrderRead(deps, deps.sessions.readAuth(session), { walletId, clientOrderId, instead: LEFT_AS_IT_IS })
  if (typeof order !== 'object') return false
  await applyOrderRead(deps, session, { walletId, clientOrderId }, order)
  return true
}

/**
 * Records an order's read, checked (`checkedOrderRead`). Fills are recorded first: a snapshot
 * carries the status but not the fills, and an order marked filled without them would show nothing filled.
 * What the read repairs is audited as the reconciler audits it (`order.state`, `order.modified`,
 * `fill.backfilled`), in the transaction that makes it, by the worker with `via: 'readBack'`: an
 * order whose answer was lost, resolved here as `open` or `filled`, says so in its wallet's trail.
 */
export async function applyOrderRead(deps: WorkerDeps, session: ActiveSession, key: { walletId: string; clientOrderId: Hex }, order: VenueOrder): Promise<void> {
  const record: RecordRepair = (tx, action, details) => audit(tx, { walletId: key.walletId, actor: 'worker', action, details: { ...details, via: 'readBack' } })
  if (parseAmount('filled', order.filled) > 0n) await backfillFills(deps, session, { onRepair: record })
  await deps.db.transaction(async (tx) => {
    const changed = await mutateOrder(tx, key, [snapshotUpdate(order)])
    for (const { action, details } of changed ? orderRepairs(changed) : []) await record(tx, action, details)
  })
}
