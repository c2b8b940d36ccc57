import { and, desc, eq } from 'drizzle-orm'
import type { Logger } from 'pino'
import { sessions } from '../store/schema/index.js'
import type { WorkerDeps } from './deps.js'
import { throttledErrorLog } from './throttledErrorLog.js'

/** How long the warning about the same wallet's session stays quiet after it was logged: ten sweeps at the default interval. */
export const SKIPPED_LOG_WINDOW_MS = 5 * 60_000

export type SkippedLog = (error: unknown, fields?: Record<string, unknown>) => void

/**
 * The reconciliation's warning about a wallet it could not read, throttled per wallet and session
 * (`throttledErrorLog`): one process makes one and hands it to every run, so a wallet met by every
 * sweep is warned of once per window, with the repeats counted.
 */
export function walletSkippedLog(log: Logger): SkippedLog {
  return throttledErrorLog(log, 'wallet not reconciled: no valid read can be signed for it', { level: 'warn', windowMs: SKIPPED_LOG_WINDOW_MS })
}

/**
 * A wallet listed with an active session for which `sessions.active` found none it may sign with:
 * its session expired by the clock and is still `active` in Postgres (session maintenance, which
 * marks expiries every few seconds, has not run since, or fails). Nothing of the wallet can be read,
 * so its orders and fills are not compared with the operator's: a warning names the wallet, the
 * session and why (`log`, throttled); RECONCILE_SKIPPED once the session has been so for `graceMs`
 * (a sweep interval: maintenance had its chance; once an hour, the alert sink's rule); and session
 * maintenance is asked for the wallet now (as a refused session's replacement is, `onSessionInvalid`),
 * which marks it expired and rotates it where a wallet signer is configured.
 * Answers whether the wallet was so; not when it has no active session any more (it ended since it
 * was listed: a rotation or a revocation, as if it had not been listed) or has one valid again.
 */
export async function walletSkipped(deps: WorkerDeps, walletId: string, options: { log: SkippedLog; graceMs: number }): Promise<boolean> {
  const [session] = await deps.db.select({ id: sessions.id, expiryUnix: sessions.expiryUnix }).from(sessions)
    .where(and(eq(sessions.walletId, walletId), eq(sessions.status, 'active'))).orderBy(desc(sessions.expiryUnix)).limit(1)
  // On the clock `sessions.active` judged by (the operator's, which delegation expiry is signed on).
  const now = deps.operatorNow()
  if (!session || session.expiryUnix * 1000 > now) return false
  const expiredAt = new Date(session.expiryUnix * 1000).toISOString()
  const fields = { walletId, sessionId: session.id, reason: 'sessionExpired', expiredAt }
  options.log(new Error(`session ${session.id} of wallet ${walletId} expired at ${expiredAt} and is still active; session maintenance asked to mark it expired`), fields)
  if (now - session.expiryUnix * 1000 >= options.graceMs) {
    deps.alert({
      walletId, code: 'RECONCILE_SKIPPED',
      message: `the wallet is not reconciled: its session ${session.id} expired at ${expiredAt} and is still active, so no read of its orders and fills can be signed; `
        + 'session maintenance has not marked it expired (is it running?): it is asked again on every sweep',
      details: { sessionId: session.id, reason: 'sessionExpired', expiredAt },
    })
  }
  await deps.askSessionMaintenance?.(walletId, `expired-${session.id}`)
  return true
}
