import { eq } from 'drizzle-orm'
import type { Db } from '../../store/Database.js'
import { type ScheduleRow, schedules } from '../../store/schema/index.js'
import { assertUuid } from './lockSchedule.js'

/** One schedule (deleted ones too), or undefined. */
export async function getSchedule(db: Db, scheduleId: string): Promise<ScheduleRow | undefined> {
  assertUuid('scheduleId', scheduleId)
  const [row] = await db.select().from(schedules).where(eq(schedules.id, scheduleId))
  return row
}
