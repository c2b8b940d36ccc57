import { and, count, eq, gt, max } from 'drizzle-orm'
import type { Db } from '../Database.js'
import { sessions } from '../schema/index.js'

/** How many of the wallet's sessions failed since `since`, and when the latest did (`sessions.failed_at`). */
export async function recentSessionFailures(db: Db, walletId: string, since: Date): Promise<{ failures: number; latest: Date | undefined }> {
  const [row] = await db.select({ failures: count(), latest: max(sessions.failedAt) }).from(sessions)
    .where(and(eq(sessions.walletId, walletId), gt(sessions.failedAt, since)))
  return { failures: row?.failures ?? 0, latest: row?.latest ?? undefined }
}
