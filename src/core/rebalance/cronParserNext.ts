import { type CronExpression, CronExpressionParser } from 'cron-parser'
import { BoundedMemo } from './BoundedMemo.js'

/** Parsed expressions kept, the most recently used: a few per schedule validated or run lately. */
const expressions = new BoundedMemo<CronExpression>(256)

/**
 * cron-parser's first slot of `cron` in `timeZone` strictly after `after` (unix ms): the answer of
 * `CronExpressionParser.parse(cron, { currentDate: new Date(after), tz: timeZone }).next()`, from an
 * expression parsed once and reset to `after`, as parsing costs more than the step itself (stepping a
 * cron through a clock change asks hundreds of times). A reset expression is the one parse would
 * build: its only other state, whether a day holds a clock change, is kept per day. Throws as
 * cron-parser does on a bad cron or zone (nothing is kept then). Pure.
 */
export function cronParserNext(cron: string, timeZone: string, after: number): number {
  const expression = expressions.get(JSON.stringify([cron, timeZone]), () => CronExpressionParser.parse(cron, { currentDate: new Date(after), tz: timeZone }))
  expression.reset(new Date(after))
  return expression.next().getTime()
}
