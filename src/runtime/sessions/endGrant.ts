import { type SQL, and, inArray } from 'drizzle-orm'
import type { Db } from '../../store/Database.js'
import { audit } from '../../store/repositories/audit.js'
import { sessions } from '../../store/schema/index.js'

/**
 * Ends grants that did not go live (rows still `pending` or `delegated` and matching `which`):
 * `revoked` with `reason`, and each audited `session.grantFailed` (its reason, and whether it counts
 * as a failure of the wallet or its signer: `failedAt`) in the same transaction, so the wallet's trail
 * shows every session it was asked to sign for and how each ended. A signed delegation among them
 * keeps `revoked_at` null: session maintenance revokes it at the operator. Answers the ids it ended.
 */
export async function endGrant(db: Db, which: SQL | undefined, reason: string, failedAt: Date | null = null): Promise<string[]> {
  return db.transaction(async (tx) => {
    const ended = await tx.update(sessions).set({ status: 'revoked', statusReason: reason, ...(failedAt ? { failedAt } : {}) })
      .where(and(which, inArray(sessions.status, ['pending', 'delegated']))).returning({ id: sessions.id, walletId: sessions.walletId })
    for (const session of ended) {
      await audit(tx, { walletId: session.walletId, actor: 'worker', action: 'session.grantFailed', details: { sessionId: session.id, reason, failure: failedAt !== null } })
    }
    return ended.map((session) => session.id)
  })
}
