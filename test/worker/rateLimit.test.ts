/**
 * RateLimited (429 with Retry-After): the job waits and then completes, with
 * the same signed bytes, and nothing is placed twice. The sandbox here allows
 * one request at a time per session key, refilled at two a second.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import type { RunningWorker } from '../../src/worker.js'
import { answeredRequests, createHarness, eventually, type Harness } from './support/harness.js'
import { operatorOrders } from './support/operator.js'
import { rows } from './support/rows.js'

let h: Harness
let worker: RunningWorker

beforeAll(async () => {
  h = await createHarness({ sandbox: { rateLimit: { perSecond: 2, burst: 1 } } })
  worker = await h.startWorker({ streams: false })
})
afterAll(async () => { await h?.close() })

it('waits for Retry-After and completes every order, each placed once', async () => {
  const db = rows(h.db)
  const { wallet } = await h.wallet()
  const placed: { id: string; clientOrderId: string }[] = []
  for (const price of ['1901', '1902', '1903', '1904']) {
    placed.push((await placeLimitOrder(h.db, worker.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price, size: '0.1' }, new Date())).order)
  }
  await worker.relay()
  await eventually(async () => (await Promise.all(placed.map((o) => db.order(o.id)))).every((o) => o.state === 'open'), 20_000)

  const sent = await answeredRequests(() => db.requestsOfWallet(wallet.id), 20_000)
  // Every order went out as one signed request (resent as is after each 429), and at least one waited.
  expect(sent.map((r) => r.status)).toEqual(['accepted', 'accepted', 'accepted', 'accepted'])
  expect(sent.some((r) => r.errorCode === 'RateLimited')).toBe(true)
  expect(operatorOrders(h.sandbox, wallet.address).map((o) => o.clientOrderId).sort()).toEqual(placed.map((o) => o.clientOrderId).sort())
  expect((await db.outboxOfWallet(wallet.id)).map((r) => r.status)).toEqual(['done', 'done', 'done', 'done'])
})
