import { type SQL, and, eq, sql } from 'drizzle-orm'
import { lockWallet } from '../../store/repositories/lockWallet.js'
import { outbox, sessions, wallets } from '../../store/schema/index.js'
import type { WorkerDeps } from '../deps.js'
import { compromiseCancelAllOf, endCompromisedSessions, unendedBeforeCompromise } from './endCompromisedSessions.js'

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
 * them again (a resume now ends them itself). Session maintenance finishes it: once that CancelAll is
 * no longer queued and the halt is a minute old, a wallet still halted for the compromise has its
 * sessions from before it ended as the compromise ends them (`endCompromisedSessions`, under the
 * wallet's lock), and SESSION_COMPROMISE is raised; the maintenance run then revokes them at the
 * operator (`revoked_at` is null). Answers the sessions ended.
 */
export async function finishInterruptedCompromises(deps: Pick<WorkerDeps, 'db' | 'sessions' | 'alert' | 'log'>, scope: SQL): Promise<string[]> {
  const compromiseCancelAll = compromiseCancelAllOf(wallets.id)
  const interrupted = and(scope, unendedBeforeCompromise(wallets.id), eq(wallets.status, 'halted'), sql`${wallets.haltedReason} like 'compromise:%'`,
    sql`not exists (select 1 from ${outbox} where ${compromiseCancelAll} and (${outbox.status} in ('pending', 'enqueued')
      or ${outbox.createdAt} > now() - ${COMPROMISE_FINISH_MS}::double precision * interval '1 millisecond'))`)
  const found = await deps.db.selectDistinct({ walletId: wallets.id }).from(sessions).innerJoin(wallets, eq(wallets.id, sessions.walletId)).where(interrupted)
  const ended: string[] = []
  for (const { walletId } of found) {
    // One wallet failing (a lock waited on past the statement timeout) does not stop the others, nor the run.
    const finished = await deps.db.transaction(async (tx) => {
      // As the compromise locks it: a resume (which ends them itself) or a grant meanwhile is waited for, and seen here.
      const wallet = await lockWallet(tx, walletId)
      const reason = wallet?.status === 'halted' ? wallet.haltedReason : null
      if (!reason?.startsWith('compromise:')) return undefined
      return { reason, ids: await endCompromisedSessions(tx, walletId, reason, 'worker') }
    }).catch((error: unknown) => {
      deps.log.error({ walletId, err: error }, 'finishing an interrupted compromise failed; the next maintenance run tries again')
      return undefined
    })
    if (!finished?.ids.length) continue
    for (const id of finished.ids) deps.sessions.forget(id)
    ended.push(...finished.ids)
    deps.alert({
      walletId, code: 'SESSION_COMPROMISE',
      message: `a compromise of this wallet (${finished.reason}) was interrupted before its sessions were ended: ${finished.ids.length} session(s) ended now, and revoked at the operator by session maintenance`,
      details: { ended: finished.ids },
    })
  }
  return ended
}
