/**
 * Redis loses the control queue mid-run (flushed, restarted without persistence): the job
 * schedulers live there only, so the worker's own (the periodic reconciliation, session
 * maintenance, which rotates sessions before they expire) and every active rebalancing
 * schedule's would stop for good. The worker notices within its sweep interval and puts them back
 * from Postgres. Only this file's control queue is removed (other files share the server).
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createSchedule } from '../../src/runtime/schedules/createSchedule.js'
import type { RunningWorker } from '../../src/worker.js'
import { capturedLog } from '../support/capturedLog.js'
import { YEARLY, contextOf, specOf } from '../schedules/support.js'
import { createHarness, eventually, type Harness } from './support/harness.js'

let h: Harness
let worker: RunningWorker
const { log, lines, entries } = capturedLog()

beforeAll(async () => {
  h = await createHarness()
  worker = await h.startWorker({ sweepIntervalMs: 200, log })
})
afterAll(async () => { await h?.close() })

it('puts back the job schedulers Redis lost: its own and every active schedule\'s', async () => {
  const { wallet } = await h.wallet(undefined, { USD: '100000' })
  const schedule = await createSchedule(contextOf(worker), { walletId: wallet.id, ...specOf({ ETH: '0.5', USD: '0.5' }, { cron: YEARLY, timeZone: 'Europe/Paris' }) })
  const ids = ['reconcile', 'maintainSessions', schedule.id]
  const schedulers = async () => (await worker.controlQueue.getJobSchedulers(0, -1)).map((s) => s.key).sort()
  expect(await schedulers()).toEqual([...ids].sort())
  // Nothing missing: the check (every 200 ms here) restores and says nothing.
  await new Promise((resolve) => setTimeout(resolve, 1_000))
  expect(lines).toEqual([])

  // (No count of what is left: the sweep may already be writing them back.)
  await worker.controlQueue.obliterate({ force: true })

  // The sweep logs once the whole repair is done (the schedulers are written a moment before).
  const restored = 'job schedulers were missing from Redis (flushed or restarted?); restored from Postgres'
  await eventually(async () => entries().some((entry) => entry.msg === restored), 10_000)
  expect(await schedulers()).toEqual([...ids].sort())
  expect(await worker.controlQueue.getJobScheduler(schedule.id)).toMatchObject({ pattern: YEARLY, tz: 'Europe/Paris' })
})
