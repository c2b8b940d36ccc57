import { and, eq, inArray } from 'drizzle-orm'
import { audit } from '../../store/repositories/audit.js'
import { failedIfActive } from '../../store/repositories/failedIfActive.js'
import { lockWallet } from '../../store/repositories/lockWallet.js'
import { markAwaitingDelegation } from '../../store/repositories/markAwaitingDelegation.js'
import { sessions } from '../../store/schema/index.js'
import { alertWithin } from '../alertWithin.js'
import type { AlertEvent, WorkerDeps } from '../deps.js'

export type SessionRefusal = {
  walletId: string
  sessionId: string
  /** SessionUnauthorized: `revoked` there, or `expired` at its expiry (`unauthorizedStatus`); SignerMismatch: `quarantined`. */
  status: 'revoked' | 'expired' | 'quarantined'
  reason: string
}

/**
 * The operator refused a session, on a request or on the event stream: it is
 * never used again, and a wallet left without an active session awaits a new
 * delegation (which session maintenance grants when it has a wallet signer). A
 * quarantined one is then revoked at the operator by session maintenance.
 * Answers false when the session had already ended (revoked by a rotation, say).
 *
 * `alert` is claimed in the same transaction (`alertWithin`), so that a process dying right after
 * the commit does not lose it: when this call ends the session, or, without `onlyIfEnded`, either way.
 */
export async function markSessionRefused(deps: Pick<WorkerDeps, 'db' | 'now' | 'sessions' | 'alert' | 'alertWithin'>, refusal: SessionRefusal,
  alert?: { event: AlertEvent; onlyIfEnded?: boolean }): Promise<boolean> {
  let afterCommit: (() => void) | undefined
  const ended = await deps.db.transaction(async (tx) => {
    // Locked as a grant's activation locks it, so a session granted meanwhile keeps the wallet active.
    await lockWallet(tx, refusal.walletId)
    const at = new Date(deps.now())
    // A failure of the wallet's active session (not one past its expiry, nor one already rotated out):
    // automatic grants back off on these.
    const failedAt = refusal.status === 'expired' ? null : failedIfActive(at)
    // A quarantined session was not ended at the operator, which answered SignerMismatch: its
    // delegation still works there for the delegated key, with its orders. `revoked_at` stays null
    // until session maintenance has revoked it there with the wallet's signature.
    const revokedAt = refusal.status === 'quarantined' ? null : at
    const changed = await tx.update(sessions).set({ status: refusal.status, statusReason: refusal.reason, revokedAt, failedAt })
      .where(and(eq(sessions.id, refusal.sessionId), inArray(sessions.status, ['active', 'rotating']))).returning({ id: sessions.id })
    if (changed.length === 0) {
      if (alert && !alert.onlyIfEnded) afterCommit = await alertWithin(deps, tx, alert.event)
      return false
    }
    await markAwaitingDelegation(tx, [refusal.walletId])
    await audit(tx, { walletId: refusal.walletId, actor: 'worker', action: `session.${refusal.status}`, details: { sessionId: refusal.sessionId, reason: refusal.reason } })
    if (alert) afterCommit = await alertWithin(deps, tx, alert.event)
    return true
  })
  deps.sessions.forget(refusal.sessionId)
  afterCommit?.()
  return ended
}
