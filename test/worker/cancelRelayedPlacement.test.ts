/**
 * A cancel's claim of an order never sent whose placement was relayed to BullMQ, its job not run yet
 * (the cancel got past its wait for the placement while that was held, and a session granted since
 * released it): the claim cancels the order here and settles the placement's work with it, so the
 * order never shows its placement still queued, and that job, when it runs, finds its work done.
 */
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { submitCancelOrderSpec } from '../../jobs/submitCancelOrder.js'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { requestCancel } from '../../src/runtime/intake/requestOrderChange.js'
import { outbox } from '../../src/store/schema/index.js'
import { directSender } from './support/directSender.js'
import { createHarness, type Harness } from './support/harness.js'
import { rows } from './support/rows.js'

let h: Harness
beforeAll(async () => { h = await createHarness() })
afterAll(async () => { await h?.close() })

it("settles the placement's relayed work with the order it cancels before it was sent", async () => {
  const w = await h.wallet()
  const { order } = await placeLimitOrder(h.db, await h.markets(), { walletId: w.wallet.id, market: 'ETH-USD', side: 'buy', price: '1900', size: '0.1' }, new Date())
  // Relayed (its job in BullMQ, not run yet): marked as the relay marks it.
  const [placement] = await h.db.update(outbox).set({ status: 'enqueued', enqueuedAt: new Date() }).where(eq(outbox.orderId, order.id)).returning()
  const { outboxId } = await requestCancel(h.db, { orderId: order.id })
  const [row] = await h.db.select().from(outbox).where(eq(outbox.id, outboxId))
  const deps = await directSender(h)
  const r = rows(h.db)
  const pending = await r.order(order.id)
  const claim = await h.db.transaction((tx) => submitCancelOrderSpec.claim(tx, { deps, row: row!, order: pending }))
  expect(claim).toEqual({ kind: 'done', reason: 'cancelled before submission' })
  expect((await r.order(order.id)).state).toBe('cancelled')
  const [settled] = await h.db.select().from(outbox).where(eq(outbox.id, placement!.id))
  expect([settled!.status, settled!.lastError]).toEqual(['done', 'cancelled before submission'])
  expect(await r.requestsOf(order.id)).toEqual([])
})
