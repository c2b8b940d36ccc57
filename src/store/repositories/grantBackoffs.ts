import { and, count, gt, inArray, max } from 'drizzle-orm'
import { GRANT_FAILURE_WINDOW_MS, grantRetryAt } from '../../core/sessions/grantRetryDelay.js'
import type { Db } from '../Database.js'
import { sessions } from '../schema/index.js'

/** A wallet's session failures within `GRANT_FAILURE_WINDOW_MS`, the latest, and when its next automatic grant may run (epoch ms). */
export type GrantBackoff = { failures: number; latest: Date | undefined; retryAt: number }

/**
 * For each wallet with a session failure (`sessions.failed_at`) in the last hour, how many and when
 * its next automatic grant may run (`grantRetryAt`); wallets without one are absent: they may be
 * granted at once. One query for all of them: session maintenance and the API's wallet views read it.
 */
export async function grantBackoffs(db: Db, walletIds: readonly string[], nowMs: number, baseMs?: number): Promise<Map<string, GrantBackoff>> {
  if (walletIds.length === 0) return new Map()
  const rows = await db.select({ walletId: sessions.walletId, failures: count(), latest: max(sessions.failedAt) }).from(sessions)
    .where(and(inArray(sessions.walletId, [...walletIds]), gt(sessions.failedAt, new Date(nowMs - GRANT_FAILURE_WINDOW_MS)))).groupBy(sessions.walletId)
  return new Map(rows.map((row) => [row.walletId, {
    failures: row.failures, latest: row.latest ?? undefined, retryAt: grantRetryAt(row.failures, row.latest?.getTime(), baseMs),
  }]))
}
