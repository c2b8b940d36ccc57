/**
 * The control queue's housekeeping jobs do not pile up in Redis. BullMQ keeps a finished job
 * forever unless told otherwise, and the worker's own job schedulers fire without end (session
 * maintenance every 10 s, reconciliation every 30 s: over 11,000 jobs a day), so Redis would grow
 * until it refused writes, and with it every submission. Each finished one must be set to go.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { controlJobs } from '../../src/queue/names.js'
import { createHarness, eventually, type Harness } from './support/harness.js'

let h: Harness

beforeAll(async () => { h = await createHarness() })
afterAll(async () => { await h?.close() })

it('every finished reconciliation and session maintenance job is set to be removed, and so is one a refused session asks for', async () => {
  const worker = await h.startWorker({ reconcileIntervalMs: 100, maintenanceIntervalMs: 100 })
  // A maintenance run asked for at once, as when the operator refuses a session.
  await worker.deps.onSessionInvalid?.('00000000-0000-4000-8000-000000000000', '00000000-0000-4000-8000-000000000001', 'test')
  const finished = await eventually(async () => {
    const jobs = await worker.controlQueue.getJobs(['completed', 'failed'], 0, -1)
    const names = new Set(jobs.map((job) => job.name))
    const asked = jobs.some((job) => job.id?.startsWith('maintain-'))
    return names.has(controlJobs.reconcile) && names.has(controlJobs.maintainSessions) && asked && jobs
  })
  for (const job of finished) {
    expect(job.opts.removeOnComplete, `${job.name} ${job.id}`).toMatchObject({ age: expect.any(Number) })
    expect(job.opts.removeOnFail, `${job.name} ${job.id}`).toMatchObject({ age: expect.any(Number) })
  }
})
