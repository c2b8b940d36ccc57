/**
 * Fairness across wallets, end to end: one wallet's backlog of orders does not hold another
 * wallet's next order behind it. A worker taking one job at a time finds 40 orders of one wallet
 * queued before one of another: the other's goes out second, and the first wallet's go out in the
 * order they were placed.
 */
import { asc } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { requests } from '../../src/store/schema/index.js'
import { createHarness, eventually, type Harness } from './support/harness.js'

let h: Harness
beforeAll(async () => { h = await createHarness() })
afterAll(async () => { await h?.close() })

it('sends another wallet\'s order second, not behind one wallet\'s 40 queued before it', async () => {
  const markets = await h.markets()
  const flooding = await h.wallet()
  const other = await h.wallet()
  const place = async (walletId: string, price: string) =>
    (await placeLimitOrder(h.db, markets, { walletId, market: 'ETH-USD', side: 'buy', price, size: '0.01' }, new Date())).order
  const flood = []
  for (let i = 0; i < 40; i++) flood.push(await place(flooding.wallet.id, String(1800 + i)))
  const next = await place(other.wallet.id, '1700')

  await h.startWorker({ concurrency: 1 })
  const sentRequests = await eventually(async () => {
    const sent = await h.db.select().from(requests).orderBy(asc(requests.sentAt))
    return sent.length === 41 && sent.every((request) => request.status === 'accepted') && sent
  }, 30_000)
  const sentOrder = sentRequests.map((request) => request.orderId)
  expect(sentOrder.indexOf(next.id), 'the other wallet\'s order, sent').toBe(1)
  expect(sentOrder.filter((id) => id !== next.id)).toEqual(flood.map((order) => order.id))
})
