import type { SessionKeyIntegrityError } from '../../keys/errors.js'
import type { SessionRow } from '../../store/schema/index.js'
import type { WorkerDeps } from '../deps.js'
import { markSessionRefused } from './markSessionRefused.js'

/**
 * A session's stored key found not to be the delegated one before anything was signed with it
 * (`SessionKeyIntegrityError`: it unseals to another key than the session's public key, it is
 * corrupt, or it is another session's; tampered with, a bad rewrap, a restore from another backup).
 * The key-integrity problem the operator's SignerMismatch reports, treated the same way: the session
 * is quarantined with the problem's reason (never used again; a wallet left without an active session
 * awaits a new delegation, and session maintenance revokes the quarantined delegation at the operator
 * with the wallet's signature), `KEY_INTEGRITY` is raised, and a replacement is asked for when this
 * call ended it. Answers whether it did (false: the session had ended already, the alert is raised
 * all the same).
 */
export async function quarantineKeyIntegrity(deps: Pick<WorkerDeps, 'db' | 'now' | 'sessions' | 'alert' | 'alertWithin' | 'onSessionInvalid'>, session: Pick<SessionRow, 'id' | 'walletId'>, problem: SessionKeyIntegrityError): Promise<boolean> {
  const quarantined = await markSessionRefused(deps, { walletId: session.walletId, sessionId: session.id, status: 'quarantined', reason: problem.reason }, {
    event: {
      walletId: session.walletId, code: 'KEY_INTEGRITY',
      message: `${problem.reason}: the session is quarantined, nothing was signed with it`,
      details: { sessionId: session.id },
    },
  })
  if (quarantined) await deps.onSessionInvalid?.(session.walletId, session.id, problem.reason)
  return quarantined
}
