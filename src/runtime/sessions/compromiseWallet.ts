import { and, eq, inArray, isNotNull, isNull, sql } from 'drizzle-orm'
import { BaseError } from '../../core/errors/BaseError.js'
import type { Keyring } from '../../keys/Keyring.js'
import { submitCancelAllSpec } from '../../../jobs/submitCancelAll.js'
import { audit } from '../../store/repositories/audit.js'
import { type AuditActor, intents, orders, outbox, sessions, wallets } from '../../store/schema/index.js'
import { runSubmission } from '../submission/runSubmission.js'
import type { WorkerDeps } from '../deps.js'
import { revokeAtOperator } from './revokeAtOperator.js'
import { type QueuedAs, queuedAlready } from '../intake/requestOrderChange.js'
import { lockTenantWallet } from '../intake/lockTenantWallet.js'
import { lockWalletToHalt } from '../../store/repositories/lockWallet.js'
import { errorMessage } from '../../core/errors/errorMessage.js'
import type { WalletSigner } from '../../signers/WalletSigner.js'
import { DOMAIN_CHANGED_RULE, type DomainChange, OperatorDomainChangedError, describeChange, domainChangedAlert } from '../operatorDomain.js'

/**
 * Some sessions could not be revoked at the operator: the wallet is halted all the same; running the
 * compromise again retries them. With `domainChange`, because the operator verifies over another
 * EIP-712 domain than Deputy signs with: no Revocation (nor CancelAll) signed over the old one takes
 * effect there, so nothing was sent or it was refused; a restart adopts the new domain, after which
 * running the compromise again (or session maintenance) revokes them.
 */
export class CompromiseIncompleteError extends BaseError {
  override name = 'CompromiseIncompleteError'
  readonly failed: readonly { sessionId: string; error: string }[]
  readonly domainChange: DomainChange | undefined
  readonly field: string | undefined
  readonly rule: string | undefined
  constructor(failed: readonly { sessionId: string; error: string }[], domainChange?: DomainChange) {
    const reasons = domainChange
      ? `${describeChange(domainChange)}, so nothing signed over the old one takes effect there (no CancelAll either); the wallet is halted and its sessions ended here; restart Deputy to adopt the operator's new domain, then run the compromise again`
      : [...new Set(failed.map((f) => f.error))].join('; ')
    super(`compromise: ${failed.length} session(s) could not be revoked at the operator: ${reasons}`, {
      code: 'SESSION.REVOKE_FAILED', retryable: true,
      hint: domainChange
        ? `the wallet is halted and its work stopped; ${DOMAIN_CHANGED_RULE}, then run the compromise again to revoke them at the operator`
        : 'the wallet is halted and its work stopped; run the compromise again to retry the revocations, or revoke those sessions at the operator by hand',
    })
    this.failed = failed
    this.domainChange = domainChange
    this.field = domainChange ? 'operatorDomain' : undefined
    this.rule = domainChange ? DOMAIN_CHANGED_RULE : undefined
  }
}

export type CompromiseInput = {
  walletId: string
  reason: string
  actor?: AuditActor
  /** Signs the revocation of a quarantined session (whose own key is in doubt); without one, that revocation fails. */
  walletSigner?: WalletSigner
  /**
   * The tenant the wallet must belong to (the API's caller), checked under the wallet's lock in the
   * halt's transaction, before anything is stopped or revoked; another tenant's wallet is refused as
   * an unknown one (see `lockTenantWallet`).
   */
  tenantId?: string
} & QueuedAs

/**
 * Suspected compromise of a wallet's session keys: stop all of the wallet's
 * work (intents cancelled, queued requests settled), CancelAll at the operator
 * while a session can still sign it, revoke every session (which also cancels
 * their orders), and alert. The wallet stays halted until a person resumes it
 * and a new delegation is granted.
 *
 * While the operator verifies over another EIP-712 domain than this process signs with (known, or
 * learnt from the CancelAll's or a revocation's refusal), the halt and the local end of every session
 * stand, but nothing takes effect at the operator: OPERATOR_DOMAIN_CHANGED is raised, the
 * SESSION_COMPROMISE alert says the sessions were NOT revoked there and why, and
 * `CompromiseIncompleteError` (naming the change) is thrown, never a count of revoked sessions.
 */
export async function compromiseWallet(deps: WorkerDeps, keyring: Keyring, input: CompromiseInput): Promise<{ revoked: number }> {
  const { walletId } = input
  // The CancelAll is sent from here, at once, while a session can still sign it (never delayed).
  const submitNow = (outboxId: string) => runSubmission(deps, outboxId, submitCancelAllSpec, {
    delay: () => Promise.reject(new Error('CancelAll cannot wait during a compromise')),
  })
  // A compromise already begun under `outboxId` (its CancelAll's id, see `QueuedAs`: an attempt whose
  // answer was lost) is not halted and cancelled again (a second CancelAll would cancel the orders
  // placed since a resume); its revocations below are still tried, as any second call's are.
  const begun = await deps.db.transaction(async (tx) => {
    await lockTenantWallet(tx, walletId, input.tenantId)
    // Waits for requests being persisted (`insertSignedRequests`); those after it see the halt.
    await lockWalletToHalt(tx, walletId)
    if (await queuedAlready(tx, input.outboxId, { kind: 'CancelAll', walletId })) return undefined
    await tx.update(intents).set({ status: 'cancelled' }).where(and(eq(intents.walletId, walletId), inArray(intents.status, ['active', 'cancel_requested'])))
    await tx.update(outbox).set({ status: 'done', lastError: 'wallet compromise: work stopped' })
      .where(and(eq(outbox.walletId, walletId), inArray(outbox.status, ['pending', 'held'])))
    // Placements whose work was just stopped are never sent: ended here, as a halt ends them.
    const unsent = await tx.update(orders).set({ state: 'cancelled', cancelReason: 'halted' })
      .where(and(eq(orders.walletId, walletId), eq(orders.state, 'pending'))).returning({ id: orders.id })
    // Halted, not awaiting delegation: a compromised wallet is never re-delegated automatically.
    await tx.update(wallets).set({ status: 'halted', haltedReason: `compromise: ${input.reason}` }).where(eq(wallets.id, walletId))
    // With the halt, in one transaction: a resume between the two would find no CancelAll still to
    // go out, and make the compromised wallet tradable again. Sent right here: then the relay must not
    // send it a second time, so the row starts `enqueued`; if sending fails, the sweeper finds it
    // without a job and the queue retries it.
    const [row] = await tx.insert(outbox).values({
      id: input.outboxId, walletId, kind: 'CancelAll', payload: { market: '', reason: 'compromise' }, status: 'enqueued', enqueuedAt: sql`now()`,
    }).returning({ id: outbox.id })
    // Audited with the halt it records, as the kill switch's is: the outcome's entry (`wallet.compromise`,
    // below) waits for the CancelAll and every revocation at the operator, and a process that dies
    // meanwhile would leave the wallet halted with nothing in its trail saying why.
    await audit(tx, { walletId, actor: input.actor ?? 'worker', action: 'wallet.halted', details: { reason: `compromise: ${input.reason}`, cancelledLocally: unsent.length, outboxId: row!.id } })
    return row!.id
  })
  if (begun) await submitNow(begun).catch((error: unknown) => deps.log.error({ walletId, err: error }, 'CancelAll on compromise failed; revocation still cancels session orders'))
  // A grant still waiting for the wallet's signature (`pending`) is ended too: it never goes live.
  // Ended here first, whatever the operator answers next: the compromised keys never sign again. A
  // revocation the operator does not take leaves `revoked_at` null, which session maintenance retries
  // (as does running the compromise again, which also picks those rows up).
  // A quarantined session (its key in doubt) keeps its status: it never signs again already, and its
  // revocation is the wallet's to sign (`walletSigner`).
  const reason = `compromise: ${input.reason}`
  // Audited in the same transaction, each session its entry, before anything goes to the operator.
  const ended = await deps.db.transaction(async (tx) => {
    const rows = await tx.update(sessions).set({ status: 'revoked', statusReason: reason })
      .where(and(eq(sessions.walletId, walletId), inArray(sessions.status, ['pending', 'delegated', 'active', 'rotating']))).returning()
    for (const session of rows) {
      await audit(tx, { walletId, actor: input.actor ?? 'worker', action: 'session.ended', details: { sessionId: session.id, reason } })
    }
    return rows
  })
  for (const session of ended) deps.sessions.forget(session.id)
  const unrevoked = await deps.db.select().from(sessions).where(and(eq(sessions.walletId, walletId), inArray(sessions.status, ['revoked', 'quarantined']),
    isNull(sessions.revokedAt), isNotNull(sessions.delegatedPayload)))
  const live = [...ended, ...unrevoked.filter((s) => !ended.some((e) => e.id === s.id))]
  // One refused or failed revocation must not leave the others live: try every session, then report.
  // All at once: each second a compromised key stays valid at the operator it can trade, and an
  // operator slow to answer one revocation (up to OPERATOR_TIMEOUT_MS) must not hold up the others.
  const outcomes = await Promise.allSettled(live.map((session) => revokeAtOperator(deps, keyring, session, reason, input.walletSigner)))
  const failed = outcomes.flatMap((outcome, i) => outcome.status === 'rejected' ? [{ sessionId: live[i]!.id, error: errorMessage(outcome.reason) }] : [])
  const revoked = live.length - failed.length
  const domainChange = outcomes.flatMap((outcome) => outcome.status === 'rejected' && outcome.reason instanceof OperatorDomainChangedError ? [outcome.reason.change] : [])[0]
  if (domainChange) deps.alert(domainChangedAlert(walletId, domainChange))
  const retry = domainChange
    ? `${describeChange(domainChange)}: restart Deputy to adopt the operator's new domain, then run the compromise again`
    : 'revoke them by hand or retry'
  deps.alert({
    walletId, code: 'SESSION_COMPROMISE',
    message: failed.length
      ? `suspected compromise (${input.reason}): ${revoked} session(s) revoked, ${failed.length} NOT revoked at the operator — ${retry}`
      : `sessions revoked after suspected compromise: ${input.reason}`,
    details: { revoked, failed },
  })
  await audit(deps.db, { walletId, actor: input.actor ?? 'worker', action: 'wallet.compromise', details: { reason: input.reason, revoked, failed } })
  if (failed.length) throw new CompromiseIncompleteError(failed, domainChange)
  return { revoked }
}
