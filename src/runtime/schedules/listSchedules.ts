import { type SQL, and, asc, eq, inArray } from 'drizzle-orm'
import { ValidationError } from '../../core/errors/ValidationError.js'
import type { Db } from '../../store/Database.js'
import { type ScheduleRow, type ScheduleStatus, scheduleStatuses, schedules } from '../../store/schema/index.js'
import { assertUuid } from './lockSchedule.js'

export type ListSchedulesParameters = {
  walletId?: string
  /** Default active and paused: deleted schedules are listed only when asked for. */
  statuses?: readonly ScheduleStatus[]
}

/** Schedules, oldest first. */
export async function listSchedules(db: Db, { walletId, statuses = ['active', 'paused'] }: ListSchedulesParameters = {}): Promise<ScheduleRow[]> {
  for (const status of statuses) {
    if (!scheduleStatuses.includes(status)) throw new ValidationError('statuses', `must list only ${scheduleStatuses.join(', ')}`)
  }
  const conditions: SQL[] = [inArray(schedules.status, [...statuses])]
  if (walletId !== undefined) {
    assertUuid('walletId', walletId)
    conditions.push(eq(schedules.walletId, walletId))
  }
  return db.select().from(schedules).where(and(...conditions)).orderBy(asc(schedules.createdAt), asc(schedules.id))
}
