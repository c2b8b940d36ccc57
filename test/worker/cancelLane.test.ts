/**
 * Cancels reach the operator while Redis is down. A cancel goes to the outbox and the relay, like
 * all work, but the relay's job cannot be added while Redis does not answer; the worker's cancel
 * lane sends it directly once it is 2 s overdue, through the same recipe as the job. When Redis
 * is back, the job finds the work done: one request in all. Redis sits behind a TCP relay that
 * the tests close and open again.
 */
import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { haltWallet } from '../../src/runtime/intake/killSwitch.js'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { requestCancel, requestCancelAll, requestModify } from '../../src/runtime/intake/requestOrderChange.js'
import { CANCEL_LANE_GRACE_MS } from '../../src/runtime/startCancelLane.js'
import type { RequestFamily } from '../../src/core/acl/actions.js'
import { type OrderRow, outbox, requests } from '../../src/store/schema/index.js'
import type { RunningWorker } from '../../src/worker.js'
import { capturedLog } from '../support/capturedLog.js'
import { lateRelay } from '../support/lateRelay.js'
import { operatorOrder, operatorOrders } from './support/operator.js'
import { REDIS_URL, createHarness, eventually, type Harness } from './support/harness.js'
import { rows } from './support/rows.js'

let h: Harness
let redis: Awaited<ReturnType<typeof lateRelay>>
let worker: RunningWorker
const { log, entries } = capturedLog('info')

beforeAll(async () => {
  h = await createHarness()
  redis = await lateRelay(REDIS_URL)
  await redis.open()
  worker = await h.startWorker({ redisUrl: redis.url, log })
})
// After a failure with Redis still down, the worker's clients may take their backoff (up to 20 s) to reconnect before they close.
afterAll(async () => {
  await redis?.open()
  await h?.close()
  await redis?.close()
}, 120_000)

/** Open orders of a new wallet, resting at the operator. */
async function openOrders(prices: string[]) {
  const w = await h.wallet()
  const placed: OrderRow[] = []
  for (const price of prices) {
    const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: w.wallet.id, market: 'ETH-USD', side: 'buy', price, size: '0.1' }, new Date())
    placed.push(order)
  }
  await worker.relay()
  await eventually(async () => (await Promise.all(placed.map((o) => rows(h.db).order(o.id)))).every((o) => o.state === 'open'))
  return { ...w, placed }
}

/** With Redis cut: `act` queues a cancel; the orders are cancelled at the operator and in Postgres. Answers the outbox row, and when it was queued. */
async function cancelledWithoutRedis(w: Awaited<ReturnType<typeof openOrders>>, act: () => Promise<string>) {
  await redis.close()
  try {
    const queuedAt = Date.now()
    const outboxId = await act()
    await eventually(async () => w.placed.every((o) => operatorOrder(h.sandbox, w.signer.address, o.clientOrderId)?.status === 'cancelled'), 15_000)
    expect(Date.now() - queuedAt).toBeGreaterThanOrEqual(CANCEL_LANE_GRACE_MS)
    await eventually(async () => (await Promise.all(w.placed.map((o) => rows(h.db).order(o.id)))).every((o) => o.state === 'cancelled'))
    // The operator's events may mark the orders cancelled before the lane has stored the receipt and finished its row.
    await eventually(async () => (await h.db.select().from(outbox).where(eq(outbox.id, outboxId)))[0]?.status === 'done')
    expect(entries()).toContainEqual(expect.objectContaining({ msg: 'cancel sent directly', outboxId, result: expect.objectContaining({ result: 'accepted' }) }))
    return outboxId
  } finally {
    await redis.open()
  }
}

/**
 * Once Redis answers, the relay's job for the row (if it has one: a relay whose add failed while
 * Redis was down put the row back to pending, and the lane finished it first, so it needs no job)
 * runs and finds the row done: the one request stays the only one.
 */
async function expectOneRequest(outboxId: string, walletId: string, family: RequestFamily) {
  await worker.relay()
  const job = await worker.submitQueue.getJob(outboxId)
  if (job) await eventually(async () => (await job.isCompleted()) || undefined, 15_000)
  const sent = await h.db.select().from(requests).where(and(eq(requests.walletId, walletId), eq(requests.family, family)))
  expect(sent.map((r) => r.status)).toEqual(['accepted'])
}

it("cancels one order at the operator while Redis is down; the job that runs once Redis is back sends nothing more", async () => {
  const w = await openOrders(['1900'])
  const outboxId = await cancelledWithoutRedis(w, async () => (await requestCancel(h.db, { orderId: w.placed[0]!.id })).outboxId)
  expect(entries()).toContainEqual(expect.objectContaining({
    msg: 'cancels not sent by their jobs in time (Redis down, or the queue backed up): sending them directly', outboxId, kind: 'CancelOrder' }))
  await expectOneRequest(outboxId, w.wallet.id, 'CancelOrder')
}, 60_000)

it('cancels an order while Redis is down even behind a modify queued before it; the modify is then not applied', async () => {
  const w = await openOrders(['1900'])
  const order = w.placed[0]!
  let modifyId = ''
  const outboxId = await cancelledWithoutRedis(w, async () => {
    modifyId = (await requestModify(h.db, worker.markets, { orderId: order.id, price: '1905', size: '0.2' })).outboxId
    return (await requestCancel(h.db, { orderId: order.id })).outboxId
  })
  await expectOneRequest(outboxId, w.wallet.id, 'CancelOrder')
  // The modify's job runs once Redis is back, finds the order cancelled, and sends nothing.
  await eventually(async () => (await h.db.select().from(outbox).where(eq(outbox.id, modifyId)))[0]?.status === 'done', 20_000)
  const [modify] = await h.db.select().from(outbox).where(eq(outbox.id, modifyId))
  expect(modify?.lastError).toBe('order cancelled: modification not applied')
  expect(await h.db.select().from(requests).where(and(eq(requests.walletId, w.wallet.id), eq(requests.family, 'ModifyOrder')))).toEqual([])
  expect(operatorOrder(h.sandbox, w.signer.address, order.clientOrderId)).toMatchObject({ status: 'cancelled', revision: 0 })
}, 60_000)

it('trips the kill switch at the operator while Redis is down: every open order cancelled, one CancelAll in all', async () => {
  const w = await openOrders(['1900', '1910'])
  const outboxId = await cancelledWithoutRedis(w, async () => (await haltWallet(h.db, { walletId: w.wallet.id, reason: 'test: Redis is down' })).outboxId)
  await expectOneRequest(outboxId, w.wallet.id, 'CancelAll')
}, 60_000)

it('sends the kill switch while Redis is down even behind more cancels than it takes at a look, each waiting for its unsent placement', async () => {
  const w = await openOrders(['1900'])
  const busy = await h.wallet()
  await redis.close()
  try {
    // 60 orders queued and cancelled while Redis is down: their placements never left, so their
    // cancels wait for them, look after look (the lane takes 50 rows at a look).
    for (let i = 0; i < 60; i++) {
      const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: busy.wallet.id, market: 'ETH-USD', side: 'buy', price: String(1800 + i), size: '0.1' }, new Date())
      await requestCancel(h.db, { orderId: order.id })
    }
    await new Promise((resolve) => setTimeout(resolve, CANCEL_LANE_GRACE_MS + 500))
    const { outboxId } = await haltWallet(h.db, { walletId: w.wallet.id, reason: 'test: behind a backlog' })
    await eventually(async () => operatorOrder(h.sandbox, w.signer.address, w.placed[0]!.clientOrderId)?.status === 'cancelled', 15_000)
    await eventually(async () => (await h.db.select().from(outbox).where(eq(outbox.id, outboxId)))[0]?.status === 'done')
  } finally {
    await redis.open()
  }
  // The backlog's placements go out once Redis is back, each cancelled before it is sent.
  await worker.relay()
  await eventually(async () => (await rows(h.db).outboxOfWallet(busy.wallet.id)).every((row) => row.status === 'done'), 30_000)
  // Nothing of the backlog was signed or reached the operator: every order cancelled here, by its user.
  expect((await rows(h.db).ordersOf(busy.wallet.id)).map((o) => [o.state, o.cancelReason])).toEqual(Array.from({ length: 60 }, () => ['cancelled', 'user']))
  expect(await rows(h.db).requestsOfWallet(busy.wallet.id)).toEqual([])
  expect(operatorOrders(h.sandbox, busy.signer.address)).toEqual([])
}, 90_000)

it("leaves a trading wallet's own CancelAll to the queue, behind the wallet's earlier work", async () => {
  const w = await openOrders(['1900'])
  await redis.close()
  let outboxId: string
  try {
    outboxId = (await requestCancelAll(h.db, { walletId: w.wallet.id })).outboxId
    await new Promise((resolve) => setTimeout(resolve, 2 * CANCEL_LANE_GRACE_MS))
    expect(operatorOrder(h.sandbox, w.signer.address, w.placed[0]!.clientOrderId)?.status).toBe('open')
    expect((await h.db.select().from(outbox).where(eq(outbox.id, outboxId)))[0]?.status).not.toBe('done')
  } finally {
    await redis.open()
  }
  await expectOneRequest(outboxId, w.wallet.id, 'CancelAll')
  expect(operatorOrder(h.sandbox, w.signer.address, w.placed[0]!.clientOrderId)?.status).toBe('cancelled')
}, 60_000)
