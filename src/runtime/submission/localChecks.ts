import { covers } from '../../core/acl/covers.js'
import { scopeAdding } from '../../core/acl/scopeAdding.js'
import type { RequestFamily } from '../../core/acl/actions.js'
import type { RequestRow } from '../../store/schema/index.js'
import type { WorkerDeps } from '../deps.js'
import type { ActiveSession } from '../sessionSigners.js'
import type { SubmitContext } from './types.js'

export type LocalRefusal = { code: string; message: string }

/**
 * What the session's scope or the local policy forbids, checked before anything is signed; null when
 * nothing. Work outside the scope of a wallet the worker grants sessions for itself is held for a
 * scope change before this (`runSubmission`); refused here, it tells the user the scope to rotate to.
 */
export async function localRefusal(deps: WorkerDeps, session: ActiveSession, family: RequestFamily, policy: { market: string; side?: 0 | 1; price?: bigint; size?: bigint; orderId?: string; outboxId?: string }): Promise<LocalRefusal | null> {
  if (!covers(session.aclScope, family)) {
    const needed = scopeAdding(session.aclScope, [family]).join(', ')
    return { code: 'LOCAL.ACL_SCOPE', message: `the active session's scope [${session.aclScope.join(', ')}] does not cover ${family}; rotate the session with a scope that covers it: [${needed}]` }
  }
  const rule = await deps.policy?.({ walletId: session.walletId, sessionId: session.id, family, ...policy })
  return rule ? { code: 'LOCAL.POLICY', message: rule } : null
}

/**
 * Work signed again under another session than the one it was claimed under (the first was
 * rotated out or refused meanwhile) passes the local checks again first: the new session's scope
 * may be narrower, or its policy stricter, and the operator would answer what it does not cover
 * with SessionAclViolation (an alert that the scope mapping is wrong) instead of a local refusal.
 * The policy sees what the claim gave it (`FamilySpec.claim`): the market, and for a placement or
 * a modification its side, price and size.
 */
export async function refusalOnNewSession(ctx: SubmitContext, session: ActiveSession, previous: RequestRow, family: RequestFamily, fields: Record<string, unknown>): Promise<LocalRefusal | null> {
  if (session.id === previous.sessionId) return null
  const { row, order } = ctx
  const priced = typeof fields.price === 'bigint' && typeof fields.size === 'bigint'
  const side = fields.side === 0 || fields.side === 1 ? fields.side : order?.side
  return localRefusal(ctx.deps, session, family, {
    market: String(fields.market),
    ...(priced ? { price: fields.price as bigint, size: fields.size as bigint, ...(side === 0 || side === 1 ? { side } : {}) } : {}),
    ...(row.orderId ? { orderId: row.orderId } : {}),
    outboxId: row.id,
  })
}
