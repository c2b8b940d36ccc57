/**
 * Whether the scheduler can step a cron through a time zone's clock changes: the control queue's
 * repeat strategy (scheduleRepeatStrategy, nextCronSlot), what the worker and the API's queue
 * compute each next run with. Where it has no answer BullMQ schedules nothing more for the
 * schedule, silently; where it answers the past, it fires again at once.
 */
import { getNextMillis } from 'bullmq'
import { describe, expect, it } from 'vitest'
import { clockChangeProblem } from '../../../src/core/rebalance/clockChangeProblem.js'
import { scheduleRepeatStrategy } from '../../../src/queue/scheduleRepeatStrategy.js'

const FROM = Date.parse('2026-01-01T00:00:00Z')
const DAY = 24 * 3600_000

/** The clock changes of `timeZone` in the two years from FROM, each to the minute. */
function changesOf(timeZone: string): number[] {
  const format = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' })
  const offset = (ms: number) => format.formatToParts(ms).find((part) => part.type === 'timeZoneName')?.value
  const changes: number[] = []
  for (let day = FROM; day < FROM + 2 * 366 * DAY; day += DAY) {
    if (offset(day) === offset(day + DAY)) continue
    let minute = day
    while (offset(minute) === offset(day)) minute += 60_000
    changes.push(minute)
  }
  return changes
}

/**
 * A moment within three hours of a change (every `stepMinutes`) from which the worker's strategy
 * has no next run, or one not after it.
 */
function strategyFails(cron: string, tz: string, stepMinutes = 1): string | undefined {
  for (const change of changesOf(tz)) {
    for (let at = change - 3 * 3600_000; at < change + 3 * 3600_000; at += stepMinutes * 60_000) {
      const next = scheduleRepeatStrategy(at, { pattern: cron, tz }, 'scheduleRun') as number | undefined
      if (next === undefined || next <= at) return new Date(at).toISOString()
    }
  }
  return undefined
}

describe('clockChangeProblem', () => {
  it("refuses a cron the scheduler cannot step through Lord Howe's half-hour change, naming timeZone and the day", () => {
    // What BullMQ itself answers just before the April 2026 change: no next run, ever.
    expect(getNextMillis(Date.parse('2026-04-03T15:00:00Z'), { pattern: '0 2 * * *', tz: 'Australia/Lord_Howe' })).toBeUndefined()
    expect(clockChangeProblem('0 9 * * *', 'Australia/Lord_Howe', FROM)).toEqual({
      field: 'timeZone',
      rule: expect.stringMatching(/^the scheduler cannot run "0 9 \* \* \*" through Australia\/Lord_Howe's clock change on 2026-04-0\d \(after 2026-04-0\dT[\d:.]+Z it finds no next run: Invalid expression, loop limit exceeded\): it would stop firing for good; choose another time zone, or a cron that fires in every hour \(such a cron runs through any clock change\)$/),
    })
    // So is a cron that names its hours there: the worker's strategy steps those as cron-parser does.
    expect(strategyFails('0 */2 * * *', 'Australia/Lord_Howe', 5)).toBeDefined()
    expect(clockChangeProblem('0 */2 * * *', 'Australia/Lord_Howe', FROM)?.field).toBe('timeZone')
  })

  it("accepts an every-hour cron through Lord Howe's half-hour change, which the worker steps on elapsed time (nextCronSlot)", () => {
    // Before: refused ("loop limit exceeded", cron-parser's), although the worker's repeat strategy runs it.
    for (const cron of ['0 * * * *', '30 * * * *', '*/20 * * * *', '0 0-23 * * 6']) {
      expect(strategyFails(cron, 'Australia/Lord_Howe'), cron).toBeUndefined()
      expect(clockChangeProblem(cron, 'Australia/Lord_Howe', FROM), cron).toBeUndefined()
    }
  })

  it('refuses exactly what the worker\'s repeat strategy cannot step through a change, in zones whose clock moves by other than an hour', () => {
    for (const timeZone of ['Australia/Lord_Howe', 'Pacific/Chatham']) {
      for (const cron of ['45 * * * 1-5', '30 1 * * *', '15 13 * * *']) {
        const refused = clockChangeProblem(cron, timeZone, FROM)?.field === 'timeZone'
        const fails = strategyFails(cron, timeZone, 5)
        expect(refused, `${cron} in ${timeZone}: the strategy fails from ${fails ?? 'no moment'}`).toBe(fails !== undefined)
      }
    }
  })

  it("accepts an every-hour cron through Chatham's 45-minute change, where BullMQ's default strategy would answer a next run in the past", () => {
    // BullMQ's default (cron-parser) answers 12:15 after the 13:00 slot before the April 2026 change,
    // and 12:15 again from moments between the slots (a scheduler written, a run started late): the
    // schedule would fire again at once, over and over. The control queue's strategy answers the next
    // quarter hour, or hour, on elapsed time, and validation holds to it (before: all refused).
    for (const [cron, at] of [['*/15 * * * *', '2026-04-04T13:00:00Z'], ['0 * * * *', '2026-04-04T13:05:00Z'], ['30 * * * *', '2026-04-04T13:00:00Z'], ['*/20 * * * *', '2027-04-03T13:10:00Z']] as const) {
      expect(getNextMillis(Date.parse(at), { pattern: cron, tz: 'Pacific/Chatham' })).toBeLessThan(Date.parse(at))
      expect(scheduleRepeatStrategy(Date.parse(at), { pattern: cron, tz: 'Pacific/Chatham' }, 'scheduleRun')).toBeGreaterThan(Date.parse(at))
      expect(strategyFails(cron, 'Pacific/Chatham'), cron).toBeUndefined()
      expect(clockChangeProblem(cron, 'Pacific/Chatham', FROM), cron).toBeUndefined()
    }
    for (const cron of ['0 9 * * *', '30 2 * * 0', '*/5 * * * *']) expect(clockChangeProblem(cron, 'Pacific/Chatham', FROM)).toBeUndefined()
  })

  it('refuses a cron that fires at a wall time a spring-forward jump at midnight skips: BullMQ drops that run, and a daily cron runs nothing that day', () => {
    // What BullMQ itself answers from the Saturday midnight before Santiago's 2026 change (00:00 -> 01:00
    // on Sunday 2026-09-06): Monday's midnight, nothing on Sunday; where Berlin's 02:30 fires at 03:30.
    expect(new Date(getNextMillis(Date.parse('2026-09-05T04:00:00Z'), { pattern: '0 0 * * *', tz: 'America/Santiago' })!).toISOString()).toBe('2026-09-07T03:00:00.000Z')
    expect(new Date(getNextMillis(Date.parse('2026-03-28T01:30:00Z'), { pattern: '30 2 * * *', tz: 'Europe/Berlin' })!).toISOString()).toBe('2026-03-29T01:30:00.000Z')
    expect(clockChangeProblem('0 0 * * *', 'America/Santiago', FROM)).toEqual({
      field: 'cron',
      rule: 'fires at 00:00 on 2026-09-06, a wall time America/Santiago\'s clock skips (it jumps from 00:00 to 01:00), and the scheduler drops that run instead of moving it past the jump as it does elsewhere (Europe/Berlin\'s 02:30 runs at 03:30), so a daily cron would not run that day: pick a time outside 00:00–01:00',
    })
    expect(clockChangeProblem('0 23 * * *', 'America/Nuuk', FROM)?.rule).toMatch(/^fires at 23:00 on 2026-03-28, a wall time America\/Nuuk's clock skips \(it jumps from 23:00 to 00:00\).*pick a time outside 23:00–00:00$/)
    for (const timeZone of ['America/Santiago', 'America/Havana', 'Africa/Cairo', 'Asia/Beirut', 'Atlantic/Azores']) {
      for (const cron of ['0 0 * * *', '30 0 * * *', '0 0 0 * * *', '0 0,12 * * *']) {
        expect(clockChangeProblem(cron, timeZone, FROM), `${cron} in ${timeZone}`).toEqual({ field: 'cron', rule: expect.stringMatching(/^fires at 00:[03]0 on 20\d\d-\d\d-\d\d, a wall time .* clock skips .* pick a time outside 00:00–01:00$/) })
      }
    }
    // A weekly cron only on the weekday of the change: Santiago's is on a Sunday.
    expect(clockChangeProblem('0 0 * * 0', 'America/Santiago', FROM)?.field).toBe('cron')
    expect(clockChangeProblem('0 0 * * 1', 'America/Santiago', FROM)).toBeUndefined()
  })

  it('accepts a cron whose skipped wall time BullMQ runs after the jump, or that has a run there anyway', () => {
    // 02:30 runs at 03:30; an hourly cron runs at 01:00, right at Santiago's jump; 00:30 and 01:30 run once, at 01:30.
    for (const [cron, timeZone] of [['30 2 * * *', 'Europe/Berlin'], ['30 2 * * *', 'America/New_York'], ['*/15 2 * * *', 'Europe/Berlin'], ['0 * * * *', 'America/Santiago'], ['30 0,1 * * *', 'America/Santiago'], ['0 1 * * *', 'America/Santiago'], ['0 0 * * *', 'Europe/Berlin'], ['0 3 * * *', 'Pacific/Chatham']] as const) {
      expect(clockChangeProblem(cron, timeZone, FROM), `${cron} in ${timeZone}`).toBeUndefined()
    }
  })

  it('accepts what the scheduler steps through: other crons there, and whole-hour changes elsewhere', () => {
    for (const cron of ['30 1 * * *', '*/15 * * * *']) {
      expect(getNextMillis(Date.parse('2026-04-04T12:00:00Z'), { pattern: cron, tz: 'Australia/Lord_Howe' })).toBeGreaterThan(0)
      expect(clockChangeProblem(cron, 'Australia/Lord_Howe', FROM)).toBeUndefined()
    }
    for (const [cron, timeZone] of [['0 2 * * *', 'Europe/Paris'], ['30 2 * * 0', 'America/New_York'], ['* * * * *', 'Europe/London'], ['0 9 * * *', 'UTC']] as const) {
      expect(clockChangeProblem(cron, timeZone, FROM)).toBeUndefined()
    }
  })

  it('answers the same when asked again, from another day too, whatever a caller did with an earlier answer', () => {
    const first = clockChangeProblem('0 0 * * *', 'America/Santiago', FROM)
    expect(first?.rule).toMatch(/^fires at 00:00 on 2026-09-06, /)
    first!.rule = 'changed by the caller'
    expect(clockChangeProblem('0 0 * * *', 'America/Santiago', FROM)?.rule).toMatch(/^fires at 00:00 on 2026-09-06, /)
    expect(clockChangeProblem('0 0 * * *', 'America/Santiago', FROM + 3 * DAY)).toEqual(clockChangeProblem('0 0 * * *', 'America/Santiago', FROM))
    // From past that change, the next one's.
    expect(clockChangeProblem('0 0 * * *', 'America/Santiago', Date.parse('2026-09-07T12:00:00Z'))?.rule).toMatch(/^fires at 00:00 on 2027-09-05, /)
    expect(clockChangeProblem('0 9 * * *', 'Australia/Lord_Howe', FROM)).toEqual(clockChangeProblem('0 9 * * *', 'Australia/Lord_Howe', FROM + DAY))
  })
})
