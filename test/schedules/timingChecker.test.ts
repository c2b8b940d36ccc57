import { afterEach, expect, it } from 'vitest'
import { ValidationError } from '../../src/core/errors/ValidationError.js'
import { type ScheduleTiming, scheduleTimingProblem } from '../../src/core/rebalance/scheduleTimingProblem.js'
import { type TimingChecker, startTimingChecker } from '../../src/runtime/schedules/startTimingChecker.js'

/**
 * The API checks a cron's timing (`scheduleTimingProblem`: a year of slots and the zone's clock
 * changes, 0.1–1 s of CPU the first time) on a thread of its own, so its other requests are
 * answered meanwhile.
 */
const from = Date.parse('2026-12-01T00:00:00Z')
const timings: ScheduleTiming[] = [
  { cron: '0 9 * * 1-5', timeZone: 'Europe/London', minIntervalSeconds: 60, fromMs: from },
  { cron: '* * * * * *', timeZone: 'UTC', minIntervalSeconds: 60, fromMs: from },
  { cron: '*/30 * * * *', timeZone: 'America/New_York', minIntervalSeconds: 3600, fromMs: from },
  { cron: '0 9 * * *', timeZone: 'Australia/Lord_Howe', fromMs: from },
  { cron: '30 2 * * *', timeZone: 'Europe/Paris', fromMs: from },
]

let checker: TimingChecker | undefined
afterEach(async () => {
  await checker?.close()
  checker = undefined
})

it('answers what scheduleTimingProblem answers on this thread, for valid crons and for each kind of problem', async () => {
  checker = startTimingChecker()
  const expected = timings.map((timing) => scheduleTimingProblem(timing))
  // The cases cover an accepted cron and refusals for frequency and for clock changes.
  expect(expected[0]).toBeUndefined()
  expect(expected.filter((problem) => problem !== undefined).map((problem) => problem!.field)).toEqual(expect.arrayContaining(['cron', 'timeZone']))
  expect(await Promise.all(timings.map((timing) => checker!.problem(timing)))).toEqual(expected)
})

it("leaves the caller's event loop free while a check is stepped", async () => {
  checker = startTimingChecker()
  let turns = 0
  let stop = false
  const spin = (): void => {
    turns++
    if (!stop) setImmediate(spin)
  }
  setImmediate(spin)
  // A cron and zone never asked in this file: stepped in full, on the thread.
  const answer = await checker.problem({ cron: '15 3 * * 2,4', timeZone: 'Asia/Tehran', minIntervalSeconds: 60, fromMs: from })
  stop = true
  expect(answer).toBeUndefined()
  // On this thread the check would have run from call to answer without a single turn of the loop.
  expect(turns).toBeGreaterThan(1)
})

it('refuses a check not answered in time naming cron, and the checks behind it are answered by a new thread', async () => {
  checker = startTimingChecker()
  const slow = checker.problem(timings[3]!, 1)
  const behind = checker.problem(timings[1]!)
  const refused = await slow.catch((error: unknown) => error)
  expect(refused).toBeInstanceOf(ValidationError)
  expect(refused).toMatchObject({ field: 'cron', rule: expect.stringMatching(/could not be checked within 0.001 s.*use a simpler expression/) })
  expect(await behind).toEqual(scheduleTimingProblem(timings[1]!))
  // And the checker goes on answering afterwards.
  expect(await checker.problem(timings[0]!)).toBeUndefined()
})

it('rejects the checks still waiting when closed, and every check after', async () => {
  checker = startTimingChecker()
  const waiting = checker.problem(timings[4]!).catch((error: unknown) => error)
  await checker.close()
  expect(await waiting).toMatchObject({ message: 'schedule timing checker closed' })
  await expect(checker.problem(timings[0]!)).rejects.toThrow('schedule timing checker closed')
})

it('counts a check\'s time limit from when the thread takes it, not while it waits behind others (a burst of new crons)', async () => {
  checker = startTimingChecker()
  // Five crons and zones never asked in this file: each stepped in full, 0.1-1 s, the first also starting the thread.
  const burst = ['Europe/Berlin', 'America/Denver', 'Asia/Gaza', 'Pacific/Chatham', 'America/Havana']
    .map((timeZone, i) => checker!.problem({ cron: `${11 + i} 2 * * *`, timeZone, minIntervalSeconds: 60, fromMs: from }))
  const startedAt = performance.now()
  // A check that takes milliseconds on the thread, with half a second to do it, queued behind them.
  const quick = { cron: '0 * * * *', timeZone: 'UTC', minIntervalSeconds: 60, fromMs: from }
  expect(await checker.problem(quick, 500)).toEqual(scheduleTimingProblem(quick))
  // It waited longer than its limit, and was not refused for it.
  expect(performance.now() - startedAt).toBeGreaterThan(500)
  expect(await Promise.all(burst)).toHaveLength(5)
})
