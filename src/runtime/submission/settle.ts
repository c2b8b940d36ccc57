import type { RequestFamily } from '../../core/acl/actions.js'
import { audit } from '../../store/repositories/audit.js'
import { setOutboxStatus } from '../../store/repositories/outboxRepo.js'
import type { Db, Tx } from '../../store/Database.js'
import type { FamilySpec, SubmitContext, SubmitResult } from './types.js'
import { closeRequest } from './closeRequest.js'
import { lockOrder } from '../../store/repositories/lockOrder.js'
import { alertWithin } from '../alertWithin.js'
import type { AlertEvent } from '../deps.js'

/**
 * Work that ends without a send (another one): the outbox row `done` with the reason, and the
 * audit row `<family>.<action>` — `skipped` (the claim, or a stop, found nothing to send),
 * `stoodDown` (other work did what this was to do: a cancel of the order went out before it) or
 * `notOpen` (the operator says the target order is not open).
 */
export async function settleDone<F extends RequestFamily>(
  ctx: SubmitContext, spec: FamilySpec<F>, reason: string, action: DoneAction, details: Record<string, unknown> = {},
): Promise<SubmitResult> {
  await ctx.deps.db.transaction((tx) => recordDone(tx, ctx, spec, reason, action, details))
  return { result: 'done', reason }
}

export type DoneAction = 'skipped' | 'stoodDown' | 'notOpen'

/** `settleDone`'s writes, in the caller's transaction (the claim's, which decided it). */
export async function recordDone<F extends RequestFamily>(
  tx: Db, ctx: SubmitContext, spec: FamilySpec<F>, reason: string, action: DoneAction, details: Record<string, unknown> = {},
): Promise<void> {
  const { row } = ctx
  await setOutboxStatus(tx, row.id, 'done', reason)
  await audit(tx, { walletId: row.walletId, actor: 'worker', action: `${spec.family}.${action}`, details: { outboxId: row.id, reason, ...details } })
}

/**
 * Work that failed for good, never retried: the family records it (an Order is rejected with the
 * code), the outbox row `failed` with code and message, and the audit row — `<family>.rejected`
 * with the operator's code, or `<family>.refused` with the local rule (nothing was sent).
 *
 * `closing`: the request the operator refused, closed in the same transaction (a crash between the
 * two left the request closed and the work to run again, which signed it anew). Found no longer
 * open, another run of the same work settled it since (had its bytes accepted, or settled the same
 * refusal): nothing is written, and the work is done.
 */
export async function settleFailed<F extends RequestFamily>(
  ctx: SubmitContext, spec: FamilySpec<F>, code: string, message: string, by: 'operator' | 'local', closing?: { requestId: string; sentAt: Date }, alert?: AlertEvent,
): Promise<SubmitResult> {
  const { row } = ctx
  let afterCommit: (() => void) | undefined
  // Claimed with the failure it reports (`alertWithin`), whichever run settles the request, and last:
  // the claim's row stays locked until the commit.
  const claimAlert = async (tx: Tx) => { if (alert) afterCommit = await alertWithin(ctx.deps, tx, alert) }
  const settled = await ctx.deps.db.transaction(async (tx) => {
    // The order before its request, as reconciliation's resubmit of an order it finds never placed
    // takes them (it locks the order, then closes its requests): the other way round, the two deadlocked.
    if (closing && row.orderId) await lockOrder(tx, { id: row.orderId })
    if (closing && !(await closeRequest(tx, ctx.deps.now(), closing.requestId, code, message, closing.sentAt))) {
      await claimAlert(tx)
      return false
    }
    await spec.onRejected(tx, ctx, code, message)
    await setOutboxStatus(tx, row.id, 'failed', `${code}: ${message}`)
    await audit(tx, by === 'operator'
      ? { walletId: row.walletId, actor: 'worker', action: `${spec.family}.rejected`, details: { outboxId: row.id, code, message } }
      : { walletId: row.walletId, actor: 'worker', action: `${spec.family}.refused`, details: { outboxId: row.id, rule: code, message } })
    await claimAlert(tx)
    return true
  })
  afterCommit?.()
  return settled ? { result: 'rejected', code } : { result: 'done', reason: `${code}, but its request was settled by another run` }
}
