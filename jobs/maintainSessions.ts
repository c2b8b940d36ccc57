/**
 * Processor: keep every wallet's session valid (control queue, job scheduler every few seconds,
 * and on demand after a SessionUnauthorized).
 * - Payload: `{ walletId?: string; reason: string }`; without walletId every wallet.
 * - Reads: sessions `active` expiring within the rotation lead (or already refused by the operator;
 *   not a halted wallet's), wallets with Order or ModifyOrder work `held` that their active session's
 *   scope does not cover (a scope change), or a reconciler's CancelOrder so held (an orphan's, or
 *   an order's recorded ended here and live at the operator), the due wallets' recent session failures (one query),
 *   sessions `rotating` past the grace period, `revoked` sessions whose signed delegation was never
 *   revoked at the operator (grants that did not go live), `quarantined` sessions not yet revoked
 *   there (`revoked_at` null), the wallet signer for each wallet.
 * - Writes: held Order/ModifyOrder/CancelOrder rows whose order has ended queued again (their claim settles them);
 *   a new active session per rotated wallet (`grantSession`: old → `rotating`), with the lifetime
 *   of the last (at least twice the rotation lead; a wallet's first: SESSION_LIFETIME_SECONDS) and
 *   the narrowest scope covering the wallet's work now (`rotateSession` with `narrow`: the default
 *   families, or the scope the user chose, its schedules' and its queued, held and in-flight work's
 *   families, within the last session's scope; the user's choice, `chosen_scope`, carried over),
 *   widened by the families of held work it does not cover (reason `scopeChange`; its activation
 *   releases the work); a narrower scope than the replaced session's audited `session.narrowed`; old sessions
 *   revoked at the operator once in-flight requests are past their deadlines, and so are the unused
 *   delegations of grants that did not go live (`revoked_at` recorded); quarantined sessions revoked
 *   there with the wallet signer's signature (`revoked_at` recorded, status kept; without a signer,
 *   or when it fails, a SESSION_UNREVOKED alert); sessions past expiry → `expired`, with their wallets,
 *   and any wallet left `active` without a session (a write interrupted), → `awaiting_delegation`;
 *   a compromise interrupted before it ended the wallet's sessions finished (`finishInterruptedCompromises`:
 *   sessions from before it → `revoked`, audited `session.ended`, SESSION_COMPROMISE, revoked at the operator below);
 *   grants abandoned for 10 min → `revoked` (audited `session.grantFailed`); audit rows. A wallet without a
 *   signer is alerted and its work held when it expires (SESSION_EXPIRING), or when work is held for
 *   a scope change it cannot make (SESSION_SCOPE).
 * - Errors and retries: while the operator verifies over another EIP-712 domain than the worker
 *   signs with (`deps.operatorDomain`), a run only marks expiries and settles held work of ended
 *   orders (report `domainChanged`): it grants, probes and revokes nothing. One wallet failing does not stop the others; the next run retries it.
 *   Nor does one whose wallet signer hangs (the custody service not answering) hold them up: the
 *   grants, and the revocations of quarantined sessions, go `WALLETS_AT_ONCE` (4) wallets at a time
 *   (a wallet's own one after another), and the run waits for one wallet's at most
 *   `WALLET_DEADLINE_MS` (2 min), counting a failure past it. That step goes on without the run; until
 *   it ends, or for 10 min at most (when the abandoned-grant sweep below ends a grant still pending),
 *   no run of this process starts another for the wallet (`inProgress`; in another process, its
 *   grant meets the one in progress, `GrantInProgressError`, and passes the wallet by). A
 *   wallet whose sessions failed twice or more in the last hour (grant failed, or refused by the
 *   operator: `sessions.failed_at`) waits 30 s after the latest, doubling up to 15 min, and each
 *   such retry raises a SESSION_GRANTS_FAILING alert. A quarantined session's failed revocation is
 *   tried again after the same first wait, doubling (per process, `quarantineRetries`). A periodic
 *   run (every wallet) started while this process's previous one still runs is skipped
 *   (`oneRunAtATime` in src/worker.ts). A run whose worker is stopping (`deps.stopping`) starts no
 *   further wallet's grant nor session's revocation: the ones under way may finish (each can take
 *   OPERATOR_TIMEOUT_MS, or the wallet signer's wait up to the deadline, while either hangs, and the worker's shutdown
 *   waits for the job). The job then completes, its report `stopped`; it is not re-run: the next
 *   scheduled run (whichever worker takes it, every few seconds, every wallet) covers what was left,
 *   a wallet's own run asked for after a SessionUnauthorized included.
 * - Idempotency key: the session statuses (a rotated wallet has a fresh active session, so a second
 *   run does nothing); revocation at the operator is idempotent.
 */
import { and, eq, gt, inArray, isNotNull, isNull, lt, ne, or, sql } from 'drizzle-orm'
import type { Keyring } from '../src/keys/Keyring.js'
import type { WorkerDeps } from '../src/runtime/deps.js'
import { revokeAtOperator } from '../src/runtime/sessions/revokeAtOperator.js'
import { type RotateSessionInput, rotateSession } from '../src/runtime/sessions/rotateSession.js'
import { GrantInProgressError, WalletHaltedError } from '../src/runtime/sessions/grantSession.js'
import type { WalletSigner } from '../src/signers/WalletSigner.js'
import type { WalletRef } from '../src/signers/custodySigners.js'
import { audit } from '../src/store/repositories/audit.js'
import { grantBackoffs } from '../src/store/repositories/grantBackoffs.js'
import { outbox, sessions, wallets } from '../src/store/schema/index.js'
import type { RequestFamily } from '../src/core/acl/actions.js'
import { shortestLifetimeSeconds } from '../src/core/sessions/lifetimeBounds.js'
import { releaseHeldOfEndedOrders } from '../src/store/repositories/outboxRepo.js'
import { reconcilerCancel } from '../src/store/repositories/unfinishedCancels.js'
import { stopsHere } from '../src/runtime/stopsHere.js'
import { eachAtMost } from '../src/runtime/eachAtMost.js'
import { DeadlineError } from '../src/runtime/withinDeadline.js'
import { aloneWithinDeadline, type StepsInProgress } from '../src/runtime/sessions/aloneWithinDeadline.js'
import { revokeQuarantinedSessions } from '../src/runtime/sessions/revokeQuarantinedSessions.js'
import { endGrant } from '../src/runtime/sessions/endGrant.js'
import { finishInterruptedCompromises } from '../src/runtime/sessions/finishInterruptedCompromises.js'
import { awaitDelegationWithoutSession } from '../src/runtime/sessions/awaitDelegationWithoutSession.js'
import { lockWallets } from '../src/store/repositories/lockWallet.js'
import { markAwaitingDelegation } from '../src/store/repositories/markAwaitingDelegation.js'

const ABANDONED_GRANT_MS = 10 * 60_000

/**
 * How many wallets a run serves at once (grants, quarantined sessions' revocations): a wallet whose
 * signer hangs holds up its own lane, not every wallet behind it. Small: each asks the custody
 * service (rate-limited per app) and holds a database connection now and then.
 */
export const WALLETS_AT_ONCE = 4

/**
 * How long a run waits for one wallet's grant, or one quarantined session's revocation, before it
 * counts a failure and goes on. Longer than the custody client's own bound (Privy: four attempts of
 * 15 s with waits between), so it is met only by a signer that has none; the step itself goes on
 * without the run, and no run of this process starts the wallet's next one before it ends.
 */
export const WALLET_DEADLINE_MS = 120_000

export type SessionMaintenanceOptions = {
  keyring: Keyring
  walletSignerFor: (wallet: WalletRef) => WalletSigner | undefined
  rotateLeadSeconds: number
  lifetimeSeconds: number
  /** How long a rotated-out session may still finish in-flight requests before it is revoked. */
  rotationGraceMs: number
  /** Live probe before a new session goes live (SESSION_LIVE_PROBE). */
  probe?: RotateSessionInput['probe']
  /** The first wait between automatic grants after repeated failures (default `GRANT_RETRY_BASE_MS`); tests shorten it. */
  grantRetryBaseMs?: number
  /**
   * This process's failed revocations of quarantined sessions (by session id): how many, and when to
   * ask the wallet signer again. Without it, every run asks.
   */
  quarantineRetries?: Map<string, { failures: number; retryAt: number }>
  /**
   * This process's wallets whose grant or quarantined session's revocation is under way (by wallet
   * id), including one a run stopped waiting for (`walletDeadlineMs`), for 10 min at most (then
   * the abandoned-grant sweep has ended its grant): a run skips them. Without it, only the run's own
   * wallets are known.
   */
  inProgress?: StepsInProgress
  /** How long a run waits for one wallet's grant or revocation (default `WALLET_DEADLINE_MS`); tests shorten it. */
  walletDeadlineMs?: number
}

/**
 * `backedOff`: wallets due for a grant that wait because their recent sessions failed (`grantRetryDelayMs`).
 * `stopped`: the worker was stopping, and the run left grants or revocations for the next one.
 */
/** `domainChanged`: the operator verifies over another EIP-712 domain; no grant or revocation was signed. */
export type SessionMaintenanceReport = { rotated: number; revoked: number; expired: number; failures: number; backedOff: number; stopped?: true; domainChanged?: true }

export async function maintainSessions(deps: WorkerDeps, options: SessionMaintenanceOptions, walletId?: string): Promise<SessionMaintenanceReport> {
  const report: SessionMaintenanceReport = { rotated: 0, revoked: 0, expired: 0, failures: 0, backedOff: 0 }
  const inProgress = options.inProgress ?? new Map()
  const deadlineMs = options.walletDeadlineMs ?? WALLET_DEADLINE_MS
  const stepLimits = { deadlineMs, holdAtMostMs: ABANDONED_GRANT_MS }
  const nowSeconds = Math.floor(deps.operatorNow() / 1000)
  const scope = walletId ? eq(sessions.walletId, walletId) : sql`true`

  // Marked and audited in one transaction, with their wallets marked awaiting a delegation where
  // none is left active: a crash between left a session expired without its audit entry, or its
  // wallet `active` with no session, which no later run found due for a grant. The wallets are
  // locked first, as a grant's activation locks its wallet before its sessions (the other order
  // would deadlock with it).
  const expiring = and(scope, inArray(sessions.status, ['active', 'rotating', 'delegated']), lt(sessions.expiryUnix, nowSeconds))
  const expired = await deps.db.transaction(async (tx) => {
    const walletIds = [...new Set((await tx.select({ walletId: sessions.walletId }).from(sessions).where(expiring)).map((s) => s.walletId))]
    if (walletIds.length === 0) return []
    await lockWallets(tx, walletIds)
    const rows = await tx.update(sessions).set({ status: 'expired', statusReason: 'delegation expired' })
      .where(and(expiring, inArray(sessions.walletId, walletIds))).returning()
    for (const session of rows) await audit(tx, { walletId: session.walletId, actor: 'worker', action: 'session.expired', details: { sessionId: session.id } })
    await markAwaitingDelegation(tx, rows.map((s) => s.walletId))
    return rows
  })
  for (const session of expired) deps.sessions.forget(session.id)
  report.expired = expired.length
  const unmarked = await awaitDelegationWithoutSession(deps.db, walletId)
  if (unmarked.length) deps.log.warn({ wallets: unmarked }, 'wallets left active without a session (a write interrupted) marked awaiting a delegation')
  // A compromise whose process died before it ended the wallet's sessions: ended now (revoked at the operator below).
  await finishInterruptedCompromises(deps, scope)

  // Held work whose order has ended meanwhile (the user cancelled it, it filled) is settled by its
  // claim, not counted below: a scope is not widened for a modify nobody needs any more.
  await releaseHeldOfEndedOrders(deps.db, walletId)

  // Grants, probes and revocations are signed over the operator's domain: none over one it no
  // longer verifies over (its delegations would be worthless there, its revocations refused).
  if (await deps.operatorDomain?.stillChanged()) return { ...report, domainChanged: true }

  // Active sessions close to expiry, wallets whose work is held for lack of a session, and wallets
  // with placements, modifications or the reconciler's cancels (`reconcilerCancel`) held for a
  // session whose scope covers them (a scope change: the active session's does not; `runSubmission`
  // holds them). Not a halted wallet's: the user
  // stopped it (or a compromise did), so its wallet is asked for nothing; its session may expire,
  // and resuming it waits for a new one. Nor a retired wallet's (its address passed to its owner's
  // tenant on a row of its own). The `or` is parenthesised: and() does not wrap a raw
  // chunk, and unwrapped it escaped the wallet filter.
  const heldUncovered = sql<RequestFamily[] | null>`(select array_agg(distinct ${outbox.kind}) from ${outbox} where ${outbox.walletId} = ${wallets.id}
    and ${outbox.status} = 'held' and (${outbox.kind} in ('Order', 'ModifyOrder') or ${reconcilerCancel})
    and not (coalesce(${sessions.aclScope}, '{}') && array['Unrestricted', ${outbox.kind}]))`
  const due = await deps.db.select({
    walletId: wallets.id, address: wallets.address, custodyWalletId: wallets.custodyWalletId, status: wallets.status, sessionId: sessions.id,
    expiryUnix: sessions.expiryUnix, heldUncovered,
  })
    .from(wallets).leftJoin(sessions, and(eq(sessions.walletId, wallets.id), eq(sessions.status, 'active')))
    .where(and(walletId ? eq(wallets.id, walletId) : sql`true`, ne(wallets.status, 'halted'), isNull(wallets.retiredAt),
      sql`((${sessions.id} is null and ${wallets.status} = 'awaiting_delegation') or ${sessions.expiryUnix} < ${nowSeconds + options.rotateLeadSeconds}
        or (${sessions.id} is not null and ${heldUncovered} is not null))`))
  const backoffs = await grantBackoffs(deps.db, due.map((wallet) => wallet.walletId), deps.now(), options.grantRetryBaseMs)
  await eachAtMost(due, WALLETS_AT_ONCE, async (wallet) => {
    const expiring = wallet.expiryUnix !== null && wallet.expiryUnix < nowSeconds + options.rotateLeadSeconds
    // Held for a scope change while a signer was configured (another process's, or before a restart without it).
    const adding = wallet.heldUncovered ?? []
    const signer = options.walletSignerFor(wallet)
    if (!signer) {
      if (wallet.sessionId && expiring) deps.alert({ walletId: wallet.walletId, code: 'SESSION_EXPIRING', message: 'session expires soon and no wallet signer is configured to rotate it' })
      if (wallet.sessionId && adding.length) {
        deps.alert({ walletId: wallet.walletId, code: 'SESSION_SCOPE', message: `work is held for a session whose scope covers ${adding.join(' and ')}, and no wallet signer is configured to rotate it: rotate the session with that scope` })
      }
      return
    }
    // Its grant (or a revocation) from an earlier run is still waiting for the signer in this process.
    if (inProgress.has(wallet.walletId)) {
      deps.log.debug({ walletId: wallet.walletId }, 'session rotation skipped: the wallet\'s grant or revocation from an earlier run is still in progress in this process')
      return
    }
    // A signer that is down, or an operator that refuses every delegation of the wallet, is not
    // asked again each run: after the second failure in an hour the grants wait, doubling.
    const { failures, latest, retryAt } = backoffs.get(wallet.walletId) ?? { failures: 0, latest: undefined, retryAt: 0 }
    if (retryAt > deps.now()) {
      report.backedOff++
      deps.log.debug({ walletId: wallet.walletId, failures, retryAt: new Date(retryAt).toISOString() }, 'session grant backing off after failures')
      return
    }
    if (failures >= 2) {
      // The counts in the message only: the details are what makes an alert the same one, held back
      // for the hour, so a signer that keeps failing pages once an hour, not at every retry.
      deps.alert({
        walletId: wallet.walletId, code: 'SESSION_GRANTS_FAILING',
        message: `${failures} of the wallet's sessions failed in the last hour, the latest at ${latest?.toISOString() ?? 'an unknown time'} (their grant failed, or the operator refused them); asking the wallet signer again`,
      })
    }
    try {
      const step = await aloneWithinDeadline(inProgress, wallet.walletId, stepLimits, () => rotateSession({
        deps, keyring: options.keyring, walletSigner: signer, walletId: wallet.walletId, reason: !wallet.sessionId ? 'sessionUnauthorized' : expiring ? 'expiry' : 'scopeChange', adding,
        lifetimeSeconds: options.lifetimeSeconds, keepLifetime: { minSeconds: shortestLifetimeSeconds(options.rotateLeadSeconds) },
        probe: options.probe, onlyIfExpiringBefore: nowSeconds + options.rotateLeadSeconds, narrow: true,
      }))
      if (step.busy) return
      const { previous, session } = step.value
      if (previous.length || session.id !== wallet.sessionId) report.rotated++
    } catch (error) {
      if (error instanceof GrantInProgressError || error instanceof WalletHaltedError) return
      report.failures++
      if (error instanceof DeadlineError) {
        deps.log.error({ walletId: wallet.walletId, deadlineMs }, 'session rotation not finished within its deadline (the wallet signer is not answering); it goes on without this run, and the wallet is tried again once it ends')
      } else {
        deps.log.error({ walletId: wallet.walletId, err: error }, 'session rotation failed')
      }
    }
  }, () => stopsHere(deps, report))

  // A grant that died half-way (process killed while the wallet was signing) must not block the next one.
  // Its age on Postgres's clock, which dated it (created_at): on this worker's, one running ahead
  // would clear a grant another process started a moment ago, its wallet still signing.
  const abandoned = await endGrant(deps.db, and(scope, lt(sessions.createdAt, sql`now() - ${ABANDONED_GRANT_MS}::double precision * interval '1 millisecond'`)), 'grant abandoned')
  if (abandoned.length) deps.log.warn({ sessions: abandoned }, 'cleared abandoned session grants')

  // At the operator: rotated-out sessions once in-flight requests are past their deadlines, and the
  // delegation of a grant that did not go live after the wallet signed (pre-live checks, the live
  // probe, a refused activation, an abandoned or ended grant), which would work there until it
  // expires for whoever holds the session key.
  // The grace on Postgres's clock, which dated the rotation (`grantSession`): on this worker's, one
  // running ahead would revoke a session another process rotated out a moment ago.
  const graceEnded = sql`now() - ${options.rotationGraceMs}::double precision * interval '1 millisecond'`
  const toRevoke = await deps.db.select().from(sessions).where(and(scope, or(
    and(eq(sessions.status, 'rotating'), lt(sessions.updatedAt, graceEnded)),
    and(eq(sessions.status, 'revoked'), isNull(sessions.revokedAt), isNotNull(sessions.delegatedPayload), gt(sessions.expiryUnix, nowSeconds)),
  )))
  for (const session of toRevoke) {
    if (stopsHere(deps, report)) break
    try {
      await revokeAtOperator(deps, options.keyring, session, session.status === 'rotating' ? 'rotated out' : session.statusReason ?? 'never went live')
      report.revoked++
    } catch (error) {
      report.failures++
      deps.log.warn({ sessionId: session.id, status: session.status, err: error }, 'revoking a session at the operator failed; retrying next run')
    }
  }

  // Quarantined sessions (the operator answered SignerMismatch: the stored key is not the delegated
  // one) whose delegation is still live at the operator, with their orders: revoked there with the
  // wallet's signature, the session key being what is in doubt. The operator cancels their orders,
  // which the event consumer places again under the current session (granted above).
  await revokeQuarantinedSessions(deps, options, { walletId, scope, nowSeconds, walletsAtOnce: WALLETS_AT_ONCE, inProgress, stepLimits }, report)
  return report
}
