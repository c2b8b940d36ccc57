import { expect, it } from 'vitest'
import { cronIntervalProblem } from '../../../src/core/rebalance/cronIntervalProblem.js'

it('refuses a cron whose runs come closer than the minimum, naming the shortest gap', () => {
  const gap = (cron: string, min = 60, zone = 'Europe/Paris') => cronIntervalProblem(cron, zone, min)?.rule
  expect(gap('* * * * * *')).toBe('must fire at most once every 60 s, but two of its runs are 1 s apart')
  expect(gap('*/2 * * * * *')).toMatch(/2 s apart/)
  // Two seconds of one minute: 30 s apart, though a minute passes between most pairs.
  expect(gap('0,30 * * * * *')).toMatch(/30 s apart/)
  expect(gap('*/5 * * * *', 600)).toMatch(/every 600 s, but two of its runs are 300 s apart/)
  // Gaps that only come at a month's or the year's turn: 23:00 on the 31st, 00:00 on the 1st.
  expect(gap('0 0,23 1,31 * *', 7200)).toMatch(/3600 s apart/)
  expect(gap('0 0,23 1,31 * *', 7200, 'UTC')).toMatch(/3600 s apart/)
  expect(gap('0 0,23 1,31 1,12 *', 7200)).toMatch(/3600 s apart/)
  expect(gap('0 0,23 1,31 * *', 3600)).toBeUndefined()
})

it('answers a cron it cannot read as a problem with the cron, not an exception', () => {
  expect(cronIntervalProblem('0 9 * * 1,,2', 'UTC', 60)).toMatchObject({ field: 'cron', rule: expect.stringContaining('is not a valid cron expression') })
})

it('accepts a cron whose runs are at least the minimum apart, six fields included', () => {
  for (const cron of ['30 * * * * *', '* * * * *', '0 0,1 9 * * *', '0 9 * * 1', '0 0 1 1 *', '0 0 29 2 *']) {
    expect(cronIntervalProblem(cron, 'Europe/Paris', 60), cron).toBeUndefined()
  }
  expect(cronIntervalProblem('*/2 * * * * *', 'UTC', 2)).toBeUndefined()
  // The fall-back hour repeats 02:30 an hour apart: no shorter gap than the cron's own.
  expect(cronIntervalProblem('30 2 * * *', 'America/New_York', 3600)).toBeUndefined()
})
