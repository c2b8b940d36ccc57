import { and, eq, sql } from 'drizzle-orm'
import type { Db } from '../../../store/Database.js'
import { auditLog } from '../../../store/schema/index.js'

/**
 * Whether the schedule was paused after it stood at `version` (a run's), even if resumed since:
 * a pause records the version it made (`schedule.paused`, by `setScheduleStatus`), which only
 * grows. Versions, not clocks: a pause and a run's claim take turns under the schedule's row lock.
 */
export async function pausedSince(db: Db, schedule: { id: string; walletId: string }, version: number): Promise<boolean> {
  const [paused] = await db.select({ id: auditLog.id }).from(auditLog).where(and(
    eq(auditLog.walletId, schedule.walletId), eq(auditLog.action, 'schedule.paused'),
    sql`${auditLog.details}->>'scheduleId' = ${schedule.id}`, sql`(${auditLog.details}->>'version')::int > ${version}`,
  )).limit(1)
  return paused !== undefined
}
