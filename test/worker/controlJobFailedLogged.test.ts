/**
 * A control job that fails whole (session maintenance, a reconciliation sweep, a schedule's run) is
 * logged: BullMQ marks it failed and its scheduler runs it again, and unlogged, maintenance failing
 * run after run went unseen until sessions expired. Failures go through the throttled log, so an
 * outage failing every run logs once and counts the repeats.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { RunningWorker } from '../../src/worker.js'
import { capturedLog } from '../support/capturedLog.js'
import { createHarness, eventually, type Harness } from './support/harness.js'

let h: Harness
let worker: RunningWorker
const { log, entries } = capturedLog('error')
beforeAll(async () => {
  h = await createHarness()
  worker = await h.startWorker({ log, streams: false, maintenanceIntervalMs: 3_600_000 })
})
afterAll(async () => { await h?.close() })

it('logs a control job that failed, naming the job and its wallet', async () => {
  // No processor knows it: the run throws, as a maintenance run whose Postgres statement fails does.
  await worker.controlQueue.add('notAJob' as never, { walletId: '00000000-0000-4000-8000-000000000001' } as never, { attempts: 1 })
  const logged = await eventually(async () => entries().find((e) => e.msg === 'control job failed'))
  expect(logged).toMatchObject({ level: 50, job: 'notAJob', walletId: '00000000-0000-4000-8000-000000000001', err: expect.objectContaining({ message: 'unknown control job notAJob' }) })
})
