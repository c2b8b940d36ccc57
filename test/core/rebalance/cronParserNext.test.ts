import { CronExpressionParser } from 'cron-parser'
import { expect, it } from 'vitest'
import { cronParserNext } from '../../../src/core/rebalance/cronParserNext.js'

/** cron-parser's answer from an expression parsed afresh, or the message it throws. */
function fresh(cron: string, tz: string, after: number): number | string {
  try {
    return CronExpressionParser.parse(cron, { currentDate: new Date(after), tz }).next().getTime()
  } catch (error) {
    return (error as Error).message
  }
}

function kept(cron: string, tz: string, after: number): number | string {
  try {
    return cronParserNext(cron, tz, after)
  } catch (error) {
    return (error as Error).message
  }
}

it('answers as an expression parsed afresh does, whatever the kept one was asked before', () => {
  // Interleaved, forwards and backwards, across clock changes (Lord Howe's half hour, New York's
  // hour, Santiago's at midnight) and from moments with milliseconds.
  const cases: [string, string][] = [
    ['0 2 * * *', 'Australia/Lord_Howe'], ['*/15 * * * *', 'Australia/Lord_Howe'], ['30 2 * * *', 'America/New_York'],
    ['0 9 * * 1-5', 'America/New_York'], ['*/15 * * * *', 'UTC'], ['0 0 * * *', 'America/Santiago'],
  ]
  const moments: number[] = []
  for (const base of ['2026-10-03T12:00:00Z', '2026-03-08T04:00:00Z', '2026-11-01T04:30:00Z', '2026-09-05T22:00:00Z']) {
    for (let minutes = 0; minutes < 6 * 60; minutes += 71) moments.push(Date.parse(base) + minutes * 60_000 + (minutes % 3) * 250)
  }
  for (const at of [...moments, ...moments.reverse()]) {
    for (const [cron, tz] of cases) expect(kept(cron, tz, at), `${cron} in ${tz} after ${new Date(at).toISOString()}`).toBe(fresh(cron, tz, at))
  }
  // Where cron-parser throws (loop limit exceeded, before Lord Howe's April change), and after that.
  const throwing = Date.parse('2026-04-04T10:00:00Z')
  expect(kept('0 2 * * *', 'Australia/Lord_Howe', throwing)).toMatch(/loop limit exceeded/)
  expect(kept('0 2 * * *', 'Australia/Lord_Howe', throwing)).toBe(fresh('0 2 * * *', 'Australia/Lord_Howe', throwing))
  for (const at of moments) expect(kept('0 2 * * *', 'Australia/Lord_Howe', at)).toBe(fresh('0 2 * * *', 'Australia/Lord_Howe', at))
})

it('throws as cron-parser does on a bad cron or zone, and answers again once more are asked than it keeps', () => {
  const at = Date.parse('2026-01-01T00:00:00Z')
  expect(() => cronParserNext('0 9 * * 1,,2', 'UTC', at)).toThrow(fresh('0 9 * * 1,,2', 'UTC', at) as string)
  expect(() => cronParserNext('0 9 * * 1', 'Nope/Zone', at)).toThrow(fresh('0 9 * * 1', 'Nope/Zone', at) as string)
  const first = cronParserNext('0 9 * * 1', 'Europe/Paris', at)
  for (let minute = 0; minute < 60; minute++) for (let hour = 0; hour < 6; hour++) cronParserNext(`${minute} ${hour} * * *`, 'Europe/Paris', at)
  expect(cronParserNext('0 9 * * 1', 'Europe/Paris', at)).toBe(first)
  expect(first).toBe(fresh('0 9 * * 1', 'Europe/Paris', at))
})
