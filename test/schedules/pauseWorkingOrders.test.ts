/**
 * Pausing a schedule whose leg rests at the operator: a user who paused it believes nothing trades
 * for it any more, as after a delete. Before, the leg was left to rest, and could fill while paused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runSchedule } from '../../jobs/runSchedule.js'
import { createSchedule } from '../../src/runtime/schedules/createSchedule.js'
import { deleteSchedule } from '../../src/runtime/schedules/deleteSchedule.js'
import { pauseSchedule } from '../../src/runtime/schedules/pauseSchedule.js'
import { resumeSchedule } from '../../src/runtime/schedules/resumeSchedule.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, eventually, type Harness } from '../worker/support/harness.js'
import { rows } from '../worker/support/rows.js'
import { routeSendsThroughProxy } from '../worker/support/submitProxy.js'
import { contextOf, delayThrows, runsOf, specOf, YEARLY } from './support.js'

let h: Harness
let worker: RunningWorker
let proxy: { close: () => Promise<void> } | undefined

beforeAll(async () => {
  h = await createHarness()
  worker = await h.startWorker()
  // Each leg reaches the operator below the mark: it rests there (a buy under the mark).
  proxy = await routeSendsThroughProxy(worker, h.sandbox.url, async (send, upstream) => {
    if (send.family === 'Order') h.sandbox.setMark('ETH-USD', '2100')
    return upstream()
  })
})
afterAll(async () => {
  h?.sandbox.setMark('ETH-USD', '2000')
  await h?.close()
  await proxy?.close()
})

const control = delayThrows

/** A schedule whose first run's leg rests at the operator. */
async function legResting() {
  const { wallet } = await h.wallet(undefined, { USD: '100000' })
  h.sandbox.setMark('ETH-USD', '2000') // the leg's price is set from it, above it by the offset
  const schedule = await createSchedule(contextOf(worker), { walletId: wallet.id, ...specOf({ ETH: '0.5', USD: '0.5' }, { cron: YEARLY }) })
  const slot = Date.now()
  expect(await runSchedule(worker.deps, { scheduleId: schedule.id, jobSlot: slot, jobId: 'first', queue: worker.controlQueue, control })).toMatchObject({ outcome: 'completed', legs: 1 })
  const orderId = (await runsOf(worker, schedule.id))[0]!.legs[0]!.orderId
  await eventually(async () => (await rows(h.db).order(orderId)).state === 'open')
  return { schedule, orderId }
}

describe('pausing a schedule whose leg rests at the operator', () => {
  it('cancels the leg by default, as a delete does, and answers what it cancelled', async () => {
    const { schedule, orderId } = await legResting()
    const paused = await pauseSchedule(contextOf(worker), schedule.id)
    expect(paused).toMatchObject({ schedule: { status: 'paused' }, cancelledOrderIds: [orderId] })
    // The reason is the worker's once the cancel's answer is stored (the stream's event, which may come first, says `user`).
    await eventually(async () => { const order = await rows(h.db).order(orderId); return order.state === 'cancelled' && order.cancelReason === 'schedulePaused' })
    // Pausing again (a retry) changes nothing and cancels nothing more.
    expect(await pauseSchedule(contextOf(worker), schedule.id)).toMatchObject({ schedule: { status: 'paused', version: paused.schedule.version }, cancelledOrderIds: [] })
    await resumeSchedule(contextOf(worker), schedule.id)
    await deleteSchedule(contextOf(worker), schedule.id)
  })

  it('leaves it resting with cancelOpenOrders: false', async () => {
    const { schedule, orderId } = await legResting()
    expect(await pauseSchedule(contextOf(worker), schedule.id, { cancelOpenOrders: false })).toMatchObject({ schedule: { status: 'paused' }, cancelledOrderIds: [] })
    expect((await rows(h.db).outboxOf(orderId)).map((row) => row.kind)).toEqual(['Order'])
    expect((await rows(h.db).order(orderId)).state).toBe('open')
    await deleteSchedule(contextOf(worker), schedule.id)
  })
})
