import { and, eq, inArray, isNull, notExists } from 'drizzle-orm'
import type { Hex } from 'viem'
import { VenueError } from '../../core/errors/venue.js'
import { shortDeadlineMs } from '../../core/requests/shortDeadlineMs.js'
import type { Keyring } from '../../keys/Keyring.js'
import { signRevocation } from '../../keys/signRevocation.js'
import { audit } from '../../store/repositories/audit.js'
import { type SessionRow, sessions, wallets } from '../../store/schema/index.js'
import type { WorkerDeps } from '../deps.js'
import { unsealSessionKey } from './sealedSessionKey.js'
import { deadlineRefused } from '../submission/remeasureOperatorClock.js'

/**
 * Revokes a session at the operator, signed by the session key itself, and
 * marks it revoked. The operator cancels the session's open orders
 * (`sessionRevoked`); the event consumer re-places those still wanted under
 * the wallet's current session. An already revoked or expired delegation
 * counts as revoked.
 *
 * Revoking the wallet's last active session leaves the wallet `awaiting_delegation`.
 *
 * A session already ended here whose signed delegation the operator was never told about (a grant
 * that did not go live, which session maintenance revokes there) keeps its status and reason and
 * records `revoked_at`.
 */
export async function revokeAtOperator(deps: WorkerDeps, keyring: Keyring, session: SessionRow, reason: string): Promise<void> {
  if (session.delegatedPayload && session.delegationHash) {
    const key = unsealSessionKey(keyring, session)
    for (let attempt = 1; ; attempt++) {
      const deadline = BigInt(Math.floor(deps.operatorNow()) + shortDeadlineMs(deps.maxDeadlineMs, 20_000))
      const { signature } = signRevocation(key, deps.domain, { delegation: session.delegationHash as Hex, deadline })
      try {
        await deps.venue.revoke({ delegation: session.delegatedPayload as Hex, signature, deadline: deadline.toString() })
        break
      } catch (error) {
        if (error instanceof VenueError && error.venueCode === 'SessionUnauthorized') break
        // The deadline refused as past or as too far ahead: this host's clock stepped since the offset
        // was measured. Measured again and signed again once; on the stale offset every retry by
        // session maintenance would be refused too, the old key valid at the operator until it expires.
        if (attempt > 1 || !(await deadlineRefused(deps, error, deadline))) throw error
      }
    }
  }
  const revokedAt = new Date(deps.now())
  const [ended] = await deps.db.update(sessions).set({ status: 'revoked', statusReason: reason, revokedAt })
    .where(and(eq(sessions.id, session.id), inArray(sessions.status, ['pending', 'delegated', 'active', 'rotating', 'quarantined']))).returning({ id: sessions.id })
  if (!ended) await deps.db.update(sessions).set({ revokedAt }).where(and(eq(sessions.id, session.id), eq(sessions.status, 'revoked'), isNull(sessions.revokedAt)))
  // The wallet's last active session gone (revoked through the API), it awaits a delegation, as at
  // expiry: session maintenance replaces it where the wallet has a signer. A halted wallet stays halted.
  else await deps.db.update(wallets).set({ status: 'awaiting_delegation' }).where(and(eq(wallets.id, session.walletId), eq(wallets.status, 'active'),
    notExists(deps.db.select({ id: sessions.id }).from(sessions).where(and(eq(sessions.walletId, session.walletId), eq(sessions.status, 'active'))))))
  deps.sessions.forget(session.id)
  await audit(deps.db, { walletId: session.walletId, actor: 'worker', action: 'session.revoked', details: { sessionId: session.id, reason } })
}
