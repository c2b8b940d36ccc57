import { type SQL, and, eq, gt, isNotNull, isNull } from 'drizzle-orm'
import type { SessionMaintenanceOptions, SessionMaintenanceReport } from '../../../jobs/maintainSessions.js'
import { errorMessage } from '../../core/errors/errorMessage.js'
import { grantRetryDelayMs } from '../../core/sessions/grantRetryDelay.js'
import { sessions, wallets } from '../../store/schema/index.js'
import type { WorkerDeps } from '../deps.js'
import { eachAtMost } from '../eachAtMost.js'
import { stopsHere } from '../stopsHere.js'
import { aloneWithinDeadline, type StepsInProgress } from './aloneWithinDeadline.js'
import { revokeAtOperator } from './revokeAtOperator.js'

/** The rows grouped by wallet, in the order each wallet first appears. */
function byWallet<T extends { session: { walletId: string } }>(rows: readonly T[]): T[][] {
  const groups = new Map<string, T[]>()
  for (const row of rows) {
    const group = groups.get(row.session.walletId)
    if (group) group.push(row)
    else groups.set(row.session.walletId, [row])
  }
  return [...groups.values()]
}

/**
 * Session maintenance's step for quarantined sessions (`maintainSessions`; the operator answered
 * SignerMismatch) whose delegation is still live at the operator, among the run's (`run.scope`):
 * each revoked there with its wallet signer's signature (`revoked_at` recorded, status kept),
 * `run.walletsAtOnce` wallets at a time, a wallet's sessions one after another, each waited for
 * within `run.stepLimits` and not started while the wallet's grant or revocation is in progress in
 * this process (`run.inProgress`). Without a signer, or when the revocation fails, a SESSION_UNREVOKED
 * alert; a failed one waits before it is tried again (`options.quarantineRetries`), which a run over
 * every wallet rids of sessions no longer to revoke. Counts into `report` (`revoked`, `failures`;
 * `stopped` once the worker is stopping, then starting no further revocation).
 */
export async function revokeQuarantinedSessions(deps: WorkerDeps,
  options: Pick<SessionMaintenanceOptions, 'keyring' | 'walletSignerFor' | 'grantRetryBaseMs' | 'quarantineRetries'>,
  run: { walletId?: string; scope: SQL; nowSeconds: number; walletsAtOnce: number; inProgress: StepsInProgress; stepLimits: { deadlineMs: number; holdAtMostMs: number } },
  report: Pick<SessionMaintenanceReport, 'revoked' | 'failures' | 'stopped'>): Promise<void> {
  const { walletId, scope, nowSeconds, inProgress, stepLimits } = run
  const quarantined = await deps.db.select({ session: sessions, address: wallets.address, custodyWalletId: wallets.custodyWalletId })
    .from(sessions).innerJoin(wallets, eq(wallets.id, sessions.walletId))
    .where(and(scope, eq(sessions.status, 'quarantined'), isNull(sessions.revokedAt), isNotNull(sessions.delegatedPayload), gt(sessions.expiryUnix, nowSeconds)))
  // A wallet's sessions one after another (one signature asked of its signer at a time), the wallets side by side.
  await eachAtMost(byWallet(quarantined), run.walletsAtOnce, async (ofWallet) => {
    for (const { session, ...wallet } of ofWallet) {
      if (stopsHere(deps, report)) return
      const signer = options.walletSignerFor(wallet)
      if (!signer) {
        deps.alert({
          walletId: session.walletId, code: 'SESSION_UNREVOKED',
          message: `a session quarantined for SignerMismatch (its key is in doubt) is still live at the operator, with its orders, until ${session.expiry.toISOString()}: no wallet signer is configured to revoke it; the wallet must sign its revocation (POST /v1/sessions/revoke)`,
          details: { sessionId: session.id, delegation: session.delegationHash },
        })
        continue
      }
      // A signer that is down (or whose policy refuses the Revocation) is not asked on every run: after
      // each failure the next attempt waits, from the grants' first wait, doubling up to theirs at most.
      const retry = options.quarantineRetries?.get(session.id)
      if (retry && retry.retryAt > deps.now()) continue
      try {
        const step = await aloneWithinDeadline(inProgress, session.walletId, stepLimits, () => revokeAtOperator(deps, options.keyring, session, session.statusReason ?? 'quarantined', signer))
        // The wallet's grant (or this revocation) from an earlier run is still waiting for its signer: the next run asks.
        if (step.busy) continue
        options.quarantineRetries?.delete(session.id)
        report.revoked++
      } catch (error) {
        report.failures++
        const failures = (retry?.failures ?? 0) + 1
        const retryAt = deps.now() + grantRetryDelayMs(failures + 1, options.grantRetryBaseMs)
        options.quarantineRetries?.set(session.id, { failures, retryAt })
        deps.log.warn({ sessionId: session.id, status: session.status, err: error, retryAt: new Date(retryAt).toISOString() }, 'revoking a quarantined session at the operator failed; retrying after a wait')
        deps.alert({
          walletId: session.walletId, code: 'SESSION_UNREVOKED',
          message: `a session quarantined for SignerMismatch (its key is in doubt) is still live at the operator, with its orders, until ${session.expiry.toISOString()}: its revocation failed (${errorMessage(error)}); retrying`,
          details: { sessionId: session.id, delegation: session.delegationHash },
        })
      }
    }
  }, () => stopsHere(deps, report))
  if (!walletId && options.quarantineRetries) {
    const live = new Set(quarantined.map(({ session }) => session.id))
    for (const id of options.quarantineRetries.keys()) if (!live.has(id)) options.quarantineRetries.delete(id)
  }
}
