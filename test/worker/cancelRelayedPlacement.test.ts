/**
 * A cancel of an order whose placement was relayed to BullMQ but whose job has not run yet (a busy
 * queue): the cancel finds the order never sent and cancels it here, and settles the placement's
 * work with it, so the order never shows its placement still queued, and that job, when it runs,
 * finds its work done.
 */
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { requestCancel } from '../../src/runtime/intake/requestOrderChange.js'
import { outbox } from '../../src/store/schema/index.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { rows } from './support/rows.js'

let h: Harness
let worker: RunningWorker
beforeAll(async () => {
  h = await createHarness()
  worker = await h.startWorker()
})
afterAll(async () => { await h?.close() })

it("settles the placement's relayed work with the order it cancels before it was sent", async () => {
  const w = await h.wallet()
  const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: w.wallet.id, market: 'ETH-USD', side: 'buy', price: '1900', size: '0.1' }, new Date())
  // Relayed (its job in BullMQ, not run yet): marked as the relay marks it, with no job added.
  const [placement] = await h.db.update(outbox).set({ status: 'enqueued', enqueuedAt: new Date() }).where(eq(outbox.orderId, order.id)).returning()
  const { outboxId } = await requestCancel(h.db, { orderId: order.id })
  await worker.relay()
  const r = rows(h.db)
  await eventually(async () => (await r.order(order.id)).state === 'cancelled')
  const [cancel] = await h.db.select().from(outbox).where(eq(outbox.id, outboxId))
  expect([cancel!.status, cancel!.lastError]).toEqual(['done', 'cancelled before submission'])
  const [settled] = await h.db.select().from(outbox).where(eq(outbox.id, placement!.id))
  expect([settled!.status, settled!.lastError]).toEqual(['done', 'cancelled before submission'])
  expect(await r.requestsOf(order.id)).toEqual([])
})
