import type { ValidationProblem } from './ScheduleValidationError.js'
import { errorMessage } from '../errors/errorMessage.js'
import { BoundedMemo } from './BoundedMemo.js'
import { cronParserNext } from './cronParserNext.js'
import { nextCronSlot } from './nextCronSlot.js'

const DAY_MS = 24 * 3600_000
const MINUTE_MS = 60_000
/** Clock changes looked for: those within this long of `fromMs`. */
const SPAN_DAYS = 2 * 366
/** Stepped across each change: from this long before it to this long after it. */
const AROUND_MS = 3 * 3600_000
/** Steps taken across one change at most (a cron firing every minute takes 360). */
const MAX_STEPS = 400

/** The zone's UTC offset at `ms`, as Intl writes it (`GMT+10:30`). */
function offsetAt(format: Intl.DateTimeFormat, ms: number): string | undefined {
  return format.formatToParts(ms).find((part) => part.type === 'timeZoneName')?.value
}

/** Minutes east of UTC of an offset as Intl writes it (`GMT+10:30`, `GMT-03:00`, `GMT`). */
function offsetMinutes(offset: string | undefined): number {
  const match = /^GMT([+-])(\d{2}):(\d{2})$/.exec(offset ?? '')
  return match ? (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3])) : 0
}

/**
 * A problem when the scheduler cannot step `cron` through one of `timeZone`'s clock changes in the
 * two years from `fromMs`, else undefined. The scheduler is BullMQ's job scheduler with the control
 * queue's repeat strategy (`scheduleRepeatStrategy`, in the worker and the API alike): it computes
 * each next run with `nextCronSlot`, from the last one, and this asks that same function, so what
 * validation accepts is what the worker runs. A cron that fires in every hour is stepped on elapsed
 * time and runs through any change (Australia/Lord_Howe's half hour, Pacific/Chatham's 45 minutes);
 * one that names its hours gets cron-parser's answer, which throws stepping most such crons through
 * Lord Howe's half-hour change ("loop limit exceeded"): the strategy then has no next run and BullMQ
 * schedules nothing more, silently, for good (refused, naming `timeZone`). An answer at or before
 * the moment asked from would make BullMQ queue the next job at once, and from that one the same
 * again (refused too). Each change is stepped across the way BullMQ steps, from three hours before it
 * to three hours after, and looked at from every minute whose wall time the change makes come twice
 * or never: BullMQ also computes a next run from the moment a scheduler is written or a late run
 * starts. A problem naming `cron`, too, when the cron fires at a wall time a jump forward skips and
 * the scheduler drops that run rather than moving it past the jump (`droppedRun`).
 */
export function clockChangeProblem(cron: string, timeZone: string, fromMs: number): ValidationProblem | undefined {
  const format = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' })
  const start = Math.floor(fromMs / DAY_MS) * DAY_MS
  let before = offsetAt(format, start)
  for (let day = 1; day <= SPAN_DAYS; day++) {
    const offset = offsetAt(format, start + day * DAY_MS)
    if (offset === before) continue
    // The change is within the day before: found to the minute by bisection.
    let low = start + (day - 1) * DAY_MS
    let high = start + day * DAY_MS
    while (high - low > MINUTE_MS) {
      const middle = low + Math.floor((high - low) / 2 / MINUTE_MS) * MINUTE_MS
      if (offsetAt(format, middle) === before) low = middle
      else high = middle
    }
    const problem = keptChangeProblem(cron, timeZone, { at: high, from: before, to: offset })
    if (problem) return problem
    before = offset
  }
  return undefined
}

/** A clock change: the first minute (unix ms) of the new offset, and the offsets as Intl writes them. */
type ClockChange = { at: number, from: string | undefined, to: string | undefined }

/** Answers of `changeProblem` kept; validating one schedule asks about four changes or so. */
const answers = new BoundedMemo<{ problem: ValidationProblem | undefined }>(1024)

/**
 * `changeProblem`'s answer, kept: it depends on nothing but its arguments, and the same changes
 * come up again when the same cron and zone are validated again (on another day, or by another user).
 */
function keptChangeProblem(cron: string, timeZone: string, change: ClockChange): ValidationProblem | undefined {
  const { problem } = answers.get(JSON.stringify([cron, timeZone, change.at, change.from, change.to]), () => ({ problem: changeProblem(cron, timeZone, change) }))
  // A copy: the caller may change what it is given.
  return problem === undefined ? undefined : { ...problem }
}

/** The problem stepping `cron` through one clock change of `timeZone`, as `clockChangeProblem` describes, else undefined. */
function changeProblem(cron: string, timeZone: string, { at: high, from, to }: ClockChange): ValidationProblem | undefined {
  const cannot = `the scheduler cannot run ${JSON.stringify(cron)} through ${timeZone}'s clock change on ${new Date(high).toISOString().slice(0, 10)}`
  const iso = (ms: number) => new Date(ms).toISOString()
  // The walk and the minutes below often ask from the same moment (every minute, for `* * * * *`).
  const answers = new Map<number, number | ValidationProblem>()
  /** The next run the scheduler computes from `at` (its repeat strategy, `nextCronSlot`), or the problem with it. */
  const nextFrom = (at: number): number | ValidationProblem => {
    let answer = answers.get(at)
    if (answer === undefined) {
      answer = computeNextFrom(at)
      answers.set(at, answer)
    }
    return answer
  }
  const computeNextFrom = (at: number): number | ValidationProblem => {
    let next: number
    try {
      next = nextCronSlot(cron, timeZone, at)
    } catch (error) {
      return { field: 'timeZone', rule: `${cannot} (after ${iso(at)} it finds no next run: ${errorMessage(error)}): it would stop firing for good; choose another time zone, or a cron that fires in every hour (such a cron runs through any clock change)` }
    }
    if (next > at) return next
    return { field: 'timeZone', rule: `${cannot} (after ${iso(at)} its next run comes out as ${iso(next)}, in the past): it would fire again at once, over and over; choose another time zone` }
  }
  // From each slot, as BullMQ steps (computed afresh from the last slot)...
  const walk: number[] = []
  let slot = high - AROUND_MS
  for (let step = 0; step < MAX_STEPS && slot < high + AROUND_MS; step++) {
    const next = nextFrom(slot)
    if (typeof next !== 'number') return next
    walk.push(next)
    slot = next
  }
  // ...and from any minute the change moves the clock across, whose wall time comes twice or never:
  // BullMQ also computes a next run from the moment a scheduler is written (a schedule created,
  // edited or resumed, or restored at start-up) and from a run that starts late.
  const beforeMinutes = offsetMinutes(from)
  const shift = Math.abs(offsetMinutes(to) - beforeMinutes) * MINUTE_MS
  for (let at = high - shift; at < high + shift; at += MINUTE_MS) {
    const next = nextFrom(at)
    if (typeof next !== 'number') return next
  }
  // A jump forward: a run at a wall time it skips must still happen, after the jump.
  if (offsetMinutes(to) > beforeMinutes) {
    const gapStart = high + beforeMinutes * MINUTE_MS
    const dropped = droppedRun(cron, gapStart, shift, walk.some((run) => run >= high && run <= high + shift))
    const skipped = `${hhmm(gapStart)}–${hhmm(gapStart + shift)}`
    if (dropped) return { field: 'cron', rule: `fires at ${dropped}, a wall time ${timeZone}'s clock skips (it jumps from ${hhmm(gapStart)} to ${hhmm(gapStart + shift)}), and the scheduler drops that run instead of moving it past the jump as it does elsewhere (Europe/Berlin's 02:30 runs at 03:30), so a daily cron would not run that day: pick a time outside ${skipped}` }
  }
  return undefined
}

/** A wall time (written as UTC ms) as `HH:mm`. */
function hhmm(wall: number): string {
  return new Date(wall).toISOString().slice(11, 16)
}

/**
 * Where the clock jumps forward, the first wall time in the stretch it skips (`gapStart`, written
 * as UTC ms, for `gap` ms) at which `cron` fires (`HH:mm` on `YYYY-MM-DD`, with seconds when not 0),
 * unless the scheduler has a run in its place: within `gap` after the jump (`ranAfterJump`). BullMQ
 * moves such a run past the jump in most places (Europe/Berlin's 02:30 runs at 03:30, and the four
 * quarter hours of 02:00 run once, at 03:00), but where the clock jumps at midnight
 * (America/Santiago, Africa/Cairo) or to it (America/Nuuk's 23:00) cron-parser steps on to the
 * next day's: the run is dropped, and a daily cron does not run that day.
 */
function droppedRun(cron: string, gapStart: number, gap: number, ranAfterJump: boolean): string | undefined {
  if (ranAfterJump) return undefined
  // The cron read on the wall clock alone (as UTC): its first time in the skipped stretch, if any.
  const wall = cronParserNext(cron, 'UTC', gapStart - 1)
  if (wall >= gapStart + gap) return undefined
  const iso = new Date(wall).toISOString()
  return `${iso.slice(17, 19) === '00' ? iso.slice(11, 16) : iso.slice(11, 19)} on ${iso.slice(0, 10)}`
}
