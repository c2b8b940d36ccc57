import type { Logger } from 'pino'
import { pruneHistory } from '../store/repositories/pruneHistory.js'
import type { Db } from '../store/Database.js'
import { everyInterval } from './everyInterval.js'
import { throttledErrorLog } from './throttledErrorLog.js'

export type HistoryPruningOptions = {
  db: Db
  log: Logger
  /** Settled work and applied events older than this many days are deleted; 0 keeps everything. */
  retentionDays: number
  /** Default 10 minutes. */
  intervalMs?: number
  now?: () => number
}

const DAY_MS = 24 * 3600 * 1000

/**
 * Every `intervalMs`, deletes the settled outbox rows and the applied events older than
 * `retentionDays`, and the good-till cancels of orders that ended for good before then (`pruneHistory`), one run at a time, and logs what it deleted. A failing run
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
    if (pruned && (pruned.events || pruned.outbox)) log.info({ pruned, before, retentionDays }, 'deleted settled work and applied events past their retention')
  }, options.intervalMs ?? 10 * 60_000)
  return {
    async close() {
      stopping = true
      await runner.close()
    },
  }
}
