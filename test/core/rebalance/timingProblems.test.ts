import { describe, expect, it } from 'vitest'
import { parseScheduleSpec } from '../../../src/core/rebalance/parseScheduleSpec.js'
import { timingProblems } from '../../../src/core/rebalance/timingProblems.js'

const zone = 'Europe/Paris'

describe('timingProblems: cron', () => {
  it.each([
    ['0 9 * * 1', 'weekly, 5 fields'],
    ['0 0 9 * * 1', '6 fields, seconds first'],
    ['*/15 * * * *', 'steps'],
    ['0 9 1-7 * MON', 'ranges and names'],
    ['30 8 * * 1-5', 'weekdays'],
    ['0 0 29 2 *', 'a leap day: rare but reachable'],
    ['  0 9 * * 1  ', 'surrounding whitespace'],
  ])('accepts %j (%s)', (cron) => {
    expect(timingProblems(cron, zone)).toEqual([])
  })

  it.each([
    ['0 9 * *', 'must have 5 fields'],
    ['0 0 9 * * 1 2026', 'must have 5 fields'],
    ['@daily', 'must have 5 fields'],
    ['H 9 * * *', 'must not use hashed values'],
    ['0 H(0-3) * * *', 'must not use hashed values'],
    // Wherever it stands: cron-parser draws it at random on every parse (BullMQ passes no seed).
    ['0 9 * * 1-H', 'must not use hashed values'],
    ['*/H 9 * * *', 'must not use hashed values'],
    ['0-H/5 * * * *', 'must not use hashed values'],
    ['0 9 1-H * *', 'must not use hashed values'],
    ['0 9 * * H#2', 'must not use hashed values'],
    ['0 9 * * MON-h', 'must not use hashed values'],
    ['61 * * * *', 'is not a valid cron expression'],
    ['0 25 * * *', 'is not a valid cron expression'],
    ['0 9 30 2 *', 'is not a valid cron expression'],
    ['*/0 * * * *', 'is not a valid cron expression'],
    ['0 9 * * 1,,2', 'is not a valid cron expression'],
    ['a b c d e', 'is not a valid cron expression'],
  ])('rejects %j: %s', (cron, rule) => {
    const problems = timingProblems(cron, zone)
    expect(problems).toHaveLength(1)
    expect(problems[0]?.field).toBe('cron')
    expect(problems[0]?.rule).toContain(rule)
  })

  it('does not mistake THU for a hashed value', () => {
    expect(timingProblems('0 9 * * THU', zone)).toEqual([])
    expect(timingProblems('0 9 * * tue-thu', zone)).toEqual([])
  })

  it('rejects a missing, empty or oversized cron', () => {
    for (const cron of [undefined, '', '   ', 42, '0 '.repeat(150)]) {
      expect(timingProblems(cron, zone).map((p) => p.field)).toEqual(['cron'])
    }
  })
})

describe('timingProblems: timeZone', () => {
  it.each(['UTC', 'Europe/Paris', 'America/New_York', 'Asia/Kolkata', 'Etc/GMT+5', 'utc'])('accepts %j', (timeZone) => {
    expect(timingProblems('0 9 * * *', timeZone)).toEqual([])
  })

  it.each(['Mars/Olympus', 'UTC+5', '+05:00', 'Europe/Pariss', ''])('rejects %j', (timeZone) => {
    expect(timingProblems('0 9 * * *', timeZone).map((p) => p.field)).toEqual(['timeZone'])
  })

  it('reports a bad zone and a bad cron together', () => {
    expect(timingProblems('0 25 * * *', 'Nowhere/Land').map((p) => p.field).sort()).toEqual(['cron', 'timeZone'])
  })

  it('is what parseScheduleSpec reports for cron and timeZone', () => {
    expect(() =>
      parseScheduleSpec({
        targets: { ETH: '1' },
        cron: '0 9 * *',
        timeZone: 'Nowhere/Land',
        toleranceBand: '0.02',
        minTradeNotional: '10',
        limitOffsetBps: 0,
      }),
    ).toThrow(/cron: must have 5 fields.*timeZone: must be an IANA time zone/s)
  })
})
