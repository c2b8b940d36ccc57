import { resyncSchedule } from './resyncSchedule.js'
import type { ScheduleContext } from './types.js'

/** How long a change waits for Redis to take its job scheduler before answering without it. */
export const SCHEDULER_SYNC_WAIT_MS = 3_000

/**
 * Mirrors a committed schedule change to its job scheduler, waiting at most `ctx.syncWaitMs`. The
 * change itself is done: Postgres holds it, and a run reads the schedule there before it trades.
 * So a Redis that does not answer (down, failing over: its commands wait for it) does not fail or
 * hang the change: the sync goes on in the background, and the worker's repair sweep writes the
 * scheduler from Postgres anyway once Redis is back (`restoreLostSchedulers`). Answers whether the
 * scheduler was written in time.
 */
export async function resyncAfterCommit(ctx: ScheduleContext, scheduleId: string): Promise<boolean> {
  const sync = resyncSchedule(ctx.db, ctx.queue, scheduleId)
  let timer: NodeJS.Timeout | undefined
  const waited = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), ctx.syncWaitMs ?? SCHEDULER_SYNC_WAIT_MS) })
  try {
    if ((await Promise.race([sync, waited])) !== 'late') return true
  } catch (error) {
    ctx.log?.warn({ err: error, scheduleId }, 'schedule saved; its job scheduler could not be written now, the worker will write it')
    return false
  } finally {
    clearTimeout(timer)
  }
  ctx.log?.warn({ scheduleId }, 'schedule saved; Redis did not take its job scheduler in time, the worker will write it')
  sync.catch((error: unknown) => ctx.log?.warn({ err: error, scheduleId }, 'late job scheduler write failed; the worker will write it'))
  return false
}
