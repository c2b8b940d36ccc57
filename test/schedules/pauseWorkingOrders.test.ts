/**
 * Pausing a schedule whose leg rests at the operator: a user who paused it believes nothing trades
 * for it any more, as after a delete. Before, the leg was left to rest, and could fill while paused.
 * A pause or delete whose process died between its commit and its cancels left the leg resting for
 * good, unless the client sent it again; the worker's repair sweep now queues them.
 */
import { and, eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runSchedule } from '../../jobs/runSchedule.js'
import { createSchedule } from '../../src/runtime/schedules/createSchedule.js'
import { deleteSchedule } from '../../src/runtime/schedules/deleteSchedule.js'
import { pauseSchedule } from '../../src/runtime/schedules/pauseSchedule.js'
import { resumeSchedule } from '../../src/runtime/schedules/resumeSchedule.js'
import { STOP_CANCELS_GRACE_MS, finishStoppedSchedules } from '../../src/runtime/schedules/finishStoppedSchedules.js'
import { setScheduleStatus } from '../../src/runtime/schedules/setScheduleStatus.js'
import { cancelStoppedScheduleOrders } from '../../src/runtime/schedules/cancelStoppedScheduleOrders.js'
import { auditLog, schedules } from '../../src/store/schema/index.js'
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
  // No repair sweep in the background: the tests below call its step (`finishStoppedSchedules`) and
  // assert what it did, which a sweep of this worker's getting there first would change. The test of
  // the sweep itself starts a worker of its own.
  worker = await h.startWorker({ sweepIntervalMs: 600_000 })
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

describe('a pause or delete whose process died after its commit, before its cancels', () => {
  const stopped = async (scheduleId: string) => (await h.db.select().from(schedules).where(eq(schedules.id, scheduleId)))[0]!
  /** The change made that long ago, on Postgres's clock as the sweep reads it. */
  const owedFor = (scheduleId: string, ms: number) => h.db.update(schedules)
    .set({ cancelOrdersOwedSince: sql`now() - ${ms}::double precision * interval '1 millisecond'` }).where(eq(schedules.id, scheduleId))
  const pastGrace = STOP_CANCELS_GRACE_MS + 1_000

  it.each([
    { status: 'paused' as const, reason: 'schedulePaused', set: {} },
    { status: 'deleted' as const, reason: 'scheduleDeleted', set: { deletedAt: new Date() } },
  ])('is $status with its leg resting; the repair sweep queues the cancel ($reason) once the grace has passed, once', async ({ status, reason, set }) => {
    const { schedule, orderId } = await legResting()
    // What the pause or delete commits before it queues its cancels (and where its process died).
    await setScheduleStatus(contextOf(worker), schedule.id, { status, action: status, set, owesCancels: true })
    expect(await finishStoppedSchedules(h.db)).toEqual([])
    expect((await rows(h.db).outboxOf(orderId)).map((row) => row.kind)).toEqual(['Order'])
    await owedFor(schedule.id, pastGrace)
    const changed = (await stopped(schedule.id)).updatedAt
    expect(await finishStoppedSchedules(h.db)).toEqual([{ scheduleId: schedule.id, walletId: schedule.walletId, cancelled: [orderId] }])
    await eventually(async () => { const order = await rows(h.db).order(orderId); return order.state === 'cancelled' && order.cancelReason === reason })
    // Nothing owed any more, and the schedule's own last change stands.
    expect(await stopped(schedule.id)).toMatchObject({ cancelOrdersOwedSince: null, updatedAt: changed })
    const audited = await h.db.select().from(auditLog).where(and(eq(auditLog.walletId, schedule.walletId), eq(auditLog.action, 'schedule.stopCancelFinished')))
    expect(audited.map((row) => row.details)).toEqual([{ scheduleId: schedule.id, status, orderId }])
    expect(await finishStoppedSchedules(h.db)).toEqual([])
    if (status === 'paused') await deleteSchedule(contextOf(worker), schedule.id)
  })

  it('the worker\'s repair sweep queues them on its own once the change is past the grace', async () => {
    const { schedule, orderId } = await legResting()
    await setScheduleStatus(contextOf(worker), schedule.id, { status: 'paused', action: 'paused', owesCancels: true })
    await owedFor(schedule.id, pastGrace)
    const sweeping = await h.startWorker({ sweepIntervalMs: 200, streams: false })
    try {
      await eventually(async () => { const order = await rows(h.db).order(orderId); return order.state === 'cancelled' && order.cancelReason === 'schedulePaused' })
      await eventually(async () => (await stopped(schedule.id)).cancelOrdersOwedSince === null)
    } finally {
      await sweeping.close(5_000)
    }
    await deleteSchedule(contextOf(worker), schedule.id)
  })

  it('a resume committed before the sweep gets to the schedule drops its cancels: the resumed schedule\'s orders stay', async () => {
    const { schedule, orderId } = await legResting()
    const paused = await setScheduleStatus(contextOf(worker), schedule.id, { status: 'paused', action: 'paused', owesCancels: true })
    await owedFor(schedule.id, pastGrace)
    // The sweep read the schedule paused; the resume commits before its turn.
    await resumeSchedule(contextOf(worker), schedule.id)
    expect(await cancelStoppedScheduleOrders(h.db, paused)).toEqual([])
    expect(await stopped(schedule.id)).toMatchObject({ status: 'active', cancelOrdersOwedSince: null })
    expect((await rows(h.db).outboxOf(orderId)).map((row) => row.kind)).toEqual(['Order'])
    expect((await rows(h.db).order(orderId)).state).toBe('open')
    await deleteSchedule(contextOf(worker), schedule.id)
  })

  it('the sweep\'s audit of a cancel is written in the cancel\'s transaction: one failing queues no cancel', async () => {
    const { schedule, orderId } = await legResting()
    const paused = await setScheduleStatus(contextOf(worker), schedule.id, { status: 'paused', action: 'paused', owesCancels: true })
    await expect(cancelStoppedScheduleOrders(h.db, paused, async () => { throw new Error('audit refused') })).rejects.toThrow('audit refused')
    expect((await rows(h.db).outboxOf(orderId)).map((row) => row.kind)).toEqual(['Order'])
    expect((await stopped(schedule.id)).cancelOrdersOwedSince).not.toBeNull()
    await deleteSchedule(contextOf(worker), schedule.id)
  })

  it('a pause that queued its cancels owes nothing; nor does one asked to leave the orders resting, until a pause that cancels', async () => {
    const first = await legResting()
    await pauseSchedule(contextOf(worker), first.schedule.id)
    expect((await stopped(first.schedule.id)).cancelOrdersOwedSince).toBeNull()
    await deleteSchedule(contextOf(worker), first.schedule.id)

    const resting = await legResting()
    await pauseSchedule(contextOf(worker), resting.schedule.id, { cancelOpenOrders: false })
    expect((await stopped(resting.schedule.id)).cancelOrdersOwedSince).toBeNull()
    expect((await rows(h.db).order(resting.orderId)).state).toBe('open')
    // Paused again, now cancelling: the schedule is already paused, and the cancels are queued all the same.
    expect(await pauseSchedule(contextOf(worker), resting.schedule.id)).toMatchObject({ cancelledOrderIds: [resting.orderId] })
    expect((await stopped(resting.schedule.id)).cancelOrdersOwedSince).toBeNull()
    await deleteSchedule(contextOf(worker), resting.schedule.id)
  })
})
