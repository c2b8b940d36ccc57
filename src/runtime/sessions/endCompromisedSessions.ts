import { and, eq, inArray, sql } from 'drizzle-orm'
import type { Db } from '../../store/Database.js'
import { audit } from '../../store/repositories/audit.js'
import { type AuditActor, outbox, sessions } from '../../store/schema/index.js'

/** A compromise's CancelAll of the wallet (`compromiseWallet` queues it with the halt). */
export const compromiseCancelAllOf = (walletId: unknown) =>
  sql`${outbox.walletId} = ${walletId} and ${outbox.kind} = 'CancelAll' and ${outbox.payload}->>'reason' = 'compromise'`

/**
 * The wallet's sessions (`walletId`: a uuid, or the wallet column of an outer query) that a compromise
 * would end and did not: created before its latest CancelAll and still `pending`, `delegated`,
 * `active` or `rotating`.
 */
export const unendedBeforeCompromise = (walletId: unknown) => and(eq(sessions.walletId, walletId as string),
  inArray(sessions.status, ['pending', 'delegated', 'active', 'rotating']),
  sql`${sessions.createdAt} < (select max(${outbox.createdAt}) from ${outbox} where ${compromiseCancelAllOf(walletId)})`)

/**
 * In the caller's transaction, under the wallet's lock: ends the wallet's sessions that a
 * compromise halted it for and did not end (its process died between the halt and the end of the
 * sessions): those created before its latest CancelAll and still `pending`, `delegated`, `active`
 * or `rotating`, as the compromise ends them (`revoked` with `reason`, `revoked_at` null so session
 * maintenance revokes them at the operator), each audited `session.ended` (`interrupted: true`).
 * Answers the ids ended. Session maintenance runs it for a compromise it finds interrupted
 * (`finishInterruptedCompromises`), and a resume before it does (`resumeWallet`), so the keys in
 * doubt never sign for the resumed wallet.
 */
export async function endCompromisedSessions(tx: Db, walletId: string, reason: string, actor: AuditActor): Promise<string[]> {
  const ended = await tx.update(sessions).set({ status: 'revoked', statusReason: reason }).where(unendedBeforeCompromise(walletId)).returning({ id: sessions.id })
  for (const session of ended) await audit(tx, { walletId, actor, action: 'session.ended', details: { sessionId: session.id, reason, interrupted: true } })
  return ended.map((session) => session.id)
}
