import type { Queue } from 'bullmq'
import type { Logger } from 'pino'
import type { Db } from '../../store/Database.js'
import type { AuditActor } from '../../store/schema/index.js'
import type { MarketRules } from '../intake/marketRules.js'
import type { TimingChecker } from './startTimingChecker.js'

/** The payload of a `scheduleRun` job on the control queue (the scheduler's template data). */
export type ScheduleRunJobData = { scheduleId: string }

/** The part of the control queue that schedules touch: its job schedulers. */
export type SchedulerQueue = Pick<Queue, 'upsertJobScheduler' | 'removeJobScheduler' | 'getJobScheduler' | 'getJobSchedulers'>

/** What the schedule runtime functions need, handed in by the composition root or the API. */
export type ScheduleContext = {
  db: Db
  /** The control queue; every change is mirrored to its job scheduler. */
  queue: SchedulerQueue
  /** The operator's markets: when given, a target without an `<ASSET>-USD` market is refused. */
  markets?: MarketRules
  /** When given, a cron whose runs come closer together than this many seconds is refused (the API: `SCHEDULE_MIN_INTERVAL_SECONDS`). */
  minIntervalSeconds?: number
  /** Where a cron's timing is checked (the API: a thread of its own, `startTimingChecker`); unset, on this thread. */
  timing?: Pick<TimingChecker, 'problem'>
  /** Clock (unix ms), default `Date.now`. */
  now?: () => number
  /** Who makes the change, for the audit log (default `api`). */
  actor?: AuditActor
  /** How long a change waits for Redis to take its job scheduler (default `SCHEDULER_SYNC_WAIT_MS`). */
  syncWaitMs?: number
  /** Where a scheduler that could not be written in time is reported. */
  log?: Logger
}
