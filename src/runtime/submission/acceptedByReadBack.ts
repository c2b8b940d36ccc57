import { and, eq, inArray } from 'drizzle-orm'
import type { RequestFamily } from '../../core/acl/actions.js'
import { audit } from '../../store/repositories/audit.js'
import { setOutboxStatus } from '../../store/repositories/outboxRepo.js'
import { type RequestRow, requests } from '../../store/schema/index.js'
import type { FamilySpec, SubmitContext, SubmitResult } from './types.js'

/**
 * Bytes the operator took though their answer was lost (`tookEffect`): the request accepted and the
 * work done, as on a receipt. `why` they were read back rather than resent: their session has ended
 * (by default), or what the resend's refusal leaves open.
 */
export async function acceptedByReadBack<F extends RequestFamily>(ctx: SubmitContext, spec: FamilySpec<F>, request: RequestRow,
  why = 'the session that signed it has ended'): Promise<SubmitResult> {
  const { deps, row } = ctx
  const reason = `accepted: read back from the operator (its answer was lost, and ${why})`
  await deps.db.transaction(async (tx) => {
    await tx.update(requests).set({ status: 'accepted', errorCode: null, errorMessage: null, completedAt: new Date(deps.now()) })
      .where(and(eq(requests.id, request.id), inArray(requests.status, ['signed', 'unknown'])))
    await setOutboxStatus(tx, row.id, 'done', reason)
    await audit(tx, { walletId: row.walletId, actor: 'worker', action: `${spec.family}.accepted`, details: { outboxId: row.id, requestId: request.id, reason } })
  })
  return { result: 'accepted', duplicate: true, requestId: request.id }
}
