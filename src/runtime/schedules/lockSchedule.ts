import { eq } from 'drizzle-orm'
import { ValidationError } from '../../core/errors/ValidationError.js'
import type { Db } from '../../store/Database.js'
import { type ScheduleRow, schedules } from '../../store/schema/index.js'

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Throws unless `value` is a UUID, so a malformed id is a ValidationError, not a Postgres cast error. */
export function assertUuid(field: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || !uuid.test(value)) throw new ValidationError(field, 'must be a UUID')
}

/**
 * The schedule row under `FOR UPDATE`, inside a transaction. Edits, status
 * changes and a run about to write its orders all take this lock, so a run sees
 * either the spec it computed with or the change, never half of one.
 */
export async function lockSchedule(tx: Db, scheduleId: unknown, options: { allowDeleted?: boolean } = {}): Promise<ScheduleRow> {
  assertUuid('scheduleId', scheduleId)
  const [row] = await tx.select().from(schedules).where(eq(schedules.id, scheduleId)).for('update')
  return known(row, options)
}

/** The schedule row as `lockSchedule` answers it, refused alike, without a lock: for work to do before taking one. */
export async function readSchedule(db: Db, scheduleId: unknown): Promise<ScheduleRow> {
  assertUuid('scheduleId', scheduleId)
  const [row] = await db.select().from(schedules).where(eq(schedules.id, scheduleId))
  return known(row, {})
}

function known(row: ScheduleRow | undefined, options: { allowDeleted?: boolean }): ScheduleRow {
  if (!row) throw new ValidationError('scheduleId', 'must name a known schedule')
  if (row.status === 'deleted' && !options.allowDeleted) throw new ValidationError('scheduleId', 'the schedule is deleted; create a new one instead')
  return row
}
