/**
 * Australia/Lord_Howe moves its clock by half an hour (UTC+11 to UTC+10:30 at 15:00Z on 2027-04-03,
 * 02:00 becoming 01:30). A `*\/15 * * * *` schedule should run every quarter hour through it, the
 * repeated 01:30 and 01:45 included, as an hourly one runs both 01:00s in New York. BullMQ's default
 * strategy (cron-parser) goes from 01:45 UTC+11 to 02:00 UTC+10:30, 45 minutes without a run. Here
 * a real BullMQ queue and worker on Redis, with the control queue's settings, step the scheduler:
 * each job, promoted, has the worker compute the next from its slot.
 */
import { randomUUID } from 'node:crypto'
import { type Job, Queue, Worker } from 'bullmq'
import { afterAll, expect, it } from 'vitest'
import { deleteQueueKeys } from '../../src/queue/deleteQueueKeys.js'
import { controlQueueSettings, scheduleRepeatStrategy } from '../../src/queue/scheduleRepeatStrategy.js'
import { REDIS_URL, eventually } from '../worker/support/harness.js'

const prefix = `deputy-test-${randomUUID().slice(0, 8)}`
const connection = { url: REDIS_URL }
const queue = new Queue('control', { connection, prefix, settings: controlQueueSettings })
const seen: number[] = []
const worker = new Worker('control', async (job: Job) => { seen.push(job.opts.prevMillis!) }, { connection, prefix, settings: controlQueueSettings })

afterAll(async () => {
  await worker.close()
  await queue.close()
  await deleteQueueKeys(REDIS_URL, prefix)
})

const iso = (ms: number) => new Date(ms).toISOString()

it('a */15 schedule in Australia/Lord_Howe is fired every quarter hour through the half-hour fall-back', async () => {
  await queue.upsertJobScheduler('lord-howe', { pattern: '*/15 * * * *', tz: 'Australia/Lord_Howe', startDate: Date.parse('2027-04-03T14:20:00Z') }, { name: 'scheduleRun', data: { scheduleId: 'lord-howe' } })
  const slots: string[] = []
  for (let i = 0; i < 6; i++) {
    const [job] = await eventually(async () => { const delayed = await queue.getDelayed(); return delayed.length === 1 && delayed })
    slots.push(iso(job!.opts.prevMillis!))
    await job!.promote()
    await eventually(async () => seen.length === i + 1)
  }
  expect(slots).toEqual(['14:30', '14:45', '15:00', '15:15', '15:30', '15:45'].map((hhmm) => `2027-04-03T${hhmm}:00.000Z`))
})

it('the worker\'s control queue computes its schedulers\' runs with that strategy', async () => {
  const { createHarness } = await import('../worker/support/harness.js')
  const h = await createHarness()
  try {
    const running = await h.startWorker()
    expect(running.controlQueue.opts.settings?.repeatStrategy).toBe(scheduleRepeatStrategy)
  } finally {
    await h.close()
  }
})
