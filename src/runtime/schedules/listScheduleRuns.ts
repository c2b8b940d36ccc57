import { type SQL, and, desc, eq, lt } from 'drizzle-orm'
import { ValidationError } from '../../core/errors/ValidationError.js'
import type { Db } from '../../store/Database.js'
import { type ScheduleRunRow, scheduleRuns } from '../../store/schema/index.js'
import { assertUuid } from './lockSchedule.js'

export type ListScheduleRunsParameters = {
  scheduleId: string
  /** Most rows (default 50, at most 500). */
  limit?: number
  /** Page backwards: only runs for slots before this one. */
  beforeSlot?: Date
}

/** A schedule's run log, latest slot first. */
export async function listScheduleRuns(db: Db, { scheduleId, limit = 50, beforeSlot }: ListScheduleRunsParameters): Promise<ScheduleRunRow[]> {
  assertUuid('scheduleId', scheduleId)
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new ValidationError('limit', 'must be an integer from 1 to 500')
  const conditions: SQL[] = [eq(scheduleRuns.scheduleId, scheduleId)]
  if (beforeSlot) conditions.push(lt(scheduleRuns.slotAt, beforeSlot))
  return db.select().from(scheduleRuns).where(and(...conditions)).orderBy(desc(scheduleRuns.slotAt)).limit(limit)
}
