/**
 * A rebalance leg whose order a session's end cancelled, recorded by an operator read before the
 * stream's OrderCancelled(sessionRevoked): once a newer run has traded, or the schedule was deleted,
 * the event must not place that leg again under the new session (a second trade).
 */
import { DelayedError } from 'bullmq'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type RunControl, runSchedule } from '../../jobs/runSchedule.js'
import { createSchedule } from '../../src/runtime/schedules/createSchedule.js'
import { deleteSchedule } from '../../src/runtime/schedules/deleteSchedule.js'
import { replaceSessionOrder } from '../../src/runtime/sessions/replaceSessionOrder.js'
import { orders, outbox } from '../../src/store/schema/index.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, type Harness } from '../worker/support/harness.js'
import { type GateProxy, startGateProxy } from '../lifecycle/support/gateProxy.js'
import { fromWallet } from '../lifecycle/support/lifecycle.js'
import { YEARLY, contextOf, runsOf, specOf } from './support.js'

let h: Harness
let gate: GateProxy
let worker: RunningWorker

beforeAll(async () => {
  h = await createHarness()
  gate = await startGateProxy(h.sandbox.url)
  worker = await h.startWorker({ operatorUrl: gate.url })
})
afterAll(async () => {
  await h?.close()
  await gate?.close()
})

const control: RunControl = { delay: async () => { throw new DelayedError() } }
const runNow = (scheduleId: string, jobSlot: number, jobId: string) =>
  runSchedule(worker.deps, { scheduleId, jobSlot, jobId, queue: worker.controlQueue, control })

/** A schedule whose first run's leg is at the operator, then recorded cancelled by a read (no reason yet). */
async function legCancelledByRead() {
  const { wallet } = await h.wallet(undefined, { USD: '100000' })
  const schedule = await createSchedule(contextOf(worker), { walletId: wallet.id, ...specOf({ ETH: '0.5', USD: '0.5' }, { cron: YEARLY }) })
  const held = gate.hold((request) => request.family === 'Order' && fromWallet(wallet.address)(request))
  const first = Date.now()
  expect(await runNow(schedule.id, first, 'job-a')).toMatchObject({ outcome: 'completed', legs: 1 })
  await held.arrived
  const [leg] = (await runsOf(worker, schedule.id))[0]!.legs
  // The session was rotated and its orders cancelled at the operator; an operator read learnt it first.
  await h.db.update(orders).set({ state: 'cancelled' }).where(eq(orders.id, leg!.orderId))
  return { wallet, schedule, first, orderId: leg!.orderId }
}

/** What the stream's OrderCancelled(sessionRevoked) does for the order (jobs/applyEvent.ts:200). */
const streamCancelArrives = (orderId: string) => h.db.transaction(async (tx) => {
  const [row] = await tx.select().from(orders).where(eq(orders.id, orderId)).for('update')
  return replaceSessionOrder(tx, row!)
})

it('a later run that traded without the earlier leg: the stream\'s cancel does not place that leg again', async () => {
  const { schedule, first, orderId } = await legCancelledByRead()
  // The next slot finds no earlier order working, reads the portfolio and trades the same buy again.
  expect(await runNow(schedule.id, first + 1, 'job-b')).toMatchObject({ outcome: 'completed', legs: 1 })
  // The old slot's buy must not come back on top of it.
  expect(await streamCancelArrives(orderId)).toBeUndefined()
})

it('a deleted schedule: the stream\'s cancel does not place its leg again', async () => {
  const { schedule, orderId } = await legCancelledByRead()
  await deleteSchedule(contextOf(worker), schedule.id)
  expect(await streamCancelArrives(orderId)).toBeUndefined()
})

it('the stream\'s cancel came first: its replacement is a working order, and the next run cancels it', async () => {
  const { schedule, first, orderId } = await legCancelledByRead()
  const replacement = await streamCancelArrives(orderId)
  expect(replacement).toMatchObject({ state: 'pending' })
  // The run queues the cancel and waits for it to settle before it trades (a delayed job).
  await expect(runNow(schedule.id, first + 1, 'job-c')).rejects.toBeInstanceOf(DelayedError)
  const work = await h.db.select({ kind: outbox.kind, payload: outbox.payload }).from(outbox).where(eq(outbox.orderId, replacement!.id))
  expect(work.map((w) => w.kind)).toEqual(['Order', 'CancelOrder'])
})
