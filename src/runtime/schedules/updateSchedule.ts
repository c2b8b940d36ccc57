import { eq, sql } from 'drizzle-orm'
import { ValidationError } from '../../core/errors/ValidationError.js'
import type { ScheduleSpec, ScheduleSpecInput } from '../../core/rebalance/parseScheduleSpec.js'
import { parseRequestedSpec } from './parseRequestedSpec.js'
import type { Tx } from '../../store/Database.js'
import { type ScheduleRow, schedules } from '../../store/schema/index.js'
import { lockSchedule, readSchedule } from './lockSchedule.js'
import { resyncAfterCommit } from './resyncAfterCommit.js'
import { scheduleSpecColumns, specInputOfRow, specOfRow } from './scheduleSpecColumns.js'
import { audit } from '../../store/repositories/audit.js'
import type { ScheduleContext } from './types.js'

/** Fields to change; `targets` replaces the whole map; `maxNotionalPerRun: null` removes the cap. */
export type ScheduleSpecPatch = Partial<Omit<ScheduleSpecInput, 'maxNotionalPerRun'>> & { maxNotionalPerRun?: string | null }

export type UpdateScheduleOptions = {
  /** Refuse the edit unless the schedule is still at this version (optimistic concurrency for UIs). */
  expectedVersion?: number
}

export type UpdateScheduleErrorType = ValidationError

/**
 * Edits a schedule's spec: the patch is merged over the stored spec and the
 * result validated in full, then stored with a new version. A run in flight
 * computed with the old version writes nothing (it checks the version under the
 * row lock); the next slot uses the new spec. A run whose sells went out already
 * places the buys they fund, computed with the new spec. A new cron or zone re-times the scheduler
 * and moves `activeSince` to now, so the next run counts missed slots from the edit on. An
 * edit that leaves the spec as it was changes nothing, the version included.
 */
export async function updateSchedule(ctx: ScheduleContext, scheduleId: string, patch: ScheduleSpecPatch, options: UpdateScheduleOptions = {}): Promise<ScheduleRow> {
  if (typeof patch !== 'object' || patch === null) throw new ValidationError('patch', 'must be an object of schedule fields')
  const { maxNotionalPerRun, ...rest } = patch
  // An explicit `undefined` means "unchanged", as an absent key does.
  const changes = Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined))
  const mergedOver = (row: ScheduleRow): Record<string, unknown> => {
    const merged: Record<string, unknown> = { ...specInputOfRow(row), ...changes }
    if (maxNotionalPerRun === null) delete merged.maxNotionalPerRun
    else if (maxNotionalPerRun !== undefined) merged.maxNotionalPerRun = maxNotionalPerRun
    return merged
  }
  const assertVersion = (row: ScheduleRow) => {
    if (options.expectedVersion !== undefined && options.expectedVersion !== row.version) {
      throw new ValidationError('expectedVersion', `must be the schedule's current version ${row.version}, got ${options.expectedVersion}: it changed since it was read`)
    }
  }
  // Checked before the row is locked, never under the lock: a new cron's timing check waits its turn
  // on the API's one timing thread (up to its 15 s limit, behind other tenants' checks), and edits,
  // status changes and runs of the schedule queued behind a lock held meanwhile would each hold a
  // pooled Postgres connection, a burst of them every other request's. Edited meanwhile (its
  // version moved), the patch is merged over that edit and checked again, the lock let go.
  for (let attempt = 1; ; attempt++) {
    const seen = await readSchedule(ctx.db, scheduleId)
    assertVersion(seen)
    const checked = await parseRequestedSpec(ctx, mergedOver(seen))
    const outcome = await ctx.db.transaction((tx) => write(tx, seen, checked))
    if (outcome === 'editedMeanwhile') {
      if (attempt < MAX_EDIT_ATTEMPTS) continue
      throw new ValidationError('scheduleId', `was edited ${MAX_EDIT_ATTEMPTS} times while this edit was checked; send it again`)
    }
    if (outcome.changed) await resyncAfterCommit(ctx, outcome.row.id)
    return outcome.row
  }

  async function write(tx: Tx, seen: ScheduleRow, spec: ScheduleSpec): Promise<{ row: ScheduleRow; changed: boolean } | 'editedMeanwhile'> {
    const current = await lockSchedule(tx, scheduleId)
    assertVersion(current)
    if (current.version !== seen.version) return 'editedMeanwhile'
    // An edit that changes nothing (an empty patch, a form saved as it was) keeps the version: a
    // new one would make a run in flight write nothing for its slot.
    if (sameColumns(scheduleSpecColumns(spec), scheduleSpecColumns(specOfRow(current)))) return { row: current, changed: false }
    // A new timing counts its slots from the edit on: the new cron's (or zone's) slots between the
    // last run and the edit never existed for this schedule, and the next run must not report them missed.
    const retimed = spec.cron !== current.cron || spec.timeZone !== current.timeZone
    const [updated] = await tx.update(schedules)
      .set({ ...scheduleSpecColumns(spec), version: sql`${schedules.version} + 1`, ...(retimed ? { activeSince: new Date((ctx.now ?? Date.now)()) } : {}) })
      .where(eq(schedules.id, current.id))
      .returning()
    await audit(tx, { walletId: current.walletId, actor: ctx.actor ?? 'api', action: 'schedule.updated', details: { scheduleId: current.id, version: updated!.version, changes: maxNotionalPerRun === undefined ? changes : { ...changes, maxNotionalPerRun } } })
    return { row: updated!, changed: true }
  }
}

/** Checks of an edit at most, each after another edit committed while the one before was checked. */
const MAX_EDIT_ATTEMPTS = 5

function sameColumns(a: ReturnType<typeof scheduleSpecColumns>, b: ReturnType<typeof scheduleSpecColumns>): boolean {
  const canonical = (columns: ReturnType<typeof scheduleSpecColumns>) =>
    JSON.stringify({ ...columns, targets: Object.fromEntries(Object.entries(columns.targets).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) })
  return canonical(a) === canonical(b)
}
