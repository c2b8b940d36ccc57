import { and, eq, inArray, isNotNull, isNull, sql } from 'drizzle-orm'
import type { Hex } from 'viem'
import { BaseError } from '../../core/errors/BaseError.js'
import { VenueError } from '../../core/errors/venue.js'
import { revocationTypedData } from '../../core/delegation/revocationTypedData.js'
import type { RevocationMessage } from '../../core/eip712/types.js'
import { shortDeadlineMs } from '../../core/requests/shortDeadlineMs.js'
import type { Keyring } from '../../keys/Keyring.js'
import { signRevocation } from '../../keys/signRevocation.js'
import type { WalletSigner } from '../../signers/WalletSigner.js'
import { audit } from '../../store/repositories/audit.js'
import { type SessionRow, sessions } from '../../store/schema/index.js'
import type { WorkerDeps } from '../deps.js'
import { unsealSessionKey } from './sealedSessionKey.js'
import { quarantineKeyIntegrity } from './quarantineKeyIntegrity.js'
import { sealedKeyIntegrity } from './sealedKeyIntegrity.js'
import { lockWallet } from '../../store/repositories/lockWallet.js'
import { markAwaitingDelegation } from '../../store/repositories/markAwaitingDelegation.js'
import { lockTenantWallet } from '../intake/lockTenantWallet.js'
import { deadlineRefused } from '../submission/remeasureOperatorClock.js'
import { OperatorDomainChangedError } from '../operatorDomain.js'

/** A quarantined session's revocation needs the wallet's signature, and no wallet signer is configured for the wallet. */
export class WalletSignerRequiredError extends BaseError {
  override name = 'WalletSignerRequiredError'
  constructor(sessionId: string) {
    super(`session ${sessionId} is quarantined (its key is in doubt): only the wallet can sign its revocation, and no wallet signer is configured for the wallet`, {
      code: 'SESSION.WALLET_SIGNER_REQUIRED',
      hint: 'configure the wallet\'s signer (WALLET_SIGNER=privy and its custodyWalletId), or have the wallet sign a Revocation of the delegation (POST /v1/sessions/revoke)',
    })
  }
}

/**
 * Revokes a session at the operator and marks it revoked. Signed by the session key itself, but
 * for a quarantined session (the operator answered SignerMismatch: the stored key is not the
 * delegated one, or was tampered with), and for one whose stored key proves not to be the delegated
 * one (another key than its public key, corrupt, or another session's), quarantined and alerted
 * KEY_INTEGRITY here: that key is what is in doubt, so its
 * revocation is signed by the wallet (`walletSigner`; without one, `WalletSignerRequiredError`). The operator cancels
 * the session's open orders (`sessionRevoked`); the event consumer re-places those still wanted
 * under the wallet's current session. An already revoked or expired delegation counts as revoked.
 *
 * Revoking the wallet's last active session leaves the wallet `awaiting_delegation`.
 *
 * A session already ended here whose signed delegation the operator was never told about (a grant
 * that did not go live, which session maintenance revokes there), or a quarantined one, keeps its
 * status and reason and records `revoked_at`.
 *
 * While the operator verifies over another EIP-712 domain than this process signs with
 * (`deps.operatorDomain`, known already or learnt from its refusal: SignerMismatch, or a
 * SessionUnauthorized that would otherwise count as revoked), nothing is recorded and
 * `OperatorDomainChangedError` is thrown: a Revocation signed over the old domain does not end the
 * delegation there, which stays live for whoever holds the session key (a restart adopts the new
 * domain; session maintenance, or the compromise run again, then revokes it).
 *
 * `tenantId` (the API's caller): the session's wallet must be that tenant's, checked under the
 * wallet's lock (`lockTenantWallet`) before anything is signed, sent or written; another tenant's is
 * refused as an unknown session. The check holds afterwards: a wallet with a session is never retired
 * (`takeUnprovenWallet` retires only a wallet without sessions). Unset (the worker): not checked.
 */
export async function revokeAtOperator(deps: WorkerDeps, keyring: Keyring, session: SessionRow, reason: string, walletSigner?: WalletSigner, tenantId?: string): Promise<void> {
  if (tenantId !== undefined) await deps.db.transaction((tx) => lockTenantWallet(tx, session.walletId, tenantId, { resource: 'session', field: 'sessionId' }))
  // The operator took this Revocation (rather than answering the delegation ended already).
  let tookIt = false
  if (session.delegatedPayload && session.delegationHash) {
    // No request unless a change was seen already: then the Revocation is not signed at all.
    const known = await deps.operatorDomain?.stillChanged()
    if (known) throw new OperatorDomainChangedError(known)
    const sign = await revocationSigner(deps, keyring, session, walletSigner)
    for (let attempt = 1; ; attempt++) {
      const deadline = BigInt(Math.floor(deps.operatorNow()) + shortDeadlineMs(deps.maxDeadlineMs, 20_000))
      const signature = await sign({ delegation: session.delegationHash as Hex, deadline })
      try {
        await deps.venue.revoke({ delegation: session.delegatedPayload as Hex, signature, deadline: deadline.toString() })
        tookIt = true
        break
      } catch (error) {
        // A refused signature is first put to the operator's domain: changed, it says nothing of the session.
        if (error instanceof VenueError && (error.venueCode === 'SessionUnauthorized' || error.venueCode === 'SignerMismatch')) {
          const cause = await deps.operatorDomain?.explainRefusal()
          const change = cause === 'domainChanged' ? deps.operatorDomain?.changed() : undefined
          if (change) throw new OperatorDomainChangedError(change)
        }
        if (error instanceof VenueError && error.venueCode === 'SessionUnauthorized') break
        // The deadline refused as past or as too far ahead: this host's clock stepped since the offset
        // was measured. Measured again and signed again once; on the stale offset every retry by
        // session maintenance would be refused too, the old key valid at the operator until it expires.
        if (attempt > 1 || !(await deadlineRefused(deps, error, deadline))) throw error
      }
    }
  }
  const revokedAt = new Date(deps.now())
  // Ended at the operator only if the row still holds the delegation read (or none, as read): one
  // the wallet signed since the session was read (a grant that was `pending`) was not revoked
  // there. Its row ends all the same (the grant never goes live), `revoked_at` null, and session
  // maintenance revokes that delegation at the operator.
  const asRead = session.delegatedPayload === null ? isNull(sessions.delegatedPayload) : eq(sessions.delegatedPayload, session.delegatedPayload)
  // Recorded and audited in one transaction: a crash between the two left a session revoked without
  // its audit entry. The wallet first, as a grant's activation locks it before its sessions (this
  // session's row first, the two deadlocked). Audited only when this call recorded something: two
  // callers revoking the same session (a compromise and session maintenance) audit it once.
  await deps.db.transaction(async (tx) => {
    await lockWallet(tx, session.walletId)
    const [ended] = await tx.update(sessions).set({ status: 'revoked', statusReason: reason, revokedAt: sql`case when ${asRead} then ${revokedAt.toISOString()}::timestamptz end` })
      .where(and(eq(sessions.id, session.id), inArray(sessions.status, ['pending', 'delegated', 'active', 'rotating']))).returning({ id: sessions.id })
    if (!ended) {
      const recorded = await tx.update(sessions).set({ revokedAt }).where(and(eq(sessions.id, session.id), inArray(sessions.status, ['revoked', 'quarantined']), isNull(sessions.revokedAt), asRead))
        .returning({ id: sessions.id })
      // An active session this call revoked, which the worker recorded revoked first (the operator's
      // SessionRevoked on its event stream, or a request or the stream refused, can beat this answer
      // back) as a revocation behind its back: a failure, which automatic grants back off on and
      // SESSION_GRANTS_FAILING counts. It was this revocation: no failure, and its reason. (Not one
      // recorded as no failure already: another caller's revocation, which this one only repeated.)
      const owned = tookIt && session.status === 'active'
        ? await tx.update(sessions).set({ failedAt: null, statusReason: reason }).where(and(eq(sessions.id, session.id), eq(sessions.status, 'revoked'), isNotNull(sessions.failedAt)))
          .returning({ id: sessions.id })
        : []
      if (recorded.length === 0 && owned.length === 0) return
    } else {
      // The wallet's last active session gone (revoked through the API), it awaits a delegation, as at
      // expiry: session maintenance replaces it where the wallet has a signer. A halted wallet stays halted.
      await markAwaitingDelegation(tx, [session.walletId])
    }
    await audit(tx, { walletId: session.walletId, actor: 'worker', action: 'session.revoked', details: { sessionId: session.id, reason } })
  })
  deps.sessions.forget(session.id)
}

/**
 * Who signs the session's Revocation: the wallet for a quarantined session, its own key otherwise.
 * A stored key that turns out not to be the session's (`sealedKeyIntegrity`: another key, corrupt,
 * or another session's) is never signed with: the session is quarantined and alerted
 * (`quarantineKeyIntegrity`, as the worker does when it would sign a request with it) and its
 * Revocation is the wallet's, as for any quarantined one.
 */
async function revocationSigner(deps: WorkerDeps, keyring: Keyring, session: SessionRow, walletSigner: WalletSigner | undefined): Promise<(message: RevocationMessage) => Promise<Hex>> {
  if (session.status !== 'quarantined') {
    try {
      const key = unsealSessionKey(keyring, session)
      return async (message) => signRevocation(key, deps.domain, message).signature
    } catch (error) {
      const problem = await sealedKeyIntegrity(deps.db, keyring, session, error)
      if (!problem) throw error
      await quarantineKeyIntegrity(deps, session, problem)
    }
  }
  if (!walletSigner) throw new WalletSignerRequiredError(session.id)
  return (message) => walletSigner.signRevocation(revocationTypedData(deps.domain, message))
}
