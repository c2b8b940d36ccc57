import { randomUUID } from 'node:crypto'
import { and, eq, gte, inArray, isNull } from 'drizzle-orm'
import type { Hex } from 'viem'
import { type AclAction, type RequestFamily, requestFamilies } from '../../core/acl/actions.js'
import { narrowestScope } from '../../core/acl/narrowestScope.js'
import { covers, uncovered } from '../../core/acl/covers.js'
import { BaseError } from '../../core/errors/BaseError.js'
import { ValidationError } from '../../core/errors/ValidationError.js'
import { delegationHash } from '../../core/delegation/delegationHash.js'
import { delegationTypedData } from '../../core/delegation/delegationTypedData.js'
import { encodeDelegatedPayload } from '../../core/delegation/encodeDelegatedPayload.js'
import { preLiveProblems } from '../../core/delegation/preLiveProblems.js'
import type { DelegationMessage, OperatorDomain } from '../../core/eip712/types.js'
import { SessionKey } from '../../keys/SessionKey.js'
import type { Keyring } from '../../keys/Keyring.js'
import type { WalletSigner } from '../../signers/WalletSigner.js'
import type { Db } from '../../store/Database.js'
import { audit } from '../../store/repositories/audit.js'
import { lockWallet } from '../../store/repositories/lockWallet.js'
import { lockTenantWallet } from '../intake/lockTenantWallet.js'
import { releaseHeld } from '../../store/repositories/outboxRepo.js'
import { type SessionRow, sessions, wallets } from '../../store/schema/index.js'
import { assertScopeRunsSchedule } from '../schedules/assertScopeRunsSchedule.js'
import { sealSessionKey } from './sealedSessionKey.js'
import { isUniqueViolation } from '../../store/isUniqueViolation.js'
import { walletSignatureProblem } from './walletSignatureProblem.js'
import { endGrant } from './endGrant.js'
import { MAX_SESSION_LIFETIME_SECONDS } from '../../core/sessions/lifetimeBounds.js'
import { errorMessage } from '../../core/errors/errorMessage.js'
import { OperatorDomainChangedError, type OperatorDomainWatch } from '../operatorDomain.js'

export class PreLiveCheckError extends BaseError {
  override name = 'PreLiveCheckError'
  readonly problems: string[]
  constructor(problems: string[]) {
    super(`the delegation failed its pre-live checks: ${problems.join('; ')}`, {
      code: 'SESSION.PRE_LIVE_FAILED',
      hint: 'the expiry (inside the automation window), the scope (exactly the families the work needs), the session public key and the wallet signer (it must sign as the wallet)',
    })
    this.problems = problems
  }
}

/** Another grant for the same wallet is in progress (this process or another); try again later. */
export class GrantInProgressError extends BaseError {
  override name = 'GrantInProgressError'
  readonly field = 'walletId'
  readonly rule = 'must have no other session grant in progress; retry once it ends'
  constructor(walletId: string) {
    super(`a session grant for wallet ${walletId} is already in progress`, { code: 'SESSION.GRANT_IN_PROGRESS', retryable: true, hint: 'wait for the grant in progress to finish; a grant abandoned for more than 10 minutes is cleared by session maintenance' })
  }
}

/** An automatic grant met a halted wallet (the user stopped it, or a compromise did): it asks the wallet for nothing. */
export class WalletHaltedError extends BaseError {
  override name = 'WalletHaltedError'
  constructor(walletId: string) {
    super(`wallet ${walletId} is halted: no session is granted automatically`, { code: 'SESSION.WALLET_HALTED' })
  }
}

/** The grant's session row was ended (revoked) while the grant was in progress: it never goes live. */
export class GrantEndedError extends BaseError {
  override name = 'GrantEndedError'
  constructor(sessionId: string) {
    super(`session ${sessionId} was ended while its grant was in progress (a compromise, or an abandoned grant cleared); it does not go live`, { code: 'SESSION.GRANT_ENDED' })
  }
}

export type GrantSessionInput = {
  db: Db
  keyring: Keyring
  domain: OperatorDomain
  /**
   * Whether the operator still verifies over `domain` (`WorkerDeps.operatorDomain`), read before the
   * wallet is asked to sign (`confirm`: one GET /v1/info): changed, the grant is refused
   * (`OperatorDomainChangedError`) before anything is stored; unreadable, it goes on. None: not asked.
   */
  operatorDomain?: Pick<OperatorDomainWatch, 'confirm'>
  walletSigner: WalletSigner
  walletId: string
  families: readonly RequestFamily[]
  unrestricted?: boolean
  /**
   * The scope the user chose explicitly, stored on the session (`sessions.chosen_scope`) for
   * session maintenance's rotations never to go below. Default: the scope granted (a caller naming
   * the families chose them); null: the worker chose it (the API's default, a rotation's).
   */
  chosenScope?: readonly AclAction[] | null
  /**
   * The session this grant replaces when none is active at activation (the last live one: expired,
   * refused): a scope narrower than its is audited (`session.narrowed`), as one narrower than the
   * active session's it replaces is.
   */
  replacing?: Pick<SessionRow, 'id' | 'aclScope'>
  /** Why it is granted (a rotation's reason), in the `session.narrowed` audit entry. */
  reason?: string
  lifetimeSeconds: number
  /**
   * The operator's clock now (unix ms; `WorkerDeps.operatorNow`): the delegation's expiry counts
   * from it, since the operator is the one that enforces it, and its nonce is it.
   */
  nowMs: number
  /** This process's clock (unix ms) for the row's own timestamps (delegated, activated, failed); default `Date.now`. */
  clock?: () => number
  /** Extra checks before activation (the operator guide's live probe). */
  probe?: (session: SessionRow) => Promise<string[]>
  /**
   * Set by a grant whose scope the user chose (the API): refuse to activate a scope that could not
   * run the wallet's active schedule, naming this field. Checked before the wallet signs and again
   * at activation, under the wallet lock a schedule's activation takes too: one created while the
   * wallet signed is seen. Unset (the worker's rotations, which keep the families the wallet's
   * schedules need that the current scope covers): never refused.
   */
  scheduleField?: string
  /**
   * Grant only if the wallet has no active session expiring at or after this (unix s) when the
   * grant takes its slot; otherwise answer that session (`previous` empty) and ask the wallet for
   * nothing. Checked under the wallet lock that activation takes: an automatic grant that saw the
   * wallet due just before another grant (another process's, the API's) went live is not made
   * beside it. Unset (a grant the user asked for): always granted.
   */
  unlessActiveUntil?: number
  /** With `unlessActiveUntil`: that active session must also cover these families (a scope change is not skipped for a session that does not). */
  unlessActiveCovers?: readonly RequestFamily[]
  /**
   * The tenant the wallet must belong to (the API's caller), checked under the wallet's lock in the
   * transaction that takes the grant's slot, before the wallet is asked to sign; another tenant's
   * wallet is refused as an unknown one (`lockTenantWallet`). Once the slot's row exists the wallet
   * is never retired (a takeover needs a wallet without sessions). Unset (the worker): not checked.
   */
  tenantId?: string
}

/**
 * Runs the steps between a grant's `pending` row and its activation, or the activation. If one
 * throws (the wallet signer or the live probe unreachable, Postgres dropping the activation's
 * connection, say), the row is marked revoked with the reason before the error goes on: left
 * `pending` or `delegated`, it held the wallet's one grant in progress, and every grant and rotation
 * was refused as GrantInProgress until session maintenance cleared it minutes later. Pre-live
 * problems, and an activation refused for the user's scope, mark the row themselves. Either way the
 * row records when it failed (`failed_at`), which automatic grants back off on; but for a change of
 * the operator's domain (the live probe refused over it), or the user's scope refused, which are no
 * failure of the wallet or its signer.
 */
async function abandonOnFailure<T>(db: GrantSessionInput['db'], sessionId: string, clock: () => number, steps: () => Promise<T>): Promise<T> {
  try {
    return await steps()
  } catch (error) {
    if (!(error instanceof PreLiveCheckError)) {
      const reason = `grant failed: ${errorMessage(error)}`.slice(0, 500)
      const failedAt = error instanceof OperatorDomainChangedError ? null : new Date(clock())
      await endGrant(db, eq(sessions.id, sessionId), reason, failedAt).catch(() => undefined)
    }
    throw error
  }
}

/**
 * Grants a new session: generates a key (sealed at rest), asks the wallet to
 * sign a Delegation with the narrowest scope covering `families`, runs the
 * pre-live checks, then activates it in one transaction that moves the
 * previous active session to `rotating` and releases work held for a session.
 */
export async function grantSession(input: GrantSessionInput): Promise<{ session: SessionRow; previous: SessionRow[]; granted: boolean }> {
  const { db } = input
  const clock = input.clock ?? Date.now
  const runsSchedule = (tx: Db, field: string) =>
    assertScopeRunsSchedule(tx, { walletId: input.walletId, families: input.families, unrestricted: input.unrestricted, field })
  // Before the wallet is asked to sign; again at activation, below.
  if (input.scheduleField) await runsSchedule(db, input.scheduleField)
  const [wallet] = await db.select().from(wallets).where(eq(wallets.id, input.walletId))
  if (!wallet) throw new PreLiveCheckError([`wallet ${input.walletId} is unknown`])
  if (wallet.address.toLowerCase() !== input.walletSigner.address.toLowerCase()) throw new PreLiveCheckError(['the wallet signer signs for another address'])
  // A Delegation signed over a domain the operator no longer verifies over would be worthless there:
  // the domain is read before the wallet is asked to sign (one GET /v1/info; grants are rare).
  const change = await input.operatorDomain?.confirm()
  if (change) throw new OperatorDomainChangedError(change)
  const scope: AclAction[] = narrowestScope({ families: input.families, unrestricted: input.unrestricted })
  const key = SessionKey.generate()
  const id = randomUUID()
  const nowSeconds = Math.floor(input.nowMs / 1000)
  const delegation: DelegationMessage = {
    wallet: wallet.address as Hex, sessionPublicKey: key.publicKey, aclScope: scope,
    expiry: BigInt(nowSeconds + input.lifetimeSeconds), nonce: BigInt(input.nowMs),
  }
  const pendingRow = {
    id, walletId: wallet.id, status: 'pending', publicKey: key.publicKey,
    sealedPrivateKey: sealSessionKey(input.keyring, key, id), masterKeyId: input.keyring.currentKeyId,
    aclScope: scope, chosenScope: input.chosenScope === undefined ? scope : input.chosenScope && [...input.chosenScope], expiry: new Date(Number(delegation.expiry) * 1000), expiryUnix: Number(delegation.expiry),
    delegationNonce: delegation.nonce.toString(), lifetimeSeconds: input.lifetimeSeconds, walletSigner: input.walletSigner.kind,
  } as const
  const slot = await db.transaction(async (tx): Promise<{ live?: SessionRow; pending?: SessionRow }> => {
    // Refused if retired since it was read (its address registered anew for its owner's tenant,
    // `takeUnprovenWallet`, which this lock orders with): the address's sessions are the new row's.
    // Once this slot's row is stored, the wallet is never retired.
    const locked = await lockTenantWallet(tx, wallet.id, input.tenantId)
    if (input.unlessActiveUntil !== undefined) {
      // Halted since the caller found it due (a compromise while maintenance worked through other wallets).
      if (locked?.status === 'halted') throw new WalletHaltedError(wallet.id)
      const [live] = await tx.select().from(sessions)
        .where(and(eq(sessions.walletId, wallet.id), eq(sessions.status, 'active'), gte(sessions.expiryUnix, input.unlessActiveUntil)))
      if (live && uncovered(live.aclScope, input.unlessActiveCovers ?? []).length === 0) return { live }
    }
    const [pending] = await tx.insert(sessions).values(pendingRow).returning()
    return { pending: pending! }
  }).catch((error: unknown) => {
    if (isUniqueViolation(error, 'sessions_one_grant_in_progress')) throw new GrantInProgressError(wallet.id)
    throw error
  })
  if (slot.live) return { session: slot.live, previous: [], granted: false }
  const pending = slot.pending!

  await abandonOnFailure(db, id, clock, async () => {
    const walletSignature = await input.walletSigner.signDelegation(delegationTypedData(input.domain, delegation))
    const signed = { ...delegation, walletSignature }
    const hash = delegationHash(input.domain, delegation)
    const payload = encodeDelegatedPayload(signed)
    const signedFields = { delegationHash: hash, delegatedPayload: payload, delegatedAt: new Date(clock()) }
    const [delegated] = await db.update(sessions).set({ status: 'delegated', ...signedFields })
      .where(and(eq(sessions.id, pending.id), eq(sessions.status, 'pending'))).returning()
    if (!delegated) {
      // Ended while the wallet signed (a compromise, the abandoned-grant sweep): the delegation it
      // just signed is valid at the operator all the same. Kept on the ended row, not yet revoked
      // there (`revoked_at` null), so session maintenance revokes it.
      await db.update(sessions).set({ ...signedFields, revokedAt: null })
        .where(and(eq(sessions.id, id), eq(sessions.status, 'revoked'), isNull(sessions.delegatedPayload)))
      throw new GrantEndedError(id)
    }

    const problems = preLiveProblems({
      delegation: signed, signingPublicKey: key.publicKey, neededFamilies: input.families, unrestrictedRequested: input.unrestricted, nowSeconds,
      maxLifetimeSeconds: Math.max(input.lifetimeSeconds, MAX_SESSION_LIFETIME_SECONDS),
    })
    const signatureProblem = walletSignatureProblem(hash, walletSignature, wallet.address)
    if (signatureProblem) problems.push(signatureProblem)
    if (input.probe && problems.length === 0) problems.push(...(await input.probe(delegated)))
    if (problems.length) {
      await endGrant(db, eq(sessions.id, pending.id), `pre-live checks failed: ${problems.join('; ')}`, new Date(clock()))
      throw new PreLiveCheckError(problems)
    }
  })

  const activate = () => db.transaction(async (tx) => {
    // Whatever its status: a submission about to hold work for want of a session locks it too, so
    // it either sees this session or is released below (runSubmission's `hold`).
    await lockWallet(tx, wallet.id)
    if (input.scheduleField) await runsSchedule(tx, input.scheduleField)
    // Dated on Postgres's clock (`updated_at`, as every write of a session row): session maintenance,
    // in whichever process, measures the rotation grace from it on the same clock, not on its own (one
    // running ahead would revoke a session another process rotated out a moment ago, with requests
    // signed with it still on the wire).
    const previous = await tx.update(sessions).set({ status: 'rotating', statusReason: `replaced by ${id}` })
      .where(and(eq(sessions.walletId, wallet.id), eq(sessions.status, 'active'))).returning()
    // Only the row this grant delegated: one a compromise (or the abandoned-grant sweep) ended while
    // the wallet signed stays ended, and nothing above is kept.
    const [active] = await tx.update(sessions).set({ status: 'active', activatedAt: new Date(clock()) })
      .where(and(eq(sessions.id, id), eq(sessions.status, 'delegated'))).returning()
    if (!active) throw new GrantEndedError(id)
    await tx.update(wallets).set({ status: 'active' }).where(and(eq(wallets.id, wallet.id), inArray(wallets.status, ['awaiting_delegation', 'active'])))
    const released = await releaseHeld(tx, wallet.id)
    await audit(tx, { walletId: wallet.id, actor: 'worker', action: 'session.activated', details: { sessionId: id, scope, chosenScope: active.chosenScope, expiry: Number(delegation.expiry), replaced: previous.map((p) => p.id), released } })
    // A scope narrower than the one replaced: what was dropped, and why.
    const before = previous[0] ?? input.replacing
    const dropped = before ? requestFamilies.filter((family) => covers(before.aclScope, family) && !covers(scope, family)) : []
    if (before && dropped.length) {
      await audit(tx, { walletId: wallet.id, actor: 'worker', action: 'session.narrowed', details: { sessionId: id, replaced: before.id, from: before.aclScope, to: scope, dropped, chosenScope: active.chosenScope, reason: input.reason ?? null } })
    }
    return { session: active, previous, granted: true }
  })
  // Any other failure of the activation (Postgres dropped its connection, a statement timed out)
  // ends the grant as one of the steps before it does (`abandonOnFailure`): left `delegated`, the
  // row held the wallet's one grant in progress until the abandoned-grant sweep, minutes without a
  // session. A commit that took effect though its answer was lost left the row `active`, untouched.
  return abandonOnFailure(db, id, clock, () => activate().catch(async (error: unknown) => {
    // The user's scope met a schedule made meanwhile: not a failure of the wallet or the operator
    // (no failed_at). The signed Delegation is never used; session maintenance revokes it at the
    // operator (`revoked_at` is null).
    if (error instanceof ValidationError) {
      await endGrant(db, eq(sessions.id, id), `not activated: ${error.message}`.slice(0, 500))
    }
    throw error
  }))
}
