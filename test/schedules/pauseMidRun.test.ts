/**
 * A run left `running` while it waits for its sells to settle (the buys need their proceeds), and
 * the user pauses the schedule: the run must trade no more, whether the schedule is still paused
 * when its job comes back or was resumed meanwhile.
 */
import { DelayedError } from 'bullmq'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runSchedule } from '../../jobs/runSchedule.js'
import { createSchedule } from '../../src/runtime/schedules/createSchedule.js'
import { deleteSchedule } from '../../src/runtime/schedules/deleteSchedule.js'
import { pauseSchedule } from '../../src/runtime/schedules/pauseSchedule.js'
import { resumeSchedule } from '../../src/runtime/schedules/resumeSchedule.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, type Harness } from '../worker/support/harness.js'
import { allSettled, contextOf, delayThrows, intentsOfSlot, runsOf, specOf, YEARLY } from './support.js'

let h: Harness
let worker: RunningWorker

beforeAll(async () => {
  h = await createHarness()
  worker = await h.startWorker()
})
afterAll(async () => { await h?.close() })

const control = delayThrows
const runNow = (scheduleId: string, jobSlot: number, jobId: string) =>
  runSchedule(worker.deps, { scheduleId, jobSlot, jobId, queue: worker.controlQueue, control })

describe('a pause that lands while a run waits for its sells', () => {
  it('the run writes no buys: paused, paused and resumed before its job came back, or deleted', async () => {
    const ctx = contextOf(worker)
    for (const change of ['pause', 'pauseThenResume', 'delete'] as const) {
      // All in ETH, half to go to BTC: the BTC buy needs the ETH sale's proceeds, so the sells go first.
      const { wallet } = await h.wallet(undefined, { USD: '1', ETH: '50' })
      const schedule = await createSchedule(ctx, { walletId: wallet.id, ...specOf({ ETH: '0.5', BTC: '0.5' }, { cron: YEARLY }) })
      const slot = Date.now()
      await expect(runNow(schedule.id, slot, 'sells')).rejects.toBeInstanceOf(DelayedError)
      expect((await runsOf(worker, schedule.id))[0]).toMatchObject({ status: 'running', stage: 'selling', legs: [{ side: 'sell', market: 'ETH-USD' }] })
      await allSettled(h.db, wallet.id)

      if (change === 'delete') await deleteSchedule(ctx, schedule.id)
      else await pauseSchedule(ctx, schedule.id)
      // Resumed before the run's job came back (it polls every 250 ms; a worker busy or down, longer).
      if (change === 'pauseThenResume') await resumeSchedule(ctx, schedule.id)

      const reason = change === 'delete' ? 'deleted' : 'paused'
      expect(await runNow(schedule.id, slot, 'sells'), change).toMatchObject({ outcome: 'stopped', detail: reason })
      const [run] = await runsOf(worker, schedule.id)
      expect(run, change).toMatchObject({ status: 'completed', stage: null, legs: [{ side: 'sell', market: 'ETH-USD' }] })
      expect(run!.notes.join(' '), change).toContain(`${reason} while the run was in flight`)
      expect((await intentsOfSlot(worker, schedule.id, new Date(slot))).map((intent) => intent.market), change).toEqual(['ETH-USD'])
      if (change === 'pauseThenResume') await pauseSchedule(ctx, schedule.id)
    }
  })
})
