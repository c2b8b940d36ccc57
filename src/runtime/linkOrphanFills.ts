import { linkUnmatchedFills } from '../store/repositories/recordFill.js'
import type { WorkerDeps } from './deps.js'
import type { RecordRepair } from './orderRepairs.js'
import { alertUnappliableRead } from './unappliableRead.js'

/** What became of a fill linked to its order that the order cannot count (`linkUnmatchedFills`). */
const UNCOUNTED_LINKED = "it is linked to its order, left out of the order's filled size and fees; the rest of the wallet is reconciled"

/**
 * Fills stored before their order was known (an adopted orphan's) are counted on it now, each
 * linking recorded (`fill.linked`). One its order cannot count is linked and left out of its
 * totals: a person told, as a fill read back for a known order is (`backfillFills`). Answers how
 * many were linked.
 */
export async function linkOrphanFills(deps: WorkerDeps, walletId: string, record: RecordRepair): Promise<number> {
  const linked = await deps.db.transaction(async (tx) => {
    const linked = await linkUnmatchedFills(tx, walletId)
    for (const fill of linked) await record(tx, 'fill.linked', { fillId: fill.fillId, clientOrderId: fill.clientOrderId, orderId: fill.orderId, ...(fill.uncountable ? { uncounted: fill.uncountable } : {}) })
    return linked
  })
  for (const fill of linked) {
    if (fill.uncountable) alertUnappliableRead(deps, walletId, { clientOrderId: fill.clientOrderId, fillId: fill.fillId, problem: fill.uncountable }, UNCOUNTED_LINKED)
  }
  return linked.length
}
