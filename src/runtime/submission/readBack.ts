import type { Hex } from 'viem'
import { parseAmount } from '../../core/money/decimal.js'
import { mutateOrder } from '../../store/repositories/mutateOrder.js'
import { orderIfKnown } from '../../venue/orderIfKnown.js'
import { snapshotUpdate } from '../../venue/snapshotUpdate.js'
import { backfillFills } from '../backfillFills.js'
import type { WorkerDeps } from '../deps.js'
import type { ActiveSession } from '../sessionSigners.js'

/**
 * Reads one order by cloid and records the operator's view. Answers false
 * when the operator does not know the cloid (it was never placed). Fills are
 * recorded first: a snapshot carries the status but not the fills, and an
 * order marked filled without them would show nothing filled.
 */
export async function readBackOrder(deps: WorkerDeps, session: ActiveSession, walletId: string, clientOrderId: Hex): Promise<boolean> {
  const order = await orderIfKnown(deps.venue, deps.sessions.readAuth(session), clientOrderId)
  if (!order) return false
  if (parseAmount('filled', order.filled) > 0n) await backfillFills(deps, session)
  await deps.db.transaction((tx) => mutateOrder(tx, { walletId, clientOrderId }, [snapshotUpdate(order)]))
  return true
}
