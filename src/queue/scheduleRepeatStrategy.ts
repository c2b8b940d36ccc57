import { type RepeatStrategy, defaultRepeatStrategy } from 'bullmq'
import { nextCronSlot } from '../core/rebalance/nextCronSlot.js'

/**
 * The control queue's repeat strategy: when BullMQ's job scheduler computes a schedule's next run
 * (the queue when a scheduler is written, the worker when a scheduled job starts), it asks
 * `nextCronSlot`, which keeps an every-hour cron (`*\/15 * * * *`) on elapsed time through clock
 * changes of other than an hour (Australia/Lord_Howe's half hour), where cron-parser, BullMQ's
 * default, skips runs; the rest as BullMQ would. Every control Queue and Worker that writes or
 * runs schedules gets it (`controlQueueSettings`): a process without it computes other slots.
 * An answer it cannot compute is no next run, as BullMQ's own (validation refuses such crons).
 */
export const scheduleRepeatStrategy: RepeatStrategy = (millis, opts) => {
  if (opts.pattern === undefined || opts.tz === undefined || opts.immediately) return defaultRepeatStrategy(millis, opts)
  const start = opts.startDate === undefined ? millis : Math.max(millis, new Date(opts.startDate).getTime())
  try {
    return nextCronSlot(opts.pattern, opts.tz, start)
  } catch {
    return undefined
  }
}

/** The `settings` of every control Queue and Worker. */
export const controlQueueSettings = { repeatStrategy: scheduleRepeatStrategy }
