import { and, eq } from 'drizzle-orm'
import type { RequestFamily } from '../../core/acl/actions.js'
import { uncovered } from '../../core/acl/covers.js'
import { familiesFor } from '../../core/acl/familiesFor.js'
import { narrowestScope } from '../../core/acl/narrowestScope.js'
import { ValidationError } from '../../core/errors/ValidationError.js'
import type { Db } from '../../store/Database.js'
import { schedules } from '../../store/schema/index.js'

/**
 * Before a session is asked for with an explicit scope: throws when the wallet has an active
 * schedule the scope could not run (its legs are Orders, and a run cancels an earlier run's legs
 * still working: CancelOrder). The new session would replace the one the schedule runs on, and
 * every run after it would have its legs refused. The other way round, creating or resuming a
 * schedule checks the active session (`assertSessionCoversSchedules`). `grantSession` runs this,
 * for a grant whose scope the user chose (`GrantSessionInput.scheduleField`), before the wallet signs
 * and again at activation, under the wallet lock a schedule's activation takes too, so a schedule
 * created while the wallet signed is seen.
 */
export async function assertScopeRunsSchedule(db: Db, p: { walletId: string; families: readonly RequestFamily[]; unrestricted?: boolean; field: string }): Promise<void> {
  const scope = narrowestScope({ families: p.families, unrestricted: p.unrestricted })
  const missing = uncovered(scope, familiesFor({ schedules: true }))
  if (missing.length === 0) return
  const [active] = await db.select({ id: schedules.id }).from(schedules).where(and(eq(schedules.walletId, p.walletId), eq(schedules.status, 'active'))).limit(1)
  if (active) {
    throw new ValidationError(p.field, `must let the session sign ${missing.join(' and ')}: the wallet's active schedule (${active.id}) sends them (its legs, and cancels of an earlier run's legs); pause the schedule first, or ask for a scope that covers it`)
  }
}
