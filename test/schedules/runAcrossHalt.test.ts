/**
 * A rebalancing run in flight when the kill switch trips (claimed, waiting for the previous run's
 * orders to settle) places nothing, even when the wallet is resumed before the run goes on: the
 * halt stopped what the wallet had scheduled.
 */
import { DelayedError } from 'bullmq'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { runSchedule } from '../../jobs/runSchedule.js'
import { haltWallet, resumeWallet } from '../../src/runtime/intake/killSwitch.js'
import { createSchedule } from '../../src/runtime/schedules/createSchedule.js'
import { orders, outbox } from '../../src/store/schema/index.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, eventually, type Harness } from '../worker/support/harness.js'
import { type GateProxy, startGateProxy } from '../lifecycle/support/gateProxy.js'
import { fromWallet } from '../lifecycle/support/lifecycle.js'
import { contextOf, delayThrows, runsOf, specOf, YEARLY } from './support.js'

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

const control = delayThrows
const runNow = (scheduleId: string, jobSlot: number, jobId: string) =>
  runSchedule(worker.deps, { scheduleId, jobSlot, jobId, queue: worker.controlQueue, control, settleTimeoutMs: 60_000 })

it('a run claimed before a halt places no order after the resume', async () => {
  const { wallet } = await h.wallet(undefined, { USD: '100000' })
  const schedule = await createSchedule(contextOf(worker), { walletId: wallet.id, ...specOf({ ETH: '0.5', BTC: '0.3', USD: '0.2' }, { cron: YEARLY }) })
  // The first run's legs stay on the wire: the next run waits for them to settle.
  const held = gate.hold((request) => request.family === 'Order' && fromWallet(wallet.address)(request))
  const first = Date.now()
  expect(await runNow(schedule.id, first, 'job-a')).toMatchObject({ outcome: 'completed', legs: 2 })
  await held.arrived
  await expect(runNow(schedule.id, first + 1, 'job-b')).rejects.toBeInstanceOf(DelayedError)

  // The kill switch trips and its CancelAll reaches the operator.
  const halt = await haltWallet(h.db, { walletId: wallet.id, reason: 'stop' })
  await worker.relay()
  await eventually(async () => (await h.db.select().from(outbox).where(eq(outbox.id, halt.outboxId)))[0]?.status === 'done')
  // The first run's legs land after it (resting: the marks moved up) and are cancelled; only then can
  // the wallet be resumed (a resume waits for the placements the halt found on the wire).
  h.sandbox.setMark('ETH-USD', '2200')
  h.sandbox.setMark('BTC-USD', '66000')
  held.release()
  await eventually(async () => (await h.db.select({ state: orders.state }).from(orders).where(eq(orders.walletId, wallet.id)))
    .every((o) => ['filled', 'cancelled'].includes(o.state)), 15_000)
  await eventually(async () => resumeWallet(h.db, { walletId: wallet.id }).then(() => true, () => false))
  const placed = (await h.db.select({ id: orders.id }).from(orders).where(eq(orders.walletId, wallet.id))).length

  // The run claimed before the halt ends without trading.
  const result = await runNow(schedule.id, first + 1, 'job-b')
  expect(result).toMatchObject({ outcome: 'stopped', detail: 'halted' })
  expect(await h.db.select({ id: orders.id }).from(orders).where(eq(orders.walletId, wallet.id))).toHaveLength(placed)
  const [run] = await runsOf(worker, schedule.id)
  expect(run).toMatchObject({ status: 'skipped', reason: 'halted' })
}, 60_000)
