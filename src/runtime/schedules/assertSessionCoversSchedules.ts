import { and, eq } from 'drizzle-orm'
import { uncovered } from '../../core/acl/covers.js'
import { familiesFor } from '../../core/acl/familiesFor.js'
import { ValidationError } from '../../core/errors/ValidationError.js'
import type { Db } from '../../store/Database.js'
import { sessions } from '../../store/schema/index.js'

/**
 * Throws when the wallet's active session cannot sign what a schedule sends: its legs (`Order`) and
 * the cancels of an earlier run's legs still working (`CancelOrder`). Without them every run would
 * have its legs refused, or leave earlier legs working and skip. A wallet with no active session yet
 * passes: the session it is granted next covers its schedules by default.
 */
export async function assertSessionCoversSchedules(db: Db, p: { walletId: string; field: string }): Promise<void> {
  const [session] = await db.select({ aclScope: sessions.aclScope }).from(sessions)
    .where(and(eq(sessions.walletId, p.walletId), eq(sessions.status, 'active')))
  if (!session) return
  const missing = uncovered(session.aclScope, familiesFor({ schedules: true }))
  if (missing.length > 0) {
    throw new ValidationError(p.field, `the wallet's active session cannot sign ${missing.join(' or ')}, which a schedule sends (its legs, and cancels of an earlier run's legs); grant a session whose scope covers schedules first`)
  }
}
