/**
 * `deputy api` in a process of its own (`openApiDeps`) writes a schedule's BullMQ job scheduler when
 * the schedule is created, and BullMQ computes its first slot there, with the API's control queue's
 * repeat strategy (`controlQueueSettings`). Without it BullMQ's default (cron-parser) answers other
 * slots around Australia/Lord_Howe's half-hour fall-back (02:00 UTC+11 becomes 01:30 UTC+10:30 at
 * 15:00Z on 2027-04-03): for `*\/15` from 01:50 it skips the repeated 01:30 and 01:45, and for an
 * hourly cron from 01:10 it answers 01:00, already past, which BullMQ fires at once. Here the schedule
 * is created through the API process's routes at such a moment, its job fires, and the worker runs it
 * for that slot and schedules the next.
 *
 * Time is driven as the schedule tests drive it: the API's clock (what the route stamps `activeSince`
 * with, and what BullMQ's `Date.now()` reads while the scheduler is written) is moved to the moment;
 * the slot's job is then promoted rather than waited for.
 */
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, expect, it, vi } from 'vitest'
import type { ApiDeps } from '../../src/api/ApiDeps.js'
import { buildApi } from '../../src/api/buildApi.js'
import { openApiDeps } from '../../src/api/openApiDeps.js'
import { loadConfig } from '../../src/config.js'
import { listScheduleRuns } from '../../src/runtime/schedules/listScheduleRuns.js'
import { capturedLog } from '../support/capturedLog.js'
import { REDIS_URL } from '../worker/support/harness.js'
import { apiHarnessForFile, eventually } from './support/apiHarness.js'

const file = apiHarnessForFile()
let standalone: { app: FastifyInstance; deps: Awaited<ReturnType<typeof openApiDeps>> }

beforeAll(async () => {
  const { h } = file.api
  const config = loadConfig({
    DATABASE_URL: h.databaseUrl, REDIS_URL, QUEUE_PREFIX: h.queuePrefix, OPERATOR_URL: h.sandbox.url, DEPUTY_MASTER_KEY: h.masterKey, LOG_LEVEL: 'silent',
  })
  const deps = await openApiDeps(config, capturedLog().log)
  // The API process's clock read afresh, so that moving Date.now moves it (as `now` is passed to createSchedule in the schedule tests).
  const driven: ApiDeps = { ...deps, runtime: { ...deps.runtime, now: () => Date.now() } }
  standalone = { deps, app: await buildApi(driven) }
}, 30_000)
afterAll(async () => {
  await standalone?.app.close()
  await standalone?.deps.close()
})

const realNow = Date.now
/** Runs `act` with this process's clock moved to `iso` (and running on from there), then puts it back. */
async function at<T>(iso: string, act: () => Promise<T>): Promise<T> {
  const shift = Date.parse(iso) - realNow()
  const clock = vi.spyOn(Date, 'now').mockImplementation(() => realNow() + shift)
  try {
    return await act()
  } finally {
    clock.mockRestore()
  }
}

const lordHowe = new Intl.DateTimeFormat('en-GB', { timeZone: 'Australia/Lord_Howe', hour: '2-digit', minute: '2-digit', timeZoneName: 'longOffset' })
/** A slot as Lord Howe's wall clock reads it (`01:30 GMT+10:30`). */
const wall = (ms: number) => lordHowe.format(ms)

it.each([
  { cron: '*/15 * * * *', createdAt: '2027-04-03T14:50:00Z', slot: '2027-04-03T15:00:00Z', wallTime: '01:30 GMT+10:30', next: '2027-04-03T15:15:00Z' },
  { cron: '0 * * * *', createdAt: '2027-04-03T14:10:00Z', slot: '2027-04-03T15:30:00Z', wallTime: '02:00 GMT+10:30', next: '2027-04-03T16:30:00Z' },
])('a $cron schedule created through the API process at $createdAt fires at $wallTime in Australia/Lord_Howe', async ({ cron, createdAt, slot, wallTime, next }) => {
  const { api, tenant } = file
  const created = await tenant.request('POST', '/v1/wallets', { generate: true })
  expect(created.statusCode, created.body).toBe(201)
  const wallet = created.json<{ id: string }>()
  const spec = { targets: { ETH: '0.5', USD: '0.5' }, cron, timeZone: 'Australia/Lord_Howe', toleranceBand: '0.02', minTradeNotional: '10', limitOffsetBps: 10 }
  const response = await at(createdAt, () => standalone.app.inject({ method: 'POST', url: `/v1/wallets/${wallet.id}/schedules`, headers: tenant.headers, payload: spec }))
  expect(response.statusCode, response.body).toBe(201)
  const schedule = response.json<{ id: string }>()

  // The API process's queue wrote the scheduler, its first job for the slot of that wall time.
  const queue = standalone.deps.controlQueue
  expect(wall(Date.parse(slot))).toBe(wallTime)
  const scheduler = await queue.getJobScheduler(schedule.id)
  expect(scheduler?.next && new Date(scheduler.next).toISOString()).toBe(new Date(slot).toISOString())
  const job = await queue.getJob(`repeat:${schedule.id}:${Date.parse(slot)}`)
  expect(job?.opts.prevMillis).toBe(Date.parse(slot))

  // It fires: the worker runs it for that slot (no session: awaiting delegation) and schedules the next.
  await job!.promote()
  const run = await eventually(async () => (await listScheduleRuns(api.h.db, { scheduleId: schedule.id })).find((r) => r.status !== 'running'))
  expect(await listScheduleRuns(api.h.db, { scheduleId: schedule.id })).toHaveLength(1)
  expect(run).toMatchObject({ slotAt: new Date(slot), status: 'awaiting_delegation' })
  await eventually(async () => (await queue.getJobScheduler(schedule.id))?.next === Date.parse(next))
})
