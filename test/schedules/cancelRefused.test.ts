/**
 * An earlier run's leg whose CancelOrder ended without effect (refused for good by the operator)
 * while the order still rests there. Before, a later run never asked again (the leg's intent read
 * `cancel_requested`), so every later slot waited for it, then was skipped `earlierOrdersWorking`,
 * for good, with nothing but a run row to say the rebalancing had stopped.
 */
import { DelayedError } from 'bullmq'
import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runSchedule } from '../../jobs/runSchedule.js'
import { createSchedule } from '../../src/runtime/schedules/createSchedule.js'
import { outbox } from '../../src/store/schema/index.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, eventually, type Harness } from '../worker/support/harness.js'
import { rows } from '../worker/support/rows.js'
import { routeSendsThroughProxy } from '../worker/support/submitProxy.js'
import { contextOf, delayThrows, runsOf, specOf, YEARLY } from './support.js'
import { transactionStartOf } from '../support/transactionStartOf.js'

let h: Harness
let worker: RunningWorker
let proxy: { close: () => Promise<void> } | undefined
/** The wallet whose sends the proxy changes. */
let target = ''
/** What the proxy does to the target's CancelOrders: forward, refuse for good, or hold until `releaseCancels`. */
let cancels: 'forward' | 'refuse' | 'hold' = 'forward'
let releaseCancels: () => void = () => undefined
let cancelsReleased = Promise.resolve()

beforeAll(async () => {
  h = await createHarness()
  worker = await h.startWorker()
  proxy = await routeSendsThroughProxy(worker, h.sandbox.url, async (send, upstream) => {
    if (send.wallet !== target) return upstream()
    // The leg reaches the operator above the mark's new level: it rests there (a buy below the mark).
    if (send.family === 'Order') h.sandbox.setMark('ETH-USD', '2100')
    if (send.family === 'CancelOrder' && cancels === 'refuse') {
      return { status: 400, contentType: 'application/json', body: JSON.stringify({ error: { code: 'InvalidRequest', message: 'refused by the test' } }) }
    }
    if (send.family === 'CancelOrder' && cancels === 'hold') await cancelsReleased
    return upstream()
  })
})
afterAll(async () => {
  h?.sandbox.setMark('ETH-USD', '2000')
  await h?.close()
  await proxy?.close()
})

const control = delayThrows
const run = (scheduleId: string, jobSlot: number, jobId: string, settleTimeoutMs?: number) =>
  runSchedule(worker.deps, { scheduleId, jobSlot, jobId, queue: worker.controlQueue, control, ...(settleTimeoutMs === undefined ? {} : { settleTimeoutMs }) })

describe('a leg whose cancel was refused for good, still resting at the operator', () => {
  it('the next run asks again (once, not while a cancel is on its way), and a skip meanwhile raises SCHEDULE_SKIPPED', async () => {
    const db = rows(h.db)
    const { wallet } = await h.wallet(undefined, { USD: '100000' })
    target = wallet.address.toLowerCase()
    const schedule = await createSchedule(contextOf(worker), { walletId: wallet.id, ...specOf({ ETH: '0.5', USD: '0.5' }, { cron: YEARLY }) })
    const first = Date.now()
    expect(await run(schedule.id, first, 'a')).toMatchObject({ outcome: 'completed', legs: 1 })
    const orderId = (await runsOf(worker, schedule.id))[0]!.legs[0]!.orderId
    await eventually(async () => (await db.order(orderId)).state === 'open')
    const cancelsOf = async () => h.db.select().from(outbox).where(and(eq(outbox.orderId, orderId), eq(outbox.kind, 'CancelOrder')))

    // The second slot asks for the cancel, which the operator refuses for good; its wait ends with the leg working.
    cancels = 'refuse'
    await expect(run(schedule.id, first + 1, 'b')).rejects.toBeInstanceOf(DelayedError)
    await eventually(async () => (await cancelsOf()).some((row) => row.status === 'failed'))
    expect(await run(schedule.id, first + 1, 'b', 0)).toMatchObject({ outcome: 'earlierOrdersWorking' })
    // The operator is told, not only the run log.
    const [alert] = await eventually(async () => { const found = await db.audit(wallet.id, 'alert.SCHEDULE_SKIPPED'); return found.length > 0 && found })
    expect(alert!.details).toMatchObject({ scheduleId: schedule.id, orderIds: [orderId], message: expect.stringContaining('nothing traded') })
    // Claimed in the transaction that recorded the skip.
    const [skipped] = await db.audit(wallet.id, 'schedule.run.skipped')
    expect(await transactionStartOf(h.db, alert!.id)).toBe(await transactionStartOf(h.db, skipped!.id))
    expect((await db.order(orderId)).state).toBe('open')
    // The skipped run asked again too (the first cancel had failed): that one is refused as well.
    await eventually(async () => (await cancelsOf()).every((row) => row.status === 'failed'))

    // The third slot asks again (before: nothing was queued, and the slot waited, then was skipped too).
    cancels = 'hold'
    cancelsReleased = new Promise<void>((resolve) => { releaseCancels = resolve })
    const askedBefore = (await cancelsOf()).length
    await expect(run(schedule.id, first + 2, 'c')).rejects.toBeInstanceOf(DelayedError)
    expect((await cancelsOf()).length).toBe(askedBefore + 1)
    expect((await runsOf(worker, schedule.id)).find((r) => r.slotAt.getTime() === first + 2)!.cancelledOrderIds).toEqual([orderId])
    // While that cancel is queued or in flight, the job's returns queue no other.
    await eventually(async () => (await cancelsOf()).some((row) => row.status === 'enqueued'))
    await expect(run(schedule.id, first + 2, 'c')).rejects.toBeInstanceOf(DelayedError)
    expect((await cancelsOf()).length).toBe(askedBefore + 1)

    cancels = 'forward'
    releaseCancels()
    await eventually(async () => (await db.order(orderId)).state === 'cancelled')
    expect(await run(schedule.id, first + 2, 'c')).toMatchObject({ outcome: 'completed' })
  })
})
