import { BoundedMemo } from './BoundedMemo.js'
import { cronParserNext } from './cronParserNext.js'
import { firesEveryHour } from './firesEveryHour.js'

/** A stretch this long with one UTC offset at both ends is taken to hold no clock change. */
const SAME_OFFSET_SPAN_MS = 20 * 24 * 3600_000

/**
 * One formatter per zone as spelled (building one costs more than the rest of a call), the most
 * recently used kept: zones are matched in any letter case, so a caller could otherwise grow this
 * with each new spelling of one (about 30 KB each).
 */
const formats = new BoundedMemo<Intl.DateTimeFormat>(256)

export const FORMATS_KEPT = formats.max

function formatOf(timeZone: string): Intl.DateTimeFormat {
  return formats.get(timeZone, () => new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' }))
}

/** Formatters kept now (at most `FORMATS_KEPT`). */
export function formatsKept(): number {
  return formats.size
}

/** The zone's offset from UTC at `ms`, in ms (`GMT+10:30` → 37 800 000). */
function offsetAt(format: Intl.DateTimeFormat, ms: number): number {
  const name = format.formatToParts(ms).find((part) => part.type === 'timeZoneName')?.value ?? ''
  const match = /^GMT([+-])(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(name)
  if (!match) return 0
  return (match[1] === '-' ? -1 : 1) * ((Number(match[2]) * 60 + Number(match[3])) * 60 + Number(match[4] ?? 0)) * 1000
}

/** The first ms in (low, high] whose offset differs from low's (there is one: high's differs). */
function changeBetween(format: Intl.DateTimeFormat, low: number, high: number): number {
  const before = offsetAt(format, low)
  while (high - low > 1) {
    const middle = low + Math.floor((high - low) / 2)
    if (offsetAt(format, middle) === before) low = middle
    else high = middle
  }
  return high
}

/**
 * The first slot of `cron` in `timeZone` strictly after `after` (unix ms): the scheduler's next run
 * (BullMQ's repeat strategy, `scheduleRepeatStrategy`). A cron that names its hours gets
 * cron-parser's answer, as BullMQ's own strategy gives it. A cron that fires in every hour
 * (`firesEveryHour`) runs on elapsed time: its next slot is the first instant whose wall time
 * matches, found stretch by stretch of one UTC offset, so a clock change does not make it skip
 * runs. cron-parser skips some where the clock moves by other than an hour: through
 * Australia/Lord_Howe's half-hour changes a `*\/15` cron went from 01:45 to 02:00 after the
 * fall-back (the repeated 01:30 and 01:45 not run) and from 01:45 to 03:00 at the spring-forward
 * (02:30 and 02:45, which exist, not run). Throws as cron-parser does on a bad cron or zone. Pure.
 */
export function nextCronSlot(cron: string, timeZone: string, after: number): number {
  const parserNext = () => cronParserNext(cron, timeZone, after)
  if (!firesEveryHour(cron)) return parserNext()
  const format = formatOf(timeZone)
  // Each stretch from `start` (inclusive) keeps one offset: the cron read on that wall clock as if UTC.
  let start = after + 1
  for (let stretch = 0; stretch < 3; stretch++) {
    const offset = offsetAt(format, start)
    const wall = cronParserNext(cron, 'UTC', start - 1 + offset)
    const slot = wall - offset
    // Far off: a change could hide between two ends of the same offset; cron-parser, as before.
    if (slot - start > SAME_OFFSET_SPAN_MS) return parserNext()
    if (offsetAt(format, slot) === offset) return slot
    // The offset changes before the slot: the cron is read again on the clock after the change.
    start = changeBetween(format, start, slot)
  }
  return parserNext()
}
