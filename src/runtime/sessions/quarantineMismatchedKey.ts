import type { SessionRow } from '../../store/schema/index.js'
import type { WorkerDeps } from '../deps.js'
import { markSessionRefused } from './markSessionRefused.js'

/** The quarantined session's reason when its stored key is found not to be the delegated one. */
export const KEY_MISMATCH_REASON = "the stored session key does not match the session's public key: it is not the delegated key"

/**
 * A session's sealed key unsealed to another key than its public key (`SessionKeyMismatchError`:
 * the key in Postgres is not the delegated one, tampered with, a bad rewrap, a restore from another
 * backup), found before anything was signed with it. The key-integrity problem the operator's
 * SignerMismatch reports, treated the same way: the session is quarantined (never used again; a
 * wallet left without an active session awaits a new delegation, and session maintenance revokes
 * the quarantined delegation at the operator with the wallet's signature), `KEY_INTEGRITY` is
 * raised, and a replacement is asked for when this call ended it. Answers whether it did (false:
 * the session had ended already, the alert is raised all the same).
 */
export async function quarantineMismatchedKey(deps: Pick<WorkerDeps, 'db' | 'now' | 'sessions' | 'alert' | 'onSessionInvalid'>, session: Pick<SessionRow, 'id' | 'walletId'>): Promise<boolean> {
  const quarantined = await markSessionRefused(deps, { walletId: session.walletId, sessionId: session.id, status: 'quarantined', reason: KEY_MISMATCH_REASON })
  deps.alert({
    walletId: session.walletId, code: 'KEY_INTEGRITY',
    message: "the stored session key does not match the session's public key (it is not the delegated key): the session is quarantined, nothing was signed with it",
    details: { sessionId: session.id },
  })
  if (quarantined) await deps.onSessionInvalid?.(session.walletId, session.id, KEY_MISMATCH_REASON)
  return quarantined
}
