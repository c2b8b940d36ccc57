import { type SQL, and, eq, inArray, sql } from 'drizzle-orm'
import { audit } from '../../store/repositories/audit.js'
import { lockWallet } from '../../store/repositories/lockWallet.js'
import { outbox, sessions, wallets } from '../../store/schema/index.js'
import type { WorkerDeps } from '../deps.js'

/**
 * How long after its halt a compromise is taken for interrupted (its CancelAll no longer queued): a
 * compromise under way ends the sessions within moments of its CancelAll's answer (one try, at most
 * OPERATOR_TIMEOUT_MS). On Postgres's clock, which dated the CancelAll's row.
 */
const COMPROMISE_FINISH_MS = 60_000

/**
 * A compromise (`compromiseWallet`) halts the wallet and queues its CancelAll in one transaction,
 * sends the CancelAll, then ends the wallet's sessions in another: a process dying between the two
 * (the CancelAll can be on the wire for the operator's timeout) left the keys in doubt `active` here
 * and live at the operator, and a resume once the CancelAll was done made the wallet tradable under
 * them again. Session maintenance finishes it: the sessions of a wallet halted for a compromise,
 * created before its CancelAll, still `pending`, `delegated`, `active` or `rotating` once that
 * CancelAll is no longer queued and the halt is a minute old, are ended as the compromise ends them
 * (`revoked`, audited `session.ended`, in one transaction under the wallet's lock), and
 * SESSION_COMPROMISE is raised; the maintenance run then revokes them at the operator (`revoked_at`
 * is null). Answers the sessions ended.
 */
export async function finishInterruptedCompromises(deps: Pick<WorkerDeps, 'db' | 'sessions' | 'alert'>, scope: SQL): Promise<string[]> {
  const compromiseCancelAll = sql`${outbox.walletId} = ${wallets.id} and ${outbox.kind} = 'CancelAll' and ${outbox.payload}->>'reason' = 'compromise'`
  const unended = inArray(sessions.status, ['pending', 'delegated', 'active', 'rotating'])
  const interrupted = and(scope, unended, eq(wallets.status, 'halted'), sql`${wallets.haltedReason} like 'compromise:%'`,
    sql`${sessions.createdAt} < (select max(${outbox.createdAt}) from ${outbox} where ${compromiseCancelAll})`,
    sql`not exists (select 1 from ${outbox} where ${compromiseCancelAll} and (${outbox.status} in ('pending', 'enqueued')
      or ${outbox.createdAt} > now() - ${COMPROMISE_FINISH_MS}::double precision * interval '1 millisecond'))`)
  const found = await deps.db.select({ id: sessions.id, walletId: sessions.walletId, reason: wallets.haltedReason })
    .from(sessions).innerJoin(wallets, eq(wallets.id, sessions.walletId)).where(interrupted)
  const ended: string[] = []
  for (const walletId of new Set(found.map((session) => session.walletId))) {
    const ids = found.filter((session) => session.walletId === walletId).map((session) => session.id)
    const reason = found.find((session) => session.walletId === walletId)!.reason!
    const rows = await deps.db.transaction(async (tx) => {
      // As the compromise locks it: a resume or a grant meanwhile is waited for, and seen below.
      const wallet = await lockWallet(tx, walletId)
      if (wallet?.status !== 'halted') return []
      const done = await tx.update(sessions).set({ status: 'revoked', statusReason: reason })
        .where(and(inArray(sessions.id, ids), unended)).returning({ id: sessions.id })
      for (const session of done) {
        await audit(tx, { walletId, actor: 'worker', action: 'session.ended', details: { sessionId: session.id, reason, interrupted: true } })
      }
      return done.map((session) => session.id)
    })
    for (const id of rows) deps.sessions.forget(id)
    if (rows.length === 0) continue
    ended.push(...rows)
    deps.alert({
      walletId, code: 'SESSION_COMPROMISE',
      message: `a compromise of this wallet (${reason}) was interrupted before its sessions were ended: ${rows.length} session(s) ended now, and revoked at the operator by session maintenance`,
      details: { ended: rows },
    })
  }
  return ended
}
