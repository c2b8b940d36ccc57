import { CronExpressionParser } from 'cron-parser'
import { BoundedMemo } from './BoundedMemo.js'

/** Answers kept, per cron (the cron alone decides one). */
const answers = new BoundedMemo<boolean>(256)

/**
 * Whether `cron` fires in every hour of the day (`0 * * * *`, `*\/15 * * * *`, `0 0-23 * * *`): such a
 * cron runs on elapsed time through a fall-back, the repeated hour included; one that names its hours
 * (`30 2 * * *`, `0 1,2 * * *`, `0 *\/2 * * *`) runs each of their wall times once. This is what
 * cron-parser (BullMQ's scheduler) does through a one-hour fall-back, and what a claim holds to
 * through a longer one (Antarctica/Troll's two hours), which cron-parser does not. Kept per cron:
 * `nextCronSlot` asks on every step, and parsing costs more than the step. Pure.
 */
export function firesEveryHour(cron: string): boolean {
  return answers.get(cron, () => CronExpressionParser.parse(cron, { currentDate: new Date(0), tz: 'UTC' }).fields.hour.values.length === 24)
}
