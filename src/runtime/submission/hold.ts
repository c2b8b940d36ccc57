import { and, eq, gt } from 'drizzle-orm'
import type { RequestFamily } from '../../core/acl/actions.js'
import { covers } from '../../core/acl/covers.js'
import { scopeAdding } from '../../core/acl/scopeAdding.js'
import { audit } from '../../store/repositories/audit.js'
import { lockWallet } from '../../store/repositories/lockWallet.js'
import { earlierUnfinished, requeueRow, setOutboxStatus, settledByAnotherRun } from '../../store/repositories/outboxRepo.js'
import { sessions, wallets } from '../../store/schema/index.js'
import { type ActiveSession, SIGNING_MARGIN_SECONDS } from '../sessionSigners.js'
import type { FamilySpec, SubmitContext, SubmitResult } from './types.js'

/**
 * A placement or a modification the active session's scope does not cover, for a wallet whose
 * sessions the worker grants itself: held (not failed), and session maintenance, asked now, rotates
 * the session (reason `scopeChange`) to the narrowest scope adding the family. The new session's
 * activation releases the work. Cancels are not, but for the reconciler's (`holdsForScope`, with
 * or without a wallet signer): others fail as out of scope, as without a wallet signer; and they
 * do not wait for a held modify (`earlierUnfinished`). The held note (`how.what` first, then what
 * releases the work) says a rotation is under way only when `how.rotated` (a wallet signer makes
 * it); otherwise it names the rotation to ask for through the API.
 */
export async function holdForScope<F extends RequestFamily>(ctx: SubmitContext, spec: FamilySpec<F>, session: ActiveSession,
  how: { what?: string; rotated: boolean }): Promise<SubmitResult> {
  const wanted = `[${scopeAdding(session.aclScope, [spec.family]).join(', ')}]`
  // The held note the user reads (GET /v1/orders/{id}, the CLI's `order get`): what the work is, and
  // what releases it; a rotation is promised only where session maintenance makes it.
  const awaiting = `awaiting a session whose scope covers ${spec.family}: ${how.rotated
    ? `rotating [${session.aclScope.join(', ')}] to ${wanted}`
    : `no wallet signer is configured to rotate the session, rotate it to ${wanted} (POST /v1/wallets/{id}/sessions/rotate)`}`
  const result = await hold(ctx, spec, how.what ? `${how.what}; ${awaiting}` : awaiting, { family: spec.family })
  if (result.result === 'held') await ctx.deps.askSessionMaintenance?.(ctx.row.walletId, `scope-${session.id}-${spec.family}`)
  return result
}

/**
 * No valid session (or an earlier request of the order waits for one, or a session whose scope
 * covers the family): the work waits, clearly marked, until a new delegation arrives. The wallet
 * row lock orders this with a grant's activation (which takes it too): either the grant comes
 * second and releases this row, or it came first and this sees the wait is over and queues the row
 * again instead of holding it. Only a wallet left without a session is marked awaiting one: one
 * whose work waits for a scope change (or behind such work) goes on with everything else.
 */
export async function hold<F extends RequestFamily>(ctx: SubmitContext, spec: FamilySpec<F>, reason: string, waitsFor: 'session' | 'earlier' | { family: RequestFamily } = 'session'): Promise<SubmitResult> {
  const { deps, row } = ctx
  return deps.db.transaction(async (tx) => {
    // Serializes with the grant (`lockWallet`).
    await lockWallet(tx, row.walletId)
    // Another run of the same work may have settled it (or held it) since this one loaded the row:
    // held or queued again over `done`, accepted work would be sent a second time once released.
    const settled = await settledByAnotherRun(tx, row.id)
    if (settled) return { result: 'done', reason: `not held: ${settled}` } satisfies SubmitResult
    await spec.unclaim?.(tx, ctx)
    let waitOver: boolean
    if (waitsFor === 'earlier') waitOver = (await earlierUnfinished(tx, row)) !== 'held'
    else {
      const live = await tx.select({ aclScope: sessions.aclScope }).from(sessions).where(and(eq(sessions.walletId, row.walletId), eq(sessions.status, 'active'),
        gt(sessions.expiryUnix, Math.floor(deps.operatorNow() / 1000) + SIGNING_MARGIN_SECONDS))).limit(1)
      // Waiting for a scope: over once the active session covers the family (a grant went live meanwhile).
      waitOver = live.length > 0 && (waitsFor === 'session' || covers(live[0]!.aclScope, waitsFor.family))
    }
    if (waitOver) {
      await requeueRow(tx, row.id)
      return { result: 'done', reason: `requeued: ${reason}, but the wait ended meanwhile` } satisfies SubmitResult
    }
    await setOutboxStatus(tx, row.id, 'held', reason)
    if (waitsFor === 'session') await tx.update(wallets).set({ status: 'awaiting_delegation' }).where(and(eq(wallets.id, row.walletId), eq(wallets.status, 'active')))
    await audit(tx, { walletId: row.walletId, actor: 'worker', action: `${spec.family}.held`, details: { outboxId: row.id, reason } })
    return { result: 'held', reason } satisfies SubmitResult
  })
}
