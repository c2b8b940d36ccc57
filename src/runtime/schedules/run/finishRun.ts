import { and, eq } from 'drizzle-orm'
import type { Db, Tx } from '../../../store/Database.js'
import { audit } from '../../../store/repositories/audit.js'
import { type ScheduleRunRow, type ScheduleRunStatus, scheduleRuns } from '../../../store/schema/index.js'

export type FinishRunParameters = {
  status: Exclude<ScheduleRunStatus, 'running' | 'completed'>
  reason: string
  detail?: string
  error?: string
  now: number
  /**
   * Called inside the transaction that ends the run (when this call ended it): claims the alert that
   * reports it (`alertWithin`), so it exists exactly when the end does. Answers what to call once committed.
   */
  claimAlert?: (tx: Tx, row: ScheduleRunRow) => Promise<() => void>
}

/**
 * Ends a run without (further) orders: no session, or a failure. Legs an earlier
 * stage wrote stay in the log: those orders are real. Only a `running` run
 * changes, so a late attempt never overwrites a run another attempt finished.
 * The run's end and its audit entry commit together: never one without the other.
 */
export async function finishRun(db: Db, runId: string, p: FinishRunParameters): Promise<ScheduleRunRow | undefined> {
  let afterCommit: (() => void) | undefined
  const finished = await db.transaction(async (tx) => {
    const [row] = await tx.update(scheduleRuns).set({
      status: p.status,
      stage: null,
      reason: p.reason,
      ...(p.detail === undefined ? {} : { detail: p.detail }),
      ...(p.error === undefined ? {} : { error: p.error.slice(0, 2000) }),
      finishedAt: new Date(p.now),
    }).where(and(eq(scheduleRuns.id, runId), eq(scheduleRuns.status, 'running'))).returning()
    if (row) {
      await audit(tx, { walletId: row.walletId, actor: 'scheduler', action: `schedule.run.${p.status}`, details: { scheduleId: row.scheduleId, runId, slot: row.slotAt.toISOString(), reason: p.reason, error: p.error } })
      afterCommit = await p.claimAlert?.(tx, row)
    }
    return row
  })
  afterCommit?.()
  return finished
}
