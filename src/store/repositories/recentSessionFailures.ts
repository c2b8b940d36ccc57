import { and, count, gt, inArray, max } from 'drizzle-orm'
import type { Db } from '../Database.js'
import { sessions } from '../schema/index.js'

export type SessionFailures = { failures: number; latest: Date | undefined }

/** How many of the wallet's sessions failed since `since`, and when the latest did (`sessions.failed_at`). */
export async function recentSessionFailures(db: Db, walletId: string, since: Date): Promise<SessionFailures> {
  return (await recentSessionFailuresOf(db, [walletId], since)).get(walletId) ?? { failures: 0, latest: undefined }
}

/** The same for several wallets, in one query: wallets without a failure since `since` are absent. */
export async function recentSessionFailuresOf(db: Db, walletIds: readonly string[], since: Date): Promise<Map<string, SessionFailures>> {
  if (walletIds.length === 0) return new Map()
  const rows = await db.select({ walletId: sessions.walletId, failures: count(), latest: max(sessions.failedAt) }).from(sessions)
    .where(and(inArray(sessions.walletId, [...walletIds]), gt(sessions.failedAt, since))).groupBy(sessions.walletId)
  return new Map(rows.map((row) => [row.walletId, { failures: row.failures, latest: row.latest ?? undefined }]))
}
