import { type SQL, and, eq, inArray } from 'drizzle-orm'
import type { Db } from '../Database.js'
import { sessions } from '../schema/index.js'
import { audit } from './audit.js'
import { failedIfActive } from './failedIfActive.js'

export type SessionEndedEvent = { type: 'SessionRevoked' | 'SessionExpired'; at: string | number; seq: string | number }

/**
 * Records the operator's SessionRevoked / SessionExpired for the wallet's signing sessions that
 * `which` selects (by delegation hash when the event names one, else by id once found ended):
 * their status, and an audit entry each. The operator revoking the wallet's active session behind
 * the worker's back is a failure of it (`failed_at`: automatic grants back off on these); its
 * revocation of a rotated-out one is the worker's own. Answers the ids ended now.
 *
 * `revoked_at` is the event's `at` (when it ended there, on the operator's clock); `failed_at` is
 * `learntAt`, on this process's clock, which automatic grants time their backoff on: stamped with
 * the operator's, a wallet waited the clocks' difference on top of the backoff (or, the operator
 * more than an hour behind, its failures fell outside the window).
 */
export async function recordSessionsEnded(tx: Db, walletId: string, which: SQL, event: SessionEndedEvent, learntAt = new Date()): Promise<string[]> {
  const status = event.type === 'SessionRevoked' ? 'revoked' : 'expired'
  const at = new Date(event.at)
  const ended = await tx.update(sessions).set({ status, statusReason: `operator event ${event.type}`, revokedAt: at, failedAt: status === 'revoked' ? failedIfActive(learntAt) : null })
    .where(and(eq(sessions.walletId, walletId), which, inArray(sessions.status, ['active', 'rotating', 'delegated'])))
    .returning({ id: sessions.id })
  for (const { id } of ended) await audit(tx, { walletId, actor: 'worker', action: `session.${status}`, details: { sessionId: id, seq: event.seq } })
  return ended.map(({ id }) => id)
}
