import type { Logger } from 'pino'
import { pruneHistory } from '../store/repositories/pruneHistory.js'
import type { Db } from '../store/Database.js'
import { everyInterval } from './everyInterval.js'
import { throttledErrorLog } from './throttledErrorLog.js'

export type HistoryPruningOptions = {
  db: Db
  log: Logger
  /** Settled work, applied events and schedule runs that traded nothing, older than this many days, are deleted; 0 keeps everything. */
  retentionDays: number
  /** Default 10 minutes. */
  intervalMs?: number
  now?: () => number
}

const DAY_MS = 24 * 3600 * 1000

/**
 * Every `intervalMs`, deletes what `pruneHistory` deletes past `retentionDays`: the settled outbox
 * rows and the applied events, the good-till cancels of orders that ended for good before then, and
 * the schedule runs that traded nothing (`skipped` or `awaiting_delegation`, no legs, no cancelled
 * orders: a cron on a halted wallet writes one a slot), but for each schedule's runs from its newest
 * one whose reason is not `repeatedWallTime` on, which decide its next slot. Runs that traded (legs or
 * cancels), `completed`, `failed` and `running` runs are kept for ever, as are orders, requests, fills
 * and the audit log. One run at a time; it logs what it deleted when it deleted anything. A failing run
 * (Postgres down) logs once per failure and the next run tries again. `close()` stops the timer and
 * ends a run in progress at its next statement. `retentionDays` 0 starts nothing.
 */
export function startHistoryPruning(options: HistoryPruningOptions): { close(): Promise<void> } {
  if (options.retentionDays === 0) return { close: async () => {} }
  const { db, log, retentionDays, now = Date.now } = options
  const failed = throttledErrorLog(log, 'history pruning failed')
  let stopping = false
  const runner = everyInterval(async () => {
    const before = new Date(now() - retentionDays * DAY_MS)
    const pruned = await pruneHistory(db, { before, stopping: () => stopping }).catch(failed)
    if (pruned && (pruned.events || pruned.outbox || pruned.scheduleRuns)) {
      log.info({ pruned, before, retentionDays }, 'deleted settled work, applied events and schedule runs that traded nothing past their retention')
    }
  }, options.intervalMs ?? 10 * 60_000)
  return {
    async close() {
      stopping = true
      await runner.close()
    },
  }
}
