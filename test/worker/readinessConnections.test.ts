/**
 * The worker's /readyz asks every Redis connection it works on, not only the submit queue's: with
 * the control queue's connection gone (the schedules, the maintenance and reconciliation runs go
 * through it) the worker answered ready, until the submit queue's own failed too. A check that keeps
 * failing is logged once, and once again when it passes; a supervisor probing every few seconds
 * logged a warning per probe.
 */
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createWorkerHealth } from '../../src/runtime/health/workerHealth.js'
import type { RunningWorker } from '../../src/worker.js'
import { capturedLog } from '../support/capturedLog.js'
import { createHarness, type Harness } from './support/harness.js'

let h: Harness
let worker: RunningWorker
beforeAll(async () => {
  h = await createHarness()
  worker = await h.startWorker({ streams: false })
})
afterAll(async () => {
  await worker?.close(2_000)
  await h?.close()
})

it('is not ready while the control queue\'s connection is down, naming it, and logs the failure once and the recovery once', async () => {
  const { log, entries } = capturedLog('info')
  const health = createWorkerHealth(log)
  health.started({ db: h.db, redis: worker.redisProbes })
  expect((await health.ready()).statusCode).toBe(200)

  // The connection the worker gave the control queue (BullMQ works on it as given).
  const control = worker.controlQueue.opts.connection as Redis
  control.disconnect()
  for (let probe = 0; probe < 3; probe++) {
    expect(await health.ready()).toMatchObject({
      statusCode: 503, body: { status: 'unavailable', checks: { postgres: { ok: true }, redis: { ok: false, detail: expect.stringMatching(/^control queue: failed/) as unknown } } },
    })
  }
  await control.connect()
  expect((await health.ready()).statusCode).toBe(200)
  expect((await health.ready()).statusCode).toBe(200)
  expect(entries().map((entry) => `${entry.msg} ${entry.dependency}`)).toEqual(['readiness check failed redis (control queue)', 'readiness check passes again redis (control queue)'])
})

it('asks each of its connections: both queues\', both workers\' own and their blocking ones', () => {
  expect(worker.redisProbes.map((probe) => probe.name).sort()).toEqual(['control queue', 'control worker', 'control worker (blocking)', 'submit queue', 'submit worker', 'submit worker (blocking)'])
})
