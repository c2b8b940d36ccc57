/**
 * Whether BullMQ's cron engine (cron-parser) can step a cron through a time zone's clock changes:
 * where it throws, BullMQ schedules nothing more for the schedule, silently.
 */
import { getNextMillis } from 'bullmq'
import { describe, expect, it } from 'vitest'
import { clockChangeProblem } from '../../../src/core/rebalance/clockChangeProblem.js'

const FROM = Date.parse('2026-01-01T00:00:00Z')

describe('clockChangeProblem', () => {
  it("refuses a cron BullMQ cannot step through Lord Howe's half-hour change, naming timeZone and the day", () => {
    // What BullMQ itself answers just before the April 2026 change: no next run, ever.
    expect(getNextMillis(Date.parse('2026-04-03T15:00:00Z'), { pattern: '0 2 * * *', tz: 'Australia/Lord_Howe' })).toBeUndefined()
    expect(clockChangeProblem('0 9 * * *', 'Australia/Lord_Howe', FROM)).toEqual({
      field: 'timeZone',
      rule: expect.stringMatching(/^the scheduler cannot run "0 9 \* \* \*" through Australia\/Lord_Howe's clock change on 2026-04-0\d \(Invalid expression, loop limit exceeded\): it would stop firing for good; choose another time zone$/),
    })
    expect(clockChangeProblem('0 * * * *', 'Australia/Lord_Howe', FROM)?.field).toBe('timeZone')
  })

  it("refuses a cron whose next run BullMQ would compute in the past at Chatham's 45-minute change: it would fire at once, over and over", () => {
    // What BullMQ itself answers from the 13:00 slot before the April 2026 change: 12:15, already
    // past, so it queues the next job at once, and from that one the same again, for 15 minutes.
    const slot = Date.parse('2026-04-04T13:00:00Z')
    expect(getNextMillis(slot, { pattern: '*/15 * * * *', tz: 'Pacific/Chatham' })).toBeLessThan(slot)
    expect(clockChangeProblem('*/15 * * * *', 'Pacific/Chatham', FROM)).toEqual({
      field: 'timeZone',
      rule: 'the scheduler cannot run "*/15 * * * *" through Pacific/Chatham\'s clock change on 2026-04-04 (after 2026-04-04T13:00:00.000Z its next run comes out as 2026-04-04T12:15:00.000Z, in the past): it would fire again at once, over and over; choose another time zone',
    })
    expect(clockChangeProblem('*/5 * * * *', 'Pacific/Chatham', FROM)?.field).toBe('timeZone')
  })

  it("refuses a cron whose slots step past Chatham's change but whose next run BullMQ computes in the past from a moment between them", () => {
    // An hourly cron's slots (12:15, 13:15, 14:15) never fall in 13:00-13:15, but BullMQ computes a
    // next run from the moment a scheduler is written (a schedule created, edited, resumed or
    // restored) and from a run that starts late (a worker down at the 12:15 slot): from there it
    // answers 12:15, already past, and the schedule fires again at once, over and over.
    for (const [cron, at] of [['0 * * * *', '2026-04-04T13:05:00Z'], ['30 * * * *', '2026-04-04T13:00:00Z'], ['*/20 * * * *', '2027-04-03T13:10:00Z']] as const) {
      expect(getNextMillis(Date.parse(at), { pattern: cron, tz: 'Pacific/Chatham' })).toBeLessThan(Date.parse(at))
      expect(clockChangeProblem(cron, 'Pacific/Chatham', FROM)).toEqual({ field: 'timeZone', rule: expect.stringMatching(/in the past\): it would fire again at once, over and over; choose another time zone$/) })
    }
    // Crons that fire at most once a day there are still accepted.
    for (const cron of ['0 9 * * *', '30 2 * * 0']) expect(clockChangeProblem(cron, 'Pacific/Chatham', FROM)).toBeUndefined()
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
})
