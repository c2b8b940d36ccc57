/**
 * Redis loses the queue mid-run (flushed, restarted without persistence): the
 * outbox in Postgres still knows the work, the sweeper enqueues what vanished,
 * and everything completes once, in order per order. Only this file's queue is
 * removed (`obliterate` on its prefix): other files share the Redis server.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import type { OrderRow } from '../../src/store/schema/index.js'
import { requestCancel, requestModify } from '../../src/runtime/intake/requestOrderChange.js'
import { submitJobOptions } from '../../src/queue/jobOptions.js'
import { outboxJobId } from '../../src/store/repositories/outboxRepo.js'
import { outbox } from '../../src/store/schema/index.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { operatorEvents, operatorOrder, operatorOrders } from './support/operator.js'
import { rows } from './support/rows.js'

let h: Harness
let worker: RunningWorker
const alerts: { walletId: string; code: string; details?: Record<string, unknown> }[] = []

beforeAll(async () => {
  h = await createHarness()
  // Two at a time against a slow operator, so most jobs are still waiting when Redis loses them.
  worker = await h.startWorker({ concurrency: 2, alert: (event) => { alerts.push(event) } })
})
afterAll(async () => { await h?.close() })

it('re-enqueues the jobs Redis lost; every order placed once, modifies and cancels after their order (a cancel may pass a modify)', async () => {
  const db = rows(h.db)
  const { wallet } = await h.wallet()
  // The first two jobs hang at the operator while Redis loses the rest.
  h.sandbox.setFaults({ latencyMs: 2_000 })
  try {
    const placed: OrderRow[] = []
    for (let i = 0; i < 12; i++) {
      const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: String(1900 + i), size: '0.1' }, new Date())
      placed.push(order)
      if (i % 3 === 0) await requestModify(h.db, worker.markets, { orderId: order.id, price: String(1850 + i), size: '0.2' })
      if (i % 4 === 0) await requestCancel(h.db, { orderId: order.id })
    }
    await worker.relay()
    const enqueued = await db.outboxOfWallet(wallet.id)
    // Enqueued, but for the orders whose cancel was already asked: their placements are never sent,
    // so their jobs may have ended at once (settling their cancels and modifies with them).
    const cancelledEarly = new Set(placed.filter((_, i) => i % 4 === 0).map((o) => o.id))
    expect(enqueued.filter((r) => r.status !== 'enqueued').every((r) => r.status === 'done' && cancelledEarly.has(r.orderId!))).toBe(true)
    expect(enqueued.filter((r) => r.status === 'enqueued').length).toBeGreaterThan(placed.length - cancelledEarly.size)

    await worker.submitQueue.obliterate({ force: true })
    for (const row of enqueued) expect(await worker.submitQueue.getJob(outboxJobId(row))).toBeUndefined()
    h.sandbox.setFaults({ latencyMs: 0 })

    await eventually(async () => (await db.outboxOfWallet(wallet.id)).every((r) => r.status === 'done'), 20_000)
    const atOperator = operatorOrders(h.sandbox, wallet.address)
    // Each placed once; one cancelled while its placement was still queued is never sent (the cancel
    // was asked before the relay, so only the first two, which hung at the operator, may have gone).
    expect(atOperator.every((o) => placed.some((p) => p.clientOrderId === o.clientOrderId))).toBe(true)
    expect(new Set(atOperator.map((o) => o.clientOrderId)).size).toBe(atOperator.length)
    for (const [i, order] of placed.entries()) {
      const local = await eventually(async () => { const o = await db.order(order.id); return o.state !== 'pending' && o.state !== 'submitting' && o })
      const remote = atOperator.find((o) => o.clientOrderId === order.clientOrderId)
      if (!remote) {
        expect(i % 4, `order ${i} not at the operator`).toBe(0)
        expect(local).toMatchObject({ state: 'cancelled', cancelReason: 'user' })
        expect(await db.requestsOf(order.id)).toEqual([])
        continue
      }
      expect(local.state).toBe(i % 4 === 0 ? 'cancelled' : 'open')
      expect(remote.status).toBe(i % 4 === 0 ? 'cancelled' : 'open')
      // A cancel does not wait for a modify queued before it: with both, the modify is applied only
      // if it reached the open order first.
      const modified = remote.revision === 1
      if (i % 3 !== 0) expect(remote.revision).toBe(0)
      else if (i % 4 !== 0) expect(modified).toBe(true)
      const sent = await db.answeredRequestsOf(order.id)
      expect(sent.filter((r) => r.status === 'accepted').map((r) => r.family).sort())
        .toEqual([...(i % 4 === 0 ? ['CancelOrder'] : []), ...(modified ? ['ModifyOrder'] : []), 'Order'])
      // The operator saw the order accepted before any change to it.
      const kinds = operatorEvents(h.sandbox, wallet.address).filter((e) => e.clientOrderId === order.clientOrderId).map((e) => e.type)
      expect(kinds[0]).toBe('OrderAccepted')
    }
  } finally {
    h.sandbox.setFaults({ latencyMs: 0 })
  }
}, 60_000)

it('a job that used up its attempts during an outage is run again by the sweeper, not left failed, and a person is alerted', async () => {
  const db = rows(h.db)
  const { wallet } = await h.wallet()
  const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1900', size: '0.1' }, new Date())
  await worker.relay()
  await eventually(async () => (await db.order(order.id)).state === 'open')

  h.sandbox.setFaults({ errorRate: 1 })
  try {
    // The kill switch, relayed as usual but with its retries cut to one, so the outage outlasts them.
    const [row] = await h.db.insert(outbox).values({ walletId: wallet.id, kind: 'CancelAll', payload: { market: 'ETH-USD' }, status: 'enqueued', enqueuedAt: new Date() }).returning()
    const job = await worker.submitQueue.add('CancelAll', { outboxId: row!.id, walletId: wallet.id, family: 'CancelAll' }, { ...submitJobOptions, jobId: outboxJobId(row!), attempts: 1 })
    await eventually(async () => (await job.getState()) === 'failed')
    expect((await db.outboxOfWallet(wallet.id)).find((r) => r.id === row!.id)?.status).toBe('enqueued')
  } finally {
    h.sandbox.setFaults({ errorRate: 0 })
  }
  await eventually(async () => (await db.order(order.id)).state === 'cancelled', 20_000)
  expect(operatorOrder(h.sandbox, wallet.address, order.clientOrderId)?.status).toBe('cancelled')
  // The stream's OrderCancelled can land before the CancelOrder's receipt (and its outbox row) is stored.
  await eventually(async () => (await db.outboxOfWallet(wallet.id)).every((r) => r.status === 'done' || r.status === 'failed'), 20_000)
  expect((await db.outboxOfWallet(wallet.id)).map((r) => r.status)).toEqual(['done', 'done'])
  const cancelAll = (await db.outboxOfWallet(wallet.id)).find((r) => r.kind === 'CancelAll')!
  expect(alerts.filter((a) => a.walletId === wallet.id)).toEqual([
    expect.objectContaining({ code: 'WORK_STALLED', message: expect.stringMatching(/^CancelAll has not gone out after every retry \(last: .*Unavailable/), details: { outboxId: cancelAll.id, kind: 'CancelAll' } }),
  ])
}, 60_000)
